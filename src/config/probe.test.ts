import { describe, expect, it } from 'vitest';
import { parseConfig } from './load.js';

const MIN = '[server]\nhostname = "mail.example.org"\n';

function parse(text: string) {
  return parseConfig(`${MIN}${text}`, '/srv/postern');
}

describe('[probe]', () => {
  it('is off by default, with its documented defaults', () => {
    const r = parse('');
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    expect(r.config.probe).toEqual({ enabled: false, interval: 60, timeout: 30, address: '', smtp: 'mx', host: '127.0.0.1' });
  });

  it('resolves its files against the config folder', () => {
    const r = parse('[probe]\nenabled = true\naddress = "probe@example.org"\npassword_file = "probe.pw"\nca_file = "tls/ca.pem"\nsmtp = "submission"\n');
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    expect(r.config.probe).toMatchObject({ password_file: '/srv/postern/probe.pw', ca_file: '/srv/postern/tls/ca.pem', smtp: 'submission' });
  });

  it('names every missing or wrong key when enabled', () => {
    const r = parse('[probe]\nenabled = true\ninterval = 0\nsmtp = "imap"\n');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const byKey = Object.fromEntries(r.errors.map((e) => [e.key, e.reason]));
    expect(Object.keys(byKey).sort()).toEqual(['probe.address', 'probe.interval', 'probe.password_file', 'probe.smtp']);
    expect(byKey['probe.address']).toMatch(/required when probe.enabled = true/);
    expect(byKey['probe.interval']).toBe('expected a whole number from 1 to 86400, got 0');
  });

  it('rejects an address that is not one', () => {
    const r = parse('[probe]\naddress = "not an address"\n');
    expect(r.ok ? [] : r.errors.map((e) => e.key)).toEqual(['probe.address']);
  });
});
