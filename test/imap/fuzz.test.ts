/**
 * Server-level fuzzing: random bytes, IMAP-shaped garbage and overlong lines
 * into TLS sessions, before and after login. The server must never crash (an
 * uncaught error fails this suite), must answer BAD/NO or close the
 * connection, and must keep serving a normal client afterwards.
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeMessage, startHarness, type Harness, type TestUser } from './harness.js';
import { RawClient, rawLogin } from './rawclient.js';

const MAX_LINE = 8 * 1024;
const MAX_LITERAL = 256 * 1024;
let h: Harness;
let user: TestUser;
const clients: RawClient[] = [];
const track = (c: RawClient): RawClient => (clients.push(c), c);

beforeAll(async () => {
  h = await startHarness({ limits: { maxLineLength: MAX_LINE, maxLiteralSize: MAX_LITERAL, maxConnectionsPerClient: 500, maxConnections: 1000 } });
  user = await h.addUser('fuzzed');
  for (let i = 0; i < 3; i++) {
    await h.addMessage(user, 'INBOX', makeMessage({ from: 'f@remote.test', subject: `fuzz ${i}`, date: 'Sun, 7 Jan 2024 10:00:00 +0000' }, 'body'));
  }
});

afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

afterAll(async () => {
  await h?.close();
});

/** A normal client still works: log in, select, fetch. */
async function healthy(): Promise<void> {
  const c = track(await RawClient.tls(h.ports.tls, h.ca));
  expect(await c.line()).toMatch(/^\* OK/);
  expect(await rawLogin(c, user.address, user.password, 'h1')).toMatch(/^h1 OK/);
  const sel = await c.command('h2', 'SELECT INBOX');
  expect(sel.at(-1)).toMatch(/^h2 OK/);
  expect(sel.some((l) => /^\* \d+ EXISTS$/.test(l))).toBe(true);
  expect((await c.command('h3', 'UID FETCH 1:* (FLAGS)')).at(-1)).toMatch(/^h3 OK/);
  c.close();
}

/**
 * Sends the bytes, then a NOOP after a line break (again, a few times, in
 * case the garbage left the server waiting for literal bytes or in IDLE);
 * returns the reply lines up to the NOOP's reply or the close.
 */
async function feed(c: RawClient, data: Buffer): Promise<string[]> {
  c.write(data);
  const lines: string[] = [];
  for (let attempt = 0; attempt < 4 && !c.closed; attempt++) {
    c.write('\r\nzz NOOP\r\n');
    for (let i = 0; i < 500; i++) {
      const l = await c.line(attempt < 3 ? 1500 : 5000);
      if (l === null) break;
      lines.push(l);
      if (l.startsWith('zz ')) return lines;
      // A literal in a reply (a FETCH the garbage happened to spell): skip its bytes.
      const lit = /\{(\d+)\}$/.exec(l);
      for (let left = lit ? Number(lit[1]) : 0; left > 0; ) {
        const body = await c.line(5000);
        if (body === null) break;
        left -= body.length + 2;
      }
    }
  }
  return lines;
}

/** An untagged reply, a continuation, or a tagged OK/NO/BAD. */
const wellFormed = (l: string): boolean => /^(\* |\+|[!-~]+ (OK|NO|BAD)\b)/.test(l);

const TOKENS = [
  'a1 ', 'LOGIN ', 'SELECT ', 'FETCH ', 'UID ', 'STORE ', 'SEARCH ', 'APPEND ', 'IDLE', 'DONE', 'AUTHENTICATE ', 'STARTTLS', 'COMPRESS DEFLATE',
  'INBOX ', '"', '(', ')', '[', ']', '<', '>', '{5}', '{99999999999}', '{3+}', '~{4}', '\\', '*', '1:*', '0', '4294967296', '-1',
  'BODY[', 'BODY.PEEK[HEADER.FIELDS (', 'BINARY[1.2.3]', 'RFC822', 'FLAGS (\\Seen)', 'HEADER ', 'OR ', 'NOT ', 'CHARSET UTF-8 ', '\r\n', '\n', '\r', '\0', ' ',
  '\u00ff', '%', '&AMQ-', 'NIL',
];

describe('fuzz', () => {
  it('random bytes before login: BAD, NO or close; never a crash', async () => {
    for (let round = 0; round < 40; round++) {
      const c = track(await RawClient.tls(h.ports.tls, h.ca));
      await c.line();
      const lines = await feed(c, randomBytes(1 + (round * 97) % 4000));
      for (const l of lines) expect(wellFormed(l), `reply line ${JSON.stringify(l)}`).toBe(true);
      c.close();
    }
    await healthy();
  });

  it('IMAP-shaped garbage before and after login (fast-check)', async () => {
    // Mostly behind a valid tag, so the garbage reaches the command parsers and not only the tag check.
    const tag = fc.constantFrom('t1 ', 't1 ', 't1 ', 't1 UID ', '');
    await fc.assert(
      fc.asyncProperty(tag, fc.array(fc.constantFrom(...TOKENS), { minLength: 1, maxLength: 40 }), fc.boolean(), async (prefix, parts, loggedIn) => {
        const c = track(await RawClient.tls(h.ports.tls, h.ca));
        await c.line();
        if (loggedIn) {
          expect(await rawLogin(c, user.address, user.password, 'l0')).toMatch(/^l0 OK/);
          await c.command('l1', 'SELECT INBOX');
        }
        const lines = await feed(c, Buffer.from(prefix + parts.join(''), 'utf8'));
        for (const l of lines) expect(wellFormed(l), `reply line ${JSON.stringify(l)}`).toBe(true);
        c.close();
      }),
      { numRuns: 120, seed: 20240107 },
    );
    await healthy();
  });

  it('overlong lines, before and after login, get BAD or a close', async () => {
    for (const loggedIn of [false, true]) {
      for (const size of [MAX_LINE + 1, MAX_LINE * 4, 2 * 1024 * 1024]) {
        const c = track(await RawClient.tls(h.ports.tls, h.ca));
        await c.line();
        if (loggedIn) expect(await rawLogin(c, user.address, user.password, 'l0')).toMatch(/^l0 OK/);
        // One line far longer than the limit, sent without its end first.
        c.write(`x1 SEARCH SUBJECT "${'a'.repeat(size)}`);
        const l = await c.line(10_000);
        if (l !== null) expect(l).toMatch(/^(x1 BAD|\* BAD|\* BYE)\b/);
        else expect(c.closed, 'neither a reply nor a close').toBe(true);
        c.close();
      }
    }
    await healthy();
  });

  it('a non-synchronising literal above the limit is refused or the connection closed', async () => {
    const inboxId = (await h.folder(user, 'INBOX')).id;
    const before = (await h.store.meta.mailboxes.listMessages(inboxId)).length;
    const c = track(await RawClient.tls(h.ports.tls, h.ca));
    await c.line();
    expect(await rawLogin(c, user.address, user.password)).toMatch(/^L1 OK/);
    c.write(`a APPEND INBOX {${MAX_LITERAL * 8}+}\r\n`);
    c.write(randomBytes(64 * 1024));
    const l = await c.line(10_000);
    if (l !== null) expect(l).toMatch(/^(a (BAD|NO)|\* BYE)\b/);
    else expect(c.closed).toBe(true);
    c.close();
    await healthy();
    expect(await h.store.meta.mailboxes.listMessages(inboxId)).toHaveLength(before);
  });

  it('many connections dropped mid-handshake and mid-command leave the server serving', async () => {
    const tlsSockets: RawClient[] = [];
    for (let i = 0; i < 30; i++) {
      const c = track(await RawClient.plain(h.ports.tls)); // plaintext into the TLS port
      c.write(randomBytes(200));
      tlsSockets.push(c);
      const d = track(await RawClient.tls(h.ports.tls, h.ca));
      d.write('a1 LOGIN {10}\r\n');
      tlsSockets.push(d);
    }
    for (const c of tlsSockets) c.close();
    await healthy();
    // Every session is released once its client is gone (bounded wait, no timing assertion).
    for (let i = 0; i < 100 && h.tls.connectionCount() > 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(h.tls.connectionCount()).toBe(0);
  });
});
