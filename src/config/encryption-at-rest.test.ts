import { describe, expect, it } from 'vitest';
import { parseConfig } from './load.js';

const base = '[server]\nhostname = "mail.example.org"\n';
const parse = (extra: string) => parseConfig(base + extra, '/srv/postern');

describe('[encryption_at_rest]', () => {
  it('is off by default, with the documented defaults', () => {
    const r = parse('');
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    expect(r.config.encryption_at_rest).toEqual({
      enabled: false,
      accounts: [],
      groups: [],
      domains: [],
      outer_fields: ['From', 'To', 'Cc', 'Date', 'Subject', 'Message-ID', 'In-Reply-To', 'References'],
      cipher: 'aes-256-gcm',
      missing_certificate: 'deliver',
      budget_ms: 30_000,
    });
  });

  it('normalises who is covered', () => {
    const r = parse('[encryption_at_rest]\nenabled = true\naccounts = ["CEO@Example.org", "ceo@example.org"]\ngroups = ["board"]\ndomains = ["Secure.Example.org."]\nouter_fields = ["From", "To", "Date", "Message-ID"]\ncipher = "aes-256-cbc"\nmissing_certificate = "defer"\n');
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    expect(r.config.encryption_at_rest).toEqual({
      enabled: true,
      accounts: ['ceo@example.org'],
      groups: ['board'],
      domains: ['secure.example.org'],
      outer_fields: ['From', 'To', 'Date', 'Message-ID'],
      cipher: 'aes-256-cbc',
      missing_certificate: 'defer',
      budget_ms: 30_000,
    });
  });

  it('names the key and the reason of a bad value, and refuses a policy that covers nobody', () => {
    const r = parse('[encryption_at_rest]\nenabled = true\naccounts = ["not an address"]\nouter_fields = ["Content-Type"]\ncipher = "des"\nmissing_certificate = "drop"\n');
    expect(r.ok).toBe(false);
    const keys = r.ok ? [] : r.errors.map((e) => e.key);
    expect(keys).toEqual(expect.arrayContaining(['encryption_at_rest.accounts', 'encryption_at_rest.outer_fields', 'encryption_at_rest.cipher', 'encryption_at_rest.missing_certificate']));
    const nobody = parse('[encryption_at_rest]\nenabled = true\n');
    expect(nobody.ok).toBe(false);
    expect(nobody.ok ? '' : nobody.errors.map((e) => `${e.key}: ${e.reason}`).join('\n')).toMatch(/covers nobody/);
  });
});
