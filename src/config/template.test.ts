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

  it('has a [probe] section that works once its commented keys are filled in', () => {
    const text = renderConfigTemplate({ hostname: 'mail.example.org', domain: 'example.org', dataDir: 'data' })
      .replace('enabled = false\ninterval = 60', 'enabled = true\ninterval = 60')
      .replace('# address = ', 'address = ')
      .replace('# password_file = ', 'password_file = ');
    expect(parsed(text).probe).toMatchObject({ enabled: true, address: 'probe@example.org', password_file: '/srv/postern/probe.password', smtp: 'mx' });
  });

  it('carries the SLA target of [report], and a wrong one is named with its reason', () => {
    expect(parsed(renderConfigTemplate({ hostname: 'mail.example.org', domain: 'example.org', dataDir: 'data' })).report).toEqual({ sla_target: 99.9 });
    expect(parsed('[server]\nhostname = "m.example.org"\n[report]\nsla_target = 99.95\n').report.sla_target).toBe(99.95);
    for (const bad of ['101', '"99.9"', '99.12345']) {
      const r = parseConfig(`[server]\nhostname = "m.example.org"\n[report]\nsla_target = ${bad}\n`, '/srv/postern');
      expect(r.ok).toBe(false);
      if (!r.ok) expect(JSON.stringify(r.errors)).toMatch(/report.*sla_target|sla_target.*percentage/);
    }
  });

  it('leaves DLP off unless init names its rules file, which it then resolves beside the config', () => {
    const opts = { hostname: 'mail.example.org', domain: 'example.org', dataDir: 'data' };
    expect(renderConfigTemplate(opts)).toContain('[policy.dlp]');
    expect(parsed(renderConfigTemplate(opts)).policy.dlp.enabled).toBe(false);
    expect(parsed(renderConfigTemplate({ ...opts, dlpRules: 'dlp-rules.toml' })).policy.dlp).toMatchObject({ enabled: true, rules: '/srv/postern/dlp-rules.toml', budget_ms: 15_000 });
  });
});
