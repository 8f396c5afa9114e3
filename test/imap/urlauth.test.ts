/**
 * URLAUTH (RFC 4467) and URLAUTH=BINARY (RFC 5524) with Python's imaplib:
 * GENURLAUTH signs a URL that URLFETCH then serves, to its owner or to the
 * users its access identifier admits; a tampered token, a token for another
 * user, an expired URL and a URL signed before RESETKEY all fetch NIL.
 * CATENATE takes URLAUTH URLs into another user's mailbox.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOSTNAME, startHarness, type Harness, type TestUser } from './harness.js';
import { pyParams, runPython } from './python.js';

let h: Harness;
let alice: TestUser;
let bob: TestUser;
let uid: number;
let bobUid: number;
const PART = 'hello world';
const MESSAGE = [
  'From: alice@example.test',
  'Subject: parts',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="b"',
  '',
  '--b',
  'Content-Type: text/plain; charset=us-ascii',
  'Content-Transfer-Encoding: base64',
  '',
  Buffer.from(PART).toString('base64'),
  '--b--',
  '',
].join('\r\n');

beforeAll(async () => {
  h = await startHarness();
  alice = await h.addUser('ua-alice');
  bob = await h.addUser('ua-bob');
  uid = (await h.addMessage(alice, 'INBOX', Buffer.from(MESSAGE))).uid;
  bobUid = (await h.addMessage(bob, 'INBOX', Buffer.from('From: bob@example.test\r\nSubject: bob\r\n\r\nfrom bob\r\n'))).uid;
});
afterAll(async () => {
  await h?.close();
});

const PY_HELPERS = `
for name in ('GENURLAUTH', 'URLFETCH', 'RESETKEY'):
    imaplib.Commands[name] = ('AUTH', 'SELECTED')

def gen(m, rump):
    typ, data = m._simple_command('GENURLAUTH', '"%s"' % rump, 'INTERNAL')
    if typ != 'OK':
        return [typ, data[0].decode() if data and data[0] else '']
    typ, data = m._untagged_response(typ, data, 'GENURLAUTH')
    return data[0].decode().strip('"')

def fetch(m, url, params=None):
    arg = '"%s"' % url if params is None else '("%s" %s)' % (url, params)
    typ, data = m._simple_command('URLFETCH', arg)
    if typ != 'OK':
        return [typ]
    typ, data = m._untagged_response(typ, data, 'URLFETCH')
    out = []
    for d in data:
        if isinstance(d, tuple):
            out += [d[0].decode('latin1'), d[1].decode('latin1')]
        elif d:
            out.append(d.decode('latin1'))
    return out

def base(user, uid, tail=''):
    return 'imap://%s@%s/INBOX/;uid=%d%s' % (user.replace('@', '%40'), P['host'], uid, tail)
`;

describe('URLAUTH', () => {
  it('GENURLAUTH then URLFETCH serves the part; tampered, foreign, expired and reset tokens fetch NIL', async () => {
    const r = await runPython(
      `${PY_HELPERS}
a = login(tls())
emit('caps', a.capability()[1][0].decode())
A, B = P['user']['address'], P['bob']['address']
u = P['uid']
mine = gen(a, base(A, u, '/;section=1;urlauth=user+' + A))
emit('mine', mine)
emit('fetch', fetch(a, mine))
tampered = mine[:-1] + ('0' if mine[-1] != '0' else '1')
emit('tampered', fetch(a, tampered))
moved = mine.replace(';uid=%d' % u, ';uid=%d' % (u + 1))
emit('moved', fetch(a, moved))
expired = gen(a, base(A, u, ';expire=2000-01-01T00:00:00Z;urlauth=authuser'))
emit('expired', fetch(a, expired))
later = gen(a, base(A, u, ';expire=2999-01-01T00:00:00Z;urlauth=authuser'))
emit('later', fetch(a, later))
emit('binary', fetch(a, mine, 'BINARY BODYPARTSTRUCTURE'))
emitted_forbob = gen(a, base(A, u, '/;section=1;urlauth=user+' + B))
emit('forbob', emitted_forbob)
emit('notmine', gen(a, base(B, P['bobUid'], ';urlauth=authuser')))
try:
    a._simple_command('GENURLAUTH', '"%s"' % base(A, u, ';urlauth=authuser'), 'XYZ')
    emit('badmech', 'accepted')
except imaplib.IMAP4.error as e:
    emit('badmech', str(e))

b = login(tls(), P['bob'])
emit('bob_reads_foralice', fetch(b, mine))
emit('bob_reads_forbob', fetch(b, emitted_forbob))
bobs = gen(b, base(B, P['bobUid'], ';urlauth=user+' + B))
emit('alice_reads_bobs', fetch(a, bobs))
shared = gen(b, base(B, P['bobUid'], ';urlauth=authuser'))
emit('alice_reads_shared', fetch(a, shared))
typ, data = a._simple_command('APPEND', 'INBOX', 'CATENATE', '(URL "%s")' % shared)
emit('catenate', typ)
typ, data = a._simple_command('APPEND', 'INBOX', 'CATENATE', '(URL "%s")' % bobs)
emit('catenate_foreign', [typ, data[0].decode()])

emit('reset', a._simple_command('RESETKEY', 'INBOX')[0])
emit('after_reset', fetch(a, mine))
emit('others_kept', fetch(a, shared))
fresh = gen(a, base(A, u, '/;section=1;urlauth=user+' + A))
emit('fresh_differs', fresh != mine)
emit('fresh', fetch(a, fresh))
emit('reset_all', a._simple_command('RESETKEY')[0])
emit('after_reset_all', fetch(a, fresh))
emit('reset_missing', a._simple_command('RESETKEY', 'Nowhere')[0])
a.logout()
b.logout()
`,
      pyParams(h, alice, { uid, bobUid, host: HOSTNAME, bob: { address: bob.address, password: bob.password } }),
    );
    const caps = String(r.caps).split(' ');
    expect(caps).toContain('URLAUTH');
    expect(caps).toContain('URLAUTH=BINARY');
    const mine = r.mine as string;
    expect(mine).toMatch(/;urlauth=user\+[^:]+:internal:[0-9a-f]{64}$/);
    const encoded = Buffer.from(PART).toString('base64');
    expect(r.fetch).toEqual([`"${mine}" {${encoded.length}}`, encoded]);
    for (const k of ['tampered', 'moved', 'expired']) expect(r[k], k).toEqual([expect.stringMatching(/^"imap:\/\/[^"]+" NIL$/)]);
    expect((r.later as string[])[1]).toBe(MESSAGE);
    // RFC 5524: the part decoded, with its structure.
    expect((r.binary as string[])[0]).toMatch(/^"[^"]+" \(BODYPARTSTRUCTURE \("TEXT" "PLAIN" \("CHARSET" "us-ascii"\) NIL NIL "BASE64" \d+ \d+ NIL NIL NIL NIL\) BINARY \{11\}$/i);
    expect((r.binary as string[])[1]).toBe(PART);
    expect(typeof r.forbob).toBe('string');
    expect(r.notmine).toEqual(['NO', expect.stringMatching(/^\[BADURL [^\]]+\] /)]);
    expect(r.badmech).toMatch(/BAD .*Unknown URLAUTH mechanism/);
    expect((r.bob_reads_foralice as string[])[0]).toMatch(/ NIL$/);
    expect((r.bob_reads_forbob as string[])[1]).toBe(encoded);
    expect((r.alice_reads_bobs as string[])[0]).toMatch(/ NIL$/);
    expect((r.alice_reads_shared as string[])[1]).toBe('From: bob@example.test\r\nSubject: bob\r\n\r\nfrom bob\r\n');
    expect(r.catenate).toBe('OK');
    expect(r.catenate_foreign).toEqual(['NO', expect.stringMatching(/^\[BADURL /)]);
    expect(r.reset).toBe('OK');
    expect((r.after_reset as string[])[0]).toMatch(/ NIL$/);
    expect((r.others_kept as string[])[1]).toMatch(/from bob/);
    expect(r.fresh_differs).toBe(true);
    expect((r.fresh as string[]).length).toBe(2);
    expect(r.reset_all).toBe('OK');
    expect((r.after_reset_all as string[])[0]).toMatch(/ NIL$/);
    expect(r.reset_missing).toBe('NO');
    const stored = await h.bytesOf(alice, 'INBOX', 2);
    expect(stored.toString('latin1')).toBe('From: bob@example.test\r\nSubject: bob\r\n\r\nfrom bob\r\n');
  });
});
