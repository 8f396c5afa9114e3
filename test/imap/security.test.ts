/**
 * Security properties on the wire, with a raw socket: no credentials before
 * TLS (RFC 3501 LOGINDISABLED, RFC 8314), STARTTLS command injection
 * (CVE-2011-0411 class: nothing buffered in plaintext may run after the
 * handshake), failed-login throttling, and literals above the limit refused
 * before their bytes are sent.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness, type TestUser } from './harness.js';
import { RawClient, rawLogin } from './rawclient.js';

const MAX_LITERAL = 64 * 1024;
const tagged = (tag: string, lines: string[]): string => lines.find((l) => l.startsWith(`${tag} `)) ?? '';
const refused = /^\S+ (NO|BAD)\b/;

let h: Harness;
let user: TestUser;
const clients: RawClient[] = [];
const track = (c: RawClient): RawClient => (clients.push(c), c);

beforeAll(async () => {
  h = await startHarness({ limits: { maxLiteralSize: MAX_LITERAL } });
  user = await h.addUser('guarded');
});

afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

afterAll(async () => {
  await h?.close();
});

async function plainClient(): Promise<RawClient> {
  const c = track(await RawClient.plain(h.ports.starttls));
  const greeting = await c.line();
  expect(greeting).toMatch(/^\* OK\b/);
  return c;
}

describe('before TLS on the STARTTLS port', () => {
  it('offers STARTTLS and LOGINDISABLED, and no AUTH= mechanism', async () => {
    const c = await plainClient();
    const lines = await c.command('a', 'CAPABILITY');
    const caps = lines.find((l) => l.startsWith('* CAPABILITY '))!;
    expect(tagged('a', lines)).toMatch(/^a OK/);
    expect(caps).toMatch(/\bIMAP4rev1\b/);
    expect(caps).toMatch(/\bSTARTTLS\b/);
    expect(caps).toMatch(/\bLOGINDISABLED\b/);
    expect(caps).not.toMatch(/\bAUTH=/);
  });

  it('refuses LOGIN and AUTHENTICATE PLAIN with the right password, and no login happens', async () => {
    const c = await plainClient();
    expect(tagged('a', await c.command('a', `LOGIN "${user.address}" "${user.password}"`))).toMatch(refused);
    const plain = Buffer.from(`\0${user.address}\0${user.password}`).toString('base64');
    expect(tagged('b', await c.command('b', `AUTHENTICATE PLAIN ${plain}`))).toMatch(refused);
    // Without an initial response the server must not invite the credentials with "+".
    c.write('c AUTHENTICATE PLAIN\r\n');
    const first = await c.line();
    expect(first, 'AUTHENTICATE without TLS must be refused, not continued').toMatch(/^c (NO|BAD)\b/);
    // Still not authenticated: SELECT is not allowed.
    expect(tagged('d', await c.command('d', 'SELECT INBOX'))).toMatch(refused);
  });

  it('after STARTTLS: no LOGINDISABLED, no STARTTLS, and LOGIN works', async () => {
    const c = await plainClient();
    expect(tagged('a', await c.command('a', 'STARTTLS'))).toMatch(/^a OK/);
    const { leftover } = await c.startTls(h.ca);
    expect(leftover).toBe('');
    const caps = (await c.command('b', 'CAPABILITY')).find((l) => l.startsWith('* CAPABILITY '))!;
    expect(caps).not.toMatch(/\bLOGINDISABLED\b/);
    expect(caps).not.toMatch(/\bSTARTTLS\b/);
    expect(await rawLogin(c, user.address, user.password, 'c')).toMatch(/^c OK/);
    expect(tagged('d', await c.command('d', 'SELECT INBOX'))).toMatch(/^d OK/);
  });

  it('STARTTLS injection: a command sent with STARTTLS in one write is not run after the handshake', async () => {
    const c = await plainClient();
    c.write(`a STARTTLS\r\nb LOGIN "${user.address}" "${user.password}"\r\n`);
    const before = await c.until((l) => l.startsWith('a '));
    // Either the server refuses pipelined STARTTLS outright, or it starts TLS and drops the rest.
    if (/^a OK/.test(before.at(-1)!)) {
      // Hanging up instead of finishing the handshake (as Dovecot does on pipelined STARTTLS) is safe too.
      const upgraded = await c.startTls(h.ca).catch(() => null);
      if (!upgraded) {
        expect(c.closed || !c.encrypted).toBe(true);
        return;
      }
      expect(upgraded.leftover, 'nothing may follow the OK in plaintext').toBe('');
      const after = await c.command('c', 'CAPABILITY');
      const select = await c.command('d', 'SELECT INBOX');
      const all = [...before, ...after, ...select];
      expect(all.filter((l) => l.startsWith('b ')), all.join('\n')).toEqual([]);
      expect(tagged('d', select), 'the injected LOGIN must not have logged in').toMatch(refused);
    } else {
      expect(before.at(-1)).toMatch(refused);
      const rest = await c.command('c', 'NOOP').catch(() => [] as string[]);
      expect(rest.filter((l) => /^b OK/.test(l))).toEqual([]);
    }
  });
});

describe('literals above the limit', () => {
  it('APPEND with a synchronising literal above the limit gets NO/BAD, not "+"', async () => {
    const c = track(await RawClient.tls(h.ports.tls, h.ca));
    await c.line();
    expect(await rawLogin(c, user.address, user.password)).toMatch(/^L1 OK/);
    c.write(`a APPEND INBOX {${MAX_LITERAL * 16}}\r\n`);
    const first = await c.line();
    expect(first, 'the server must refuse before the client sends the bytes').toMatch(/^a (NO|BAD)\b/);
    // The refusal ends the command; the session goes on (or the server closed it cleanly).
    if (!c.closed) {
      const small = 'Subject: fits\r\n\r\nok\r\n';
      c.write(`b APPEND INBOX {${small.length}}\r\n`);
      expect(await c.line()).toMatch(/^\+/);
      c.write(`${small}\r\n`);
      expect(tagged('b', await c.until((l) => l.startsWith('b ')))).toMatch(/^b OK/);
      const inbox = await h.store.meta.mailboxes.listMessages((await h.folder(user, 'INBOX')).id);
      expect(inbox).toHaveLength(1);
      expect((await h.bytesOf(user, 'INBOX', inbox[0]!.uid)).toString()).toBe(small);
    }
  });

  it('a literal in LOGIN above the limit is refused before authentication', async () => {
    const c = track(await RawClient.tls(h.ports.tls, h.ca));
    await c.line();
    c.write(`a LOGIN {${MAX_LITERAL * 16}}\r\n`);
    const first = await c.line();
    if (first !== null) expect(first).toMatch(/^(a (NO|BAD)\b|\* BYE)/);
    else expect(c.closed).toBe(true);
  });
});

describe('failed-login throttling', () => {
  let t: Harness;
  let victim: TestUser;
  const MAX_FAILURES = 3;

  beforeAll(async () => {
    t = await startHarness({ throttle: { maxSourceFailures: MAX_FAILURES, windowMs: 600_000, lockoutMs: 600_000 } });
    victim = await t.addUser('victim');
  });

  afterAll(async () => {
    await t?.close();
  });

  it('refuses the right password from the failing address after repeated failures', async () => {
    // Sanity: the right password works before any failure (on its own connection).
    const ok = track(await RawClient.tls(t.ports.tls, t.ca));
    await ok.line();
    expect(await rawLogin(ok, victim.address, victim.password)).toMatch(/^L1 OK/);
    ok.close();

    let c = track(await RawClient.tls(t.ports.tls, t.ca));
    await c.line();
    for (let i = 0; i < MAX_FAILURES + 1; i++) {
      if (c.closed) {
        c = track(await RawClient.tls(t.ports.tls, t.ca));
        if ((await c.line()) === null) break; // refused at connect: also a lockout
      }
      const reply = await c.command(`f${i}`, `LOGIN "${victim.address}" "wrong-${i}"`).catch(() => ['(closed)']);
      expect(reply.at(-1)).toMatch(/^(f\d+ NO\b|\(closed\)|\* BYE)/);
    }
    const fresh = track(await RawClient.tls(t.ports.tls, t.ca));
    const greeting = await fresh.line();
    if (greeting === null || /^\* BYE/.test(greeting)) return; // the whole client is shut out: fine
    const reply = await fresh.command('r', `LOGIN "${victim.address}" "${victim.password}"`).catch(() => ['(closed)']);
    expect(reply.at(-1), 'right password during lockout').toMatch(/^(r (NO|BAD)\b|\(closed\)|\* BYE)/);
    // And nothing a locked-out client does reaches a mailbox.
    if (!fresh.closed) expect(tagged('s', await fresh.command('s', 'SELECT INBOX').catch(() => ['s BAD']))).toMatch(refused);
  });
});
