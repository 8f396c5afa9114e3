/**
 * A literal whose line end comes in a later write: the server answers the
 * literal at once with an untagged OK, so a client with Nagle's algorithm on
 * (Python's imaplib writes the literal and the CRLF separately) is not left
 * waiting for a delayed acknowledgement before it may send the CRLF. Checked
 * on the wire with a raw client, and end to end with imaplib's APPEND.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness, type TestUser } from './harness.js';
import { fromB64, pyParams, runPython } from './python.js';
import { RawClient, rawLogin } from './rawclient.js';

let h: Harness;
let user: TestUser;
const clients: RawClient[] = [];

beforeAll(async () => {
  h = await startHarness();
  user = await h.addUser('appender');
});

afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

afterAll(async () => {
  await h?.close();
});

const message = (n: number): string => `From: a@remote.test\r\nSubject: append ${n}\r\n\r\nbody ${n}\r\n`;

async function loggedIn(): Promise<RawClient> {
  const c = await RawClient.tls(h.ports.tls, h.ca);
  clients.push(c);
  expect(await c.line()).toMatch(/^\* OK/);
  expect(await rawLogin(c, user.address, user.password)).toMatch(/^L1 OK/);
  return c;
}

describe('a literal whose line end comes later', () => {
  it('is answered with an untagged OK before the line end arrives, and the APPEND then completes', async () => {
    const c = await loggedIn();
    const body = message(1);
    c.write(`a1 APPEND Drafts {${body.length}}\r\n`);
    expect(await c.line()).toMatch(/^\+ /);
    c.write(body); // no CRLF yet: the server must speak first
    expect(await c.line()).toBe('* OK Literal received');
    c.write('\r\n');
    const done = await c.until((l) => l.startsWith('a1 '));
    expect(done.at(-1)).toMatch(/^a1 OK \[APPENDUID \d+ \d+\]/);
    const stored = await h.store.meta.mailboxes.listMessages((await h.folder(user, 'Drafts')).id);
    expect(stored.map((m) => m.size)).toEqual([body.length]);
  });

  it('is not answered early when the line end comes with it', async () => {
    const c = await loggedIn();
    const body = message(2);
    c.write(`a2 APPEND Junk {${body.length}}\r\n`);
    expect(await c.line()).toMatch(/^\+ /);
    c.write(body + '\r\n');
    const lines = await c.until((l) => l.startsWith('a2 '));
    expect(lines.at(-1)).toMatch(/^a2 OK/);
    expect(lines).not.toContain('* OK Literal received');
  });

  it('lets imaplib APPEND one message after another, each stored byte for byte', async () => {
    const r = await runPython(
      `
m = login(tls())
ok(m.create('Imported'), 'CREATE')
for i in range(P['count']):
    msg = ('From: a@remote.test\\r\\nSubject: imported %d\\r\\n\\r\\nbody %d\\r\\n' % (i, i)).encode()
    ok(m.append('Imported', None, None, msg), 'APPEND %d' % i)
ok(m.select('Imported', readonly=True), 'SELECT')
emit('last', b64(one_literal(ok(m.fetch(str(P['count']), '(BODY.PEEK[])'), 'FETCH'), 'last')))
m.logout()
`,
      pyParams(h, user, { count: 20 }),
    );
    expect(fromB64(r.last).toString('latin1')).toBe('From: a@remote.test\r\nSubject: imported 19\r\n\r\nbody 19\r\n');
    const stored = await h.store.meta.mailboxes.listMessages((await h.folder(user, 'Imported')).id);
    expect(stored).toHaveLength(20);
  });
});
