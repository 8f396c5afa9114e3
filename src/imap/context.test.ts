/** Searches kept up to date (RFC 5267 CONTEXT=SEARCH, CONTEXT=SORT) as other sessions append, store and expunge. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_CONTEXTS } from './context.js';
import { RawClient, startHarness, type Harness } from './testing/harness.js';

let h: Harness;
const clients: RawClient[] = [];

beforeEach(async () => {
  h = await startHarness();
  for (let i = 1; i <= 3; i++) await h.deliver('INBOX', `Subject: ${i % 2 ? 'odd' : 'even'} ${i}\n\nbody ${i}\n`);
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await h.close();
});

async function session(): Promise<RawClient> {
  const c = await RawClient.tls(h.ports.tls);
  clients.push(c);
  await c.line();
  await c.login();
  expect((await c.command('S', 'SELECT INBOX')).at(-1)).toMatch(/^S OK/);
  return c;
}

const append = (c: RawClient, tag: string, msg: string): Promise<string[]> => c.command(tag, `APPEND INBOX {${msg.length}+}\r\n${msg}`);

describe('CONTEXT=SEARCH and CONTEXT=SORT', () => {
  it('advertises both', async () => {
    const a = await session();
    expect((await a.command('c', 'CAPABILITY'))[0]).toMatch(/ CONTEXT=SEARCH CONTEXT=SORT /);
  });

  it('sends ADDTO when another connection appends a matching message, REMOVEFROM before the EXPUNGE', async () => {
    const a = await session();
    const b = await session();
    expect(await a.command('s1', 'UID SEARCH RETURN (UPDATE ALL) SUBJECT odd')).toEqual(['* ESEARCH (TAG "s1") UID ALL 1,3', 's1 OK SEARCH completed']);
    expect((await append(b, 'b1', 'Subject: odd 4\r\n\r\nnew\r\n')).at(-1)).toMatch(/^b1 OK/);
    expect((await append(b, 'b2', 'Subject: even 5\r\n\r\nnew\r\n')).at(-1)).toMatch(/^b2 OK/);
    const told = await a.command('a1', 'NOOP');
    expect(told).toContain('* 5 EXISTS');
    expect(told).toContain('* ESEARCH (TAG "s1") UID ADDTO (0 4)');
    expect(told.indexOf('* ESEARCH (TAG "s1") UID ADDTO (0 4)')).toBeGreaterThan(told.indexOf('* 5 EXISTS'));
    await b.command('b3', 'UID STORE 1 +FLAGS (\\Deleted)');
    await b.command('b4', 'EXPUNGE');
    expect(await a.command('a2', 'NOOP')).toEqual(['* ESEARCH (TAG "s1") UID REMOVEFROM (1 1)', '* 1 EXPUNGE', 'a2 OK NOOP completed']);
  });

  it('follows flag changes with sequence numbers, and stops after CANCELUPDATE', async () => {
    const a = await session();
    expect(await a.command('s1', 'SEARCH RETURN (UPDATE) SEEN')).toEqual(['* ESEARCH (TAG "s1")', 's1 OK SEARCH completed']);
    const stored = await a.command('a1', 'STORE 2:3 +FLAGS.SILENT (\\Seen)');
    expect(stored).toEqual(['* ESEARCH (TAG "s1") ADDTO (0 2:3)', 'a1 OK STORE completed']);
    expect(await a.command('a2', 'STORE 2 -FLAGS.SILENT (\\Seen)')).toEqual(['* ESEARCH (TAG "s1") REMOVEFROM (1 2)', 'a2 OK STORE completed']);
    expect(await a.command('a3', 'CANCELUPDATE "s1"')).toEqual(['a3 OK CANCELUPDATE completed']);
    expect(await a.command('a4', 'STORE 1 +FLAGS.SILENT (\\Seen)')).toEqual(['a4 OK STORE completed']);
    expect((await a.command('a5', 'CANCELUPDATE "s1"')).at(-1)).toMatch(/^a5 BAD/);
  });

  it('gives SORT additions and removals at their places in sort order', async () => {
    const a = await session();
    const b = await session();
    expect(await a.command('s1', 'UID SORT RETURN (UPDATE ALL) (REVERSE SUBJECT) UTF-8 ALL')).toEqual(['* ESEARCH (TAG "s1") UID ALL 3,1:2', 's1 OK SORT completed']);
    await append(b, 'b1', 'Subject: zebra\r\n\r\nnew\r\n');
    // Now 4, 3, 1, 2: the new message comes first.
    expect(await a.command('a1', 'NOOP')).toContain('* ESEARCH (TAG "s1") UID ADDTO (1 4)');
    await b.command('b2', 'UID STORE 1 +FLAGS (\\Deleted)');
    await b.command('b3', 'EXPUNGE');
    expect(await a.command('a2', 'NOOP')).toContain('* ESEARCH (TAG "s1") UID REMOVEFROM (3 1)');
  });

  it('ends with the selection and refuses more than the limit', async () => {
    const a = await session();
    for (let i = 0; i < MAX_CONTEXTS; i++) expect((await a.command(`u${i}`, 'SEARCH RETURN (UPDATE) ALL')).at(-1)).toMatch(/OK/);
    expect((await a.command('over', 'SEARCH RETURN (UPDATE) ALL')).at(-1)).toBe(`over NO [LIMIT] At most ${MAX_CONTEXTS} searches can be kept up to date`);
    // Reusing a tag replaces its search rather than adding one.
    expect((await a.command('u0', 'SEARCH RETURN (UPDATE) ALL')).at(-1)).toMatch(/^u0 OK/);
    expect((await a.command('S2', 'SELECT INBOX')).at(-1)).toMatch(/^S2 OK/);
    expect((await a.command('c', 'CANCELUPDATE "u1"')).at(-1)).toMatch(/^c BAD/);
    expect((await a.command('again', 'SEARCH RETURN (UPDATE) ALL')).at(-1)).toMatch(/^again OK/);
  });
});
