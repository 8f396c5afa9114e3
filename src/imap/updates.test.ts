/** Untagged updates between sessions on one folder: EXISTS, FETCH FLAGS, EXPUNGE/VANISHED, IDLE. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RawClient, startHarness, type Harness } from './testing/harness.js';

let h: Harness;
const clients: RawClient[] = [];

beforeEach(async () => {
  h = await startHarness();
  for (let i = 1; i <= 3; i++) await h.deliver('INBOX', `Subject: message ${i}\n\nbody ${i}\n`);
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await h.close();
});

async function session(select = 'SELECT INBOX'): Promise<RawClient> {
  const c = await RawClient.tls(h.ports.tls);
  clients.push(c);
  await c.line();
  await c.login();
  expect((await c.command('S', select)).at(-1)).toMatch(/^S OK/);
  return c;
}

describe('updates between sessions', () => {
  it('reports new mail, flag changes and expunges at the next command', async () => {
    const a = await session();
    const b = await session();
    await a.command('a1', 'STORE 2 +FLAGS (\\Seen)');
    await h.deliver('INBOX', 'Subject: four\n\nbody\n');
    // a claimed messages 1-3 as recent when it selected; b is the first told of message 4.
    expect(await b.command('b1', 'NOOP')).toEqual(['* 4 EXISTS', '* 1 RECENT', '* 2 FETCH (UID 2 FLAGS (\\Seen))', 'b1 OK NOOP completed']);
    await a.command('a2', 'STORE 1 +FLAGS (\\Deleted)');
    await a.command('a3', 'EXPUNGE');
    expect(await b.command('b2', 'NOOP')).toEqual(['* 1 EXPUNGE', 'b2 OK NOOP completed']);
    expect(await b.command('b3', 'FETCH 1:* (UID)')).toEqual([
      '* 1 FETCH (UID 2)',
      '* 2 FETCH (UID 3)',
      '* 3 FETCH (UID 4)',
      'b3 OK FETCH completed',
    ]);
  });

  it('never sends EXPUNGE while answering FETCH, STORE or SEARCH, and keeps the numbers stable', async () => {
    const a = await session();
    const b = await session();
    await a.command('a1', 'STORE 2 +FLAGS (\\Deleted)');
    await a.command('a2', 'EXPUNGE');
    // Message 2 is gone, but b has not been told: its numbers still count it.
    expect(await b.command('b1', 'FETCH 2:3 (UID)')).toEqual(['* 3 FETCH (UID 3)', 'b1 OK FETCH completed']);
    expect(await b.command('b2', 'SEARCH ALL')).toEqual(['* SEARCH 1 3', 'b2 OK SEARCH completed']);
    expect(await b.command('b3', 'STORE 3 +FLAGS (\\Flagged)')).toEqual(['* 3 FETCH (FLAGS (\\Flagged))', 'b3 OK STORE completed']);
    // A UID command may carry the expunge.
    expect(await b.command('b4', 'UID FETCH 3 (FLAGS)')).toEqual(['* 3 FETCH (UID 3 FLAGS (\\Flagged))', '* 2 EXPUNGE', 'b4 OK FETCH completed']);
  });

  it('uses VANISHED instead of EXPUNGE once QRESYNC is enabled', async () => {
    const a = await session();
    const b = await RawClient.tls(h.ports.tls);
    clients.push(b);
    await b.line();
    await b.login();
    expect(await b.command('e', 'ENABLE QRESYNC')).toEqual(['* ENABLED QRESYNC', 'e OK ENABLE completed']);
    await b.command('s', 'SELECT INBOX');
    await a.command('a1', 'STORE 1,3 +FLAGS (\\Deleted)');
    await a.command('a2', 'EXPUNGE');
    const r = await b.command('b1', 'NOOP');
    expect(r[0]).toBe('* VANISHED 1,3');
    expect(r.at(-1)).toBe('b1 OK NOOP completed');
  });

  it('tells an IDLE client about new mail at once', async () => {
    const b = await session();
    b.write('i1 IDLE\r\n');
    expect(await b.line()).toBe('+ idling');
    await h.deliver('INBOX', 'Subject: while idle\n\nx\n');
    expect(await b.line()).toBe('* 4 EXISTS');
    expect(await b.line()).toBe('* 4 RECENT');
    const a = await session();
    await a.command('a1', 'STORE 1 +FLAGS (\\Flagged)');
    expect(await b.line()).toBe('* 1 FETCH (UID 1 FLAGS (\\Flagged \\Recent))');
    await a.command('a2', 'STORE 2 +FLAGS (\\Deleted)');
    await a.command('a3', 'EXPUNGE');
    expect(await b.line()).toBe('* 2 FETCH (UID 2 FLAGS (\\Deleted \\Recent))');
    expect(await b.line()).toBe('* 2 EXPUNGE');
    b.write('DONE\r\n');
    expect(await b.until('i1')).toEqual(['i1 OK IDLE terminated']);
  });

  it('reports an own APPEND and COPY into the selected folder as EXISTS', async () => {
    const a = await session();
    const r = await a.command('a1', 'APPEND INBOX {20+}\r\nSubject: own\r\n\r\nbody');
    expect(r[0]).toBe('* 4 EXISTS');
    expect(r[1]).toBe('* 4 RECENT');
    expect(r[2]).toMatch(/^a1 OK \[APPENDUID \d+ 4\] APPEND completed$/);
    const c = await a.command('a2', 'UID COPY 1:2 INBOX');
    expect(c[0]).toBe('* 6 EXISTS');
    expect(c[1]).toBe('* 6 RECENT');
    expect(c[2]).toMatch(/^a2 OK \[COPYUID \d+ 1:2 5:6\] COPY completed$/);
  });

  it('gives \\Recent to exactly one session: the first to select after arrival, or the first told', async () => {
    const x = await RawClient.tls(h.ports.tls);
    clients.push(x);
    await x.line();
    await x.login();
    expect(await x.command('x1', 'STATUS INBOX (RECENT MESSAGES)')).toEqual(['* STATUS "INBOX" (RECENT 3 MESSAGES 3)', 'x1 OK STATUS completed']);
    // EXAMINE shows the recent messages but leaves them to the next SELECT (RFC 3501 6.3.2).
    const e = await x.command('x2', 'EXAMINE INBOX');
    expect(e).toContain('* 3 RECENT');
    expect(await x.command('x3', 'SEARCH RECENT')).toEqual(['* SEARCH 1 2 3', 'x3 OK SEARCH completed']);
    const a = await session();
    expect(await a.command('a1', 'FETCH 1:3 FLAGS')).toEqual([
      '* 1 FETCH (FLAGS (\\Recent))',
      '* 2 FETCH (FLAGS (\\Recent))',
      '* 3 FETCH (FLAGS (\\Recent))',
      'a1 OK FETCH completed',
    ]);
    const b = await session();
    expect(await b.command('b1', 'SELECT INBOX')).toContain('* 0 RECENT');
    expect(await b.command('b2', 'STATUS INBOX (RECENT)')).toEqual(['* STATUS "INBOX" (RECENT 0)', 'b2 OK STATUS completed']);
    expect(await x.command('x4', 'STATUS INBOX (RECENT)')).toEqual(['* STATUS "INBOX" (RECENT 0)', 'x4 OK STATUS completed']);
    // \Recent cannot be stored, set or cleared; NEW is recent and unseen, OLD is not recent.
    expect(await a.command('a2', 'STORE 1 FLAGS (\\Recent \\Seen)')).toEqual(['* 1 FETCH (FLAGS (\\Recent \\Seen))', 'a2 OK STORE completed']);
    expect(await a.command('a3', 'STORE 2 -FLAGS (\\Recent)')).toEqual(['* 2 FETCH (FLAGS (\\Recent))', 'a3 OK STORE completed']);
    expect(await a.command('a4', 'SEARCH NEW')).toEqual(['* SEARCH 2 3', 'a4 OK SEARCH completed']);
    expect(await a.command('a5', 'SEARCH OLD')).toEqual(['* SEARCH', 'a5 OK SEARCH completed']);
    expect(await b.command('b3', 'SEARCH OLD')).toEqual(['* 1 FETCH (UID 1 FLAGS (\\Seen))', '* SEARCH 1 2 3', 'b3 OK SEARCH completed']);
    expect(await b.command('b4', 'FETCH 1 FLAGS')).toEqual(['* 1 FETCH (FLAGS (\\Seen))', 'b4 OK FETCH completed']);
    // New mail: recent to one session only, whichever is told first.
    await h.deliver('INBOX', 'Subject: four\n\nbody\n');
    expect(await b.command('b5', 'NOOP')).toEqual(['* 4 EXISTS', '* 1 RECENT', 'b5 OK NOOP completed']);
    expect(await a.command('a6', 'NOOP')).toEqual(['* 4 EXISTS', '* 3 RECENT', 'a6 OK NOOP completed']);
    expect(await a.command('a7', 'SEARCH RECENT')).toEqual(['* SEARCH 1 2 3', 'a7 OK SEARCH completed']);
    expect(await b.command('b6', 'SEARCH RECENT')).toEqual(['* SEARCH 4', 'b6 OK SEARCH completed']);
    // IMAP4rev2 has no \Recent: such a session claims nothing and shows nothing.
    await h.deliver('INBOX', 'Subject: five\n\nbody\n');
    const r2 = await RawClient.tls(h.ports.tls);
    clients.push(r2);
    await r2.line();
    await r2.login();
    await r2.command('r1', 'ENABLE IMAP4rev2');
    expect(await r2.command('r2', 'SELECT INBOX')).not.toContain('* 1 RECENT');
    expect(await r2.command('r3', 'FETCH 5 FLAGS')).toEqual(['* 5 FETCH (FLAGS ())', 'r3 OK FETCH completed']);
    expect((await b.command('b7', 'NOOP')).slice(0, 2)).toEqual(['* 5 EXISTS', '* 2 RECENT']);
  });

  it('says BYE to a session whose selected folder another session deleted', async () => {
    const b = await session('SELECT Archive');
    const a = await session();
    expect(await a.command('a1', 'DELETE Archive')).toEqual(['a1 OK DELETE completed']);
    expect(await b.command('b1', 'NOOP')).toEqual(['* BYE Selected mailbox was deleted']);
    expect(await b.line()).toBeNull();
  });
});
