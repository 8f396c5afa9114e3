/**
 * DSN on the receiving side (RFC 3461) with Python's smtplib: DSN is
 * offered, NOTIFY/ORCPT/RET/ENVID are kept with the queued message, bad
 * syntax gets 501 5.5.4 and queues nothing, and NOTIFY=SUCCESS on mail
 * delivered here puts one "delivered" report in the sender's mailbox.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness.js';
import { killAll } from '../support/procs.js';
import { smtplib } from '../support/smtplib.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterEach(() => killAll());
afterAll(async () => {
  killAll();
  await h?.close();
});

const msg = (subject: string) => Buffer.from(`From: Alice <alice@example.test>\r\nTo: bob@example.test\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/ /g, '.')}@example.test>\r\n\r\nbody\r\n`);

async function send(subject: string, mail_options: string[], rcpt_options: string[]) {
  const file = await h.writeFile(`${subject.replace(/ /g, '-')}.eml`, msg(subject));
  return smtplib({ port: h.ports.submission, mode: 'starttls', ca: h.caFile, logins: [{ user: h.users.alice.address, password: h.users.alice.password }], from: h.users.alice.address, to: [h.users.bob.address], msgFile: file, mail_options, rcpt_options });
}

describe('DSN parameters on submission', () => {
  it('offers DSN, and NOTIFY=SUCCESS brings one "delivered" report with the envelope id and original recipient', async () => {
    const aliceBefore = (await h.inbox(h.users.alice)).length;
    const bobBefore = (await h.inbox(h.users.bob)).length;
    const r = await send('dsn success', ['RET=HDRS', 'ENVID=env-42'], ['NOTIFY=SUCCESS,FAILURE', 'ORCPT=rfc822;Bob+2Bdsn@example.test']);
    expect(r.error).toBeUndefined();
    expect(Object.keys(r.features_tls ?? {})).toContain('dsn');
    expect(r.data?.[0]).toBe(250);
    await h.waitForInbox(h.users.bob, bobBefore + 1);
    const inbox = await h.waitForInbox(h.users.alice, aliceBefore + 1);
    const report = (await h.blob(inbox[inbox.length - 1]!.blobId)).toString('utf8');
    expect(report).toContain('report-type=delivery-status');
    expect(report).toContain('Original-Envelope-Id: env-42\r\n');
    expect(report).toMatch(/Original-Recipient: rfc822; Bob\+2Bdsn@example\.test\r\nFinal-Recipient: rfc822; bob@example\.test\r\nAction: delivered\r\nStatus: 2\.0\.0/);
    expect(report).toContain('Subject: dsn success');
    expect(report).not.toContain('\r\n\r\nbody\r\n'); // headers only
    // Exactly one: nothing else for alice once the queue is empty.
    expect((await h.inbox(h.users.alice)).length).toBe(aliceBefore + 1);
  });

  it('sends no report without NOTIFY=SUCCESS, and refuses bad DSN syntax with 501 5.5.4, queueing nothing', async () => {
    const aliceBefore = (await h.inbox(h.users.alice)).length;
    const bobBefore = (await h.inbox(h.users.bob)).length;
    const ok = await send('dsn default', [], ['NOTIFY=FAILURE,DELAY']);
    expect(ok.data?.[0]).toBe(250);
    await h.waitForInbox(h.users.bob, bobBefore + 1);
    const bad = await send('dsn bad', [], ['NOTIFY=NEVER,SUCCESS']);
    expect(bad.rcpt?.[0]).toEqual([501, '5.5.4 Syntax error in MAIL or RCPT parameters']);
    expect(bad.data).toBeUndefined();
    const badEnvid = await send('dsn bad envid', [`ENVID=${'x'.repeat(101)}`], []);
    expect(badEnvid.mail?.[0]).toBe(501);
    expect((await h.pending()).length).toBe(0);
    expect((await h.inbox(h.users.alice)).length).toBe(aliceBefore);
    expect((await h.inbox(h.users.bob)).length).toBe(bobBefore + 1);
  });
});
