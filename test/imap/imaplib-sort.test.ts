/**
 * Python's imaplib against postern: SORT, UID SORT, ESORT, THREAD and UID
 * THREAD over mail with Re:/Fwd: subjects, References and In-Reply-To chains,
 * a missing parent, an encoded display name and a message without a Date.
 * Each command runs twice: the first reads the blobs and fills the header
 * cache, the second answers from the cache; both must agree.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness, type TestUser } from './harness.js';
import { pyParams, runPython } from './python.js';

let h: Harness;
let alice: TestUser;
const march = (day: number): number => Date.UTC(2024, 2, day, 12);

interface Spec {
  headers: string[];
  /** Internal date: day of March 2024. */
  arrival: number;
}

const SPECS: Spec[] = [
  { headers: ['From: Carol <carol@c.test>', 'Subject: Budget 2025', 'Date: Sun, 3 Mar 2024 10:00:00 +0000', 'Message-ID: <b1@t.test>'], arrival: 5 },
  { headers: ['From: alice <alice@a.test>', 'Subject: Re: Budget 2025', 'Date: Mon, 4 Mar 2024 09:00:00 +0100', 'Message-ID: <b2@t.test>', 'References: <b1@t.test>'], arrival: 1 },
  { headers: ['From: =?utf-8?q?=C3=89lise?= <elise@e.test>', 'Subject: Fwd: [team] Lunch', 'Date: Fri, 1 Mar 2024 08:00:00 +0000', 'Message-ID: <l1@t.test>'], arrival: 3 },
  { headers: ['From: bob@b.test', 'Subject: RE: Budget 2025', 'Date: Tue, 5 Mar 2024 08:00:00 +0000', 'Message-ID: <b3@t.test>', 'References: <b1@t.test>\r\n <b2@t.test>'], arrival: 2 },
  { headers: ['From: Dave <dave@d.test>', 'Subject: Re: Lost thread', 'Date: Sat, 2 Mar 2024 08:00:00 +0000', 'Message-ID: <x2@t.test>', 'In-Reply-To: <missing@t.test>'], arrival: 4 },
  { headers: ['From: erin@e.test', 'Subject: Re: Lost thread', 'Date: Wed, 6 Mar 2024 08:00:00 +0000', 'Message-ID: <x3@t.test>', 'In-Reply-To: <missing@t.test>'], arrival: 6 },
  { headers: ['From: Frank <frank@f.test>', 'Subject: lunch', 'Message-ID: <l2@t.test>'], arrival: 7 },
];
const sizes: number[] = [];
const uids: number[] = [];

beforeAll(async () => {
  h = await startHarness();
  alice = await h.addUser('alice');
  const f = await h.store.meta.mailboxes.createFolder(alice.accountId, 'Threads', null, Date.now());
  // A first UID that is gone, so UIDs and sequence numbers differ.
  const gone = await h.addMessage(alice, 'Threads', Buffer.from('Subject: gone\r\n\r\ngone\r\n'));
  await h.store.meta.mailboxes.expunge(f.id, [gone.uid]);
  for (const [i, s] of SPECS.entries()) {
    const bytes = Buffer.from([...s.headers, 'To: team@t.test', '', `message ${i + 1}`.repeat(i + 1), ''].join('\r\n'));
    const stored = await h.addMessage(alice, 'Threads', bytes, { date: march(s.arrival) });
    sizes.push(bytes.length);
    uids.push(stored.uid);
  }
});

afterAll(async () => {
  await h?.close();
});

const SCRIPT = `
m = login(tls())
typ, caps = m.capability()
emit('caps', caps[0].decode())
ok(m.select('Threads', readonly=True), 'SELECT')
runs = []
for _ in range(2):
    r = {}
    for name, crit in P['sorts'].items():
        r['sort ' + name] = ok(m.sort(crit, 'UTF-8', 'ALL'), 'SORT ' + crit)[0].decode()
    r['uid sort'] = ok(m.uid('SORT', '(SUBJECT)', 'UTF-8', 'NOT', 'FROM', 'bob'), 'UID SORT')[0].decode()
    r['thread references'] = ok(m.thread('REFERENCES', 'UTF-8', 'ALL'), 'THREAD')[0].decode()
    r['thread orderedsubject'] = ok(m.thread('ORDEREDSUBJECT', 'UTF-8', 'ALL'), 'THREAD')[0].decode()
    r['uid thread'] = ok(m.uid('THREAD', 'REFERENCES', 'UTF-8', 'ALL'), 'UID THREAD')[0].decode()
    ok(m.uid('SORT', 'RETURN (MIN MAX COUNT ALL)', '(DATE)', 'UTF-8', 'ALL'), 'ESORT')
    r['esort'] = m.untagged_responses.pop('ESEARCH')[0].decode()
    ok(m.sort('(SUBJECT)', 'UTF-8', 'SUBJECT', 'nothing-like-this'), 'SORT none')
    runs.append(r)
emit('runs', runs)
typ, data = m.sort('(DATE)', 'KOI8-R', 'ALL')
emit('badcharset', [typ, data[0].decode()])
try:
    m._simple_command('SORT', '(BOGUS)', 'UTF-8', 'ALL')
    emit('bad', 'accepted')
except imaplib.IMAP4.error as e:
    emit('bad', str(e))
m.logout()
`;

describe('imaplib SORT and THREAD', () => {
  it('sorts and threads as RFC 5256 says, from the blobs and then from the cache', async () => {
    const r = await runPython(
      SCRIPT,
      pyParams(h, alice, { sorts: { subject: '(SUBJECT)', date: '(DATE)', arrival: '(REVERSE ARRIVAL)', from: '(FROM)', display: '(DISPLAYFROM)', size: '(SIZE)', to: '(TO SUBJECT)' } }),
    );
    expect(String(r.caps)).toMatch(/\bSORT\b.*\bSORT=DISPLAY\b.*\bESORT\b.*\bTHREAD=ORDEREDSUBJECT\b.*\bTHREAD=REFERENCES\b/);
    const bySize = [...sizes.keys()].sort((a, b) => sizes[a]! - sizes[b]! || a - b).map((i) => i + 1);
    const expected = {
      // Base subjects BUDGET 2025 (1, 2, 4), LOST THREAD (5, 6), LUNCH (3, 7); ties by number.
      'sort subject': '1 2 4 5 6 3 7',
      // 7 has no Date: its INTERNALDATE (7 March) stands in; 2 is 08:00 UTC on the 4th.
      'sort date': '3 5 1 2 4 6 7',
      'sort arrival': '7 6 1 5 3 4 2',
      // Local parts: alice, bob, carol, dave, elise, erin, frank.
      'sort from': '2 4 1 5 3 6 7',
      // Display names, else the address: "Élise" decomposes to E + U+0301, after "ERIN@E.TEST".
      'sort display': '2 4 1 5 6 3 7',
      'sort size': bySize.join(' '),
      'sort to': '1 2 4 5 6 3 7',
      'uid sort': [1, 2, 5, 6, 3, 7].map((n) => uids[n - 1]).join(' '),
      // 5 and 6 answer a missing message; 3 forwards what 7 started (gathered by subject).
      'thread references': '((5)(6))(1 2 4)(7 3)',
      'thread orderedsubject': '(3 7)(5 6)(1 (2)(4))',
      'uid thread': `((${uids[4]})(${uids[5]}))(${uids[0]} ${uids[1]} ${uids[3]})(${uids[6]} ${uids[2]})`,
      // ALL in sort order, ascending runs as ranges (UIDs are 2 to 8).
      esort: '(TAG "x") UID MIN 4 MAX 8 ALL 4,6,2:3,5,7:8 COUNT 7',
    };
    expect(uids).toEqual([2, 3, 4, 5, 6, 7, 8]);
    const runs = r.runs as Array<Record<string, string>>;
    expect(runs).toHaveLength(2);
    for (const run of runs) {
      expect({ ...run, esort: run.esort!.replace(/\(TAG "[^"]*"\)/, '(TAG "x")') }).toEqual(expected);
    }
    expect(r.badcharset).toEqual(['NO', '[BADCHARSET (UTF-8 US-ASCII)] Unsupported charset']);
    expect(String(r.bad)).toMatch(/Unknown sort key BOGUS/);
  });
});
