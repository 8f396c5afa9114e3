/**
 * MAIL and RCPT parameters (RFC 5321 4.1.1.11, 4.1.2): words after the path
 * that are no esmtp-param get 501 5.5.4, parameters of extensions the session
 * was not offered get 555 5.5.4; neither starts a transaction or adds a recipient.
 */
import { describe, expect, it } from 'vitest';
import { useHarness, type Harness } from '../support/harness.js';
import { RawClient } from '../support/raw.js';
import { swaks } from '../support/swaks.js';

let h: Harness;
useHarness({ deliver: false }, (x) => (h = x));

async function mx(): Promise<RawClient> {
  const c = await RawClient.plain(h.ports.mx);
  await c.reply();
  expect((await c.cmd('EHLO raw.example.test'))?.code).toBe(250);
  return c;
}

describe('MAIL and RCPT parameters over a raw socket', () => {
  it('refuses a second address after the RCPT path with 501 5.5.4 and keeps only the first recipient', async () => {
    const before = (await h.pending()).length;
    const c = await mx();
    expect((await c.cmd('MAIL FROM:<someone@remote.test>'))?.code).toBe(250);
    const r = await c.cmd(`RCPT TO:<${h.users.bob.address}> <friend@elsewhere.test>`);
    expect(r?.code).toBe(501);
    expect(r?.text).toBe('5.5.4 Syntax error in MAIL or RCPT parameters');
    // No recipient was added: DATA needs one.
    expect((await c.cmd('DATA'))?.code).toBe(503);
    expect((await c.cmd(`RCPT TO:<${h.users.bob.address}>`))?.code).toBe(250);
    expect((await c.cmd('DATA'))?.code).toBe(354);
    expect((await c.cmd('From: someone@remote.test\r\nSubject: one\r\n\r\nx\r\n.'))?.code).toBe(250);
    const pending = await h.pending();
    expect(pending.length).toBe(before + 1);
    expect(pending.map((p) => p.address)).not.toContain('friend@elsewhere.test');
  });

  it('refuses junk after the MAIL path: 501 when it is no parameter, 555 when it names none offered', async () => {
    const c = await mx();
    for (const [line, code] of [
      ['MAIL FROM:<x@remote.test> <y@remote.test>', 501],
      ['MAIL FROM:<x@remote.test> SIZE=', 501],
      ['MAIL FROM:<x@remote.test> junk', 555],
      ['MAIL FROM:<x@remote.test> FOO=bar', 555],
      ['MAIL FROM:<x@remote.test> HOLDFOR=10', 555],
      ['MAIL FROM:<x@remote.test> SMTPUTF8=yes', 501],
      ['MAIL FROM:<x@remote.test> RET=BODY', 501],
      ['MAIL FROM:<x@remote.test> ENVID=a+zz', 501],
    ] as const) {
      const r = await c.cmd(line);
      expect(r?.code, line).toBe(code);
      expect(r?.text, line).toMatch(/^5\.5\.4 /);
    }
    // Nothing started: a first valid MAIL is not "nested".
    expect((await c.cmd('MAIL FROM:<x@remote.test> SIZE=100 BODY=8BITMIME'))?.code).toBe(250);
    expect((await c.cmd(`RCPT TO:<${h.users.bob.address}> NOTIFY=NEVER,SUCCESS`))?.code).toBe(501);
    expect((await c.cmd(`RCPT TO:<${h.users.bob.address}> FOO=1`))?.code).toBe(555);
    expect((await c.cmd(`RCPT TO:<${h.users.bob.address}>`))?.code).toBe(250);
  });

  it('takes no parameter at all after HELO', async () => {
    const c = await RawClient.plain(h.ports.mx);
    await c.reply();
    expect((await c.cmd('HELO raw.example.test'))?.code).toBe(250);
    expect((await c.cmd('MAIL FROM:<x@remote.test> SIZE=100'))?.code).toBe(555);
    expect((await c.cmd('MAIL FROM:<x@remote.test>'))?.code).toBe(250);
  });
});

describe('MAIL and RCPT parameters from swaks', () => {
  const base = () => ['--port', String(h.ports.mx), '--body', 'x', '--header', 'Subject: params'];

  it('gets 501 5.5.4 for a second RCPT address and sends no DATA', async () => {
    const r = await swaks([...base(), '--from', 'someone@remote.test', '--to', `${h.users.bob.address}> <friend@elsewhere.test`]);
    expect(r.replies.some((l) => l.startsWith('501 5.5.4 ')), r.transcript).toBe(true);
    expect(r.replies.some((l) => l.startsWith('354')), r.transcript).toBe(false);
  });

  it('gets 555 5.5.4 for an unknown MAIL parameter', async () => {
    const r = await swaks([...base(), '--from', 'someone@remote.test> FOO=bar', '--to', h.users.bob.address]);
    expect(r.replies.some((l) => l.startsWith('555 5.5.4 ')), r.transcript).toBe(true);
    expect(r.replies.some((l) => l.startsWith('354')), r.transcript).toBe(false);
  });
});
