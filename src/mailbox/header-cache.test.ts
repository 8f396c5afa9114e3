import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { encodeEnvelope, encodeValue, parseImapCommand, rawFromLine, type SearchKey } from '../codec/imap/index.js';
import { buildBodyStructure, buildEnvelope, parseMessage } from '../codec/mime/index.js';
import { corpus, corpusNames } from '../codec/mime/testing/corpus.js';
import type { CachedHeader, HeaderCacheEntry } from '../store/types.js';
import { decodeStructure, encodeStructure } from './cached-structure.js';
import { cacheEntry, cacheMessage, envelopeEntry, envelopeText, MAX_CACHED_HEADER, readDetail, readSearch, requiredText, searchEntry, searchNeedsDetail } from './header-cache.js';
import { matchMessage, planSearch, SearchContent, type SearchCandidate } from './search.js';

const idOf = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const scope = { exists: 1, maxUid: 1, saved: null };
const candidate: SearchCandidate = { seq: 1, uid: 1, flags: [], modseq: 1, size: 100, internalDate: Date.UTC(2024, 0, 9, 12) };
const withDetail = (e: HeaderCacheEntry): CachedHeader => e;
const lean = (e: HeaderCacheEntry): CachedHeader => ({ ...e, detail: null });

function criteria(text: string): SearchKey[] {
  const r = parseImapCommand(rawFromLine(`t SEARCH ${text}`));
  if (!r.ok || r.command.name !== 'SEARCH') throw new Error(`bad search ${text}`);
  return [...r.command.criteria];
}

function entryOf(bytes: Buffer): HeaderCacheEntry {
  const e = cacheEntry(idOf(bytes), parseMessage(bytes));
  if (!e) throw new Error('no entry');
  return e;
}

const MESSAGE = Buffer.from(
  [
    'From: =?iso-8859-1?q?Ren=E9?= <rene@example.org>',
    'To: Team <team@example.test>',
    'To: "Quote \\" me" <q@example.test>',
    'Subject: Quarterly =?utf-8?b?UmVwb3J0?=',
    'Date: Fri, 5 Jan 2024 23:30:00 -0800',
    'X-Ticket: ABC-123',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'Revenue grew.',
    '',
  ].join('\r\n'),
);

describe('header cache entries', () => {
  it('answer header criteria as the message does, and leave body criteria to the blob', () => {
    const e = entryOf(MESSAGE);
    const full = new SearchContent(parseMessage(MESSAGE));
    const cached = readSearch(lean(e))!;
    const detailed = readSearch(withDetail(e), readDetail(withDetail(e)))!;
    const cases: Array<[string, boolean | undefined, boolean | undefined]> = [
      // criteria, from the search part alone, with the detail
      ['SUBJECT "quarterly report"', true, true],
      ['FROM "rené"', true, true],
      ['TO "\\" me"', true, true],
      // The display name unquoted, from the plain form of the address.
      ['TO "quote \\" me"', true, true],
      ['TO "\\"quote me"', false, false],
      ['HEADER to team@', true, true],
      ['CC x', false, false],
      ['HEADER Cc ""', false, false],
      ['HEADER Subject ""', true, true],
      ['SENTON 5-Jan-2024', true, true],
      ['SENTSINCE 6-Jan-2024', false, false],
      ['HEADER X-Ticket abc', undefined, true],
      ['HEADER X-Missing ""', undefined, false],
      ['TEXT ticket', undefined, true],
      ['TEXT revenue', undefined, undefined],
      ['BODY revenue', undefined, undefined],
      ['OR BODY revenue SUBJECT quarterly', true, true],
      ['NOT SUBJECT quarterly BODY revenue', false, false],
    ];
    for (const [text, alone, withIt] of cases) {
      const keys = criteria(text);
      const truth = matchMessage(keys, candidate, scope, full);
      expect([text, matchMessage(keys, candidate, scope, cached)]).toEqual([text, alone]);
      expect([text, matchMessage(keys, candidate, scope, detailed)]).toEqual([text, withIt]);
      if (withIt !== undefined) expect([text, truth]).toEqual([text, withIt]);
    }
  });

  it('agree with the message on every corpus message wherever they answer', () => {
    const keys = [
      'SUBJECT a',
      'SUBJECT the',
      'FROM @',
      'TO .',
      'CC e',
      'BCC x',
      'HEADER Content-Type multipart',
      'HEADER Message-ID ""',
      'HEADER Received from',
      'SENTSINCE 1-Jan-2000',
      'SENTBEFORE 1-Jan-2010',
      'TEXT mime',
    ].map(criteria);
    for (const name of corpusNames()) {
      const bytes = corpus(name);
      const msg = parseMessage(bytes);
      const e = cacheEntry(idOf(bytes), msg);
      if (!e) continue;
      const full = new SearchContent(msg);
      const detail = readDetail(withDetail(e));
      expect(detail, name).not.toBeNull();
      for (const k of keys) {
        const truth = matchMessage(k, candidate, scope, full);
        const a = matchMessage(k, candidate, scope, readSearch(lean(e)));
        const b = matchMessage(k, candidate, scope, readSearch(withDetail(e), detail));
        if (a !== undefined) expect([name, k, a]).toEqual([name, k, truth]);
        if (b !== undefined) expect([name, k, b]).toEqual([name, k, truth]);
        // With the header section kept, only body text is left to the blob.
        if (detail!.header && !planSearch(k).body) expect([name, k, b]).toEqual([name, k, truth]);
      }
      // ENVELOPE and BODYSTRUCTURE come back as the parse builds them.
      expect(detail!.structure, name).toEqual({ envelope: buildEnvelope(msg.root), body: buildBodyStructure(msg.root) });
      // The header section is the message's own, byte for byte.
      if (detail!.header) expect(detail!.header.equals(bytes.subarray(0, msg.root.bodyStart)), name).toBe(true);
    }
  });

  it('are refused when damaged, filed under another blob, or of another format', () => {
    const e = entryOf(MESSAGE);
    expect(readSearch(lean(e))).not.toBeNull();
    expect(readDetail(withDetail(e))).not.toBeNull();
    const other = '0'.repeat(64);
    expect(readSearch({ ...lean(e), blobId: other })).toBeNull();
    expect(readDetail({ ...e, blobId: other })).toBeNull();
    const search = e.search;
    const at = search.indexOf('quarterly');
    expect(readSearch({ ...lean(e), search: search.slice(0, at) + 'Q' + search.slice(at + 1) })).toBeNull();
    expect(readSearch({ ...lean(e), search: '9' + search.slice(1) })).toBeNull();
    expect(readSearch({ ...lean(e), search: 'garbage' })).toBeNull();
    const detail = e.detail!;
    for (const i of [0, 4, 10, detail.length - 1]) {
      const d = Buffer.from(detail);
      d[i] = d[i]! ^ 0x04;
      expect(readDetail({ ...e, detail: d }), `byte ${i}`).toBeNull();
    }
    expect(readDetail({ ...e, detail: detail.subarray(0, 5) })).toBeNull();
    expect(readDetail(lean(e))).toBeNull();
  });

  it('with the search part only answer every search as the whole entry does (MIME torture, encoded words, the whole corpus)', () => {
    const keys = [
      'SUBJECT a',
      'SUBJECT the',
      'SUBJECT "=?"',
      'FROM @',
      'FROM "<"',
      'TO .',
      'CC e',
      'BCC x',
      'HEADER From ""',
      'HEADER Subject "é"',
      'SENTSINCE 1-Jan-2000',
      'SENTBEFORE 1-Jan-2010',
      'SENTON 2-Jan-2004',
      'OR SUBJECT test FROM test',
    ].map(criteria);
    const names = corpusNames();
    // The fixtures this is about are there (the test would prove little without them).
    expect(names).toEqual(expect.arrayContaining(['flanker-torture.eml', 'flanker-torture-part.eml', 'flanker-encoded-header.eml']));
    for (const name of names) {
      const bytes = corpus(name);
      const id = idOf(bytes);
      const msg = parseMessage(bytes);
      const whole = cacheEntry(id, msg);
      const only = searchEntry(id, bytes);
      // The same search part byte for byte, so also the same text the store filters SEARCH rows on.
      expect(only?.search, name).toBe(whole?.search);
      if (!only || !whole) continue;
      expect(only.detail, name).toBeNull();
      expect(readDetail(only), name).toBeNull();
      const full = new SearchContent(msg);
      for (const k of keys) {
        const truth = matchMessage(k, candidate, scope, full);
        expect([name, k, matchMessage(k, candidate, scope, readSearch(only))]).toEqual([name, k, truth]);
        expect([name, k, matchMessage(k, candidate, scope, readSearch(lean(whole)))]).toEqual([name, k, truth]);
      }
    }
  });

  it('with the search part only take the top-level header alone, under the parser\'s limits', () => {
    const cases: Array<[string, Buffer]> = [
      ['fields in the body and in an attached message', Buffer.from('Subject: outer\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\nFrom: x@inner.test\r\n\r\nbody\r\n')],
      ['bare LF line ends, folded fields', Buffer.from('Subject: one\n two\nFrom: =?utf-8?q?J=C3=BCrgen?=\n <j@x.test>\nDate: 3 Mar 2021 10:00 +0100\n\nSubject: no\n')],
      ['no blank line', Buffer.from('Subject: only a header\r\nTo: a@b.test')],
      ['no header', Buffer.from('\r\nSubject: body\r\n')],
      // The parser keeps 5,000 fields and 512 KiB of header: a field just within is kept, one past is not.
      ['a header over the field limit', Buffer.from(`${'X-A: 1\r\n'.repeat(4998)}Subject: within\r\n${'X-A: 1\r\n'.repeat(10)}To: past@limit.test\r\n\r\nx\r\n`)],
      ['a header over the byte limit', Buffer.from(`${`X-B: ${'y'.repeat(1000)}\r\n`.repeat(500)}Cc: within@limit.test\r\n${`X-B: ${'y'.repeat(1000)}\r\n`.repeat(30)}To: past@limit.test\r\n\r\nx\r\n`)],
      ['a multipart boundary in the header', Buffer.from('Content-Type: multipart/mixed; boundary=b\r\nSubject: s\r\n--b\r\nFrom: f@x.test\r\n\r\n--b--\r\n')],
    ];
    for (const [what, bytes] of cases) {
      const id = idOf(bytes);
      const whole = cacheEntry(id, parseMessage(bytes));
      expect(whole, what).not.toBeNull();
      expect(searchEntry(id, bytes), what).toEqual({ blobId: id, search: whole!.search, detail: null });
    }
    for (const [, bytes] of cases.slice(4, 6)) {
      const only = readSearch(searchEntry(idOf(bytes), bytes)!)!;
      expect(matchMessage(criteria('OR SUBJECT within CC within'), candidate, scope, only)).toBe(true);
      expect(matchMessage(criteria('TO past'), candidate, scope, only)).toBe(false);
    }
    const [, outer] = cases[0]!;
    const only = readSearch(searchEntry(idOf(outer), outer)!)!;
    expect(matchMessage(criteria('SUBJECT outer'), candidate, scope, only)).toBe(true);
    expect(matchMessage(criteria('SUBJECT inner'), candidate, scope, only)).toBe(false);
    // Fields the search part does not keep, and TEXT, are left to the detail or the blob.
    expect(matchMessage(criteria('HEADER Content-Type message'), candidate, scope, only)).toBeUndefined();
    // Too large to keep: no entry, as for the whole entry.
    const huge = Buffer.from(`To: ${'a@b.c, '.repeat(4000)}\r\n\r\nx\r\n`);
    expect(searchEntry(idOf(huge), huge)).toBeNull();
  });

  it('keep the search part but not the header section of a message with a huge header', () => {
    const big = Buffer.concat([
      Buffer.from('Subject: big one\r\nDate: 2 Feb 2023 10:00 +0000\r\n'),
      Buffer.from(`Received: ${'x'.repeat(200)}\r\n`.repeat(Math.ceil(MAX_CACHED_HEADER / 200) + 1)),
      Buffer.from('\r\nbody\r\n'),
    ]);
    const e = entryOf(big);
    const detail = readDetail(withDetail(e))!;
    expect(detail.header).toBeNull();
    expect(detail.structure?.envelope.subject).toBe('big one');
    const text = readSearch(withDetail(e), detail)!;
    expect(matchMessage(criteria('SUBJECT "big one" SENTON 2-Feb-2023'), candidate, scope, text)).toBe(true);
    expect(matchMessage(criteria('HEADER Received xxx'), candidate, scope, text)).toBeUndefined();
    // From/To/Cc/Bcc/Subject too large to keep: no entry at all.
    const huge = Buffer.from(`To: ${'a@b.c, '.repeat(4000)}\r\n\r\nx\r\n`);
    expect(cacheEntry(idOf(huge), parseMessage(huge))).toBeNull();
  });

  it('keep the ENVELOPE text only where every client is sent the same text', () => {
    let kept = 0;
    let left = 0;
    for (const name of corpusNames()) {
      const bytes = corpus(name);
      const msg = parseMessage(bytes);
      const env = buildEnvelope(msg.root);
      const plain = encodeValue(encodeEnvelope(env), { utf8: false }).toString('latin1');
      const utf8 = encodeValue(encodeEnvelope(env), { utf8: true }).toString('latin1');
      const text = envelopeText(env);
      if (text === null) {
        left++;
        // Left out only when the text would hold a literal or 8-bit bytes.
        expect(/[\r\n\x80-\xff]/.test(plain), name).toBe(true);
      } else {
        kept++;
        expect([name, text]).toEqual([name, plain]);
        expect([name, text]).toEqual([name, utf8]);
      }
      const e = cacheEntry(idOf(bytes), msg);
      if (e) expect([name, readDetail(withDetail(e))!.envelopeText]).toEqual([name, text]);
    }
    expect(kept).toBeGreaterThan(10);
    expect(left).toBeGreaterThan(0);
    // ENVELOPE keeps encoded words as they are; raw UTF-8 is sent quoted or as a literal, as the client enabled.
    const accented = Buffer.from('Subject: caf\u00e9\r\nFrom: a@b.test\r\n\r\nx\r\n', 'utf8');
    expect(envelopeText(buildEnvelope(parseMessage(accented).root))).toBeNull();
    expect(envelopeEntry(idOf(accented), accented)).toBeNull();
  });

  it('write the ENVELOPE text exactly as the IMAP encoder does, for any strings', () => {
    const text = fc.oneof(fc.constant(null), fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('a"b', 'c\\d', '\u007f', 'x'.repeat(1024), 'y'.repeat(1025)));
    const address = fc.record({ name: text, adl: text, mailbox: text, host: text });
    const list = fc.oneof(fc.constant(null), fc.array(address, { maxLength: 3 }));
    const envelope = fc.record({ date: text, subject: text, from: list, sender: list, replyTo: list, to: list, cc: list, bcc: list, inReplyTo: text, messageId: text });
    fc.assert(
      fc.property(envelope, (env) => {
        const plain = encodeValue(encodeEnvelope(env), { utf8: false }).toString('latin1');
        const got = envelopeText(env);
        if (got === null) expect(/[\r\n\x80-\xff]/.test(plain)).toBe(true);
        else {
          expect(got).toBe(plain);
          expect(got).toBe(encodeValue(encodeEnvelope(env), { utf8: true }).toString('latin1'));
        }
      }),
      { numRuns: 500 },
    );
  });

  it('made for ENVELOPE from the header section alone hold what the whole entry holds, with the body structure pending', () => {
    const extra: Array<[string, Buffer]> = [
      ['bare LF, folded', Buffer.from('Subject: one\n two\nFrom: A <a@x.test>\nDate: 3 Mar 2021 10:00 +0100\n\nSubject: no\n')],
      ['no blank line', Buffer.from('Subject: only a header\r\nTo: a@b.test')],
      ['no header', Buffer.from('\r\nSubject: body\r\n')],
      ['a boundary in the header', Buffer.from('Content-Type: multipart/mixed; boundary=b\r\nSubject: s\r\n--b\r\nFrom: f@x.test\r\n\r\n--b--\r\n')],
      ['attached message', Buffer.from('Subject: outer\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\nFrom: x@inner.test\r\n\r\nbody\r\n')],
      ['over the field limit', Buffer.from(`${'X-A: 1\r\n'.repeat(5010)}Subject: s\r\n\r\nx\r\n`)],
      ['huge header', Buffer.from(`Subject: big\r\n${`Received: ${'x'.repeat(200)}\r\n`.repeat(Math.ceil(MAX_CACHED_HEADER / 200) + 1)}\r\nbody\r\n`)],
    ];
    let made = 0;
    for (const [name, bytes] of [...corpusNames().map((n): [string, Buffer] => [n, corpus(n)]), ...extra]) {
      const id = idOf(bytes);
      const whole = cacheEntry(id, parseMessage(bytes));
      const quick = envelopeEntry(id, bytes);
      if (!quick) continue;
      made++;
      expect(whole, name).not.toBeNull();
      expect([name, quick.entry.search]).toEqual([name, whole!.search]);
      const a = readDetail(withDetail(quick.entry))!;
      const b = readDetail(withDetail(whole!))!;
      expect(a, name).not.toBeNull();
      expect([name, a.envelopeText, a.bodyPending, a.hasStructure]).toEqual([name, b.envelopeText, true, false]);
      expect([name, quick.envelopeText]).toEqual([name, b.envelopeText]);
      expect([name, a.header?.toString('latin1') ?? null]).toEqual([name, b.header?.toString('latin1') ?? null]);
      expect(b.bodyPending, name).toBe(false);
    }
    expect(made).toBeGreaterThan(10);
    // A header cut short by the parser's limits is left to the whole parse.
    expect(envelopeEntry('0'.repeat(64), extra[5]![1])).toBeNull();
  });

  it('of the previous detail layout are still read', () => {
    const e = entryOf(MESSAGE);
    const now = readDetail(withDetail(e))!;
    const structure = Buffer.from(now.structureText!, 'utf8');
    const rest = Buffer.concat([Buffer.from([2, 1 | 2, 0, 0, 0, 0]), structure, now.header!]);
    rest.writeUInt32BE(structure.length, 2);
    const check = Buffer.alloc(4);
    check.writeUInt32BE(crc32(rest, crc32(e.blobId)), 0);
    const old = readDetail({ ...e, detail: Buffer.concat([check, rest]) })!;
    expect(old).not.toBeNull();
    expect(old.structure).toEqual(now.structure);
    expect(old.header!.equals(now.header!)).toBe(true);
    expect([old.envelopeText, old.bodyPending]).toEqual([null, false]);
  });

  it('are stored for bytes in hand by cacheMessage', async () => {
    const stored: HeaderCacheEntry[] = [];
    await cacheMessage({ putHeaderCache: async (e) => void stored.push(...e) }, idOf(MESSAGE), MESSAGE);
    expect(stored).toEqual([entryOf(MESSAGE)]);
  });

  it('keep the search part valid Unicode without NUL, whatever the header holds', () => {
    const odd = Buffer.concat([Buffer.from('Subject: a\u0000b =?utf-8?q?nul=00here?= \r\nFrom: '), Buffer.from([0xff, 0xfe, 0x41]), Buffer.from('\r\n\r\n')]);
    const e = entryOf(odd);
    expect(e.search.includes('\u0000')).toBe(false);
    expect(Buffer.from(e.search, 'utf8').toString('utf8')).toBe(e.search);
    expect(matchMessage(criteria('SUBJECT nul'), candidate, scope, readSearch(lean(e)))).toBe(true);
  });
});

describe('the text a SEARCH requires', () => {
  it('is the longest value all criteria require on a field the search part keeps', () => {
    expect(requiredText(criteria('SUBJECT Needle'))).toBe('needle');
    expect(requiredText(criteria('FROM bob (SUBJECT "longer text" UNSEEN)'))).toBe('longer text');
    expect(requiredText(criteria('HEADER subject abc'))).toBe('abc');
    expect(requiredText(criteria('OR SUBJECT a SUBJECT b'))).toBeNull();
    expect(requiredText(criteria('NOT SUBJECT a'))).toBeNull();
    expect(requiredText(criteria('HEADER X-Ticket abc BODY xyz'))).toBeNull();
    expect(requiredText(criteria('SUBJECT ""'))).toBeNull();
    // JSON would escape these: the stored text need not contain them as written.
    expect(requiredText(criteria('SUBJECT "say \\"hi\\""'))).toBeNull();
    expect(requiredText(criteria('SUBJECT "a\\\\b"'))).toBeNull();
  });

  it('tells when the detail part is needed', () => {
    expect(searchNeedsDetail(planSearch(criteria('SUBJECT a FROM b SENTON 1-Jan-2024')))).toBe(false);
    expect(searchNeedsDetail(planSearch(criteria('HEADER List-Id a')))).toBe(true);
    expect(searchNeedsDetail(planSearch(criteria('TEXT a')))).toBe(true);
  });

  it('is in the search part of every message the criteria match (property)', () => {
    const word = fc.constantFrom('alpha', 'Beta', 'gamma delta', 'Ünïcode', 'x@y.test', '"q"', 'a\\b', '=?utf-8?q?J=C3=BCrgen?=', '中文');
    const field = fc.constantFrom('From', 'To', 'Cc', 'Bcc', 'Subject', 'X-Other');
    const header = fc.array(fc.tuple(field, fc.array(word, { minLength: 1, maxLength: 3 })), { maxLength: 6 });
    const key = fc.tuple(fc.constantFrom('FROM', 'TO', 'CC', 'BCC', 'SUBJECT', 'HEADER X-Other', 'HEADER subject'), word, fc.boolean());
    fc.assert(
      fc.property(header, fc.array(key, { minLength: 1, maxLength: 3 }), (fields, keys) => {
        const lines = fields.map(([name, words]) => `${name}: ${words.join(' ')}`);
        const bytes = Buffer.from(`${lines.join('\r\n')}\r\n\r\nbody\r\n`);
        const e = entryOf(bytes);
        const text = keys
          .map(([k, w, cut]) => `${k} "${(cut ? w.slice(1, 4) : w).replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`)
          .join(' ');
        const ks = criteria(text);
        const truth = matchMessage(ks, candidate, scope, new SearchContent(parseMessage(bytes)));
        const needle = requiredText(ks);
        if (truth && needle !== null) expect(e.search.includes(needle)).toBe(true);
        const cached = matchMessage(ks, candidate, scope, readSearch(withDetail(e), readDetail(withDetail(e))));
        expect(cached).toBe(truth);
      }),
      { numRuns: 500 },
    );
  });
});

describe('the cached structure', () => {
  it('round-trips ENVELOPE and BODYSTRUCTURE data exactly', () => {
    for (const name of corpusNames()) {
      const msg = parseMessage(corpus(name));
      const envelope = buildEnvelope(msg.root);
      const body = buildBodyStructure(msg.root);
      const text = encodeStructure(envelope, body);
      expect(decodeStructure(text), name).toEqual({ envelope, body });
      expect(text.length, name).toBeLessThan(JSON.stringify({ envelope, body }).length);
    }
  });

  it('keeps Sender and Reply-To that differ from From', () => {
    const msg = parseMessage(Buffer.from('From: a@x.test\r\nSender: s@x.test\r\nReply-To: a@x.test\r\n\r\nhi\r\n'));
    const envelope = buildEnvelope(msg.root);
    const back = decodeStructure(encodeStructure(envelope, buildBodyStructure(msg.root))).envelope;
    expect(back.sender).toEqual([{ name: null, adl: null, mailbox: 's', host: 'x.test' }]);
    expect(back.replyTo).toEqual(envelope.from);
    expect(back).toEqual(envelope);
  });
});
