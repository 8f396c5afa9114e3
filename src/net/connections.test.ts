import { describe, expect, it } from 'vitest';
import { ConnectionTable } from './connections.js';

describe('ConnectionTable', () => {
  it('refuses past the per-client and the total limit, and frees slots on release', () => {
    const t = new ConnectionTable({ maxTotal: 3, maxPerClient: 2, maxPendingPerClient: 2, reserved: 0 });
    const a1 = t.admit('a');
    t.admit('a');
    expect(t.refusal('a')).toBe('client');
    expect(t.refusal('b')).toBeNull();
    t.admit('b');
    expect(t.refusal('c')).toBe('total');
    a1.release();
    a1.release(); // twice is once
    expect(t.refusal('a')).toBeNull();
    expect(t.refusal('c')).toBeNull();
    expect(t.size).toBe(2);
  });

  it('limits connections that have not logged in more tightly than established ones', () => {
    const t = new ConnectionTable({ maxTotal: 100, maxPerClient: 10, maxPendingPerClient: 2, reserved: 0 });
    const s1 = t.admit('a');
    t.admit('a');
    expect(t.refusal('a')).toBe('client');
    s1.establish(false);
    expect(s1.established).toBe(true);
    expect(t.refusal('a')).toBeNull();
    s1.release();
    t.admit('a');
    expect(t.refusal('a')).toBe('client');
  });

  it('keeps the reserve for addresses holding few connections and for addresses that logged in before', () => {
    const t = new ConnectionTable({ maxTotal: 10, maxPerClient: 10, maxPendingPerClient: 10, reserved: 3 });
    for (let i = 0; i < 7; i++) t.admit('flood');
    expect(t.refusal('flood'), 'the burst stops where the reserve starts').toBe('total');
    expect(t.refusal('newcomer')).toBeNull();
    const known = t.admit('owner');
    known.establish(true);
    t.admit('owner');
    expect(t.refusal('owner'), 'an address that logged in may go past RESERVE_MAX_HELD').toBeNull();
    t.admit('owner');
    expect(t.refusal('newcomer')).toBe('total');
  });
});
