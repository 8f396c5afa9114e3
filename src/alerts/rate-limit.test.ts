import { describe, expect, it } from 'vitest';
import { AlertRateLimiter } from './rate-limit.js';

describe('AlertRateLimiter', () => {
  it('lets max alerts of a kind through per window and sums up the rest once, when the window ends', () => {
    const l = new AlertRateLimiter(5, 1000);
    const admitted = Array.from({ length: 1000 }, (_, i) => l.admit('storage.full', 'critical', 100 + i, 100 + (i % 900))).filter(Boolean);
    expect(admitted).toHaveLength(5);
    expect(l.due(1099)).toEqual([]); // the window (100..1100) has not ended
    expect(l.due(1100)).toEqual([{ kind: 'storage.full', severity: 'critical', count: 995, firstAt: 105, lastAt: 1099 }]);
    expect(l.due(5000)).toEqual([]); // once
    // A new window opens with the next event.
    expect(l.admit('storage.full', 'critical', 6000, 6000)).toBe(true);
  });

  it('keeps kinds apart and takes the highest severity held back', () => {
    const l = new AlertRateLimiter(1, 1000);
    expect(l.admit('a', 'warning', 1, 1)).toBe(true);
    expect(l.admit('b', 'warning', 1, 1)).toBe(true);
    expect(l.admit('a', 'warning', 2, 2)).toBe(false);
    expect(l.admit('a', 'critical', 3, 3)).toBe(false);
    expect(l.admit('a', 'warning', 4, 4)).toBe(false);
    expect(l.due(1001)).toEqual([{ kind: 'a', severity: 'critical', count: 3, firstAt: 2, lastAt: 4 }]);
  });

  it('sends no summary for a window that held nothing back', () => {
    const l = new AlertRateLimiter(3, 1000);
    for (let i = 0; i < 3; i++) expect(l.admit('k', 'warning', i, i)).toBe(true);
    expect(l.due(2000)).toEqual([]);
  });

  it('does not lose a summary when the next event arrives before anyone asked for it', () => {
    const l = new AlertRateLimiter(1, 1000);
    l.admit('k', 'warning', 0, 0);
    l.admit('k', 'warning', 10, 10);
    expect(l.admit('k', 'warning', 1500, 1500)).toBe(true); // closes the first window
    expect(l.due(1500)).toEqual([{ kind: 'k', severity: 'warning', count: 1, firstAt: 10, lastAt: 10 }]);
  });
});
