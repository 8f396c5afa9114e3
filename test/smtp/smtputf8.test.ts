/**
 * SMTPUTF8 on the listeners (RFC 6531): offered in EHLO; a UTF-8 address only
 * in a transaction whose MAIL carries SMTPUTF8 ("553 5.6.7" otherwise, RFC
 * 6531 3.7.4.1), only as valid UTF-8; local parts compared in NFC and lower
 * case, domains in A-label form; UTF-8 header bytes stored as they arrived.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { useHarness, stripOwnReceived, queueIdOf, type Harness } from '../support/harness.js';
import { RawClient } from '../support/raw.js';

let h: Harness;
useHarness({}, (x) => (h = x));

const utf8Line = async (c: RawClient, line: string | Buffer) => {
  c.write(Buffer.concat([typeof line === 'string' ? Buffer.from(line, 'utf8') : line, Buffer.from('\r\n')]));
  return c.reply();
};

async function mx(): Promise<RawClient> {
  const c = await RawClient.plain(h.ports.mx);
  await c.reply();
  const ehlo = await c.cmd('EHLO raw.example.test');
  expect(ehlo?.code).toBe(250);
  expect(ehlo?.lines.map((l) => l.slice(4))).toContain('SMTPUTF8');
  return c;
}

beforeAll(async () => {
  // A UTF-8 name for bob, written in NFC as the directory keeps it.
  await h.store.meta.directory.addAlias('jösé@example.test', h.users.bob.address);
});

describe('SMTPUTF8 on mx', () => {
  it('refuses a UTF-8 sender without SMTPUTF8 with 553 5.6.7, and a UTF-8 recipient likewise', async () => {
    const c = await mx();
    const mail = await utf8Line(c, 'MAIL FROM:<jösé@remote.test>');
    expect(mail?.code).toBe(553);
    expect(mail?.text).toBe('5.6.7 Non-ASCII addresses not permitted for that sender');
    expect((await c.cmd('MAIL FROM:<x@remote.test>'))?.code).toBe(250);
    const rcpt = await utf8Line(c, 'RCPT TO:<jösé@example.test>');
    expect(rcpt?.code).toBe(553);
    expect(rcpt?.text).toBe('5.6.7 Non-ASCII addresses not permitted for that recipient');
    // Nothing was added: DATA still needs a recipient.
    expect((await c.cmd('DATA'))?.code).toBe(503);
    c.close();
  });

  it('refuses 8-bit bytes that are not UTF-8, even with SMTPUTF8', async () => {
    const c = await mx();
    const r = await utf8Line(c, Buffer.from('MAIL FROM:<j\xf6se@remote.test> SMTPUTF8', 'latin1'));
    expect(r?.code).toBe(501);
    expect(r?.text).toBe('5.5.2 Command is not valid UTF-8');
    expect((await c.cmd('MAIL FROM:<x@remote.test> SMTPUTF8=yes'))?.code).toBe(501);
    c.close();
  });

  it('with SMTPUTF8 takes UTF-8 addresses in any case and normal form, and stores UTF-8 header bytes intact', async () => {
    const before = (await h.inbox(h.users.bob)).length;
    const c = await mx();
    expect((await utf8Line(c, 'MAIL FROM:<rené@bücher.example> SMTPUTF8'))?.code).toBe(250);
    // Upper case and decomposed (NFD) spelling of the alias: the same name.
    expect((await utf8Line(c, 'RCPT TO:<JO\u0308SE\u0301@Example.TEST>'))?.code).toBe(250);
    // A U-label domain that is not ours is refused as relaying, not as bad syntax.
    expect((await utf8Line(c, 'RCPT TO:<anyone@bücher.example>'))?.code).toBe(554);
    expect((await c.cmd('DATA'))?.code).toBe(354);
    const msg = Buffer.from('From: René <rené@bücher.example>\r\nTo: Jösé <jösé@example.test>\r\nSubject: Grüße ✓ 日本語\r\n\r\nKörper\r\n', 'utf8');
    c.write(Buffer.concat([msg, Buffer.from('.\r\n')]));
    const done = await c.reply();
    expect(done?.code).toBe(250);
    c.close();
    const inbox = await h.waitForInbox(h.users.bob, before + 1);
    const stored = await h.blob(inbox.at(-1)!.blobId);
    expect(stripOwnReceived(stored, queueIdOf(done!.text)).equals(msg)).toBe(true);
    // RFC 6531 3.7.3: the protocol of a transaction with SMTPUTF8.
    expect(stored.toString('latin1')).toContain(` with UTF8SMTP id ${queueIdOf(done!.text)}`);
    const accepted = h.logs.find((l) => l.msg === 'message accepted' && l.queueId === queueIdOf(done!.text));
    expect(accepted).toMatchObject({ sender: 'rené@xn--bcher-kva.example' });
  });

  it('takes an A-label domain without SMTPUTF8 (smtp-server shows it as U-labels; it is ASCII on the wire)', async () => {
    const c = await mx();
    expect((await c.cmd('MAIL FROM:<x@xn--bcher-kva.example>'))?.code).toBe(250);
    expect((await c.cmd(`RCPT TO:<${h.users.bob.address}>`))?.code).toBe(250);
    c.close();
  });
});
