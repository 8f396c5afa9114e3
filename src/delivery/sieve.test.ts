import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openStore, type Store } from '../store/index.js';
import { Spool } from '../queue/spool.js';
import { LocalDelivery } from './local.js';
import { ManualClock } from '../core/clock.js';
import { newQueueId } from '../core/ids.js';
import { silentLogger } from '../metrics/logger.js';
import { provisionMailbox } from '../mailbox/provision.js';
import { MemorySieveScripts, MemoryVacationMemory } from './sieve-source.js';
import { REDIRECT_FIELD } from './sieve.js';
import type { Account, NewRecipient } from '../store/types.js';
import { corpus } from '../codec/mime/testing/corpus.js';

const OPTS = { batch: 10, leaseMs: 30_000, pollMs: 1000, retryMinMs: 1000, retryMaxMs: 8000, maxLifetimeMs: 60_000 };
const DAY = 86_400_000;

let store: Store;
let spool: Spool;
let agent: LocalDelivery;
const clock = new ManualClock(1_700_000_000_000);
const scripts = new MemorySieveScripts();
const accounts = new Map<string, Account>();

async function account(local: string): Promise<Account> {
  const a = await store.meta.directory.addAccount({ address: `${local}@example.test`, passwordHash: 'x' }, 1);
  await provisionMailbox(store.meta.mailboxes, a.id, 1);
  accounts.set(a.address, a);
  return a;
}

async function route(address: string): Promise<NewRecipient[]> {
  const a = accounts.get(address.toLowerCase());
  return [a ? { address: a.address, transport: 'local', accountId: a.id } : { address, transport: 'remote' }];
}

async function deliver(to: Account, data: string, sender = 'carol@remote.test'): Promise<void> {
  await spool.accept({
    queueId: newQueueId(clock.now()),
    data: Buffer.from(data.replace(/\r?\n/g, '\r\n')),
    sender,
    recipients: [{ address: to.address, transport: 'local', accountId: to.id }],
    source: 'mx',
    clientAddress: '127.0.0.1',
    authUser: null,
    meta: {},
  });
  await agent.pass();
}

async function folder(a: Account, name: string): Promise<Array<{ text: string; flags: readonly string[] }>> {
  const f = await store.meta.mailboxes.getFolder(a.id, name);
  if (!f) return [];
  const out = [];
  for (const m of await store.meta.mailboxes.listMessages(f.id)) out.push({ text: Buffer.from(await store.blobs.get(m.blobId)).toString('utf8'), flags: m.flags });
  return out;
}

/** Mail queued for remote addresses (what redirects, refusals and vacation replies sent out). */
async function outgoing(): Promise<Array<{ to: string; sender: string; text: string }>> {
  const out = [];
  for (const r of await store.meta.queue.listPending()) {
    if (r.transport !== 'remote' || r.state === 'delivered') continue;
    const m = (await store.meta.queue.getMessage(r.queueId))!;
    out.push({ to: r.address, sender: m.sender, text: Buffer.from(await store.blobs.get(m.blobId)).toString('utf8') });
  }
  return out;
}

async function clearOutgoing(): Promise<void> {
  for (const l of await store.meta.queue.lease({ transport: 'remote', now: clock.now(), leaseMs: 1000, limit: 100 })) await store.meta.queue.complete(l, clock.now(), 'test');
  await store.meta.queue.purgeFinished();
}

beforeAll(async () => {
  store = await openStore({ backend: 'sqlite', dataDir: mkdtempSync(path.join(tmpdir(), 'postern-sieve-')) });
  await store.meta.directory.addDomain('example.test', 1);
  spool = new Spool(store.blobs, store.meta.queue, clock);
  agent = new LocalDelivery(store.meta.queue, store.meta.mailboxes, clock, silentLogger(), OPTS, store.meta.directory, undefined, store.blobs, store.meta.events);
  agent.useSieve({ scripts, vacation: new MemoryVacationMemory(), spool, route, hostname: 'mx.example.test' });
});

afterAll(async () => {
  await store.close();
});

describe('sieve at local delivery', () => {
  it('files into a folder (created on first use) with flags, and keeps a copy in INBOX with :copy', async () => {
    const ann = await account('ann');
    scripts.scripts.set(ann.id, {
      name: 'main',
      text: `require ["fileinto", "imap4flags", "copy"];
        if header :contains "subject" "invoice" { fileinto :flags "\\\\Flagged" "Billing"; }
        elsif address :domain "from" "lists.test" { addflag "\\\\Seen"; fileinto :copy "Lists"; }`,
    });
    await deliver(ann, 'From: shop@remote.test\nTo: ann@example.test\nSubject: Your INVOICE\n\npay\n');
    await deliver(ann, 'From: news@lists.test\nTo: ann@example.test\nSubject: news\n\nread\n');
    await deliver(ann, 'From: bob@remote.test\nTo: ann@example.test\nSubject: hi\n\nhello\n');
    const billing = await folder(ann, 'Billing');
    expect(billing.map((m) => [m.text.includes('Your INVOICE'), m.flags])).toEqual([[true, ['\\Flagged']]]);
    expect((await folder(ann, 'Lists')).map((m) => m.flags)).toEqual([['\\Seen']]);
    const inbox = await folder(ann, 'INBOX');
    expect(inbox.map((m) => [/Subject: (.*)\r/.exec(m.text)![1], m.flags])).toEqual([
      ['news', ['\\Seen']],
      ['hi', []],
    ]);
  });

  it('discards, and a broken script or a limit still delivers to INBOX with a sieve.error event', async () => {
    const ben = await account('ben');
    scripts.scripts.set(ben.id, { name: 'main', text: 'if header :is "subject" "spam" { discard; }' });
    await deliver(ben, 'From: x@remote.test\nSubject: spam\n\nbuy\n');
    expect(await folder(ben, 'INBOX')).toEqual([]);
    expect(await store.meta.queue.listPending()).toEqual([]);
    scripts.scripts.set(ben.id, { name: 'broken', text: 'if header :is "subject" { fileinto "x" ' });
    await deliver(ben, 'From: x@remote.test\nSubject: one\n\nbody\n');
    scripts.scripts.set(ben.id, { name: 'greedy', text: 'require "fileinto";\n' + 'fileinto "a";'.repeat(100) });
    await deliver(ben, 'From: x@remote.test\nSubject: two\n\nbody\n');
    expect((await folder(ben, 'INBOX')).map((m) => /Subject: (.*)\r/.exec(m.text)![1])).toEqual(['one', 'two']);
    const errors = await store.meta.events.list('sieve.error');
    expect(errors.map((e) => [e.data.script, e.data.error])).toEqual(
      expect.arrayContaining([
        ['broken', expect.stringContaining('expected')],
        ['greedy', 'too many actions'],
      ]),
    );
  });

  it('vacation: one reply per sender per period, none to a list, an automatic mail or the null sender', async () => {
    const cat = await account('cat');
    await clearOutgoing();
    scripts.scripts.set(cat.id, { name: 'away', text: 'require "vacation";\nvacation :days 2 :subject "Away" "I am away until Monday.";' });
    const mail = (extra = '') => `From: Dan <dan@remote.test>\nTo: cat@example.test\nSubject: lunch?\nMessage-ID: <m1@remote.test>\n${extra}\nhi\n`;
    await deliver(cat, mail());
    await deliver(cat, mail()); // same period: no second reply
    await deliver(cat, mail('List-Id: <talk.lists.test>\n'), 'owner@lists.test');
    await deliver(cat, mail('Precedence: bulk\n'), 'bulk@remote.test');
    await deliver(cat, mail('Auto-Submitted: auto-generated\n'), 'robot@remote.test');
    await deliver(cat, mail(), '');
    await deliver(cat, mail().replace('To: cat@example.test', 'To: someone@else.test'), 'bcc@remote.test');
    let out = await outgoing();
    expect(out.map((o) => [o.to, o.sender])).toEqual([['carol@remote.test', '']]);
    const reply = out[0]!.text;
    expect(reply).toContain('Subject: Away\r\n');
    expect(reply).toContain('Auto-Submitted: auto-replied\r\n');
    expect(reply).toContain('In-Reply-To: <m1@remote.test>\r\n');
    expect(reply).toContain('References: <m1@remote.test>\r\n');
    expect(reply).toContain('From: <cat@example.test>\r\n');
    expect(reply).toContain('I am away until Monday.');
    // every message was still kept
    expect(await folder(cat, 'INBOX')).toHaveLength(7);
    // after the period, the same sender gets one more
    await clearOutgoing();
    clock.advance(2 * DAY + 1);
    await deliver(cat, mail());
    out = await outgoing();
    expect(out.map((o) => o.to)).toEqual(['carol@remote.test']);
  });

  it('redirects with the account as envelope sender, and a redirect loop stops with the mail kept', async () => {
    const dee = await account('dee');
    const eve = await account('eve');
    await clearOutgoing();
    scripts.scripts.set(dee.id, { name: 'fwd', text: 'redirect "friend@remote.test";' });
    await deliver(dee, 'From: x@remote.test\nTo: dee@example.test\nSubject: pass on\n\nbody\n');
    const [r] = await outgoing();
    expect(r).toMatchObject({ to: 'friend@remote.test', sender: 'dee@example.test' });
    expect(r!.text.startsWith(`${REDIRECT_FIELD}: dee@example.test\r\nFrom: x@remote.test`)).toBe(true);
    expect(await folder(dee, 'INBOX')).toEqual([]);
    // dee and eve redirect to each other: the message comes back to dee once and stays there.
    await clearOutgoing();
    scripts.scripts.set(dee.id, { name: 'fwd', text: 'redirect "eve@example.test";' });
    scripts.scripts.set(eve.id, { name: 'fwd', text: 'redirect "dee@example.test";' });
    await deliver(dee, 'From: x@remote.test\nTo: dee@example.test\nSubject: ping-pong\n\nbody\n');
    while ((await agent.pass()) > 0);
    const kept = await folder(dee, 'INBOX');
    expect(kept).toHaveLength(1);
    expect(kept[0]!.text).toContain(`${REDIRECT_FIELD}: eve@example.test\r\n${REDIRECT_FIELD}: dee@example.test\r\n`);
    expect(await folder(eve, 'INBOX')).toEqual([]);
    const loops = await store.meta.events.list('sieve.error');
    expect(loops.some((e) => String(e.data.error).includes('would loop'))).toBe(true);
  });

  it('reject sends an RFC 5429 refusal to the sender, never to the null sender', async () => {
    const fay = await account('fay');
    await clearOutgoing();
    scripts.scripts.set(fay.id, { name: 'no', text: 'require "reject";\nreject "I do not take mail from you.";' });
    await deliver(fay, corpus('flanker-encoded-header.eml').toString('latin1'), 'foo.bar@example.com');
    await deliver(fay, 'From: x@remote.test\nSubject: bounce\n\nbody\n', '');
    const out = await outgoing();
    expect(out.map((o) => [o.to, o.sender])).toEqual([['foo.bar@example.com', '']]);
    const mdn = out[0]!.text;
    expect(mdn).toContain('Content-Type: multipart/report; report-type=disposition-notification;');
    expect(mdn).toContain('Disposition: automatic-action/MDN-sent-automatically; deleted');
    expect(mdn).toContain('Original-Message-ID: <1234567890-1234-4567@example.com>');
    expect(mdn).toContain('I do not take mail from you.');
    expect(await folder(fay, 'INBOX')).toEqual([]);
  });

  it('an account without a script gets mail in INBOX as always', async () => {
    const gus = await account('gus');
    await deliver(gus, 'From: x@remote.test\nSubject: plain\n\nbody\n');
    expect(await folder(gus, 'INBOX')).toHaveLength(1);
  });
});
