import { describe, expect, it } from 'vitest';
import { newQueueId, newToken } from './ids.js';

describe('ids drawn from the random pool', () => {
  it('queue ids: 18 characters of Crockford base32, the first 10 from the time', () => {
    const a = newQueueId(1_700_000_000_000);
    const b = newQueueId(1_700_000_000_000);
    expect(a).toMatch(/^[0-9A-HJKMNP-TV-Z]{18}$/);
    expect(a.slice(0, 10)).toBe(b.slice(0, 10));
    expect(a).not.toBe(b);
    expect(newQueueId(1_700_000_000_001) > newQueueId(1_700_000_000_000)).toBe(true);
  });

  it('tokens: two hex characters per byte', () => {
    expect(newToken()).toMatch(/^[0-9a-f]{32}$/);
    expect(newToken(4)).toMatch(/^[0-9a-f]{8}$/);
    expect(newToken(0)).toBe('');
    // Above the pooled size, straight from the CSPRNG.
    expect(newToken(1000)).toMatch(/^[0-9a-f]{2000}$/);
  });

  it('never hands out the same bytes twice, across pool refills', () => {
    const ids = new Set<string>();
    const tokens = new Set<string>();
    // 10,000 of each draws 240 KB: the 4 KiB pool is refilled many times.
    for (let i = 0; i < 10_000; i++) {
      ids.add(newQueueId(0));
      tokens.add(newToken(16));
    }
    expect(ids.size).toBe(10_000);
    expect(tokens.size).toBe(10_000);
  });

  it('draws odd sizes that straddle the end of the pool whole', () => {
    for (let i = 0; i < 2000; i++) expect(newToken(7)).toMatch(/^[0-9a-f]{14}$/);
  });

  it('refuses a size the CSPRNG refuses', () => {
    expect(() => newToken(-1)).toThrow(RangeError);
  });
});
