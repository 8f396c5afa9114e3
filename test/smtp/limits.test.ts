import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useHarness, queueIdOf, startHarness, type Harness } from '../support/harness.js';
import { RawClient, type Reply } from '../support/raw.js';
import { smtplib } from '../support/smtplib.js';

const MAX_SIZE = 64 * 1024;
let h: Harness;
useHarness({ deliver: false, limits: { maxMessageSize: MAX_SIZE, maxRecipients: 3, maxConnections: 4, maxConnectionsPerClient: 2 } }, (x) => (h = x));

async function mx(localAddress?: string): Promise<RawClient & { greeting: Reply | null }> {
  const c = await RawClient.plain(h.ports.mx, localAddress);
  const greeting = await c.reply();
  if (greeting?.code === 220) await c.cmd('EHLO raw.example.test');
  return Object.assign(c, { greeting });
}

describe('size limit', () => {
  it('advertises SIZE and refuses a declared size over it', async () => {
    const c = await RawClient.plain(h.ports.mx);
    await c.reply();
    const ehlo = await c.cmd('EHLO raw.example.test');
    expect(ehlo?.lines.some((l) => l === `250-SIZE ${MAX_SIZE}` || l === `250 SIZE ${MAX_SIZE}`)).toBe(true);
    const r = await c.cmd(`MAIL FROM:<a@elsewhere.test> SIZE=${MAX_SIZE + 1}`);
    expect(r?.code).toBe(552);
    expect(r?.text).toMatch(/^5\.3\.4 /);
    c.close();
  });

  it('refuses an oversized message with 552 5.3.4, queues nothing, and the session goes on', async () => {
    const before = (await h.pending()).length;
    const c = await mx();
    await c.cmd('MAIL FROM:<a@elsewhere.test>');
    await c.cmd(`RCPT TO:<${h.users.alice.address}>`);
    await c.cmd('DATA');
    const big = `Subject: big\r\n\r\n${`${'y'.repeat(998)}\r\n`.repeat(Math.ceil(MAX_SIZE / 1000) + 1)}.`;
    const r = await c.cmd(big);
    expect(r?.code).toBe(552);
    expect(r?.text).toMatch(/^5\.3\.4 /);
    expect((await h.pending()).length).toBe(before);
    await c.cmd('MAIL FROM:<a@elsewhere.test>');
    await c.cmd(`RCPT TO:<${h.users.alice.address}>`);
    await c.cmd('DATA');
    expect((await c.cmd(`Subject: small\r\n\r\n${'z'.repeat(MAX_SIZE - 100)}\r\n.`))?.code).toBe(250);
    c.close();
  });
});

describe('recipient limit', () => {
  it('answers the recipient over the limit with 452 4.5.3 and queues the accepted ones', async () => {
    const file = await h.writeFile('rcpts.eml', 'From: a@elsewhere.test\r\nSubject: many\r\n\r\nhi\r\n');
    const r = await smtplib({
      port: h.ports.mx, mode: 'plain', ca: h.caFile, from: 'a@elsewhere.test',
      to: ['alice@example.test', 'ALICE@example.test', 'bob@example.test', 'victim@example.test', 'sales@example.test'],
      msgFile: file,
    });
    expect(r.rcpt?.map((x) => x[0])).toEqual([250, 250, 250, 250, 452]);
    expect(r.rcpt?.[4]?.[1]).toBe('4.5.3 Too many recipients');
    expect(r.data?.[0]).toBe(250);
    const recipients = await h.store.meta.queue.listRecipients(queueIdOf(r.data![1]));
    expect(recipients.map((x) => x.address).sort()).toEqual(['alice@example.test', 'bob@example.test', 'victim@example.test']);
  });
});

describe('connection limits', () => {
  it('refuses with 421 4.7.0 over the per-client and the total limit, and admits again after a close', async () => {
    const a1 = await mx('127.0.0.1');
    const a2 = await mx('127.0.0.1');
    const a3 = await mx('127.0.0.1');
    expect(a1.greeting?.code).toBe(220);
    expect(a2.greeting?.code).toBe(220);
    expect(a3.greeting?.code).toBe(421);
    expect(a3.greeting?.text).toMatch(/^4\.7\.0 /);
    expect(await a3.closed()).toBe(true);
    const b = await mx('127.0.0.2');
    const c = await mx('127.0.0.3');
    const d = await mx('127.0.0.4');
    expect([b.greeting?.code, c.greeting?.code]).toEqual([220, 220]);
    expect(d.greeting?.code).toBe(421);
    expect(d.greeting?.text).toMatch(/^4\.7\.0 /);
    expect((await a1.cmd('QUIT'))?.code).toBe(221);
    expect(await a1.closed()).toBe(true);
    // The slot is free once the server has seen the close; poll a bounded number of times.
    let again: Awaited<ReturnType<typeof mx>> | null = null;
    for (let i = 0; i < 50; i++) {
      again = await mx('127.0.0.5');
      if (again.greeting?.code === 220) break;
      again.close();
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(again?.greeting?.code).toBe(220);
    for (const x of [a2, b, c, again!]) x.close();
  });
});

describe('socket timeout', () => {
  let t: Harness;
  beforeAll(async () => {
    t = await startHarness({ deliver: false, limits: { socketTimeoutMs: 300 } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('closes an idle session with 421', async () => {
    const c = await RawClient.plain(t.ports.mx);
    expect((await c.reply())?.code).toBe(220);
    const r = await c.reply();
    expect(r?.code).toBe(421);
    expect(await c.closed()).toBe(true);
  });
});
