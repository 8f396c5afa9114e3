/**
 * CATENATE (RFC 4469) with Python's imaplib and a raw client: a message is
 * joined from stored content named by IMAP URLs (relative, or absolute for
 * this user on this server) and literal text; a URL that does not resolve
 * (wrong UIDVALIDITY, another user's mailbox, another server) refuses the
 * whole APPEND with [BADURL] and stores nothing; a result over the literal
 * limit is [TOOBIG]; a missing destination is [TRYCREATE].
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HOSTNAME, startHarness, type Harness, type TestUser } from './harness.js';
import { pyParams, runPython } from './python.js';
import { RawClient, rawLogin } from './rawclient.js';

let h: Harness;
let user: TestUser;
let other: TestUser;
let uid: number;
const clients: RawClient[] = [];
const ORIGINAL = 'From: alice@example.test\r\nSubject: original\r\n\r\nHello world\r\n';

beforeAll(async () => {
  h = await startHarness({ limits: { maxLiteralSize: 4096 } });
  user = await h.addUser('cat');
  other = await h.addUser('cat-other');
  uid = (await h.addMessage(user, 'INBOX', Buffer.from(ORIGINAL))).uid;
  await h.addMessage(other, 'INBOX', Buffer.from('From: bob@example.test\r\n\r\nsecret\r\n'));
});
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});
afterAll(async () => {
  await h?.close();
});

const count = async (u: TestUser, folder: string): Promise<number> => (await h.store.meta.mailboxes.listMessages((await h.folder(u, folder)).id)).length;

describe('CATENATE', () => {
  it('joins URL parts with imaplib and refuses bad URLs with [BADURL], nothing stored', async () => {
    const inbox = await h.folder(user, 'INBOX');
    const r = await runPython(
      `
m = login(tls())
caps = m.capability()[1][0].decode()
emit('caps', caps)
m.create('Joined')
u = P['uid']
def app(parts):
    typ, data = m._simple_command('APPEND', 'Joined', '(\\\\Seen)', 'CATENATE', '(%s)' % parts)
    return [typ, data[0].decode() if data and data[0] else '']
emit('whole', app('URL "/INBOX/;UID=%d"' % u))
emit('split', app('URL "/INBOX;UIDVALIDITY=%d/;UID=%d/;SECTION=HEADER" URL "/INBOX/;uid=%d/;section=TEXT"' % (P['uidValidity'], u, u)))
emit('absolute', app('URL "imap://%s@%s/INBOX/;UID=%d/;PARTIAL=0.20"' % (P['user']['address'].replace('@', '%40'), P['host'], u)))
emit('validity', app('URL "/INBOX;UIDVALIDITY=%d/;UID=%d"' % (P['uidValidity'] + 1, u)))
emit('otheruser', app('URL "imap://%s@%s/INBOX/;UID=1"' % (P['other'].replace('@', '%40'), P['host'])))
emit('otherserver', app('URL "imap://mail.elsewhere.test/INBOX/;UID=%d"' % u))
emit('nouid', app('URL "/INBOX/;UID=999"'))
emit('goodthenbad', app('URL "/INBOX/;UID=%d" URL "/INBOX/;UID=%d/;SECTION=9"' % (u, u)))
typ, data = m._simple_command('APPEND', 'Nowhere', 'CATENATE', '(URL "/INBOX/;UID=%d")' % u)
emit('nowhere', [typ, data[0].decode()])
m.select('Joined')
typ, data = m.fetch('1:*', '(FLAGS BODY.PEEK[])')
emit('bodies', [b64(x) for x in literals(data)])
m.logout()
`,
      pyParams(h, user, { uid, uidValidity: inbox.uidValidity, host: HOSTNAME, other: other.address }),
    );
    expect(String(r.caps).split(' ')).toContain('CATENATE');
    for (const k of ['whole', 'split', 'absolute']) expect((r[k] as string[])[0], k).toBe('OK');
    for (const k of ['validity', 'otheruser', 'otherserver', 'nouid', 'goodthenbad']) {
      const [typ, text] = r[k] as string[];
      expect(typ, k).toBe('NO');
      expect(text, k).toMatch(/^\[BADURL [^\]]*\] /);
    }
    expect(r.nowhere).toEqual(['NO', '[TRYCREATE] No such mailbox']);
    const bodies = (r.bodies as string[]).map((b) => Buffer.from(b, 'base64').toString('latin1'));
    expect(bodies).toEqual([ORIGINAL, ORIGINAL, ORIGINAL.slice(0, 20)]);
    expect(await count(other, 'INBOX')).toBe(1);
  });

  it('mixes TEXT literals with URLs and MULTIAPPEND messages, and refuses a result over the limit with [TOOBIG]', async () => {
    const c = await RawClient.tls(h.ports.tls, h.ca);
    clients.push(c);
    await c.line();
    expect(await rawLogin(c, user.address, user.password)).toMatch(/^L1 OK/);
    expect(await c.command('C1', 'CREATE Mixed')).toEqual(['C1 OK CREATE completed']);
    const head = 'From: carol@example.test\r\nSubject: new\r\n\r\n';
    const tail = '\r\n-- \r\ncarol\r\n';
    const plain = 'From: dave@example.test\r\n\r\nplain\r\n';
    c.write(
      `A1 APPEND Mixed CATENATE (TEXT {${head.length}+}\r\n${head} URL "/INBOX/;UID=${uid}/;SECTION=TEXT" TEXT {${tail.length}+}\r\n${tail}) {${plain.length}+}\r\n${plain}\r\n`,
    );
    expect((await c.until((l) => l.startsWith('A1 '))).at(-1)).toMatch(/^A1 OK \[APPENDUID \d+ 1:2\] /);
    const big = 'x'.repeat(3000);
    c.write(`A2 APPEND Mixed CATENATE (TEXT {${big.length}+}\r\n${big} TEXT {${big.length}+}\r\n${big})\r\n`);
    expect((await c.until((l) => l.startsWith('A2 '))).at(-1)).toBe('A2 NO [TOOBIG] Message larger than 4096 octets');
    expect(await count(user, 'Mixed')).toBe(2);
    const stored = await h.bytesOf(user, 'Mixed', 1);
    expect(stored.toString('latin1')).toBe(`${head}Hello world\r\n${tail}`);
    expect((await h.bytesOf(user, 'Mixed', 2)).toString('latin1')).toBe(plain);
  });
});
