import { describe, expect, it } from 'vitest';
import { useHarness, type Harness } from '../support/harness.js';
import { plainToken, RawClient } from '../support/raw.js';

let h: Harness;
useHarness({}, (x) => (h = x));

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('submission: no authentication outside TLS', () => {
  it('does not offer AUTH before STARTTLS and refuses AUTH PLAIN and LOGIN with 530', async () => {
    const c = await RawClient.plain(h.ports.submission);
    expect((await c.reply())?.code).toBe(220);
    const ehlo = await c.cmd('EHLO raw.example.test');
    expect(ehlo?.lines.join('\n')).toMatch(/STARTTLS/);
    expect(ehlo?.lines.join('\n')).not.toMatch(/AUTH/);
    const plain = await c.cmd(`AUTH PLAIN ${plainToken(h.users.alice.address, h.users.alice.password)}`);
    expect(plain?.code).toBe(530);
    expect(plain?.text).toBe('5.7.0 Must issue a STARTTLS command first');
    expect((await c.cmd('AUTH LOGIN'))?.code).toBe(530);
    expect((await c.cmd(`MAIL FROM:<${h.users.alice.address}>`))?.code).toBe(530);
    c.close();
  });

  it('requires AUTH for MAIL inside TLS', async () => {
    const c = await RawClient.submissionTls(h.ports.submission, h.caPem);
    const r = await c.cmd(`MAIL FROM:<${h.users.alice.address}>`);
    expect(r?.code).toBe(530);
    expect(r?.text).toBe('5.7.0 Authentication required');
    c.close();
  });

  it('discards an AUTH pipelined behind STARTTLS in the same packet (CVE-2011-0411 style)', async () => {
    const c = await RawClient.plain(h.ports.submission);
    await c.reply();
    await c.cmd('EHLO raw.example.test');
    const token = plainToken(h.users.alice.address, h.users.alice.password);
    c.write(`STARTTLS\r\nEHLO injected.example\r\nAUTH PLAIN ${token}\r\nMAIL FROM:<${h.users.alice.address}>\r\n`);
    expect((await c.reply())?.code).toBe(220);
    await c.startTls(h.caPem);
    // The first reply inside TLS answers our first command there, not an injected one.
    const first = await c.cmd('NOOP');
    expect(first?.code).toBe(250);
    expect(first?.text).toMatch(/OK/);
    const ehlo = await c.cmd('EHLO raw.example.test');
    expect(ehlo?.lines.join('\n')).toMatch(/AUTH SCRAM-SHA-256-PLUS SCRAM-SHA-256 PLAIN LOGIN/); // offered: nobody is logged in
    expect((await c.cmd(`MAIL FROM:<${h.users.alice.address}>`))?.code).toBe(530);
    c.close();
  });

  it('accepts AUTH LOGIN inside TLS, and a second AUTH is refused', async () => {
    const c = await RawClient.submissionTls(h.ports.submission, h.caPem);
    expect((await c.cmd('AUTH LOGIN'))?.code).toBe(334);
    expect((await c.cmd(b64(h.users.bob.address)))?.code).toBe(334);
    const ok = await c.cmd(b64(h.users.bob.password));
    expect(ok?.code).toBe(235);
    expect((await c.cmd(`AUTH PLAIN ${plainToken(h.users.alice.address, h.users.alice.password)}`))?.code).toBe(503);
    c.close();
  });

  it('refuses a PLAIN token that asks to act as another user', async () => {
    const c = await RawClient.submissionTls(h.ports.submission, h.caPem, '127.0.0.5');
    const token = Buffer.from(`${h.users.bob.address}\0${h.users.alice.address}\0${h.users.alice.password}`).toString('base64');
    expect((await c.cmd(`AUTH PLAIN ${token}`))?.code).toBe(535);
    c.close();
  });

  it('never logs a password', async () => {
    const all = JSON.stringify(h.logs);
    expect(h.logs.some((l) => l.msg === 'auth succeeded')).toBe(true);
    for (const u of Object.values(h.users)) expect(all).not.toContain(u.password);
  });
});
