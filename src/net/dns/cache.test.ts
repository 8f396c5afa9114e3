import { describe, expect, it } from 'vitest';
import { CachingResolver } from './cache.js';
import { MemoryResolver } from './memory.js';

describe('CachingResolver', () => {
  it('answers repeated lookups from the cache until the TTL passes, never caches temperror, shares concurrent queries', async () => {
    let t = 1_000_000;
    const zone = new MemoryResolver({ 'example.test': { TXT: ['v=spf1 -all'] }, 'down.test': { fail: ['TXT'] } });
    const c = new CachingResolver(zone, { now: () => t, negativeTtlSec: 30 });
    expect(await c.txt('example.test')).toMatchObject({ status: 'ok', records: ['v=spf1 -all'] });
    expect(await c.txt('EXAMPLE.test.')).toMatchObject({ status: 'ok' });
    expect(zone.log.filter((l) => l === 'TXT example.test')).toHaveLength(1);
    t += 301_000; // default TTL 300 s when the answer has none
    await c.txt('example.test');
    expect(zone.log.filter((l) => l === 'TXT example.test')).toHaveLength(2);
    await c.txt('down.test');
    await c.txt('down.test');
    expect(zone.log.filter((l) => l === 'TXT down.test')).toHaveLength(2);
    await Promise.all([c.a('none.test'), c.a('none.test'), c.a('none.test')]);
    expect(zone.log.filter((l) => l === 'A none.test')).toHaveLength(1);
    t += 31_000;
    await c.a('none.test');
    expect(zone.log.filter((l) => l === 'A none.test')).toHaveLength(2);
  });

  it('keeps at most maxEntries answers', async () => {
    const zone = new MemoryResolver({});
    const c = new CachingResolver(zone, { maxEntries: 3 });
    for (const n of ['a.test', 'b.test', 'c.test', 'd.test']) await c.a(n);
    await c.a('a.test');
    expect(zone.log.filter((l) => l === 'A a.test')).toHaveLength(2);
    await c.a('d.test');
    expect(zone.log.filter((l) => l === 'A d.test')).toHaveLength(1);
  });

  it('says how long a cached answer stays fresh: its TTL left, 0 for none, for an expired one and for temperror', async () => {
    let t = 1_000_000;
    const zone = new MemoryResolver({ 'example.test': { TXT: ['v=spf1 -all'] }, 'down.test': { fail: ['TXT'] } });
    const c = new CachingResolver(zone, { now: () => t, negativeTtlSec: 30 });
    expect(c.freshForMs('txt', 'example.test')).toBe(0);
    await c.txt('example.test');
    await c.txt('down.test');
    await c.a('none.test');
    t += 1000;
    expect(c.freshForMs('txt', 'Example.Test.')).toBe(299_000);
    expect(c.freshForMs('a', 'none.test')).toBe(29_000);
    expect(c.freshForMs('txt', 'down.test')).toBe(0);
    expect(c.freshForMs('mx', 'example.test')).toBe(0);
    t += 30_000;
    expect(c.freshForMs('a', 'none.test')).toBe(0);
  });
});
