import { describe, expect, it } from 'vitest';
import { HandedLeases } from './handed.js';

type L = { id: string; until: number };

function withStore(stored: L[]) {
  const asks: number[] = [];
  const leases = new HandedLeases<L>(60_000, async (_now, limit) => {
    asks.push(limit);
    return stored.splice(0, limit);
  });
  return { leases, asks };
}

describe('HandedLeases', () => {
  it('asks the store on every take while nothing is handed over', async () => {
    const { leases, asks } = withStore([{ id: 's1', until: 100 }]);
    expect((await leases.take(0, 4)).map((l) => l.id)).toEqual(['s1']);
    expect(await leases.take(0, 4)).toEqual([]);
    expect(asks).toEqual([4, 4]);
  });

  it('takes handed leases first, skips expired ones, and asks the store only when told while hand-overs come', async () => {
    const stored = [{ id: 's1', until: 100 }];
    const { leases, asks } = withStore(stored);
    expect((await leases.take(0, 4)).map((l) => l.id)).toEqual(['s1']); // the first look
    stored.push({ id: 's2', until: 100 });
    leases.add([{ id: 'h1', until: 50 }, { id: 'old', until: 10 }, { id: 'h2', until: 50 }]);
    expect((await leases.take(20, 4)).map((l) => l.id)).toEqual(['h1', 'h2']);
    expect(asks).toEqual([4]);
    leases.due();
    expect((await leases.take(20, 4)).map((l) => l.id)).toEqual(['s2']);
    expect(asks).toEqual([4, 4]);
  });

  it('asks again after a full lease from the store: more may wait behind it', async () => {
    const { leases, asks } = withStore(Array.from({ length: 5 }, (_, i) => ({ id: `s${i}`, until: 100 })));
    leases.add([{ id: 'h', until: 100 }]);
    leases.due();
    expect((await leases.take(0, 3)).map((l) => l.id)).toEqual(['h', 's0', 's1']);
    expect((await leases.take(0, 3)).map((l) => l.id)).toEqual(['s2', 's3', 's4']);
    expect((await leases.take(0, 3)).map((l) => l.id)).toEqual([]);
    expect(asks).toEqual([2, 3, 3]);
    // Not full: not asked again until told (a hand-over came recently).
    leases.add([]);
    expect(await leases.take(0, 3)).toEqual([]);
    expect(asks).toEqual([2, 3, 3]);
  });
});
