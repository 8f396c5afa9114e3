import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { queueIdOf, startHarness, stripOwnReceived, type Harness } from '../support/harness.js';
import { closeAllRaw, RawClient } from '../support/raw.js';
import { payload, probe, SMUGGLED_SENDER, VARIANTS } from '../support/smuggling.js';

// bareNewline = 'normalize': bare LF becomes CRLF, a bare CR is still refused.
let h: Harness;
beforeAll(async () => {
  h = await startHarness({ bareNewline: 'normalize' });
});
afterEach(() => closeAllRaw());
afterAll(async () => {
  closeAllRaw();
  await h?.close();
});

describe('SMTP smuggling with bareNewline = normalize', () => {
  for (const variant of VARIANTS) {
    it(`${variant.bareCr ? 'refuses' : 'keeps as one message'} ${variant.name}`, async () => {
      const c = await RawClient.plain(h.ports.mx);
      await c.reply();
      await c.cmd('EHLO relay.elsewhere.test');
      const before = (await h.inbox(h.users.alice)).length;
      const r = await probe(c, 'sender@elsewhere.test', h.users.alice.address, variant, h.users.victim.address, false);
      expect(r.after?.code).toBe(221);
      if (variant.bareCr) {
        expect(r.data?.code).toBe(550);
        expect(r.data?.text).toMatch(/^5\.5\.2 /);
      } else {
        expect(r.data?.code).toBe(250);
        const inbox = await h.waitForInbox(h.users.alice, before + 1);
        expect(inbox.length).toBe(before + 1);
        const body = stripOwnReceived(await h.blob(inbox.at(-1)!.blobId), queueIdOf(r.data!.text)).toString('latin1');
        // The whole text, smuggled commands included, is content of the one message, with CRLF line ends.
        const unstuffed = payload(variant, h.users.victim.address).replace(/\n\.\./g, '\n.').replace(/\r?\n/g, '\r\n');
        expect(body).toBe(unstuffed.slice(0, -3));
        expect(body).toContain(`MAIL FROM:<${SMUGGLED_SENDER}>\r\nRCPT TO:<${h.users.victim.address}>\r\nDATA\r\n`);
      }
      expect(await h.inbox(h.users.victim)).toEqual([]);
      expect((await h.pending()).some((p) => p.address === h.users.victim.address)).toBe(false);
      c.close();
    });
  }
});
