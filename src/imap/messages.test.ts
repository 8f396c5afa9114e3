/** FETCH, STORE, SEARCH, COPY/MOVE, EXPUNGE and APPEND against exact response lines. */
import { readFile, writeFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RawClient, startHarness, type Harness } from './testing/harness.js';

const PLAIN = 'From: Bob <bob@example.org>\nTo: alice@example.test\nSubject: Hello there\nDate: Tue, 2 Jan 2024 10:00:00 +0000\n\nFirst body line\n';
const MIXED =
  'From: =?utf-8?q?J=C3=BCrgen?= <j@example.org>\nSubject: =?utf-8?b?R3LDvMOfZQ==?=\nDate: Wed, 3 Jan 2024 10:00:00 +0100\nMIME-Version: 1.0\n' +
  'Content-Type: multipart/mixed; boundary=XX\n\n--XX\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n' +
  `${Buffer.from('Zweite Nachricht mit Nadel im Heuhaufen').toString('base64')}\n--XX\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\nAAECAw==\n--XX--\n`;

let h: Harness;
let c: RawClient;
let uidValidity: number;

beforeEach(async () => {
  h = await startHarness({ quotaBytes: 4096 });
  await h.deliver('INBOX', PLAIN);
  await h.deliver('INBOX', MIXED, ['\\Seen']);
  uidValidity = (await h.meta.mailboxes.getFolder(h.account.id, 'INBOX'))!.uidValidity;
  c = await RawClient.tls(h.ports.tls);
  await c.line();
  await c.login();
  await c.command('s', 'SELECT INBOX');
});
afterEach(async () => {
  c.close();
  await h.close();
});

describe('FETCH', () => {
  it('returns sections and partials, and sets \\Seen only for non-PEEK body items', async () => {
    expect(await c.command('a', 'FETCH 1 (BODY.PEEK[HEADER.FIELDS (Subject)] BODY.PEEK[TEXT]<0.5>)')).toEqual([
      '* 1 FETCH (BODY[HEADER.FIELDS (Subject)] {24}\r\nSubject: Hello there\r\n\r\n BODY[TEXT]<0> {5}\r\nFirst)',
      'a OK FETCH completed',
    ]);
    expect(await c.command('b', 'FETCH 1 (FLAGS)')).toEqual(['* 1 FETCH (FLAGS (\\Recent))', 'b OK FETCH completed']);
    expect(await c.command('c', 'FETCH 1 BODY[TEXT]')).toEqual(['* 1 FETCH (BODY[TEXT] {17}\r\nFirst body line\r\n FLAGS (\\Recent \\Seen))', 'c OK FETCH completed']);
    expect(await c.command('d', 'FETCH 2 (BINARY.SIZE[2] BINARY[2] BODY[2.MIME])')).toEqual([
      '* 2 FETCH (BINARY.SIZE[2] 4 BINARY[2] ~{4}\r\n\x00\x01\x02\x03 BODY[2.MIME] {77}\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n)',
      'd OK FETCH completed',
    ]);
  });

  it('builds ENVELOPE and BODYSTRUCTURE from the message', async () => {
    const r = await c.command('a', 'UID FETCH 2 (ENVELOPE BODYSTRUCTURE)');
    expect(r).toEqual([
      '* 2 FETCH (UID 2 ENVELOPE ("Wed, 3 Jan 2024 10:00:00 +0100" "=?utf-8?b?R3LDvMOfZQ==?=" (("=?utf-8?q?J=C3=BCrgen?=" NIL "j" "example.org")) ' +
        '(("=?utf-8?q?J=C3=BCrgen?=" NIL "j" "example.org")) (("=?utf-8?q?J=C3=BCrgen?=" NIL "j" "example.org")) NIL NIL NIL NIL NIL) ' +
        'BODYSTRUCTURE (("TEXT" "PLAIN" ("charset" "utf-8") NIL NIL "BASE64" 52 0 NIL NIL NIL NIL)' +
        '("APPLICATION" "OCTET-STREAM" NIL NIL NIL "BASE64" 8 NIL NIL NIL NIL) "MIXED" ("boundary" "XX") NIL NIL NIL))',
      'a OK FETCH completed',
    ]);
  });

  it('refuses message numbers beyond EXISTS but ignores unknown UIDs', async () => {
    expect(await c.command('a', 'FETCH 3 FLAGS')).toEqual(['a BAD Invalid message sequence number']);
    expect(await c.command('a2', 'FETCH 2:3 FLAGS')).toEqual(['a2 BAD Invalid message sequence number']);
    expect(await c.command('a3', 'FETCH 2:* FLAGS')).toEqual(['* 2 FETCH (FLAGS (\\Recent \\Seen))', 'a3 OK FETCH completed']);
    expect(await c.command('b', 'UID FETCH 7:9 FLAGS')).toEqual(['b OK FETCH completed']);
    // "n:*" with n above the highest UID still means the highest UID (RFC 9051 section 9).
    expect(await c.command('c', 'UID FETCH 9:* FLAGS')).toEqual(['* 2 FETCH (UID 2 FLAGS (\\Recent \\Seen))', 'c OK FETCH completed']);
    // In an empty folder "1:*" matches nothing rather than failing.
    await c.command('d', 'SELECT Drafts');
    expect(await c.command('e', 'FETCH 1:* (FLAGS)')).toEqual(['e OK FETCH completed']);
    expect(await c.command('f', 'SEARCH ALL')).toEqual(['* SEARCH', 'f OK SEARCH completed']);
  });

  it('never serves a damaged message, and says which one', async () => {
    const m = (await h.meta.mailboxes.getMessages((await h.meta.mailboxes.getFolder(h.account.id, 'INBOX'))!.id, [1]))[0]!;
    const file = h.blobs.pathOf(m.blobId);
    const bytes = await readFile(file);
    for (let i = 64; i < bytes.length; i += 3) bytes[i] = bytes[i]! ^ 0xff;
    await writeFile(file, bytes);
    expect(await c.command('a', 'FETCH 1:2 (UID RFC822.SIZE)')).toEqual([
      `* 1 FETCH (UID 1 RFC822.SIZE ${Buffer.byteLength(PLAIN.replace(/\n/g, '\r\n'))})`,
      `* 2 FETCH (UID 2 RFC822.SIZE ${Buffer.byteLength(MIXED.replace(/\n/g, '\r\n'))})`,
      'a OK FETCH completed',
    ]);
    const r = await c.command('b', 'FETCH 1:2 (UID BODY.PEEK[HEADER])');
    expect(r.length).toBe(2);
    expect(r[0]).toMatch(/^\* 2 FETCH \(UID 2 BODY\[HEADER\] \{/);
    expect(r[1]).toBe('b NO [SERVERBUG] FETCH incomplete, messages not returned: UID 1: stored data is damaged (integrity check failed)');
    expect(await c.command('c', 'SEARCH BODY nadel')).toEqual([
      '* SEARCH 2',
      'c NO [SERVERBUG] SEARCH incomplete, messages not returned: UID 1: stored data is damaged (integrity check failed)',
    ]);
  });
});

describe('ENVELOPE of raw 8-bit header text', () => {
  it('sends the bytes written (GB2312 here) in a literal, from the blob and from the header cache alike', async () => {
    const gb2312 = Buffer.from([0xb2, 0xe2, 0xca, 0xd4]);
    await h.deliver('INBOX', Buffer.concat([Buffer.from('From: a@b.example\r\nSubject: '), gb2312, Buffer.from('\r\n\r\nbody\r\n')]));
    await c.command('n', 'NOOP');
    const expected = `* 3 FETCH (ENVELOPE (NIL {4}\r\n${gb2312.toString('latin1')} ((NIL NIL "a" "b.example")) ((NIL NIL "a" "b.example")) ((NIL NIL "a" "b.example")) NIL NIL NIL NIL NIL))`;
    expect(await c.command('a', 'FETCH 3 ENVELOPE')).toEqual([expected, 'a OK FETCH completed']);
    expect(await c.command('b', 'FETCH 3 ENVELOPE')).toEqual([expected, 'b OK FETCH completed']);
  });
});

describe('STORE', () => {
  it('adds, removes and replaces flags, and reports UNCHANGEDSINCE conflicts', async () => {
    expect(await c.command('a', 'STORE 1:2 +FLAGS (\\Flagged $Work)')).toEqual([
      // The new keyword is announced before a FETCH response shows it (RFC 9051 7.3.5).
      '* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Work)',
      '* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Work \\*)] Flags permitted',
      '* 1 FETCH (FLAGS ($Work \\Flagged \\Recent))',
      '* 2 FETCH (FLAGS ($Work \\Flagged \\Recent \\Seen))',
      'a OK STORE completed',
    ]);
    expect(await c.command('b', 'UID STORE 2 -FLAGS.SILENT ($work)')).toEqual(['b OK STORE completed']);
    const ms = await c.command('c', 'FETCH 1:2 (MODSEQ)');
    const m1 = Number(/MODSEQ \((\d+)\)/.exec(ms[0]!)![1]);
    const m2 = Number(/MODSEQ \((\d+)\)/.exec(ms[1]!)![1]);
    expect(m2).toBeGreaterThan(m1);
    expect(await c.command('d', `STORE 1:2 (UNCHANGEDSINCE ${m1}) FLAGS (\\Answered)`)).toEqual([
      `* 1 FETCH (FLAGS (\\Answered \\Recent) MODSEQ (${m2 + 1}))`,
      'd OK [MODIFIED 2] Conditional STORE failed for some messages',
    ]);
    expect(await c.command('e', 'STORE 1 +FLAGS (\\Bogus)')).toEqual(['e BAD Unknown system flag']);
  });
});

describe('SEARCH', () => {
  it('matches decoded headers and bodies, and answers ESEARCH with RETURN', async () => {
    expect(await c.command('a', 'SEARCH CHARSET UTF-8 SUBJECT "grüße"')).toEqual(['* SEARCH 2', 'a OK SEARCH completed']);
    expect(await c.command('b', 'SEARCH FROM "jürgen"')).toEqual(['* SEARCH 2', 'b OK SEARCH completed']);
    expect(await c.command('c', 'UID SEARCH BODY heuhaufen')).toEqual(['* SEARCH 2', 'c OK SEARCH completed']);
    expect(await c.command('d', 'SEARCH OR SEEN HEADER To alice')).toEqual(['* SEARCH 1 2', 'd OK SEARCH completed']);
    expect(await c.command('e', 'SEARCH NOT SEEN SENTBEFORE 3-Jan-2024')).toEqual(['* SEARCH 1', 'e OK SEARCH completed']);
    expect(await c.command('f', 'SEARCH CHARSET KOI8-R TEXT x')).toEqual(['f NO [BADCHARSET (UTF-8 US-ASCII)] Unsupported charset']);
    expect(await c.command('g', 'UID SEARCH RETURN (MIN MAX COUNT) ALL')).toEqual(['* ESEARCH (TAG "g") UID MIN 1 MAX 2 COUNT 2', 'g OK SEARCH completed']);
    expect(await c.command('h', 'SEARCH RETURN () LARGER 200')).toEqual(['* ESEARCH (TAG "h") ALL 2', 'h OK SEARCH completed']);
  });

  it('reports with MIN or MAX alone the modseq of the messages returned (RFC 7162 3.1.5)', async () => {
    // Message 1 changes last, so it has the higher modseq.
    // The first CONDSTORE-enabling command with the mailbox selected hears its HIGHESTMODSEQ (RFC 7162 3.1).
    const inbox = (await h.meta.mailboxes.getFolder(h.account.id, 'INBOX'))!;
    expect(await c.command('m', 'FETCH 1 (MODSEQ)')).toEqual([
      `* 1 FETCH (MODSEQ (${inbox.highestModseq - 1}))`,
      `* OK [HIGHESTMODSEQ ${inbox.highestModseq}] Highest`,
      'm OK FETCH completed',
    ]);
    expect(await c.command('n', 'FETCH 1 (MODSEQ)')).toHaveLength(2);
    const [s2] = await c.command('a', 'STORE 2 (UNCHANGEDSINCE 999999) +FLAGS.SILENT (\\Flagged)');
    const [s1] = await c.command('b', 'STORE 1 (UNCHANGEDSINCE 999999) +FLAGS.SILENT (\\Flagged)');
    const m2 = Number(/MODSEQ \((\d+)\)/.exec(s2!)![1]);
    const m1 = Number(/MODSEQ \((\d+)\)/.exec(s1!)![1]);
    expect(m1).toBeGreaterThan(m2);
    expect(await c.command('c', 'SEARCH RETURN (MAX) MODSEQ 1')).toEqual([`* ESEARCH (TAG "c") MAX 2 MODSEQ ${m2}`, 'c OK SEARCH completed']);
    expect(await c.command('d', 'SEARCH RETURN (MIN) MODSEQ 1')).toEqual([`* ESEARCH (TAG "d") MIN 1 MODSEQ ${m1}`, 'd OK SEARCH completed']);
    expect(await c.command('e', 'SEARCH RETURN (MIN MAX) 2 MODSEQ 1')).toEqual([`* ESEARCH (TAG "e") MIN 2 MAX 2 MODSEQ ${m2}`, 'e OK SEARCH completed']);
    expect(await c.command('f', 'SEARCH RETURN (MAX COUNT) MODSEQ 1')).toEqual([`* ESEARCH (TAG "f") MAX 2 COUNT 2 MODSEQ ${m1}`, 'f OK SEARCH completed']);
  });

  it('saves a result for "$" (SEARCHRES)', async () => {
    expect(await c.command('a', 'SEARCH RETURN (SAVE) UNSEEN')).toEqual(['a OK SEARCH completed']);
    expect(await c.command('b', 'FETCH $ (UID)')).toEqual(['* 1 FETCH (UID 1)', 'b OK FETCH completed']);
  });
});

describe('COPY, MOVE, EXPUNGE', () => {
  it('moves with COPYUID before the expunge, and expunges only \\Deleted', async () => {
    const archive = (await h.meta.mailboxes.getFolder(h.account.id, 'Archive'))!;
    expect(await c.command('a', 'MOVE 1 Archive')).toEqual([`* OK [COPYUID ${archive.uidValidity} 1 1] Moved`, '* 1 EXPUNGE', 'a OK MOVE completed']);
    expect(await c.command('b', 'COPY 1 Nowhere')).toEqual(['b NO [TRYCREATE] No such mailbox']);
    await c.command('c', 'STORE 1 +FLAGS.SILENT (\\Deleted)');
    expect(await c.command('d', 'UID EXPUNGE 1')).toEqual(['d OK EXPUNGE completed']);
    expect(await c.command('e', 'UID EXPUNGE 2')).toEqual(['* 1 EXPUNGE', 'e OK EXPUNGE completed']);
  });

  it('CLOSE expunges silently; EXAMINE is read-only', async () => {
    await c.command('a', 'STORE 2 +FLAGS.SILENT (\\Deleted)');
    expect(await c.command('b', 'CLOSE')).toEqual(['b OK CLOSE completed']);
    expect(await c.command('c', 'FETCH 1 FLAGS')).toEqual(['c BAD No mailbox selected']);
    const r = await c.command('d', 'EXAMINE INBOX');
    expect(r).toContain('* 1 EXISTS');
    expect(r).toContain('* OK [PERMANENTFLAGS ()] No permanent flags permitted');
    expect(r.at(-1)).toBe('d OK [READ-ONLY] EXAMINE completed');
    expect(await c.command('e', 'STORE 1 +FLAGS (\\Seen)')).toEqual(['e NO Mailbox is read-only']);
    expect(await c.command('f', 'FETCH 1 (BODY[TEXT] FLAGS)')).toEqual(['* 1 FETCH (BODY[TEXT] {17}\r\nFirst body line\r\n FLAGS ())', 'f OK FETCH completed']);
  });
});

describe('APPEND', () => {
  it('stores flags and date, answers APPENDUID, and refuses what exceeds the quota', async () => {
    const msg = 'Subject: appended\r\n\r\nhi\r\n';
    expect(await c.command('a', `APPEND Drafts (\\Draft) "14-Jul-2023 02:44:25 -0700" {${msg.length}+}\r\n${msg}`)).toEqual([
      `a OK [APPENDUID ${(await h.meta.mailboxes.getFolder(h.account.id, 'Drafts'))!.uidValidity} 1] APPEND completed`,
    ]);
    await c.command('b', 'SELECT Drafts');
    expect(await c.command('c', 'FETCH 1 (FLAGS INTERNALDATE)')).toEqual(['* 1 FETCH (FLAGS (\\Draft \\Recent) INTERNALDATE "14-Jul-2023 09:44:25 +0000")', 'c OK FETCH completed']);
    // The quota is 4096 bytes: a synchronising literal is refused before it is sent.
    c.write('d APPEND INBOX {5000}\r\n');
    expect(await c.until('d')).toEqual(['d NO [OVERQUOTA] Quota exceeded']);
    expect(await c.command('e', 'APPEND Nowhere {3+}\r\nx\r\n')).toEqual(['e NO [TRYCREATE] No such mailbox']);
    expect(uidValidity).toBeGreaterThan(0);
  });

  it('advertises MULTIAPPEND and stores several messages in one command', async () => {
    expect((await c.command('a', 'CAPABILITY'))[0]).toMatch(/^\* CAPABILITY .* MULTIAPPEND /);
    const [m1, m2] = ['Subject: one\r\n\r\n1\r\n', 'Subject: two\r\n\r\n22\r\n'];
    const sent = (await h.meta.mailboxes.getFolder(h.account.id, 'Sent'))!;
    expect(await c.command('b', `APPEND Sent (\\Seen) {${m1.length}+}\r\n${m1} {${m2.length}+}\r\n${m2}`)).toEqual([`b OK [APPENDUID ${sent.uidValidity} 1:2] APPEND completed`]);
    await c.command('c', 'EXAMINE Sent');
    expect(await c.command('d', 'FETCH 1:* (FLAGS RFC822.SIZE)')).toEqual(['* 1 FETCH (FLAGS (\\Recent \\Seen) RFC822.SIZE 19)', '* 2 FETCH (FLAGS (\\Recent) RFC822.SIZE 20)', 'd OK FETCH completed']);
  });
});
