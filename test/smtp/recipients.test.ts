import { describe, expect, it } from 'vitest';
import { useHarness, type Harness } from '../support/harness.js';
import { smtplib } from '../support/smtplib.js';
import { RawClient } from '../support/raw.js';
import { hashPassword } from '../../src/crypto/password.js';
import { provisionMailbox } from '../../src/mailbox/provision.js';

let h: Harness;
useHarness({}, (x) => (h = x));

describe('required addresses over mx', () => {
  it('refuses postmaster@ while nobody is mailadmin, then delivers postmaster@, abuse@ and the report addresses to the mailadmin', async () => {
    const to = ['postmaster@example.test', 'ABUSE@example.test', 'dmarc-reports@example.test', 'tls-reports@example.test'];
    const before = await smtplib({ port: h.ports.mx, mode: 'plain', ca: h.caFile, from: 'x@elsewhere.test', to });
    expect(before.rcpt?.map((r) => r[0])).toEqual([550, 550, 550, 550]);

    await h.store.meta.directory.setRoles(h.users.bob.address, ['user', 'mailadmin']);
    const count = (await h.inbox(h.users.bob)).length;
    const file = await h.writeFile('postmaster.eml', 'From: x@elsewhere.test\r\nTo: postmaster@example.test\r\nSubject: to the postmaster\r\n\r\nhello\r\n');
    const r = await smtplib({ port: h.ports.mx, mode: 'plain', ca: h.caFile, from: 'x@elsewhere.test', to: [...to, 'postmaster'], msgFile: file });
    expect(r.rcpt?.map((x) => x[0])).toEqual([250, 250, 250, 250, 250]);
    expect(r.data?.[0]).toBe(250);
    // Five names of one mailbox: one copy.
    const inbox = await h.waitForInbox(h.users.bob, count + 1);
    expect(inbox.length).toBe(count + 1);
    expect((await h.blob(inbox.at(-1)!.blobId)).toString('latin1')).toContain('Subject: to the postmaster');
    // Only the required local parts: anything else at the domain is still unknown.
    const other = await smtplib({ port: h.ports.mx, mode: 'plain', ca: h.caFile, from: 'x@elsewhere.test', to: ['hostmaster@example.test'] });
    expect(other.rcpt?.[0]?.[0]).toBe(550);
  });
});

describe('quota at RCPT', () => {
  const account = async (address: string, quotaBytes: number) => {
    const a = await h.store.meta.directory.addAccount({ address, passwordHash: await hashPassword('x-Secret-9'), quotaBytes }, Date.now());
    await provisionMailbox(h.store.meta.mailboxes, a.id, Date.now());
    return a;
  };

  it('refuses a full mailbox with 452 4.2.2 and still takes the other recipients of the transaction', async () => {
    const full = await account('full@example.test', 0);
    const count = (await h.inbox(h.users.alice)).length;
    const file = await h.writeFile('quota.eml', 'From: x@elsewhere.test\r\nTo: full@example.test, alice@example.test\r\nSubject: quota\r\n\r\nhello\r\n');
    const r = await smtplib({ port: h.ports.mx, mode: 'plain', ca: h.caFile, from: 'x@elsewhere.test', to: ['full@example.test', 'alice@example.test'], msgFile: file });
    expect(r.rcpt?.[0]).toEqual([452, '4.2.2 Mailbox full, try again later']);
    expect(r.rcpt?.[1]?.[0]).toBe(250);
    expect(r.data?.[0]).toBe(250);
    await h.waitForInbox(h.users.alice, count + 1);
    // Nothing was queued for the full mailbox: it is not accepted and left to bounce later.
    const queueId = /queued as ([0-9A-Z]+)/.exec(r.data?.[1] ?? '')?.[1] ?? '';
    expect(h.logs.find((l) => l.msg === 'message accepted' && l.queueId === queueId)).toMatchObject({ rcpts: 1 });
    expect(await h.store.meta.mailboxes.usage(full.id)).toBe(0);
  });

  it('counts the SIZE the sender declares, and refuses an alias only when every mailbox it reaches is full', async () => {
    await account('roomy@example.test', 10_000);
    await h.store.meta.directory.addAlias('team@example.test', 'full@example.test');
    await h.store.meta.directory.addAlias('team@example.test', 'roomy@example.test');
    await h.store.meta.directory.addAlias('nobody-home@example.test', 'full@example.test');
    const c = await RawClient.plain(h.ports.mx);
    try {
      expect((await c.reply())?.code).toBe(220);
      expect((await c.cmd('EHLO raw.example.test'))?.code).toBe(250);
      expect((await c.cmd('MAIL FROM:<x@elsewhere.test> SIZE=20000'))?.code).toBe(250);
      expect((await c.cmd('RCPT TO:<roomy@example.test>'))?.lines.join('')).toMatch(/^452.4\.2\.2 /);
      expect((await c.cmd('RSET'))?.code).toBe(250);
      expect((await c.cmd('MAIL FROM:<x@elsewhere.test> SIZE=2000'))?.code).toBe(250);
      expect((await c.cmd('RCPT TO:<roomy@example.test>'))?.code).toBe(250);
      expect((await c.cmd('RCPT TO:<team@example.test>'))?.code).toBe(250);
      expect((await c.cmd('RCPT TO:<nobody-home@example.test>'))?.code).toBe(452);
      expect((await c.cmd('QUIT'))?.code).toBe(221);
    } finally {
      c.close();
    }
  });
});
