import { describe, expect, it } from 'vitest';
import { queueIdOf, useHarness, stripOwnReceived, type Harness } from '../support/harness.js';
import { plainToken, RawClient } from '../support/raw.js';
import { smtplib } from '../support/smtplib.js';

let h: Harness;
useHarness({}, (x) => (h = x));

const msg = (subject: string) => Buffer.from(`From: someone@elsewhere.test\r\nTo: alice@example.test\r\nSubject: ${subject}\r\n\r\nhello\r\n`);

describe('mx listener', () => {
  it('accepts mail for a local user from an unauthenticated client and delivers it', async () => {
    const data = msg('mx plain');
    const file = await h.writeFile('mx-plain.eml', data);
    const before = (await h.inbox(h.users.alice)).length;
    const r = await smtplib({ port: h.ports.mx, mode: 'plain', ca: h.caFile, from: 'someone@elsewhere.test', to: ['Alice@Example.TEST'], msgFile: file });
    expect(r.error).toBeUndefined();
    expect(r.data?.[0]).toBe(250);
    const inbox = await h.waitForInbox(h.users.alice, before + 1);
    const stored = await h.blob(inbox[inbox.length - 1]!.blobId);
    const queueId = queueIdOf(r.data![1]);
    expect(stripOwnReceived(stored, queueId).equals(data)).toBe(true);
    const received = stored.toString('latin1', 0, stored.length - data.length);
    expect(received).toContain(' with ESMTP id ');
    expect(received).not.toContain('(using ');
  });

  it('offers STARTTLS but no AUTH, before and after TLS; the Received header says ESMTPS', async () => {
    const data = msg('mx tls');
    const file = await h.writeFile('mx-tls.eml', data);
    const r = await smtplib({ port: h.ports.mx, mode: 'starttls', ca: h.caFile, from: '', to: ['alice@example.test'], msgFile: file });
    expect(r.error).toBeUndefined();
    expect(Object.keys(r.features ?? {})).toContain('starttls');
    expect(Object.keys(r.features ?? {})).not.toContain('auth');
    expect(Object.keys(r.features_tls ?? {})).not.toContain('auth');
    expect(r.data?.[0]).toBe(250);
    const queueId = queueIdOf(r.data![1]);
    const inbox = await h.waitForInbox(h.users.alice, 1);
    const blobs = await Promise.all(inbox.map((m) => h.blob(m.blobId)));
    const stored = blobs.find((b) => b.toString('latin1').includes(` id ${queueId}\r\n`));
    expect(stored?.toString('latin1')).toMatch(/with ESMTPS id [0-9A-Z]+\r\n\t\(using TLSv1\.[23] with cipher /);
  });

  it('refuses the AUTH command outright', async () => {
    const c = await RawClient.plain(h.ports.mx);
    expect((await c.reply())?.code).toBe(220);
    expect((await c.cmd('EHLO raw.example.test'))?.lines.join('\n')).not.toMatch(/AUTH/);
    const r = await c.cmd(`AUTH PLAIN ${plainToken(h.users.alice.address, h.users.alice.password)}`);
    expect(r?.code).toBeGreaterThanOrEqual(500);
    expect((await c.cmd('MAIL FROM:<x@elsewhere.test>'))?.code).toBe(250);
    c.close();
  });

  it('answers each kind of recipient with its own reply', async () => {
    const r = await smtplib({
      port: h.ports.mx, mode: 'plain', ca: h.caFile, from: 'x@elsewhere.test',
      to: ['nobody@example.test', 'someone@foreign.test', 'carol@example.test', 'postmaster'],
    });
    expect(r.error).toBeUndefined();
    const [unknown, foreign, disabled, postmaster] = r.rcpt ?? [];
    expect(unknown?.[0]).toBe(550);
    expect(unknown?.[1]).toMatch(/^5\.1\.1 /);
    expect(foreign?.[0]).toBe(554);
    expect(foreign?.[1]).toBe('5.7.1 Relay access denied');
    expect(disabled?.[0]).toBe(550);
    expect(disabled?.[1]).toMatch(/^5\.2\.1 /);
    expect(postmaster?.[0]).toBe(550); // no postmaster@mail.example.test in this directory
  });

  it('accepts the domainless postmaster once a local domain has one', async () => {
    await h.store.meta.directory.addAlias('postmaster@example.test', h.users.alice.address);
    const r = await smtplib({ port: h.ports.mx, mode: 'plain', ca: h.caFile, from: 'x@elsewhere.test', to: ['postmaster'] });
    expect(r.rcpt?.[0]?.[0]).toBe(250);
  });

  it('expands aliases: local members get a local copy, a remote target waits in the queue', async () => {
    const file = await h.writeFile('mx-alias.eml', msg('alias'));
    const aliceBefore = (await h.inbox(h.users.alice)).length;
    const bobBefore = (await h.inbox(h.users.bob)).length;
    const r = await smtplib({ port: h.ports.mx, mode: 'plain', ca: h.caFile, from: 'x@elsewhere.test', to: ['sales@example.test', 'fwd@example.test', 'bob@example.test'], msgFile: file });
    expect(r.data?.[0]).toBe(250);
    const queueId = queueIdOf(r.data![1]);
    const recipients = await h.store.meta.queue.listRecipients(queueId);
    expect(recipients.map((x) => `${x.transport}:${x.address}`).sort()).toEqual(['local:alice@example.test', 'local:bob@example.test', 'remote:friend@remote.test']);
    await h.waitForInbox(h.users.alice, aliceBefore + 1);
    await h.waitForInbox(h.users.bob, bobBefore + 1);
    // bob was named twice (directly and through sales@) and gets one copy.
    expect((await h.inbox(h.users.bob)).length).toBe(bobBefore + 1);
    const stored = await h.blob((await h.inbox(h.users.bob)).at(-1)!.blobId);
    expect(stored.toString('latin1')).not.toMatch(/\tfor </); // several recipients: no "for" clause
  });
});
