import { describe, expect, it } from 'vitest';
import { parseConfig } from './load.js';

const base = '[server]\nhostname = "mail.example.org"\n';

function errors(text: string): string[] {
  const r = parseConfig(base + text, '/srv/postern');
  return r.ok ? [] : r.errors.map((e) => `${e.key}: ${e.reason}`);
}

describe('[alerts]', () => {
  it('is off by default with the documented limits', () => {
    const r = parseConfig(base, '/srv/postern');
    if (!r.ok) throw new Error('default config refused');
    expect(r.config.alerts).toMatchObject({ enabled: false, mail_to: [], min_severity: 'warning', cert_warn_days: 14, queue_age_warn: 14_400, rate: { max_per_window: 5, window: 600 } });
  });

  it('takes mail and a webhook, resolving the secret file against the config folder', () => {
    const r = parseConfig(base + '[alerts]\nenabled = true\nmail_to = ["ops@example.org"]\nwebhook_url = "https://hooks.example.net/p"\nwebhook_secret_file = "hook.key"\n', '/srv/postern');
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    expect(r.config.alerts.webhook_secret_file).toBe('/srv/postern/hook.key');
  });

  it('allows plain http only to loopback', () => {
    expect(errors('[alerts]\nwebhook_url = "http://127.0.0.1:9000/x"\nwebhook_secret_file = "k"\n')).toEqual([]);
    expect(errors('[alerts]\nwebhook_url = "http://[::1]:9000/x"\nwebhook_secret_file = "k"\n')).toEqual([]);
    expect(errors('[alerts]\nwebhook_url = "http://hooks.example.net/x"\nwebhook_secret_file = "k"\n').join()).toMatch(/alerts\.webhook_url.*only to loopback/);
    expect(errors('[alerts]\nwebhook_url = "ftp://x.example/"\nwebhook_secret_file = "k"\n').join()).toMatch(/alerts\.webhook_url.*https/);
  });

  it('names each wrong key and why', () => {
    const all = errors('[alerts]\nenabled = true\nmail_to = ["not an address"]\nwebhook_url = "https://h.example/x"\nmin_severity = "loud"\n[alerts.rate]\nmax_per_window = 0\n').join('\n');
    expect(all).toMatch(/alerts\.mail_to: expected a list of mail addresses/);
    expect(all).toMatch(/alerts\.webhook_secret_file: is required when webhook_url is set/);
    expect(all).toMatch(/alerts\.min_severity: expected one of "warning", "critical"/);
    expect(all).toMatch(/alerts\.rate\.max_per_window: expected a whole number from 1 to 1000/);
    expect(errors('[alerts]\nenabled = true\n').join()).toMatch(/alerts\.enabled: alerts need somewhere to go/);
  });
});
