import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { useHarness, type Harness } from '../support/harness.js';
import { plainToken, RawClient } from '../support/raw.js';
import { smtplib } from '../support/smtplib.js';

let h: Harness;
useHarness({ deliver: false }, (x) => (h = x));

let n = 0;
/** A normal authenticated delivery, to show the server still serves everyone after the abuse. */
async function stillDelivers(): Promise<void> {
  const file = await h.writeFile(`ok-${++n}.eml`, 'From: alice@example.test\r\nSubject: ok\r\n\r\nstill fine\r\n');
  const r = await smtplib({
    port: h.ports.submissions, mode: 'ssl', ca: h.caFile,
    logins: [{ user: h.users.alice.address, password: h.users.alice.password }],
    from: h.users.alice.address, to: [h.users.bob.address], msgFile: file,
  });
  expect(r.data?.[0]).toBe(250);
}

/** Opens a raw TCP connection, writes `bytes`, optionally half-closes, and waits (bounded) for the server to close. */
function rawBytes(port: number, bytes: Buffer, end: boolean): Promise<{ closed: boolean; received: Buffer }> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    const got: Buffer[] = [];
    const timer = setTimeout(() => finish(false), 15_000);
    const finish = (closed: boolean) => {
      clearTimeout(timer);
      s.destroy();
      resolve({ closed, received: Buffer.concat(got) });
    };
    s.on('data', (b: Buffer) => got.push(b));
    s.on('close', () => finish(true));
    s.on('error', () => finish(true));
    s.on('connect', () => (end ? s.end(bytes) : s.write(bytes)));
  });
}

describe('malformed input', () => {
  it('answers a 100 KB command line with 500 5.5.2 and closes that connection only', async () => {
    const c = await RawClient.plain(h.ports.mx);
    await c.reply();
    await c.cmd('EHLO raw.example.test');
    c.write(`MAIL FROM:<${'a'.repeat(100 * 1024)}@example.test>\r\n`);
    const r = await c.reply();
    expect(r?.code).toBe(500);
    expect(r?.text).toBe('5.5.2 Line too long');
    expect(await c.closed()).toBe(true);
    await stillDelivers();
  });

  it('refuses NUL bytes in commands and keeps the session usable', async () => {
    const before = (await h.pending()).length;
    const c = await RawClient.tls(h.ports.submissions, h.caPem);
    await c.reply();
    expect((await c.cmd('EHLO bad\0host'))?.code).toBe(501);
    expect((await c.cmd('NO\0OP'))?.code).toBe(500);
    expect((await c.cmd('EHLO good.example.test'))?.code).toBe(250);
    expect((await c.cmd(`AUTH PLAIN ${plainToken(h.users.alice.address, h.users.alice.password)}`))?.code).toBe(235);
    expect((await c.cmd('MAIL FROM:<alice\0@example.test>'))?.code).toBe(501);
    expect((await c.cmd(`MAIL FROM:<${h.users.alice.address}>`))?.code).toBe(250);
    expect((await c.cmd('RCPT TO:<bob@example.\0test>'))?.code).toBe(501);
    expect((await c.cmd(`RCPT TO:<${h.users.bob.address}>`))?.code).toBe(250);
    expect((await c.cmd('DATA'))?.code).toBe(354);
    const r = await c.cmd('From: alice@example.test\r\nSubject: nul\r\n\r\nbefore\0after\r\n.');
    expect(r?.code).toBe(550);
    expect(r?.text).toMatch(/^5\.6\.0 /);
    expect((await c.cmd('QUIT'))?.code).toBe(221);
    expect((await h.pending()).length).toBe(before);
    expect(h.logs.some((l) => l.msg === 'message refused' && l.verdict === 'NUL_IN_DATA' && typeof l.queueId === 'string')).toBe(true);
    await stillDelivers();
  });

  it('refuses a header section with a line that is not a field, and a message without header', async () => {
    const c = await RawClient.plain(h.ports.mx);
    await c.reply();
    await c.cmd('EHLO raw.example.test');
    for (const msg of ['Subject: x\r\nthis is not a header\r\n\r\nbody', '\r\nbody only', ' folded first\r\nSubject: x\r\n\r\nbody']) {
      await c.cmd('MAIL FROM:<a@elsewhere.test>');
      await c.cmd(`RCPT TO:<${h.users.alice.address}>`);
      await c.cmd('DATA');
      const r = await c.cmd(`${msg}\r\n.`);
      expect(r?.code, msg).toBe(550);
      expect(r?.text).toMatch(/^5\.6\.0 /);
    }
    // Header fields and no body at all is valid RFC 5322.
    await c.cmd('MAIL FROM:<a@elsewhere.test>');
    await c.cmd(`RCPT TO:<${h.users.alice.address}>`);
    await c.cmd('DATA');
    expect((await c.cmd('From: a@elsewhere.test\r\nSubject: header only\r\n.'))?.code).toBe(250);
    c.close();
  });

  it('survives a truncated TLS ClientHello on 465', async () => {
    // Record header + the start of a ClientHello, then the client goes away.
    const partial = Buffer.from('1603010200010001fc0303', 'hex');
    const r = await rawBytes(h.ports.submissions, partial, true);
    expect(r.closed).toBe(true);
    expect(r.received.toString('latin1')).not.toMatch(/^220/);
    await stillDelivers();
  });

  it('closes a connection that speaks plaintext (or garbage) instead of a ClientHello', async () => {
    for (const junk of [Buffer.from('EHLO plaintext.example\r\n'), Buffer.alloc(600, 0x41)]) {
      const r = await rawBytes(h.ports.submissions, junk, false);
      expect(r.closed).toBe(true);
      expect(r.received.toString('latin1')).not.toMatch(/^220/);
    }
    await stillDelivers();
  });

  it('closes a STARTTLS session whose handshake is garbage', async () => {
    const c = await RawClient.plain(h.ports.submission);
    await c.reply();
    await c.cmd('EHLO raw.example.test');
    expect((await c.cmd('STARTTLS'))?.code).toBe(220);
    c.write(Buffer.alloc(300, 0x16));
    expect(await c.closed()).toBe(true);
    await stillDelivers();
  });

  it('refuses an HTTP request sent to the SMTP port', async () => {
    const c = await RawClient.plain(h.ports.mx);
    await c.reply();
    expect((await c.cmd('GET / HTTP/1.1'))?.code).toBe(421);
    expect(await c.closed()).toBe(true);
  });
});
