import { describe, expect, it } from 'vitest';
import { useHarness, type Harness } from '../support/harness.js';
import { smtplib } from '../support/smtplib.js';

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
