import { describe, expect, it } from 'vitest';
import { parseConfig } from './load.js';
import { renderConfigTemplate } from './template.js';

function parsed(text: string) {
  const r = parseConfig(text, '/srv/postern');
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.config;
}

describe('renderConfigTemplate', () => {
  it('parses back to exactly the built-in defaults', () => {
    const text = renderConfigTemplate({ hostname: 'mail.example.org', domain: 'example.org', dataDir: 'data' });
    expect(parsed(text)).toEqual(parsed('[server]\nhostname = "mail.example.org"\n'));
  });

  it('carries the host name, data folder and port offset', () => {
    const c = parsed(renderConfigTemplate({ hostname: 'mx.example.net', domain: 'example.net', dataDir: '/var/lib/postern', portOffset: 10_000 }));
    expect(c.server).toEqual({ hostname: 'mx.example.net', data_dir: '/var/lib/postern', port_offset: 10_000, heartbeat_interval: 30 });
  });

  it('mentions the DKIM key file of the domain', () => {
    expect(renderConfigTemplate({ hostname: 'mail.example.org', domain: 'example.org', dataDir: 'data' })).toContain('dkim/example.org.postern.key.pem');
  });

  it('explains malware scanning, off until clamd is set', () => {
    const text = renderConfigTemplate({ hostname: 'mail.example.org', domain: 'example.org', dataDir: 'data' });
    expect(text).toContain('[policy.malware]');
    expect(parsed(text).policy.malware.enabled).toBe(false);
    expect(parsed(text.replace('# [policy.malware.clamav]', '[policy.malware.clamav]').replace('# socket = ', 'socket = ')).policy.malware.enabled).toBe(true);
  });

  it('quotes paths that need escaping', () => {
    const c = parsed(renderConfigTemplate({ hostname: 'mail.example.org', domain: 'example.org', dataDir: 'C:\\mail "data"' }));
    expect(c.server.data_dir).toBe('/srv/postern/C:\\mail "data"');
  });

  it('keeps a hostile domain inside its comment', () => {
    const text = renderConfigTemplate({ hostname: 'mail.example.org', domain: 'x\n[smtp]\nmax_recipients = 1', dataDir: 'data' });
    expect(parsed(text).smtp.max_recipients).toBe(100);
  });
});
