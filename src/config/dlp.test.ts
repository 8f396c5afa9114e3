import { describe, expect, it } from 'vitest';
import { parseConfig } from './load.js';

const base = '[server]\nhostname = "mail.example.org"\n';
const parse = (extra: string) => parseConfig(base + extra, '/srv/postern');

describe('[policy.dlp]', () => {
  it('is off without a rules file; on with one, resolved against the config folder, with the defaults', () => {
    const off = parse('');
    expect(off.ok && off.config.policy.dlp.enabled).toBe(false);
    const on = parse('[policy.dlp]\nrules = "dlp-rules.toml"\n');
    if (!on.ok) throw new Error(JSON.stringify(on.errors));
    expect(on.config.policy.dlp).toEqual({
      enabled: true,
      rules: '/srv/postern/dlp-rules.toml',
      phase: { inbound: 'after-queue', outbound: 'inline', internal: 'inline' },
      budget_ms: 15_000,
      fail_open: false,
      max_text_chars: 20_000_000,
      max_pdf_pages: 1000,
      encrypt_cipher: 'aes-256-gcm',
    });
    const disabled = parse('[policy.dlp]\nenabled = false\nrules = "/etc/postern/rules.toml"\n');
    expect(disabled.ok && disabled.config.policy.dlp).toMatchObject({ enabled: false, rules: '/etc/postern/rules.toml' });
  });

  it('names the key and the reason of a bad value', () => {
    const r = parse('[policy.dlp]\nrules = "r.toml"\nphase = { outbound = "later" }\nbudget_ms = 0\nmax_pdf_pages = -1\nencrypt_cipher = "des"\nrulez = 1\n');
    expect(r.ok).toBe(false);
    const keys = r.ok ? [] : r.errors.map((e) => e.key);
    expect(keys).toEqual(expect.arrayContaining(['policy.dlp.phase.outbound', 'policy.dlp.budget_ms', 'policy.dlp.max_pdf_pages', 'policy.dlp.encrypt_cipher', 'policy.dlp.rulez']));
    const none = parse('[policy.dlp]\nenabled = true\n');
    expect(none.ok ? [] : none.errors).toEqual([expect.objectContaining({ key: 'policy.dlp.rules', reason: expect.stringContaining('no rules file') })]);
  });
});
