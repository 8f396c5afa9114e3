import { describe, expect, it } from 'vitest';
import { parseConfig } from './load.js';

const MIN = '[server]\nhostname = "mail.example.org"\n';

describe('[maintenance]', () => {
  it('takes fixed windows (TOML date-times or ISO strings) and weekly ones', () => {
    const r = parseConfig(
      `${MIN}[maintenance]\nwindows = [{ start = 2026-12-05T22:00:00Z, end = "2026-12-05T23:30:00+00:00", reason = "OS upgrade" }]\nweekly = [{ day = "Sun", at = "02:00", minutes = 120 }]\n`,
      '/etc/postern',
    );
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    expect(r.config.maintenance).toEqual({
      fixed: [{ from: Date.parse('2026-12-05T22:00:00Z'), to: Date.parse('2026-12-05T23:30:00Z'), reason: 'OS upgrade' }],
      weekly: [{ day: 0, minute: 120, minutes: 120, reason: '' }],
    });
  });

  it('defaults to no schedule', () => {
    const r = parseConfig(MIN, '/etc/postern');
    expect(r.ok && r.config.maintenance).toEqual({ fixed: [], weekly: [] });
  });

  it('names the key and the reason of a bad window', () => {
    const r = parseConfig(
      `${MIN}[maintenance]\nwindows = [{ start = "2026-12-05T22:00:00", end = "2026-12-05T21:00:00Z" }]\nweekly = [{ day = "someday", at = "25:00", minutes = 0 }]\n`,
      '/etc/postern',
    );
    expect(r.ok).toBe(false);
    const errs = r.ok ? [] : r.errors;
    expect(errs.map((e) => e.key)).toEqual(expect.arrayContaining(['maintenance.windows.0.start', 'maintenance.weekly.0.day', 'maintenance.weekly.0.at', 'maintenance.weekly.0.minutes']));
    expect(errs.find((e) => e.key === 'maintenance.windows.0.start')?.reason).toContain('with a zone');
  });
});
