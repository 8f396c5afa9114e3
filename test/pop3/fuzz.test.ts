/**
 * Hostile input at the server level: random bytes and over-long lines must get
 * -ERR or a closed connection, never a crash, and a good client is served
 * normally afterwards.
 */
import { randomBytes, randomInt } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleMessage, startPop3Fixture, type Pop3Fixture } from './harness.js';
import { LineClient, loggedIn } from './line-client.js';

let fx: Pop3Fixture;
beforeAll(async () => {
  fx = await startPop3Fixture({ users: 2, throttle: { maxSourceFailures: 1000 } });
  await fx.deliver(fx.users[0]!, sampleMessage(1));
  for (let i = 1; i <= 3; i++) await fx.deliver(fx.users[1]!, sampleMessage(i));
});
afterAll(async () => {
  await fx?.close();
});

/** Sends the bytes and a final QUIT, then reads every reply until the server closes. */
async function replies(c: LineClient, data: Buffer): Promise<string[]> {
  c.send(data);
  // QUIT makes a server that is still listening close, so the read below ends.
  c.send('\r\nQUIT\r\n');
  const out: string[] = [];
  for (;;) {
    const l = await c.line();
    if (l === null) return out;
    out.push(l);
  }
}

async function goodClientWorks(): Promise<void> {
  const u = fx.users[0]!;
  const c = await loggedIn(fx.ports.tls, fx.caFile, u.address, u.password);
  expect(await c.command('RETR 1')).toMatch(/^\+OK/);
  const lines = await c.multi();
  expect(Buffer.from(lines.join('\r\n') + '\r\n', 'latin1').equals(sampleMessage(1))).toBe(true);
  expect(await c.command('QUIT')).toMatch(/^\+OK/);
}

describe('hostile input', () => {
  it('answers random bytes with -ERR only (or closes), on both ports, before and after login', async () => {
    const u = fx.users[0]!;
    for (let round = 0; round < 12; round++) {
      const where = round % 3;
      const c =
        where === 0
          ? await LineClient.connect(fx.ports.stls)
          : where === 1
            ? await LineClient.connect(fx.ports.tls, { tls: true, ca: fx.caFile })
            : await loggedIn(fx.ports.tls, fx.caFile, u.address, u.password);
      if (where !== 2) expect(await c.status()).toMatch(/^\+OK/);
      // A leading byte outside A-Z keeps the first line from being a command by chance.
      const junk = Buffer.concat([Buffer.from([0x80 + randomInt(0x80)]), randomBytes(randomInt(1, 4000))]);
      const out = await replies(c, junk);
      // Every reply but the one to the final QUIT (if the server was still listening) is -ERR.
      const last = out.at(-1);
      const body = last !== undefined && last.startsWith('+OK') ? out.slice(0, -1) : out;
      for (const l of body) expect(l).toMatch(/^-ERR/);
      c.close();
    }
    await goodClientWorks();
  });

  it('answers over-long lines with -ERR and carries on; a flood without line end is bounded', async () => {
    const c = await LineClient.connect(fx.ports.stls);
    await c.status();
    c.send('A'.repeat(10_000) + '\r\n');
    expect(await c.status()).toMatch(/^-ERR .*too long/i);
    expect(await c.command('CAPA')).toMatch(/^\+OK/);
    expect((await c.multi()).length).toBeGreaterThan(3);
    // Two megabytes without a line end: answered once, then discarded as it streams in.
    c.send(Buffer.alloc(2 * 1024 * 1024, 0x42));
    c.send('\r\nNOOP\r\n');
    expect(await c.status()).toMatch(/^-ERR .*too long/i);
    expect(await c.status()).toMatch(/^-ERR/); // NOOP before login
    c.close();
    await goodClientWorks();
  });

  it('survives random command-shaped lines (property)', async () => {
    const keyword = fc.constantFrom('USER', 'PASS', 'AUTH', 'APOP', 'LIST', 'UIDL', 'RETR', 'TOP', 'DELE', 'STAT', 'RSET', 'NOOP', 'CAPA', 'XTND', 'top');
    const arg = fc.oneof(fc.string({ maxLength: 40 }), fc.nat().map(String), fc.constant('-1'), fc.constant('4294967296'), fc.constant('='));
    const line = fc.tuple(keyword, fc.array(arg, { maxLength: 3 })).map(([k, a]) => [k, ...a].join(' ').replace(/[\r\n]/g, ''));
    await fc.assert(
      fc.asyncProperty(fc.array(line, { minLength: 1, maxLength: 8 }), fc.boolean(), async (lines, login) => {
        // Another account: random DELEs followed by QUIT may empty its INBOX.
        const u = fx.users[1]!;
        const c = login ? await loggedIn(fx.ports.tls, fx.caFile, u.address, u.password) : await LineClient.connect(fx.ports.tls, { tls: true, ca: fx.caFile });
        if (!login) await c.status();
        const out = await replies(c, Buffer.from(lines.join('\r\n') + '\r\n', 'utf8'));
        c.close();
        // Whatever happened, the server spoke POP3 (status lines, "+ " continuations or listing lines) and stayed up.
        expect(out.length).toBeGreaterThan(0);
        expect(out[0]).toMatch(/^(\+OK|-ERR|\+ )/);
      }),
      { numRuns: 25 },
    );
    await goodClientWorks();
  });
});
