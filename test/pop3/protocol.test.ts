/** POP3 wire behaviour over real sockets: TLS-only credentials, STLS injection, transaction semantics. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleMessage, startPop3Fixture, type Pop3Fixture } from './harness.js';
import { LineClient, loggedIn } from './line-client.js';

let fx: Pop3Fixture;

beforeAll(async () => {
  fx = await startPop3Fixture({ users: 4 });
  for (let i = 1; i <= 3; i++) await fx.deliver(fx.users[0]!, sampleMessage(i));
});
afterAll(async () => {
  await fx?.close();
});

const capaOf = async (c: LineClient): Promise<string[]> => {
  expect(await c.command('CAPA')).toMatch(/^\+OK/);
  return c.multi();
};

describe('before TLS (port 110)', () => {
  it('offers STLS and no way to send credentials', async () => {
    const c = await LineClient.connect(fx.ports.stls);
    expect(await c.status()).toMatch(/^\+OK mail\.example\.test POP3 server ready$/);
    const caps = await capaOf(c);
    expect(caps).toContain('STLS');
    expect(caps.some((l) => /^(USER|SASL)\b/.test(l))).toBe(false);
    expect(caps).toContain('RESP-CODES');
    c.close();
  });

  it.each(['USER user0@example.test', 'PASS secret', 'AUTH PLAIN AHVzZXIwQGV4YW1wbGUudGVzdABzZWNyZXQ=', 'AUTH PLAIN', 'APOP user0@example.test c4c9334bac560ecc979e58001b3e22fb'])(
    'refuses %s with [AUTH] and a pointer to STLS',
    async (cmd) => {
      const c = await LineClient.connect(fx.ports.stls);
      await c.status();
      expect(await c.command(cmd)).toMatch(/^-ERR \[AUTH\] .*STLS/);
      // Still in AUTHORIZATION, still plaintext: STLS works afterwards.
      expect(await c.command('STLS')).toMatch(/^\+OK/);
      await c.startTls(fx.caFile);
      expect(await c.command('NOOP')).toMatch(/^-ERR/); // NOOP is a TRANSACTION command
      c.close();
    },
  );

  it('after STLS, offers USER and SASL PLAIN and no STLS, and logs in', async () => {
    const c = await LineClient.connect(fx.ports.stls);
    await c.status();
    expect(await c.command('STLS')).toMatch(/^\+OK/);
    await c.startTls(fx.caFile);
    const caps = await capaOf(c);
    expect(caps).toEqual(expect.arrayContaining(['USER', 'SASL SCRAM-SHA-256-PLUS SCRAM-SHA-256 PLAIN', 'TOP', 'UIDL', 'RESP-CODES', 'AUTH-RESP-CODE', 'PIPELINING', 'EXPIRE NEVER', 'IMPLEMENTATION postern']));
    expect(caps).not.toContain('STLS');
    expect(await c.command('STLS')).toMatch(/^-ERR/);
    const u = fx.users[1]!;
    expect(await c.command(`USER ${u.address}`)).toMatch(/^\+OK/);
    expect(await c.command(`PASS ${u.password}`)).toMatch(/^\+OK/);
    expect(await c.command('STAT')).toBe('+OK 0 0');
    expect(await c.command('QUIT')).toMatch(/^\+OK/);
    await c.waitClosed();
  });

  it('discards commands pipelined behind STLS instead of running them after the handshake', async () => {
    const c = await LineClient.connect(fx.ports.stls);
    await c.status();
    // CAPA would answer "+OK Capability list follows"; it must never be seen.
    c.send('STLS\r\nCAPA\r\nCAPA\r\n');
    expect(await c.status()).toMatch(/^\+OK/);
    await c.startTls(fx.caFile);
    expect(await c.command('STAT')).toMatch(/^-ERR/);
    expect(await c.command('NOOP')).toMatch(/^-ERR/);
    c.close();
  });

  it('forgets a USER given before STLS', async () => {
    const c = await LineClient.connect(fx.ports.stls);
    await c.status();
    await c.command(`USER ${fx.users[1]!.address}`);
    await c.command('STLS');
    await c.startTls(fx.caFile);
    expect(await c.command(`PASS ${fx.users[1]!.password}`)).toMatch(/^-ERR/);
    c.close();
  });
});

describe('AUTH PLAIN inside TLS', () => {
  const plain = (authz: string, authc: string, pass: string) => Buffer.from(`${authz}\0${authc}\0${pass}`, 'utf8').toString('base64');

  it('accepts an initial response, and a response after "+ "', async () => {
    const u = fx.users[1]!;
    const a = await LineClient.connect(fx.ports.tls, { tls: true, ca: fx.caFile });
    await a.status();
    expect(await a.command(`AUTH PLAIN ${plain('', u.address, u.password)}`)).toMatch(/^\+OK/);
    expect(await a.command('QUIT')).toMatch(/^\+OK/);
    await a.waitClosed();

    const b = await LineClient.connect(fx.ports.tls, { tls: true, ca: fx.caFile });
    await b.status();
    expect(await b.command('AUTH PLAIN')).toBe('+ ');
    expect(await b.command(plain(u.address, u.address, u.password))).toMatch(/^\+OK/);
    b.close();
  });

  it('lists SCRAM and PLAIN for a bare AUTH, lets "*" cancel, refuses other mechanisms and other identities', async () => {
    const [u, other] = [fx.users[1]!, fx.users[2]!];
    const c = await LineClient.connect(fx.ports.tls, { tls: true, ca: fx.caFile });
    await c.status();
    expect(await c.command('AUTH')).toMatch(/^\+OK/);
    expect(await c.multi()).toEqual(['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256', 'PLAIN']);
    expect(await c.command('AUTH CRAM-MD5')).toMatch(/^-ERR/);
    expect(await c.command('AUTH PLAIN')).toBe('+ ');
    expect(await c.command('*')).toMatch(/^-ERR/);
    expect(await c.command(`AUTH PLAIN ${plain(other.address, u.address, u.password)}`)).toMatch(/^-ERR \[AUTH\]/);
    c.close();
  });
});

describe('transaction', () => {
  it('numbers, sizes and unique ids match the store; UIDL is stable across sessions', async () => {
    const u = fx.users[0]!;
    const stored = await fx.inbox(u);
    const folder = await fx.store.meta.mailboxes.getFolderById(u.inboxId);
    const c = await loggedIn(fx.ports.tls, fx.caFile, u.address, u.password);
    const total = stored.reduce((s, m) => s + m.bytes.length, 0);
    expect(await c.command('STAT')).toBe(`+OK ${stored.length} ${total}`);
    await c.command('LIST');
    expect(await c.multi()).toEqual(stored.map((m, i) => `${i + 1} ${m.bytes.length}`));
    await c.command('UIDL');
    const uidl = await c.multi();
    expect(uidl).toEqual(stored.map((m, i) => `${i + 1} ${folder!.uidValidity}.${m.uid}`));
    expect(await c.command('LIST 2')).toBe(`+OK 2 ${stored[1]!.bytes.length}`);
    expect(await c.command('LIST 9')).toMatch(/^-ERR/);
    expect(await c.command('RETR 0')).toMatch(/^-ERR/);
    await c.command('QUIT');
    await c.waitClosed();

    const d = await loggedIn(fx.ports.tls, fx.caFile, u.address, u.password);
    await d.command('UIDL');
    expect(await d.multi()).toEqual(uidl);
    d.close();
  });

  it('TOP returns the header, the blank line and n body lines', async () => {
    const u = fx.users[0]!;
    const first = (await fx.inbox(u))[0]!.bytes.toString('latin1');
    const c = await loggedIn(fx.ports.tls, fx.caFile, u.address, u.password);
    expect(await c.command('TOP 1 2')).toMatch(/^\+OK/);
    const lines = await c.multi();
    const [head, body] = first.split('\r\n\r\n') as [string, string];
    expect(lines).toEqual([...head.split('\r\n'), '', ...body.split('\r\n').slice(0, 2)]);
    expect(await c.command('TOP 1 0')).toMatch(/^\+OK/);
    expect(await c.multi()).toEqual([...head.split('\r\n'), '']);
    c.close();
  });

  it('DELE marks, refuses a second DELE or RETR of the message, RSET unmarks, and QUIT expunges only the marked', async () => {
    const u = fx.users[3]!;
    for (let i = 1; i <= 4; i++) await fx.deliver(u, sampleMessage(100 + i));
    const before = await fx.inbox(u);
    const c = await loggedIn(fx.ports.tls, fx.caFile, u.address, u.password);
    expect(await c.command('DELE 1')).toMatch(/^\+OK/);
    expect(await c.command('DELE 1')).toMatch(/^-ERR/);
    expect(await c.command('RETR 1')).toMatch(/^-ERR/);
    expect(await c.command('LIST 1')).toMatch(/^-ERR/);
    expect(await c.command('RSET')).toMatch(/^\+OK/);
    expect(await c.command('LIST 1')).toMatch(/^\+OK/);
    expect(await c.command('DELE 2')).toMatch(/^\+OK/);
    expect(await c.command('DELE 4')).toMatch(/^\+OK/);
    expect(await c.command('STAT')).toBe(`+OK 2 ${before[0]!.bytes.length + before[2]!.bytes.length}`);
    expect(await c.command('QUIT')).toMatch(/^\+OK/);
    await c.waitClosed();
    expect((await fx.inbox(u)).map((m) => m.uid)).toEqual([before[0]!.uid, before[2]!.uid]);
  });

  it('a connection dropped without QUIT removes nothing', async () => {
    const u = fx.users[3]!;
    const before = await fx.inbox(u);
    const c = await loggedIn(fx.ports.tls, fx.caFile, u.address, u.password);
    expect(await c.command('DELE 1')).toMatch(/^\+OK/);
    c.close();
    // The lock is released once the server has seen the close: a new login succeeds.
    const d = await loggedInEventually(u.address, u.password);
    expect(await d.command('STAT')).toMatch(new RegExp(`^\\+OK ${before.length} `));
    d.close();
    expect((await fx.inbox(u)).map((m) => m.uid)).toEqual(before.map((m) => m.uid));
  });

  it('a second session on the same maildrop gets [IN-USE]; it may log in once the first has left', async () => {
    const u = fx.users[2]!;
    const a = await loggedIn(fx.ports.tls, fx.caFile, u.address, u.password);
    const b = await LineClient.connect(fx.ports.stls);
    await b.status();
    await b.command('STLS');
    await b.startTls(fx.caFile);
    await b.command(`USER ${u.address}`);
    expect(await b.command(`PASS ${u.password}`)).toMatch(/^-ERR \[IN-USE\]/);
    expect(await a.command('QUIT')).toMatch(/^\+OK/);
    await a.waitClosed();
    await b.command(`USER ${u.address}`);
    expect(await b.command(`PASS ${u.password}`)).toMatch(/^\+OK/);
    b.close();
  });

  it('answers pipelined commands in order', async () => {
    const u = fx.users[0]!;
    const c = await loggedIn(fx.ports.tls, fx.caFile, u.address, u.password);
    c.send('NOOP\r\nLIST 1\r\nBOGUS\r\nUIDL 2\r\nSTAT\r\n');
    expect(await c.status()).toBe('+OK');
    expect(await c.status()).toMatch(/^\+OK 1 \d+$/);
    expect(await c.status()).toMatch(/^-ERR/);
    expect(await c.status()).toMatch(/^\+OK 2 \d+\.\d+$/);
    expect(await c.status()).toMatch(/^\+OK 3 \d+$/);
    c.close();
  });
});

/** Logs in, retrying only while the previous session's lock is still held (its close is in flight). */
async function loggedInEventually(user: string, password: string): Promise<LineClient> {
  for (let i = 0; i < 50; i++) {
    const c = await LineClient.connect(fx.ports.tls, { tls: true, ca: fx.caFile });
    await c.status();
    await c.command(`USER ${user}`);
    const r = await c.command(`PASS ${password}`);
    if (r.startsWith('+OK')) return c;
    c.close();
    if (!r.includes('[IN-USE]')) throw new Error(r);
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error('maildrop lock never released');
}
