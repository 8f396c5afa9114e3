/** SEARCH, FETCH and APPEND with the header cache: same answers, fewer blob reads, never a damaged message. */
import { readFile, writeFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { readDetail, searchEntry } from '../mailbox/header-cache.js';
import { RawClient, startHarness, type Harness } from './testing/harness.js';

const PLAIN = 'From: Bob <bob@example.org>\nTo: alice@example.test\nSubject: Hello there\nDate: Tue, 2 Jan 2024 10:00:00 +0000\nX-Ticket: T-7\n\nFirst body line\n';
const MIXED =
  'From: =?utf-8?q?J=C3=BCrgen?= <j@example.org>\nSubject: =?utf-8?b?R3LDvMOfZQ==?=\nDate: Wed, 3 Jan 2024 10:00:00 +0100\nMIME-Version: 1.0\n' +
  'Content-Type: multipart/mixed; boundary=XX\n\n--XX\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n' +
  `${Buffer.from('Zweite Nachricht mit Nadel im Heuhaufen').toString('base64')}\n--XX\nContent-Type: message/rfc822\n\n` +
  'From: inner@example.org\nSubject: inner\n\ninner body\n--XX--\n';
const THIRD = 'From: Carol <carol@example.net>\nCc: team@example.test\nSubject: Re: Hello there\nDate: 4 Jan 2024 08:00 +0000\n\nthird\n';

const SEARCHES = [
  'SEARCH SUBJECT hello',
  'SEARCH CHARSET UTF-8 SUBJECT "grüße"',
  'SEARCH FROM "jürgen"',
  'SEARCH HEADER Subject "re:"',
  'SEARCH HEADER X-Ticket t-7',
  'SEARCH HEADER Cc ""',
  'SEARCH NOT CC team',
  'SEARCH OR SUBJECT hello BODY heuhaufen',
  'SEARCH SENTBEFORE 3-Jan-2024',
  'SEARCH SENTSINCE 4-Jan-2024',
  'SEARCH TEXT ticket',
  'SEARCH TEXT nadel',
  'SEARCH BODY "inner body"',
  'UID SEARCH RETURN (COUNT) SUBJECT hello UNSEEN',
];

let h: Harness;
let c: RawClient;

beforeEach(async () => {
  h = await startHarness();
  for (const m of [PLAIN, MIXED, THIRD]) await h.deliver('INBOX', m);
  c = await RawClient.tls(h.ports.tls);
  await c.line();
  await c.login();
  await c.command('s', 'SELECT INBOX');
});
afterEach(async () => {
  vi.restoreAllMocks();
  c.close();
  await h.close();
});

const inbox = async () => (await h.meta.mailboxes.getFolder(h.account.id, 'INBOX'))!;
const blobIds = async () => (await h.meta.mailboxes.listMessages((await inbox()).id)).map((m) => m.blobId);
/** Blobs of the INBOX with a search part kept: per blob, or per message (what a SEARCH derives for its folder's messages). */
const cachedIds = async () => {
  const ids = await blobIds();
  const perBlob = (await h.meta.mailboxes.getHeaderCache(ids, false)).map((e) => e.blobId);
  const perMessage = h.meta.db.prepare('SELECT m.blob_id FROM message_search s JOIN messages m ON m.id = s.message_id').pluck().all() as string[];
  return [...new Set([...perBlob, ...perMessage])].filter((id) => ids.includes(id)).sort();
};

async function runAll(texts: readonly string[]): Promise<string[][]> {
  const out: string[][] = [];
  for (const [i, t] of texts.entries()) out.push(await c.command(`q${i}`, t));
  return out;
}

describe('SEARCH with the header cache', () => {
  it('fills the cache on first use and then answers header criteria without reading a blob', async () => {
    expect(await cachedIds()).toEqual([]);
    const first = await runAll(SEARCHES);
    expect(await cachedIds()).toEqual((await blobIds()).sort());
    const reads = vi.spyOn(h.blobs, 'get');
    const second = await runAll(SEARCHES);
    expect(second).toEqual(first);
    expect(first.slice(0, 4)).toEqual([
      ['* SEARCH 1 3', 'q0 OK SEARCH completed'],
      ['* SEARCH 2', 'q1 OK SEARCH completed'],
      ['* SEARCH 2', 'q2 OK SEARCH completed'],
      ['* SEARCH 3', 'q3 OK SEARCH completed'],
    ]);
    expect(first.slice(4)).toEqual([
      ['* SEARCH 1', 'q4 OK SEARCH completed'],
      ['* SEARCH 3', 'q5 OK SEARCH completed'],
      ['* SEARCH 1 2', 'q6 OK SEARCH completed'],
      ['* SEARCH 1 2 3', 'q7 OK SEARCH completed'],
      ['* SEARCH 1', 'q8 OK SEARCH completed'],
      ['* SEARCH 3', 'q9 OK SEARCH completed'],
      ['* SEARCH 1', 'q10 OK SEARCH completed'],
      ['* SEARCH 2', 'q11 OK SEARCH completed'],
      ['* SEARCH 2', 'q12 OK SEARCH completed'],
      ['* ESEARCH (TAG "q13") UID COUNT 2', 'q13 OK SEARCH completed'],
    ]);
    // Only BODY and TEXT (where the header did not decide) read blobs once the cache is filled.
    expect(reads).toHaveBeenCalled();
    reads.mockClear();
    await runAll(SEARCHES.filter((q) => !/BODY|TEXT/.test(q)));
    expect(reads).not.toHaveBeenCalled();
    await c.command('b', 'SEARCH BODY heuhaufen');
    expect(reads).toHaveBeenCalled();
  });

  it('derives the search part only; what needs the detail reads the blob once and fills it in', async () => {
    const withDetail = async () => (await h.meta.mailboxes.getHeaderCache(await blobIds(), true)).map((e) => e.blobId).sort();
    const parts = vi.spyOn(h.blobs, 'getDerived');
    const reads = vi.spyOn(h.blobs, 'get');
    expect(await c.command('a', 'SEARCH SUBJECT hello')).toEqual(['* SEARCH 1 3', 'a OK SEARCH completed']);
    expect(await cachedIds()).toEqual((await blobIds()).sort());
    expect(await withDetail()).toEqual([]);
    // The blob store derived the search parts as it read the blobs: no message came back whole.
    expect(parts).toHaveBeenCalledTimes(3);
    expect(reads).not.toHaveBeenCalled();
    parts.mockClear();
    // Answered by the search parts alone.
    expect(await c.command('b', 'SEARCH FROM "jürgen" SENTBEFORE 4-Jan-2024')).toEqual(['* SEARCH 2', 'b OK SEARCH completed']);
    expect(reads).not.toHaveBeenCalled();
    // A field the search part does not keep: the blobs are read and the entries completed.
    expect(await c.command('c', 'SEARCH HEADER X-Ticket t-7')).toEqual(['* SEARCH 1', 'c OK SEARCH completed']);
    expect(reads).toHaveBeenCalledTimes(3);
    expect(await withDetail()).toEqual((await blobIds()).sort());
    reads.mockClear();
    expect(await c.command('d', 'SEARCH HEADER X-Ticket t-7')).toEqual(['* SEARCH 1', 'd OK SEARCH completed']);
    expect(reads).not.toHaveBeenCalled();
  });

  it('rebuilds an entry that fails its check and answers as before', async () => {
    await c.command('a', 'SEARCH SUBJECT hello');
    const [, second] = await blobIds();
    const entry = searchEntry(second!, await h.blobs.get(second!));
    // Damage the stored text so it would match: the check refuses it.
    await h.meta.mailboxes.putHeaderCache([{ blobId: second!, search: entry!.search.replace('grüße', 'hello'), detail: null }]);
    expect(await c.command('b', 'SEARCH SUBJECT hello')).toEqual(['* SEARCH 1 3', 'b OK SEARCH completed']);
    // Rebuilt where it was damaged: the per-blob row and the message's own.
    const [again] = await h.meta.mailboxes.getHeaderCache([second!], false);
    expect(again!.search).toBe(entry!.search);
    expect(h.meta.db.prepare('SELECT s.search FROM message_search s JOIN messages m ON m.id = s.message_id WHERE m.uid = 2').pluck().get()).toBe(entry!.search);
  });

  it('keeps the search part per message too: read first, rebuilt when it fails its check, gone with the message', async () => {
    const perMessage = () => h.meta.db.prepare('SELECT m.uid, s.search FROM message_search s JOIN messages m ON m.id = s.message_id ORDER BY m.uid').all() as { uid: number; search: string }[];
    h.meta.db.exec('DELETE FROM header_cache; DELETE FROM header_cache_detail; DELETE FROM message_search');
    await c.command('a', 'SEARCH SUBJECT hello');
    const ids = await blobIds();
    // Each message's row is the search part of its blob; a SEARCH adds no per-blob row.
    const parts = await Promise.all(ids.map(async (id) => searchEntry(id, await h.blobs.get(id))!.search));
    expect(perMessage()).toEqual(parts.map((search, i) => ({ uid: i + 1, search })));
    expect(await h.meta.mailboxes.getHeaderCache(ids, false)).toEqual([]);
    // Only the per-message rows answer: no blob is read, and the answers stay the same.
    const derived = vi.spyOn(h.blobs, 'getDerived');
    const reads = vi.spyOn(h.blobs, 'get');
    expect(await c.command('b', 'SEARCH SUBJECT hello')).toEqual(['* SEARCH 1 3', 'b OK SEARCH completed']);
    expect(derived).not.toHaveBeenCalled();
    expect(reads).not.toHaveBeenCalled();
    // A per-message copy altered so that it would match is refused by its check, and rebuilt from the blob.
    h.meta.db.prepare("UPDATE message_search SET search = replace(search, 'grüße', 'hello') WHERE message_id = (SELECT id FROM messages WHERE uid = 2)").run();
    expect(await c.command('c', 'SEARCH SUBJECT hello')).toEqual(['* SEARCH 1 3', 'c OK SEARCH completed']);
    expect(perMessage()[1]!.search).toBe(parts[1]);
    // Expunged messages take their rows with them.
    await c.command('d', 'STORE 1:2 +FLAGS (\\Deleted)');
    await c.command('e', 'EXPUNGE');
    expect(perMessage().map((r) => r.uid)).toEqual([3]);
  });

  it('never answers from the cache for a message whose blob is marked damaged', async () => {
    await c.command('a', 'SEARCH SUBJECT hello');
    const [first] = await blobIds();
    const file = h.blobs.pathOf(first!);
    const bytes = await readFile(file);
    for (let i = 64; i < bytes.length; i += 3) bytes[i] = bytes[i]! ^ 0xff;
    await writeFile(file, bytes);
    await h.meta.integrity.markDamaged(first!, 'test', 1);
    expect(await c.command('b', 'SEARCH SUBJECT hello')).toEqual([
      '* SEARCH 3',
      'b NO [SERVERBUG] SEARCH incomplete, messages not returned: UID 1: stored data is damaged (integrity check failed)',
    ]);
    expect(await c.command('c', 'FETCH 1 (BODY.PEEK[HEADER.FIELDS (Subject)])')).toEqual([
      'c NO [SERVERBUG] FETCH incomplete, messages not returned: UID 1: stored data is damaged (integrity check failed)',
    ]);
  });
});

describe('FETCH with the header cache', () => {
  const ITEMS = [
    'FETCH 1:3 (ENVELOPE)',
    'FETCH 1:3 (BODYSTRUCTURE)',
    'FETCH 1:3 (BODY)',
    'FETCH 1:3 (BODY.PEEK[HEADER])',
    'FETCH 1:3 (BODY.PEEK[HEADER.FIELDS (Subject From)]<4.20>)',
    'FETCH 1:3 (BODY.PEEK[HEADER.FIELDS.NOT (Subject Date)])',
    'FETCH 1:3 (RFC822.HEADER)',
    'FETCH 1:3 (UID RFC822.SIZE ENVELOPE BODY.PEEK[HEADER.FIELDS (X-Ticket)])',
  ];

  it('serves ENVELOPE, BODYSTRUCTURE and header sections from the cache exactly as from the message', async () => {
    // From the messages themselves: the cache is emptied before each command (which then fills it again).
    const fromBlobs: string[][] = [];
    for (const [i, t] of ITEMS.entries()) {
      h.meta.db.exec('DELETE FROM header_cache; DELETE FROM header_cache_detail; DELETE FROM message_search');
      fromBlobs.push(await c.command(`q${i}`, t));
    }
    expect(fromBlobs[3]![0]).toMatch(/^\* 1 FETCH \(BODY\[HEADER\] \{130\}\r\nFrom: Bob .*X-Ticket: T-7\r\n\r\n\)$/s);
    expect(fromBlobs[4]).toEqual([
      '* 1 FETCH (BODY[HEADER.FIELDS (Subject From)]<4> {20}\r\n: Bob <bob@example.o)',
      '* 2 FETCH (BODY[HEADER.FIELDS (Subject From)]<4> {20}\r\n: =?utf-8?q?J=C3=BCr)',
      '* 3 FETCH (BODY[HEADER.FIELDS (Subject From)]<4> {20}\r\n: Carol <carol@examp)',
      'q4 OK FETCH completed',
    ]);
    expect(await cachedIds()).toEqual((await blobIds()).sort());
    // A second listener shares no in-memory structures with the first.
    const fresh = await startHarnessOn(h);
    try {
      const reads = vi.spyOn(h.blobs, 'get');
      const fromCache: string[][] = [];
      for (const [i, t] of ITEMS.entries()) fromCache.push(await fresh.command(`q${i}`, t));
      expect(fromCache).toEqual(fromBlobs);
      expect(reads).not.toHaveBeenCalled();
      // The body still comes from the blob, verified.
      expect(await fresh.command('b', 'FETCH 1 (BODY.PEEK[TEXT])')).toEqual(['* 1 FETCH (BODY[TEXT] {17}\r\nFirst body line\r\n)', 'b OK FETCH completed']);
      expect(reads).toHaveBeenCalledTimes(1);
    } finally {
      fresh.close();
    }
  });

  it('after a SEARCH left search parts only, gives the right ENVELOPE from the blob and fills in the detail', async () => {
    // The envelopes as the messages give them, with no cache at all.
    h.meta.db.exec('DELETE FROM header_cache; DELETE FROM header_cache_detail; DELETE FROM message_search');
    const direct = await startHarnessOn(h);
    let expected: string[];
    try {
      expected = await direct.command('e', 'FETCH 1:3 (ENVELOPE)');
    } finally {
      direct.close();
    }
    expect(expected[0]).toBe(
      '* 1 FETCH (ENVELOPE ("Tue, 2 Jan 2024 10:00:00 +0000" "Hello there" (("Bob" NIL "bob" "example.org")) (("Bob" NIL "bob" "example.org")) (("Bob" NIL "bob" "example.org")) ((NIL NIL "alice" "example.test")) NIL NIL NIL NIL))',
    );
    h.meta.db.exec('DELETE FROM header_cache; DELETE FROM header_cache_detail; DELETE FROM message_search');
    await c.command('a', 'SEARCH SUBJECT hello');
    const ids = (await blobIds()).sort();
    expect(await cachedIds()).toEqual(ids);
    expect(await h.meta.mailboxes.getHeaderCache(ids, true)).toEqual([]);
    // Listeners with no structures in memory: what they answer comes from the store or the blob.
    const reads = vi.spyOn(h.blobs, 'get');
    const first = await startHarnessOn(h);
    try {
      expect(await first.command('f', 'FETCH 1:3 (ENVELOPE)')).toEqual(expected.map((l) => l.replace(/^e /, 'f ')));
    } finally {
      first.close();
    }
    expect(reads).toHaveBeenCalledTimes(3);
    expect((await h.meta.mailboxes.getHeaderCache(ids, true)).map((e) => e.blobId).sort()).toEqual(ids);
    reads.mockClear();
    const again = await startHarnessOn(h);
    try {
      expect(await again.command('g', 'FETCH 1:3 (ENVELOPE)')).toEqual(expected.map((l) => l.replace(/^e /, 'g ')));
      expect(reads).not.toHaveBeenCalled();
    } finally {
      again.close();
    }
  });

  it('makes entries for ENVELOPE from the header alone and completes them when the body structure is first asked', async () => {
    h.meta.db.exec('DELETE FROM header_cache; DELETE FROM header_cache_detail; DELETE FROM message_search');
    const direct = await startHarnessOn(h);
    let expected: string[];
    try {
      expected = await direct.command('e', 'FETCH 1:3 (ENVELOPE BODYSTRUCTURE)');
    } finally {
      direct.close();
    }
    expect(expected[1]).toContain('("MESSAGE" "RFC822"');
    h.meta.db.exec('DELETE FROM header_cache; DELETE FROM header_cache_detail; DELETE FROM message_search');
    const ids = (await blobIds()).sort();
    const pending = async () => (await h.meta.mailboxes.getHeaderCache(ids, true)).map((r) => readDetail(r)?.bodyPending);
    const envelopes = expected.slice(0, 3).map((l) => l.replace(/ BODYSTRUCTURE .*\)$/, ')'));
    const reads = vi.spyOn(h.blobs, 'get');
    const one = await startHarnessOn(h);
    try {
      expect(await one.command('a', 'FETCH 1:3 (ENVELOPE)')).toEqual([...envelopes, 'a OK FETCH completed']);
    } finally {
      one.close();
    }
    expect(reads).toHaveBeenCalledTimes(3);
    expect(await pending()).toEqual([true, true, true]);
    reads.mockClear();
    // A listener with nothing in memory: ENVELOPE from those entries, then the body structure from the blobs.
    const two = await startHarnessOn(h);
    try {
      expect(await two.command('b', 'FETCH 1:3 (ENVELOPE)')).toEqual([...envelopes, 'b OK FETCH completed']);
      expect(reads).not.toHaveBeenCalled();
      expect(await two.command('c', 'FETCH 1:3 (ENVELOPE BODYSTRUCTURE)')).toEqual(expected.map((l) => l.replace(/^e /, 'c ')));
      expect(reads).toHaveBeenCalledTimes(3);
    } finally {
      two.close();
    }
    expect(await pending()).toEqual([false, false, false]);
    reads.mockClear();
    const three = await startHarnessOn(h);
    try {
      expect(await three.command('d', 'FETCH 1:3 (ENVELOPE BODYSTRUCTURE)')).toEqual(expected.map((l) => l.replace(/^e /, 'd ')));
      expect(reads).not.toHaveBeenCalled();
    } finally {
      three.close();
    }
  });

  it('fills the cache at APPEND', async () => {
    await c.command('f', 'SEARCH SUBJECT fill');
    const msg = 'From: x@example.org\r\nSubject: appended now\r\n\r\nhi\r\n';
    expect((await c.command('a', `APPEND INBOX {${msg.length}+}\r\n${msg}`)).at(-1)).toMatch(/^a OK \[APPENDUID \d+ 4\]/);
    const all = await blobIds();
    expect((await h.meta.mailboxes.getHeaderCache([all[3]!], false)).length).toBe(1);
    const reads = vi.spyOn(h.blobs, 'get');
    expect(await c.command('b', 'SEARCH SUBJECT "appended now"')).toEqual(['* SEARCH 4', 'b OK SEARCH completed']);
    expect(reads).not.toHaveBeenCalled();
  });
});

/** A second listener over the same store, so the first one's in-memory structure cache plays no part. */
async function startHarnessOn(base: Harness): Promise<RawClient> {
  const { createImapListener } = await import('./listener.js');
  const listener = createImapListener('tls', base.deps);
  const port = await listener.listen(0, '127.0.0.1');
  const client = await RawClient.tls(port);
  await client.line();
  await client.login();
  await client.command('s', 'SELECT INBOX');
  const close = client.close.bind(client);
  client.close = () => {
    close();
    listener.close().catch(() => undefined);
  };
  return client;
}
