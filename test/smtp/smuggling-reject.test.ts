import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness.js';
import { closeAllRaw, plainToken, RawClient } from '../support/raw.js';
import { probe, VARIANTS } from '../support/smuggling.js';

// bareNewline = 'reject' (the default): any bare CR or LF refuses the whole message.
let h: Harness;
beforeAll(async () => {
  h = await startHarness({ deliver: false });
});
afterEach(() => closeAllRaw());
afterAll(async () => {
  closeAllRaw();
  await h?.close();
});

async function mxOverStartTls(): Promise<RawClient> {
  const c = await RawClient.plain(h.ports.mx);
  await c.reply();
  await c.cmd('EHLO relay.elsewhere.test');
  expect((await c.cmd('STARTTLS'))?.code).toBe(220);
  await c.startTls(h.caPem);
  await c.cmd('EHLO relay.elsewhere.test');
  return c;
}

describe('SMTP smuggling with bareNewline = reject', () => {
  for (const variant of VARIANTS) {
    for (const split of [false, true]) {
      it(`refuses ${variant.name}${split ? ' split across writes' : ''} on mx and queues nothing`, async () => {
        const before = (await h.pending()).length;
        const c = await mxOverStartTls();
        const r = await probe(c, 'sender@elsewhere.test', h.users.alice.address, variant, h.users.victim.address, split);
        expect(r.data?.code).toBe(550);
        expect(r.data?.text).toMatch(/^5\.5\.2 /);
        expect(r.after?.code).toBe(221);
        const pending = await h.pending();
        expect(pending.length).toBe(before);
        expect(pending.some((p) => p.address === h.users.victim.address)).toBe(false);
        c.close();
      });
    }
  }

  it('refuses the probe on submissions (465) after AUTH as well', async () => {
    for (const variant of VARIANTS) {
      const c = await RawClient.tls(h.ports.submissions, h.caPem);
      await c.reply();
      await c.cmd('EHLO client.example.test');
      expect((await c.cmd(`AUTH PLAIN ${plainToken(h.users.alice.address, h.users.alice.password)}`))?.code).toBe(235);
      const r = await probe(c, h.users.alice.address, h.users.bob.address, variant, h.users.victim.address, false);
      expect(r.data?.code, variant.name).toBe(550);
      expect(r.after?.code).toBe(221);
      c.close();
    }
    expect((await h.pending()).length).toBe(0);
    expect(await h.inbox(h.users.victim)).toEqual([]);
  });
});
