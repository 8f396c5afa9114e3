import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawClient, startHarness, type Harness } from './testing/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

describe('connection and TLS', () => {
  it('greets on the implicit-TLS port with the full capability list', async () => {
    const c = await RawClient.tls(h.ports.tls);
    const greeting = await c.line();
    expect(greeting).toMatch(/^\* OK \[CAPABILITY IMAP4rev2 IMAP4rev1 AUTH=SCRAM-SHA-256-PLUS AUTH=SCRAM-SHA-256 AUTH=PLAIN SASL-IR LITERAL\+ .*APPENDLIMIT=1048576\] imap\.example\.test /);
    expect(greeting).not.toContain('STARTTLS');
    c.close();
  });

  it('offers no mechanism and refuses credentials before STARTTLS', async () => {
    const c = await RawClient.plain(h.ports.starttls);
    expect(await c.line()).toBe('* OK [CAPABILITY IMAP4rev2 IMAP4rev1 STARTTLS LOGINDISABLED] imap.example.test IMAP4rev2 server ready');
    expect(await c.command('a', 'CAPABILITY')).toEqual(['* CAPABILITY IMAP4rev2 IMAP4rev1 STARTTLS LOGINDISABLED', 'a OK CAPABILITY completed']);
    const login = await c.command('b', 'LOGIN alice@example.test "correct horse battery staple"');
    expect(login).toEqual(['b NO [PRIVACYREQUIRED] Credentials are accepted only over TLS; use STARTTLS']);
    const auth = await c.command('c', `AUTHENTICATE PLAIN ${Buffer.from('\0alice@example.test\0x').toString('base64')}`);
    expect(auth).toEqual(['c NO [PRIVACYREQUIRED] Credentials are accepted only over TLS; use STARTTLS']);
    expect(await c.command('d', 'SELECT INBOX')).toEqual(['d BAD Log in first']);
    c.close();
  });

  it('drops commands pipelined after STARTTLS (no command injection)', async () => {
    const c = await RawClient.plain(h.ports.starttls);
    await c.line();
    c.write('a STARTTLS\r\nb LOGIN alice@example.test "correct horse battery staple"\r\n');
    expect(await c.until('a')).toEqual(['a OK Begin TLS negotiation now']);
    await c.upgrade();
    // Had "b" survived, its answer would come before "c"'s.
    expect(await c.command('c', 'NOOP')).toEqual(['c OK NOOP completed']);
    const caps = await c.command('d', 'CAPABILITY');
    expect(caps[0]).toMatch(/^\* CAPABILITY IMAP4rev2 IMAP4rev1 AUTH=SCRAM-SHA-256-PLUS AUTH=SCRAM-SHA-256 AUTH=PLAIN /);
    expect(caps[0]).not.toContain('LOGINDISABLED');
    expect(await c.command('e', 'SELECT INBOX')).toEqual(['e BAD Log in first']);
    expect((await c.login('f')).at(-1)).toMatch(/^f OK \[CAPABILITY IMAP4rev2 IMAP4rev1 LITERAL\+ /);
    c.close();
  });
});

describe('LOGIN', () => {
  it('logs in again from the same address, and still refuses a wrong password after a success', async () => {
    for (const tag of ['a', 'b']) {
      const c = await RawClient.tls(h.ports.tls);
      await c.line();
      expect((await c.login(tag)).at(-1)).toMatch(new RegExp(`^${tag} OK \\[CAPABILITY `));
      c.close();
    }
    const c = await RawClient.tls(h.ports.tls);
    await c.line();
    expect(await c.command('c', 'LOGIN alice@example.test "correct horse battery stapler"')).toEqual(['c NO [AUTHENTICATIONFAILED] Authentication failed']);
    expect(await c.command('d', 'LOGIN alice@example.test "correct horse battery"')).toEqual(['d NO [AUTHENTICATIONFAILED] Authentication failed']);
    c.close();
  });
});
