/**
 * What a hostile client or a failing machine must not do to the server: a
 * huge From field stalling the event loop, a throw inside DATA handling
 * crashing the process or leaving the client without a reply, a full disk
 * answered as an unknown failure.
 */
import { describe, expect, it } from 'vitest';
import { PosternError } from '../../src/core/errors.js';
import { useHarness, type Harness } from '../support/harness.js';
import { plainToken, RawClient } from '../support/raw.js';
import { smtplib } from '../support/smtplib.js';
import { STORABLE, UNSTORABLE } from '../support/unstorable.js';

/** Throws from now() while armed: `armed` counts the calls to let through first. */
const clock = {
  armed: -1,
  now(): number {
    if (this.armed === 0) {
      this.armed = -1;
      throw new Error('clock failure');
    }
    if (this.armed > 0) this.armed--;
    return Date.now();
  },
};
/** What Spool.accept fails with, when set. */
let failAccept: unknown = null;

let h: Harness;
useHarness(
  {
    deliver: false,
    clock,
    limits: { maxMessageSize: 4 * 1024 * 1024 },
    wrapAccept: (accept, s) => (failAccept ? Promise.reject(failAccept) : accept(s)),
  },
  (x) => (h = x),
);

let n = 0;
async function stillDelivers(): Promise<void> {
  const file = await h.writeFile(`ok-${++n}.eml`, 'From: alice@example.test\r\nSubject: ok\r\n\r\nstill fine\r\n');
  const r = await smtplib({
    port: h.ports.submissions, mode: 'ssl', ca: h.caFile,
    logins: [{ user: h.users.alice.address, password: h.users.alice.password }],
    from: h.users.alice.address, to: [h.users.bob.address], msgFile: file,
  });
  expect(r.data?.[0]).toBe(250);
}

/** An authenticated raw session on 465 with one transaction open up to DATA's 354. */
async function openData(): Promise<RawClient> {
  const c = await RawClient.tls(h.ports.submissions, h.caPem);
  await c.reply();
  await c.cmd('EHLO raw.example.test');
  expect((await c.cmd(`AUTH PLAIN ${plainToken(h.users.alice.address, h.users.alice.password)}`))?.code).toBe(235);
  expect((await c.cmd(`MAIL FROM:<${h.users.alice.address}>`))?.code).toBe(250);
  expect((await c.cmd(`RCPT TO:<${h.users.bob.address}>`))?.code).toBe(250);
  expect((await c.cmd('DATA'))?.code).toBe(354);
  return c;
}

const MESSAGE = 'From: alice@example.test\r\nSubject: x\r\n\r\nbody\r\n.';

describe('a huge From field', () => {
  // With the old backtracking scan the 500 KB value alone took minutes of event-loop time.
  it('of 500 KB and of 1 MB is refused over submission, and the server keeps serving', { timeout: 30_000 }, async () => {
    for (const size of [500 * 1024, 1024 * 1024]) {
      const file = await h.writeFile(`from-${size}.eml`, `From: alice@example.test ${'a'.repeat(size)}\r\nSubject: big From\r\n\r\nbody\r\n`);
      const r = await smtplib({
        port: h.ports.submissions, mode: 'ssl', ca: h.caFile,
        logins: [{ user: h.users.alice.address, password: h.users.alice.password }],
        from: h.users.alice.address, to: [h.users.bob.address], msgFile: file,
      });
      expect(r.data?.[0]).toBe(550);
      expect(r.data?.[1]).toMatch(/^5\.6\.0 /);
    }
    expect(h.logs.some((l) => l.msg === 'message refused' && l.why === 'author-too-long')).toBe(true);
    expect(h.logs.some((l) => l.msg === 'message refused' && l.why === 'header-too-large')).toBe(true);
    await stillDelivers();
  });
});

describe('a throw while a message is handled', () => {
  it('at the end of DATA gets 451 4.3.0 and a logged error; the process and the session go on', async () => {
    const before = (await h.pending()).length;
    for (const letThrough of [0, 1]) {
      // 0: the first clock read at the end of DATA (in the stream's end event);
      // 1: the next one, inside the asynchronous handling before spool.accept.
      const c = await openData();
      clock.armed = letThrough;
      const r = await c.cmd(MESSAGE);
      clock.armed = -1;
      expect(r?.code).toBe(451);
      expect(r?.text).toBe('4.3.0 Temporary local problem, please try again later');
      expect((await c.cmd('NOOP'))?.code).toBe(250);
      expect((await c.cmd('QUIT'))?.code).toBe(221);
    }
    expect(h.logs.filter((l) => l.msg === 'message handling failed' && l.level === 50)).toHaveLength(2);
    expect((await h.pending()).length).toBe(before);
    expect(h.memoryBudget.used).toBe(0);
    await stillDelivers();
  });
});

describe('a full disk', () => {
  const enospc = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
  const cases: [string, () => unknown][] = [
    ['ENOSPC in the cause chain', () => new Error('blob write failed', { cause: new Error('flush failed', { cause: enospc() }) })],
    ['EDQUOT', () => Object.assign(new Error('EDQUOT: disk quota exceeded'), { code: 'EDQUOT' })],
    ['SQLITE_FULL', () => Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' })],
    ['PosternError STORAGE_FULL', () => new PosternError('STORAGE_FULL', 'blob store')],
  ];
  for (const [name, make] of cases) {
    it(`answers 452 4.3.1 for ${name}, keeps nothing and keeps serving`, async () => {
      const before = (await h.pending()).length;
      const c = await openData();
      failAccept = make();
      const r = await c.cmd(MESSAGE);
      failAccept = null;
      expect(r?.code).toBe(452);
      expect(r?.text).toBe('4.3.1 Insufficient system storage');
      expect((await c.cmd('QUIT'))?.code).toBe(221);
      expect((await h.pending()).length).toBe(before);
      expect(h.logs.some((l) => l.msg === 'message could not be queued' && l.verdict === 'STORAGE_FULL')).toBe(true);
      await stillDelivers();
    });
  }

  it('still answers 451 4.3.0 for any other store failure', async () => {
    const c = await openData();
    failAccept = Object.assign(new Error('EIO: i/o error'), { code: 'EIO' });
    const r = await c.cmd(MESSAGE);
    failAccept = null;
    expect(r?.code).toBe(451);
    expect(r?.text).toMatch(/^4\.3\.0 /);
  });
});

describe('the storage rule IMAP APPEND shares', () => {
  it('refuses over mx, with 550 5.6.0, every message APPEND refuses, and takes the ones it takes', async () => {
    const before = (await h.pending()).length;
    const c = await RawClient.plain(h.ports.mx);
    await c.reply();
    await c.cmd('EHLO raw.example.test');
    const send = async (bytes: Buffer) => {
      expect((await c.cmd('MAIL FROM:<someone@remote.test>'))?.code).toBe(250);
      expect((await c.cmd(`RCPT TO:<${h.users.bob.address}>`))?.code).toBe(250);
      expect((await c.cmd('DATA'))?.code).toBe(354);
      return c.cmd(bytes.toString('latin1') + '.');
    };
    for (const u of UNSTORABLE) {
      const r = await send(u.bytes);
      expect(r?.code, u.name).toBe(550);
      expect(r?.text, u.name).toMatch(/^5\.6\.0 /);
      expect(h.logs.some((l) => l.msg === 'message refused' && l.why === u.reason), u.name).toBe(true);
    }
    for (const bytes of STORABLE) expect((await send(bytes))?.code).toBe(250);
    expect((await h.pending()).length).toBe(before + STORABLE.length);
  });
});

