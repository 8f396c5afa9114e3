import { describe, expect, it } from 'vitest';
import { scheduledWindows } from './maintenance.js';

const t = (iso: string) => Date.parse(iso);

describe('scheduled maintenance windows', () => {
  it('expands a weekly window (UTC) over a span, including one that started before it', () => {
    // Sunday 23:00 for 120 minutes: runs past midnight into Monday.
    const s = { fixed: [], weekly: [{ day: 0, minute: 23 * 60, minutes: 120, reason: 'patching' }] };
    const w = scheduledWindows(s, t('2026-12-07T00:30:00Z'), t('2026-12-20T00:00:00Z'));
    expect(w.map((x) => [new Date(x.from).toISOString(), new Date(x.to ?? 0).toISOString()])).toEqual([
      ['2026-12-06T23:00:00.000Z', '2026-12-07T01:00:00.000Z'],
      ['2026-12-13T23:00:00.000Z', '2026-12-14T01:00:00.000Z'],
    ]);
  });

  it('keeps fixed windows that overlap the span only', () => {
    const s = { fixed: [{ from: 10, to: 20, reason: 'a' }, { from: 30, to: 40, reason: 'b' }], weekly: [] };
    expect(scheduledWindows(s, 15, 25).map((w) => w.reason)).toEqual(['a']);
    expect(scheduledWindows(s, 21, 29)).toEqual([]);
  });
});
