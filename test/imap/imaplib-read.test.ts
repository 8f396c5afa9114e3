/**
 * Python's imaplib against postern, over implicit TLS (993-style) and over
 * STARTTLS (143-style): login, LIST with special-use folders, SELECT, SEARCH
 * and FETCH. Every fetched body is compared byte for byte with what the store
 * holds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeMessage, startHarness, type Harness, type Stored, type TestUser } from './harness.js';
import { corpusMessages, headerOf, textOf } from './corpus.js';
import { fromB64, pyParams, runPython } from './python.js';
import { parseImapDate } from './util.js';

let h: Harness;
let alice: TestUser;
const inbox: (Stored & { name: string })[] = [];

/** Messages whose search results follow from these fields. */
interface Spec {
  from: string;
  subject: string;
  date: string; // internal date, noon UTC, days apart so no time zone moves it across a day
  body: string;
  flags: string[];
  ticket?: string;
}
const DAY = 86_400_000;
const SPECS: Spec[] = [
  { from: 'Ann Able <ann@alpha.test>', subject: 'Quarterly report', date: '2024-01-10', body: 'the budget numbers', flags: ['\\Seen'] },
  { from: 'Bob Baker <bob@beta.test>', subject: 'Lunch on Friday', date: '2024-02-15', body: 'pizza or noodles', flags: [] },
  { from: 'ann@alpha.test', subject: 'Re: Quarterly report', date: '2024-03-20', body: 'budget approved', flags: ['\\Seen', '\\Flagged'], ticket: '4711' },
  { from: 'carol@gamma.test', subject: 'Big attachment', date: '2024-04-25', body: 'x'.repeat(70).concat('\r\n').repeat(300), flags: [] },
  { from: 'bob@beta.test', subject: 'needle in a haystack', date: '2024-05-30', body: 'haystack', flags: ['\\Answered'], ticket: '9000' },
  { from: 'Dave <dave@delta.test>', subject: 'Weekly digest', date: '2024-06-05', body: 'nothing new', flags: [] },
];
const searchable: (Stored & { spec: Spec; seq: number })[] = [];
const noon = (d: string): number => Date.parse(`${d}T12:00:00Z`);

beforeAll(async () => {
  h = await startHarness();
  alice = await h.addUser('alice');
  let day = 0;
  for (const m of corpusMessages()) {
    const flags = day % 3 === 0 ? ['\\Seen'] : day % 3 === 1 ? ['\\Flagged', '$Important'] : [];
    const s = await h.addMessage(alice, 'INBOX', m.bytes, { flags, date: noon('2023-03-01') + day++ * DAY + 1234_000 });
    inbox.push({ ...s, name: m.name });
  }
  // A folder whose first UID was expunged, so UIDs and sequence numbers differ.
  const f = await h.store.meta.mailboxes.createFolder(alice.accountId, 'Searchable', null, Date.now());
  const gap = await h.addMessage(alice, 'Searchable', makeMessage({ from: 'x@x.test', subject: 'gone', date: 'Mon, 1 Jan 2024 00:00:00 +0000' }, 'gone'));
  await h.store.meta.mailboxes.expunge(f.id, [gap.uid]);
  for (const [i, spec] of SPECS.entries()) {
    const extra = spec.ticket ? [`X-Ticket: ${spec.ticket}`] : [];
    const date = new Date(noon(spec.date)).toUTCString().replace('GMT', '+0000');
    const bytes = makeMessage({ from: spec.from, subject: spec.subject, date, extra }, spec.body);
    const s = await h.addMessage(alice, 'Searchable', bytes, { flags: spec.flags, date: noon(spec.date) });
    searchable.push({ ...s, spec, seq: i + 1 });
  }
});

afterAll(async () => {
  await h?.close();
});

const seqsWhere = (p: (s: Spec) => boolean): number[] => searchable.filter((m) => p(m.spec)).map((m) => m.seq);
const uidsWhere = (p: (s: Spec) => boolean): number[] => searchable.filter((m) => p(m.spec)).map((m) => m.uid);

for (const mode of ['tls', 'starttls'] as const) {
  describe(`imaplib over ${mode === 'tls' ? 'IMAP4_SSL' : 'IMAP4 + starttls()'}`, () => {
    it('logs in, lists the special-use folders and selects INBOX', async () => {
      const r = await runPython(
        `
m = ${mode}()
emit('cipher', m.sock.version())
emit('caps_before', ' '.join(m.capabilities))
login(m)
typ, caps = m.capability()
emit('caps', caps[0].decode())
emit('list', [l.decode('utf-8', 'replace') for l in ok(m.list(), 'LIST') if l])
emit('xlist', [l.decode('utf-8', 'replace') for l in ok(m.list('""', '%'), 'LIST %') if l])
typ, data = m.select('INBOX', readonly=True)
emit('select', typ)
emit('exists', int(data[0]))
emit('untagged', {k.lower(): [x.decode() if isinstance(x, bytes) else str(x) for x in v] for k, v in m.untagged_responses.items()})
m.close()
m.logout()
`,
        pyParams(h, alice),
      );
      expect(String(r.cipher)).toMatch(/^TLSv1\.[23]$/);
      expect(String(r.caps)).toMatch(/\bIMAP4rev1\b/);
      const list = r.list as string[];
      const special = (use: string): string | undefined => list.find((l) => new RegExp(`\\\\${use}\\b`, 'i').test(l));
      for (const [use, name] of [['Sent', 'Sent'], ['Drafts', 'Drafts'], ['Trash', 'Trash'], ['Junk', 'Junk'], ['Archive', 'Archive']]) {
        expect(special(use!), `LIST has ${name} with \\${use}`).toMatch(new RegExp(`"?${name}"?$`));
      }
      expect(list.some((l) => /"?INBOX"?$/i.test(l))).toBe(true);
      expect(list.some((l) => /"?Searchable"?$/.test(l))).toBe(true);
      expect((r.xlist as string[]).length).toBeGreaterThanOrEqual(7);
      expect(r.select).toBe('OK');
      expect(r.exists).toBe(inbox.length);
      const u = r.untagged as Record<string, string[]>;
      const folder = await h.folder(alice, 'INBOX');
      expect(u['uidvalidity']).toEqual([String(folder.uidValidity)]);
      expect(u['uidnext']).toEqual([String(folder.uidNext)]);
      expect(u['flags']?.[0]).toMatch(/\\Seen/);
    });

    it('fetches every message byte for byte: BODY.PEEK[], RFC822, HEADER, TEXT, RFC822.SIZE, partial', async () => {
      const r = await runPython(
        `
m = login(${mode}())
ok(m.select('INBOX', readonly=True), 'SELECT')
out = {}
for uid in P['uids']:
    u = str(uid)
    res = {}
    res['full'] = b64(one_literal(ok(m.uid('FETCH', u, '(BODY.PEEK[])'), 'BODY.PEEK[]'), 'full'))
    res['rfc822'] = b64(one_literal(ok(m.uid('FETCH', u, '(RFC822)'), 'RFC822'), 'rfc822'))
    res['header'] = b64(one_literal(ok(m.uid('FETCH', u, '(BODY.PEEK[HEADER])'), 'HEADER'), 'header'))
    res['text'] = b64(one_literal(ok(m.uid('FETCH', u, '(BODY[TEXT])'), 'TEXT'), 'text'))
    res['partial'] = b64(one_literal(ok(m.uid('FETCH', u, '(BODY.PEEK[]<0.10>)'), 'partial'), 'partial'))
    res['partial2'] = b64(one_literal(ok(m.uid('FETCH', u, '(BODY.PEEK[]<5.7>)'), 'partial2'), 'partial2'))
    res['meta'] = b' '.join(x if isinstance(x, bytes) else x[0] for x in ok(m.uid('FETCH', u, '(UID RFC822.SIZE FLAGS INTERNALDATE)'), 'meta')).decode()
    out[u] = res
emit('out', out)
m.logout()
`,
        pyParams(h, alice, { uids: inbox.map((m) => m.uid) }),
      );
      const out = r.out as Record<string, Record<string, string>>;
      for (const m of inbox) {
        const got = out[String(m.uid)]!;
        expect(fromB64(got.full).equals(m.bytes), `${m.name} BODY.PEEK[]`).toBe(true);
        expect(fromB64(got.rfc822).equals(m.bytes), `${m.name} RFC822`).toBe(true);
        expect(fromB64(got.header).equals(headerOf(m.bytes)), `${m.name} BODY[HEADER]`).toBe(true);
        expect(fromB64(got.text).equals(textOf(m.bytes)), `${m.name} BODY[TEXT]`).toBe(true);
        expect(fromB64(got.partial).equals(m.bytes.subarray(0, 10)), `${m.name} BODY[]<0.10>`).toBe(true);
        expect(fromB64(got.partial2).equals(m.bytes.subarray(5, 12)), `${m.name} BODY[]<5.7>`).toBe(true);
        const meta = got.meta!;
        expect(meta).toMatch(new RegExp(`\\bUID ${m.uid}\\b`));
        expect(meta).toMatch(new RegExp(`\\bRFC822\\.SIZE ${m.bytes.length}\\b`));
        const date = /INTERNALDATE "([^"]+)"/.exec(meta)?.[1];
        expect(parseImapDate(date), `${m.name} INTERNALDATE`).toBe(Math.floor(m.message.internalDate / 1000) * 1000);
      }
      // RFC822 (not PEEK) and BODY[TEXT] set \Seen on the writable session: this one was read-only.
      const after = await h.store.meta.mailboxes.listMessages((await h.folder(alice, 'INBOX')).id);
      expect(after.map((x) => x.flags.includes('\\Seen'))).toEqual(inbox.map((x) => x.message.flags.includes('\\Seen')));
    });

    it('fetches FLAGS, ENVELOPE, BODYSTRUCTURE and part specifiers', async () => {
      const rfc2060 = inbox.find((m) => m.name === 'mimekit-rfc2060.txt')!;
      const japanese = inbox.find((m) => m.name === 'mimekit-japanese.txt')!;
      const flagged = inbox.find((m) => m.message.flags.includes('$Important'))!;
      const parts = ['1', '2', '3.1', '3.2', '4.1', '4.2.1', '4.2.2.1', '4.2.2.2'];
      const r = await runPython(
        `
m = login(${mode}())
ok(m.select('INBOX', readonly=True), 'SELECT')
def flat(data):
    return b''.join((x[0] + x[1]) if isinstance(x, tuple) else x for x in data).decode('utf-8', 'replace')
emit('bs', flat(ok(m.uid('FETCH', str(P['rfc2060']), '(BODYSTRUCTURE)'), 'BODYSTRUCTURE')))
emit('env', flat(ok(m.uid('FETCH', str(P['japanese']), '(ENVELOPE)'), 'ENVELOPE')))
emit('flags', flat(ok(m.uid('FETCH', str(P['flagged']), '(FLAGS)'), 'FLAGS')))
emit('parts', {p: b64(one_literal(ok(m.uid('FETCH', str(P['rfc2060']), '(BODY.PEEK[%s])' % p), p), p)) for p in P['parts']})
emit('mime', b64(one_literal(ok(m.uid('FETCH', str(P['rfc2060']), '(BODY.PEEK[3.HEADER])'), '3.HEADER'), '3.HEADER')))
m.logout()
`,
        pyParams(h, alice, { rfc2060: rfc2060.uid, japanese: japanese.uid, flagged: flagged.uid, parts }),
      );
      // Leaf and message parts in document order, as RFC 3501's sample message defines them.
      const types = [...String(r.bs).matchAll(/\("(TEXT|APPLICATION|MESSAGE|IMAGE|AUDIO|VIDEO)" "([A-Za-z0-9.+-]+)"/gi)].map((x) =>
        `${x[1]}/${x[2]}`.toLowerCase(),
      );
      expect(types).toEqual([
        'text/plain',
        'application/octet-stream',
        'message/rfc822',
        'text/plain',
        'application/octet-stream',
        'image/gif',
        'message/rfc822',
        'text/plain',
        'text/plain',
        'text/richtext',
      ]);
      expect(String(r.bs).match(/"MIXED"/gi)).toHaveLength(4);
      expect(String(r.bs).match(/"ALTERNATIVE"/gi)).toHaveLength(1);
      const parsed = r.parts as Record<string, string>;
      for (const p of parts) expect(fromB64(parsed[p]).toString('latin1'), `BODY[${p}]`).toBe(`This part specifier should be: ${p}\r\n`);
      expect(fromB64(r.mime).toString('latin1')).toMatch(/^From: me@myself\.com\r\n[\s\S]*Subject: This part specifier should be: 3\r\n[\s\S]*\r\n\r\n$/);

      const env = String(r.env);
      expect(env).toContain('"Wed, 22 Jul 2015 01:02:29 +0900"');
      expect(env).toContain('=?ISO-2022-JP?B?GyRCRnxLXDhsJWEhPCVrJUYlOSVIGyhCICh0ZXN0aW5nIEph?=');
      expect(env).toMatch(/\("Atsushi Eno" NIL "x" "x\.com"\)/);
      expect(env).toMatch(/\("Jeffrey Stedfast" NIL "x" "x\.com"\)/);
      expect(env).toContain('"<55AE6D15.4010805@veritas-vos-liberabit.com>"');

      const flags = /FLAGS \(([^)]*)\)/.exec(String(r.flags))?.[1]?.split(' ').filter((f) => f !== '\\Recent').sort();
      expect(flags).toEqual([...flagged.message.flags].sort());
    });

    it('SEARCH CHARSET UTF-8 matches a decoded RFC 2047 subject; an unknown charset gets NO [BADCHARSET]', async () => {
      const japanese = inbox.find((m) => m.name === 'mimekit-japanese.txt')!;
      const r = await runPython(
        `
m = login(${mode}())
ok(m.select('INBOX', readonly=True), 'SELECT')
m.literal = '日本語メール'.encode('utf-8')
emit('utf8', nums(ok(m.uid('SEARCH', 'CHARSET', 'UTF-8', 'SUBJECT'), 'SEARCH UTF-8')))
emit('ascii', nums(ok(m.uid('SEARCH', 'SUBJECT', '"testing Japanese"'), 'SEARCH ascii')))
typ, data = m.search('X-NO-SUCH-CHARSET', 'SUBJECT', 'x')
emit('bad', [typ, data[0].decode()])
m.logout()
`,
        pyParams(h, alice),
      );
      expect(r.utf8).toEqual([japanese.uid]);
      expect(r.ascii).toEqual([japanese.uid]);
      expect(r.bad).toEqual(['NO', expect.stringMatching(/^\[BADCHARSET\b/)]);
    });

    it('searches: ALL, UNSEEN, FROM, SUBJECT, HEADER, BODY, SINCE/BEFORE, LARGER, OR/NOT, UID SEARCH', async () => {
      const queries: Record<string, string[]> = {
        all: ['ALL'],
        unseen: ['UNSEEN'],
        seen: ['SEEN'],
        flagged: ['FLAGGED'],
        answered: ['ANSWERED'],
        fromAnn: ['FROM', 'ann'],
        fromBeta: ['FROM', '"beta.test"'],
        subject: ['SUBJECT', 'quarterly'],
        subjectPhrase: ['SUBJECT', '"in a haystack"'],
        header: ['HEADER', 'X-Ticket', '4711'],
        headerAny: ['HEADER', 'X-Ticket', '""'],
        body: ['BODY', 'budget'],
        text: ['TEXT', 'noodles'],
        since: ['SINCE', '1-Apr-2024'],
        before: ['BEFORE', '1-Mar-2024'],
        between: ['SINCE', '15-Feb-2024', 'BEFORE', '25-Apr-2024'],
        on: ['ON', '30-May-2024'],
        larger: ['LARGER', '10000'],
        smaller: ['SMALLER', '10000'],
        or: ['OR', 'FROM', 'carol', 'FROM', 'dave'],
        not: ['NOT', 'FROM', 'bob'],
        nested: ['OR', 'FLAGGED', 'NOT', 'OR', 'SEEN', 'LARGER', '10000'],
        seqRange: ['2:4', 'UNSEEN'],
        none: ['SUBJECT', 'no-such-subject-anywhere'],
      };
      const r = await runPython(
        `
m = login(${mode}())
ok(m.select('Searchable', readonly=True), 'SELECT')
res = {}
for k, q in P['queries'].items():
    res[k] = nums(ok(m.search(None, *q), 'SEARCH ' + ' '.join(q)))
    res['uid_' + k] = nums(ok(m.uid('SEARCH', *q), 'UID SEARCH ' + ' '.join(q)))
emit('res', res)
m.logout()
`,
        pyParams(h, alice, { queries }),
      );
      const res = r.res as Record<string, number[]>;
      const seen = (s: Spec): boolean => s.flags.includes('\\Seen');
      const size = (s: Spec): number => searchable.find((m) => m.spec === s)!.bytes.length;
      const day = (s: Spec): number => noon(s.date);
      const expected: Record<string, (s: Spec) => boolean> = {
        all: () => true,
        unseen: (s) => !seen(s),
        seen,
        flagged: (s) => s.flags.includes('\\Flagged'),
        answered: (s) => s.flags.includes('\\Answered'),
        fromAnn: (s) => s.from.includes('ann'),
        fromBeta: (s) => s.from.includes('beta.test'),
        subject: (s) => /quarterly/i.test(s.subject),
        subjectPhrase: (s) => s.subject.includes('in a haystack'),
        header: (s) => s.ticket === '4711',
        headerAny: (s) => s.ticket !== undefined,
        body: (s) => s.body.includes('budget'),
        text: (s) => s.body.includes('noodles'),
        since: (s) => day(s) >= noon('2024-04-01'),
        before: (s) => day(s) < noon('2024-03-01'),
        between: (s) => day(s) >= noon('2024-02-15') && day(s) < noon('2024-04-25'),
        on: (s) => s.date === '2024-05-30',
        larger: (s) => size(s) > 10000,
        smaller: (s) => size(s) < 10000,
        or: (s) => /carol|dave/.test(s.from),
        not: (s) => !s.from.includes('bob'),
        nested: (s) => s.flags.includes('\\Flagged') || !(seen(s) || size(s) > 10000),
        seqRange: (s) => [2, 3, 4].includes(SPECS.indexOf(s) + 1) && !seen(s),
        none: () => false,
      };
      for (const [k, p] of Object.entries(expected)) {
        expect(res[k], `SEARCH ${queries[k]!.join(' ')}`).toEqual(seqsWhere(p));
        if (k !== 'seqRange') expect(res[`uid_${k}`], `UID SEARCH ${queries[k]!.join(' ')}`).toEqual(uidsWhere(p));
      }
      // The UIDs are not the sequence numbers (the first UID was expunged), so the two answers differ.
      expect(res.uid_all).not.toEqual(res.all);
      expect(res.none).toEqual([]);
    });
  });
}
