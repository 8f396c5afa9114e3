import { describe, expect, it } from 'vitest';
import { Progress, formatBytes, formatDuration, renderBar } from '../../src/cli/progress.js';

function sink(isTTY: boolean) {
  const out: string[] = [];
  return { out, stream: { isTTY, columns: 100, write: (s: string) => out.push(s) } };
}

describe('progress display', () => {
  it('formats sizes, durations and bars', () => {
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(2_500_000)).toBe('2.50 MB');
    expect(formatBytes(2_000_000_000)).toBe('2.00 GB');
    expect(formatDuration(65_000)).toBe('1:05');
    expect(formatDuration(3_725_000)).toBe('1:02:05');
    expect(formatDuration(NaN)).toBe('--:--');
    expect(renderBar(0.5, 10)).toBe('[#####.....]');
    expect(renderBar(2, 4)).toBe('[####]');
  });

  it('redraws one line with rate and ETA on a terminal', () => {
    let now = 0;
    const { out, stream } = sink(true);
    const p = new Progress({ label: 'scrub', unit: 'bytes', stream, now: () => now });
    now = 2000;
    p.update(50_000_000, 200_000_000);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(/^\rscrub \[#+\.+\] 25\.0% {2}50\.0 MB of 200\.0 MB {2}25\.0 MB\/s {2}ETA 0:06/);
    p.update(60_000_000, 200_000_000); // same instant: not redrawn
    expect(out).toHaveLength(1);
    now = 8000;
    p.update(200_000_000, 200_000_000);
    p.finish();
    expect(out.at(-2)).toMatch(/100\.0%.*done in 0:08/);
    expect(out.at(-1)).toBe('\n');
  });

  it('prints nothing for a task that never reported progress', () => {
    const { out, stream } = sink(true);
    new Progress({ label: 'verify', unit: 'bytes', stream }).finish();
    expect(out).toEqual([]);
  });

  it('writes plain lines at most every interval when not a terminal', () => {
    let now = 0;
    const { out, stream } = sink(false);
    const p = new Progress({ label: 'backup', unit: 'items', stream, now: () => now, lineIntervalMs: 5000 });
    for (let i = 1; i <= 100; i++) {
      now = i * 100; // 10 s in all
      p.update(i, 100);
    }
    p.finish();
    expect(out.length).toBeLessThanOrEqual(4);
    expect(out.every((l) => l.startsWith('backup: ') && l.endsWith('\n') && !l.includes('\r'))).toBe(true);
    expect(out.at(-1)).toMatch(/100 of 100/);
  });
});
