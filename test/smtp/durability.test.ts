import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { queueIdOf, startHarness, type Harness } from '../support/harness.js';
import { closeAllRaw, RawClient } from '../support/raw.js';
import type { Submission } from '../../src/queue/spool.js';

// The spool is wrapped: a message whose subject says "fail" makes accept throw,
// one that says "hold" waits until the test releases it.
let release: () => void = () => undefined;
let held: Promise<void> = Promise.resolve();
let entered: () => void = () => undefined;
let h: Harness;

beforeAll(async () => {
  h = await startHarness({
    deliver: false,
    async wrapAccept(accept, s: Submission) {
      const text = Buffer.from(s.data).toString('latin1');
      if (text.includes('Subject: fail')) throw new Error('EIO: write /srv/secret-volume/blob failed');
      if (text.includes('Subject: hold')) {
        entered();
        await held;
      }
      await accept(s);
    },
  });
});
afterEach(() => closeAllRaw());
afterAll(async () => {
  closeAllRaw();
  await h?.close();
});

async function startMessage(subject: string): Promise<RawClient> {
  const c = await RawClient.plain(h.ports.mx);
  await c.reply();
  await c.cmd('EHLO raw.example.test');
  await c.cmd('MAIL FROM:<a@elsewhere.test>');
  await c.cmd(`RCPT TO:<${h.users.alice.address}>`);
  await c.cmd('DATA');
  c.write(`Subject: ${subject}\r\n\r\nbody\r\n.\r\n`);
  return c;
}

describe('acknowledgement and durability', () => {
  it('answers 451 4.3.0 without internal detail when the spool fails, and logs the cause', async () => {
    const c = await startMessage('fail');
    const r = await c.reply();
    expect(r?.code).toBe(451);
    expect(r?.text).toBe('4.3.0 Temporary local problem, please try again later');
    expect(JSON.stringify(h.logs)).toContain('secret-volume');
    // Every line about a message names it.
    const aboutMessages = h.logs.filter((l) => typeof l.msg === 'string' && /^message /.test(l.msg));
    expect(aboutMessages.some((l) => l.msg === 'message could not be queued')).toBe(true);
    for (const l of aboutMessages) expect(l.queueId).toMatch(/^[0-9A-Z]{18}$/);
    expect((await c.cmd('QUIT'))?.code).toBe(221);
    expect(await h.pending()).toEqual([]);
  });

  it('sends 250 only after spool.accept has resolved', async () => {
    let enteredNow!: () => void;
    const inAccept = new Promise<void>((r) => (enteredNow = r));
    entered = enteredNow;
    held = new Promise<void>((r) => (release = r));
    const c = await startMessage('hold');
    await inAccept;
    // A full greeting on another connection gives an early reply ample time to arrive.
    const other = await RawClient.plain(h.ports.mx);
    expect((await other.reply())?.code).toBe(220);
    other.close();
    expect(c.buffered()).toBe('');
    release();
    const r = await c.reply();
    expect(r?.code).toBe(250);
    const queued = await h.store.meta.queue.getMessage(queueIdOf(r!.text));
    expect(queued).not.toBeNull();
    c.close();
  });
});
