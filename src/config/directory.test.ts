import { describe, expect, it } from 'vitest';
import { parseConfig } from './load.js';

const base = '[server]\nhostname = "mail.example.org"\n';

describe('[directory] postmaster', () => {
  it('defaults to "" (the first enabled mailadmin) and takes a mail address', () => {
    const d = parseConfig(base, '/srv/postern');
    expect(d.ok && d.config.directory.postmaster).toBe('');
    const set = parseConfig(`${base}[directory]\npostmaster = "Ops@example.org"\n`, '/srv/postern');
    expect(set.ok && set.config.directory.postmaster).toBe('Ops@example.org');
  });

  it('refuses what is not a mail address, naming the key', () => {
    const r = parseConfig(`${base}[directory]\npostmaster = "ops"\n`, '/srv/postern');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map((e) => e.key)).toEqual(['directory.postmaster']);
  });
});
