import { describe, expect, it } from 'vitest';
import { ConnectionTable } from './connections.js';

describe('ConnectionTable', () => {
  it('refuses past the per-client and the total limit, and frees slots on release', () => {
    const t = new ConnectionTable(3, 2);
    t.admit('a');
    t.admit('a');
    expect(t.refusal('a')).toBe('client');
    expect(t.refusal('b')).toBeNull();
    t.admit('b');
    expect(t.refusal('c')).toBe('total');
    t.release('a');
    expect(t.refusal('a')).toBeNull();
    expect(t.refusal('c')).toBeNull();
    expect(t.size).toBe(2);
  });
});
