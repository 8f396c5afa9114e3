/**
 * The process-wide budget for message bytes in memory, as SMTP DATA uses it:
 * a message that does not fit is read to its end and dropped with a 4xx, the
 * others go on, and every way a transfer ends gives its bytes back.
 */
import { describe, expect, it } from 'vitest';
import { useHarness, type Harness } from '../support/harness.js';
import { RawClient } from '../support/raw.js';

const KIB = 1024;
let h: Harness;
// Room for one 200 KiB message (held twice at the end of DATA) but not for a second one beside it.
useHarness({ deliver: false, memoryBudget: 512 * KIB }, (x) => (h = x));

async function mxData(): Promise<RawClient> {
  const c = await RawClient.plain(h.ports.mx);
  await c.reply();
  await c.cmd('EHLO raw.example.test');
  expect((await c.cmd('MAIL FROM:<someone@remote.test>'))?.code).toBe(250);
  expect((await c.cmd(`RCPT TO:<${h.users.bob.address}>`))?.code).toBe(250);
  expect((await c.cmd('DATA'))?.code).toBe(354);
  return c;
}

const body = (kib: number): string => 'From: someone@remote.test\r\nSubject: big\r\n\r\n' + ('x'.repeat(1022) + '\r\n').repeat(kib);

/** Waits (bounded) until the budget's use satisfies `ok`. */
async function budgetUntil(ok: (used: number) => boolean): Promise<number> {
  for (let i = 0; i < 400 && !ok(h.memoryBudget.used); i++) await new Promise((r) => setTimeout(r, 25));
  return h.memoryBudget.used;
}

/** Waits (bounded) until the budget's use has not moved for ten polls in a row. */
async function settled(): Promise<void> {
  let last = -1;
  for (let i = 0, same = 0; i < 400 && same < 10; i++) {
    await new Promise((r) => setTimeout(r, 25));
    same = h.memoryBudget.used === last ? same + 1 : 0;
    last = h.memoryBudget.used;
  }
}

describe('memory budget for SMTP DATA', () => {
  it('answers 452 4.3.1 to the message that does not fit, accepts the one that does, and ends at zero', async () => {
    const before = (await h.pending()).length;
    const a = await mxData();
    a.write(body(200)); // held, not yet ended
    expect(await budgetUntil((u) => u >= 200 * KIB)).toBeGreaterThanOrEqual(200 * KIB);

    const b = await mxData();
    const rb = await b.cmd(body(400) + '.');
    expect(rb?.code).toBe(452);
    expect(rb?.text).toBe('4.3.1 Insufficient system resources, try again later');
    expect((await b.cmd('NOOP'))?.code).toBe(250); // the session goes on

    const ra = await a.cmd('.');
    expect(ra?.code).toBe(250);
    expect((await h.pending()).length).toBe(before + 1);
    expect(h.logs.some((l) => l.msg === 'message refused' && l.verdict === 'MEMORY_BUDGET')).toBe(true);
    expect(h.memoryBudget.used).toBe(0);
  });

  it('keeps serving many concurrent senders: each gets 250 or 452, and the budget returns to zero', async () => {
    const before = (await h.pending()).length;
    const clients = await Promise.all(Array.from({ length: 8 }, () => mxData()));
    // 8 x 150 KiB cannot all be held in 512 KiB: once the server has read every
    // body (the budget's use stops moving), at least one of them was dropped.
    for (const c of clients) c.write(body(150));
    await settled();
    expect(h.memoryBudget.used).toBeLessThanOrEqual(512 * KIB);
    const replies = await Promise.all(clients.map((c) => c.cmd('.')));
    const codes = replies.map((r) => r?.code);
    expect(codes.every((c) => c === 250 || c === 452)).toBe(true);
    expect(codes).toContain(452);
    expect((await h.pending()).length).toBe(before + codes.filter((c) => c === 250).length);
    expect(h.memoryBudget.used).toBe(0);
    // Once the others are done, a message of the same size fits again.
    const again = await mxData();
    expect((await again.cmd(body(150) + '.'))?.code).toBe(250);
  });

  it('gives the bytes back when the client goes away mid-message', async () => {
    const c = await mxData();
    c.write(body(100));
    expect(await budgetUntil((u) => u >= 100 * KIB)).toBeGreaterThanOrEqual(100 * KIB);
    c.close();
    expect(await budgetUntil((u) => u === 0)).toBe(0);
  });
});
