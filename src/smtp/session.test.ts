import { describe, expect, it } from 'vitest';
import { silentLogger } from '../metrics/logger.js';
import { SessionTable } from './session.js';

describe('SessionTable', () => {
  it('enforces the per-client and total limits and frees slots on release', () => {
    const t = new SessionTable({ maxTotal: 3, maxPerClient: 2, maxPendingPerClient: 2, reserved: 0 });
    const log = silentLogger();
    t.admit('a', '192.0.2.1', log);
    t.admit('b', '192.0.2.1', log);
    expect(t.refusal('192.0.2.1')).toBe('client');
    expect(t.refusal('192.0.2.2')).toBeNull();
    t.admit('c', '192.0.2.2', log);
    expect(t.refusal('192.0.2.3')).toBe('total');
    expect(t.release('a')?.ip).toBe('192.0.2.1');
    expect(t.release('a')).toBeUndefined();
    expect(t.refusal('192.0.2.1')).toBeNull();
    expect(t.size).toBe(2);
  });

  it('frees the slot of a session the server is closing, and keeps its state until release', () => {
    const t = new SessionTable({ maxTotal: 10, maxPerClient: 1, maxPendingPerClient: 1, reserved: 0 });
    const log = silentLogger();
    t.admit('a', '192.0.2.1', log);
    expect(t.refusal('192.0.2.1')).toBe('client');
    t.leaving('a');
    expect(t.refusal('192.0.2.1')).toBeNull();
    t.admit('b', '192.0.2.1', log);
    expect(t.release('a')?.ip).toBe('192.0.2.1'); // the slot is not freed twice
    expect(t.refusal('192.0.2.1')).toBe('client');
  });
});
