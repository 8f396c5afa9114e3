/** Logins, throttling, literal and line limits, connection limits and timeouts. */
import { afterEach, describe, expect, it } from 'vitest';
import { PASSWORD, RawClient, startHarness, USER, type Harness } from './testing/harness.js';

let h: Harness | null = null;
const clients: RawClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await h?.close();
  h = null;
});

async function open(harness: Harness, mode: 'tls' | 'starttls' = 'tls'): Promise<RawClient> {
  const c = mode === 'tls' ? await RawClient.tls(harness.ports.tls) : await RawClient.plain(harness.ports.starttls);
  clients.push(c);
  await c.line();
  return c;
}

const plain = (authz: string, user: string, pass: string): string => Buffer.from(`${authz}\0${user}\0${pass}`).toString('base64');

describe('authentication', () => {
  it('accepts AUTHENTICATE PLAIN with an initial response and after a continuation', async () => {
    h = await startHarness();
    const a = await open(h);
    expect((await a.command('a', `AUTHENTICATE PLAIN ${plain('', USER, PASSWORD)}`)).at(-1)).toMatch(/^a OK \[CAPABILITY IMAP4rev2 /);
    const b = await open(h);
    b.write('b AUTHENTICATE PLAIN\r\n');
    expect(await b.line()).toBe('+ ');
    b.write(`${plain(USER, USER, PASSWORD)}\r\n`);
    expect((await b.until('b')).at(-1)).toMatch(/^b OK \[CAPABILITY /);
    const c = await open(h);
    c.write('c AUTHENTICATE PLAIN\r\n');
    await c.line();
    c.write('*\r\n');
    expect(await c.until('c')).toEqual(['c BAD Authentication cancelled']);
    expect(await c.command('d', `AUTHENTICATE PLAIN ${plain('bob@example.test', USER, PASSWORD)}`)).toEqual([
      'd NO [AUTHORIZATIONFAILED] Not authorised to act as that user',
    ]);
    expect(await c.command('e', 'AUTHENTICATE CRAM-MD5')).toEqual(['e NO [CANNOT] Unsupported authentication mechanism']);
  });

  it('closes after three failures and locks out the client address without checking the password', async () => {
    h = await startHarness({ maxFailures: 4 });
    const a = await open(h);
    expect(await a.command('a', `LOGIN ${USER} wrong1`)).toEqual(['a NO [AUTHENTICATIONFAILED] Authentication failed']);
    expect(await a.command('b', `LOGIN ${USER} wrong2`)).toEqual(['b NO [AUTHENTICATIONFAILED] Authentication failed']);
    expect(await a.command('c', `LOGIN ${USER} wrong3`)).toEqual(['c NO [AUTHENTICATIONFAILED] Authentication failed']);
    expect(await a.line()).toBe('* BYE Too many failed logins');
    expect(await a.line()).toBeNull();
    const b = await open(h);
    expect(await b.command('d', `LOGIN ${USER} wrong4`)).toEqual(['d NO [AUTHENTICATIONFAILED] Authentication failed']);
    // Locked out now: even the right password is refused.
    expect(await b.command('e', `LOGIN ${USER} "${PASSWORD}"`)).toEqual(['e NO [UNAVAILABLE] Too many failed logins, try again later']);
  });
});

describe('limits', () => {
  it('refuses an APPEND literal above the limit before it is sent, and an overlong line', async () => {
    h = await startHarness({ limits: { maxLiteralSize: 1000, maxLineLength: 200 } });
    const c = await open(h);
    await c.login();
    c.write('a APPEND INBOX {1001}\r\n');
    expect(await c.until('a')).toEqual(['a NO [TOOBIG] Literal too large (limit 1000 octets)']);
    expect(await c.command('b', `NOOP ${'x'.repeat(300)}`)).toEqual(['b BAD Line too long']);
    expect(await c.command('c', 'NOOP')).toEqual(['c OK NOOP completed']);
  });

  it('accepts only small literals before login', async () => {
    h = await startHarness();
    const c = await open(h);
    c.write('a LOGIN {20000}\r\n');
    expect(await c.until('a')).toEqual(['a BAD Literal too large before login']);
    c.write(`b LOGIN {${USER.length}}\r\n`);
    expect(await c.line()).toBe('+ Ready for literal data');
    c.write(`${USER} "${PASSWORD}"\r\n`);
    expect((await c.until('b')).at(-1)).toMatch(/^b OK /);
  });

  it('says BYE to connections over the per-client limit of a listener', async () => {
    h = await startHarness({ limits: { maxConnectionsPerClient: 2 } });
    await open(h, 'starttls');
    await open(h, 'starttls');
    const third = await RawClient.plain(h.ports.starttls);
    clients.push(third);
    expect(await third.line()).toBe('* BYE [UNAVAILABLE] Too many connections from your address');
    expect(await third.line()).toBeNull();
    await open(h, 'tls');
    await open(h, 'tls');
    expect(h.listeners.tls.connectionCount()).toBe(2);
    const fourth = await RawClient.tls(h.ports.tls);
    clients.push(fourth);
    expect(await fourth.line()).toBe('* BYE [UNAVAILABLE] Too many connections from your address');
  });

  it('logs out a client that does not log in in time', async () => {
    h = await startHarness({ limits: { preAuthTimeoutMs: 300 } });
    const c = await open(h);
    expect(await c.line()).toBe('* BYE Autologout; idle for too long');
    expect(await c.line()).toBeNull();
  });
});

describe('continuations', () => {
  it('ends IDLE and AUTHENTICATE with BAD when the client sends an overlong line', async () => {
    h = await startHarness({ limits: { maxLineLength: 200 } });
    const c = await open(h);
    c.write('a AUTHENTICATE PLAIN\r\n');
    expect(await c.line()).toBe('+ ');
    c.write(`${'A'.repeat(400)}\r\n`);
    expect(await c.until('a')).toEqual(['a BAD Line too long']);
    await c.login();
    c.write('b IDLE\r\n');
    expect(await c.line()).toBe('+ idling');
    c.write(`${'x'.repeat(400)}\r\n`);
    expect(await c.until('b')).toEqual(['b BAD Line too long']);
    expect(await c.command('c', 'NOOP')).toEqual(['c OK NOOP completed']);
  });
});
