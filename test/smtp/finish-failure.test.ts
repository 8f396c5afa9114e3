/**
 * A throw while a received message is being finished (a bug, a dependency
 * failing in an unexpected way) costs that message a 451 — the client keeps
 * it and retries — never an unhandled rejection, which would stop the whole
 * process and every other session with it.
 */
import { describe, expect, it, vi } from 'vitest';
import { systemClock } from '../../src/core/clock.js';
import { useHarness, type Harness } from '../support/harness.js';
import { RawClient } from '../support/raw.js';

let h: Harness;
useHarness({ deliver: false }, (x) => (h = x));

describe('finishing a message', () => {
  it('answers 451 when finishing throws, leaves no unhandled rejection, and keeps serving', async () => {
    const rejections: unknown[] = [];
    const onRejection = (r: unknown): void => void rejections.push(r);
    process.on('unhandledRejection', onRejection);
    const c = await RawClient.plain(h.ports.mx, '127.0.0.9');
    try {
      expect((await c.reply())?.code).toBe(220);
      expect((await c.cmd('EHLO client.example.test'))?.code).toBe(250);
      expect((await c.cmd('MAIL FROM:<sender@remote.test>'))?.code).toBe(250);
      expect((await c.cmd(`RCPT TO:<${h.users.alice.address}>`))?.code).toBe(250);
      expect((await c.cmd('DATA'))?.code).toBe(354);
      // The queue id is taken at the end of DATA (first call); the next read of the clock is inside finishing.
      const spy = vi
        .spyOn(systemClock, 'now')
        .mockImplementationOnce(() => Date.now())
        .mockImplementationOnce(() => {
          throw new Error('clock broke');
        });
      const r = await c.cmd('From: sender@remote.test\r\nSubject: x\r\n\r\nbody\r\n.');
      spy.mockRestore();
      expect(r?.code).toBe(451);
      expect(r?.text).not.toMatch(/clock broke/);
      // The session and the server carry on.
      expect((await c.cmd('RSET'))?.code).toBe(250);
      expect((await c.cmd('MAIL FROM:<sender@remote.test>'))?.code).toBe(250);
      expect((await c.cmd(`RCPT TO:<${h.users.alice.address}>`))?.code).toBe(250);
      expect((await c.cmd('DATA'))?.code).toBe(354);
      expect((await c.cmd('From: sender@remote.test\r\nSubject: y\r\n\r\nbody\r\n.'))?.code).toBe(250);
    } finally {
      c.close();
      process.off('unhandledRejection', onRejection);
    }
    expect(rejections).toEqual([]);
  });
});
