/**
 * imapflow (the IMAP client of the Nodemailer project) against postern:
 * LIST, STATUS, SELECT, FETCH of source/envelope/bodystructure/flags, SEARCH,
 * STORE, MOVE, COPY, APPEND, and IDLE with changes made by others (the store
 * and notifier, as local delivery does, and a second client).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ImapFlow, type FetchMessageObject, type ImapFlowOptions } from 'imapflow';
import { makeMessage, startHarness, type Harness, type Stored, type TestUser } from './harness.js';
import { corpusMessages } from './corpus.js';

let h: Harness;
const open: ImapFlow[] = [];

beforeAll(async () => {
  h = await startHarness();
});

afterEach(async () => {
  for (const c of open.splice(0)) {
    try {
      await c.logout();
    } catch {
      c.close();
    }
  }
});

afterAll(async () => {
  await h?.close();
});

async function connect(user: TestUser, over: 'tls' | 'starttls' = 'tls', extra: Partial<ImapFlowOptions> = {}): Promise<ImapFlow> {
  const c = new ImapFlow({
    host: '127.0.0.1',
    port: over === 'tls' ? h.ports.tls : h.ports.starttls,
    secure: over === 'tls',
    doSTARTTLS: over === 'starttls' ? true : undefined,
    tls: { ca: h.ca },
    auth: { user: user.address, pass: user.password },
    logger: false,
    disableAutoIdle: true,
    ...extra,
  } as ImapFlowOptions);
  c.on('error', () => undefined); // surfaced through the failing call instead
  open.push(c);
  await c.connect();
  return c;
}

/** Resolves with the first event that matches, or rejects after a bounded wait. */
function nextEvent<T>(c: ImapFlow, name: string, match: (e: T) => boolean, waitMs = 20_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      c.off(name, on);
      reject(new Error(`no ${name} event within ${waitMs} ms`));
    }, waitMs);
    const on = (e: T): void => {
      if (!match(e)) return;
      clearTimeout(timer);
      c.off(name, on);
      resolve(e);
    };
    c.on(name, on);
  });
}

let n = 0;
async function userWithCorpus(): Promise<{ user: TestUser; msgs: (Stored & { name: string })[] }> {
  const user = await h.addUser(`flow${++n}`);
  const msgs: (Stored & { name: string })[] = [];
  for (const [i, m] of corpusMessages().entries()) {
    msgs.push({ ...(await h.addMessage(user, 'INBOX', m.bytes, { flags: i % 2 ? ['\\Seen'] : [] })), name: m.name });
  }
  return { user, msgs };
}

const quick = (subject: string, from = 'someone@remote.test'): Buffer =>
  makeMessage({ from, subject, date: 'Wed, 3 Jan 2024 09:00:00 +0000' }, `text of ${subject}`);

describe('imapflow', () => {
  it('lists folders with special-use flags and reads STATUS over TLS and STARTTLS', async () => {
    const { user, msgs } = await userWithCorpus();
    for (const over of ['tls', 'starttls'] as const) {
      const c = await connect(user, over);
      expect(c.secureConnection || over === 'starttls').toBe(true);
      const list = await c.list();
      const byUse = Object.fromEntries(list.filter((l) => l.specialUse).map((l) => [l.specialUse, l.path]));
      expect(byUse).toMatchObject({ '\\Sent': 'Sent', '\\Drafts': 'Drafts', '\\Trash': 'Trash', '\\Junk': 'Junk', '\\Archive': 'Archive' });
      expect(list.map((l) => l.path)).toContain('INBOX');
      const inbox = await h.folder(user, 'INBOX');
      const status = await c.status('INBOX', { messages: true, unseen: true, uidNext: true, uidValidity: true });
      expect(status).toMatchObject({
        messages: msgs.length,
        unseen: msgs.filter((m) => !m.message.flags.includes('\\Seen')).length,
        uidNext: inbox.uidNext,
      });
      expect(Number((status as { uidValidity: bigint }).uidValidity)).toBe(inbox.uidValidity);
      await c.logout();
      open.splice(open.indexOf(c), 1);
    }
  });

  it('fetches source (byte for byte), envelope, bodyStructure and flags', async () => {
    const { user, msgs } = await userWithCorpus();
    const c = await connect(user);
    const box = await c.mailboxOpen('INBOX', { readOnly: true });
    expect(box.exists).toBe(msgs.length);
    const got: FetchMessageObject[] = await c.fetchAll('1:*', { uid: true, source: true, envelope: true, bodyStructure: true, flags: true, size: true });
    expect(got.map((m) => m.uid)).toEqual(msgs.map((m) => m.uid));
    for (const [i, m] of got.entries()) {
      const want = msgs[i]!;
      expect(m.source?.equals(want.bytes), `${want.name} source`).toBe(true);
      expect(m.size).toBe(want.bytes.length);
      expect([...(m.flags ?? [])].filter((f) => f !== '\\Recent').sort()).toEqual([...want.message.flags].sort());
    }
    const rfc2060 = got[msgs.findIndex((m) => m.name === 'mimekit-rfc2060.txt')]!;
    expect(rfc2060.envelope?.subject).toBe('Sample message structure for IMAP part specifiers');
    expect(rfc2060.envelope?.from?.[0]?.address).toBe('me@myself.com');
    const parts: string[] = [];
    const walk = (n: { part?: string; type: string; childNodes?: unknown[] }): void => {
      parts.push(`${n.part ?? ''}:${n.type}`);
      for (const child of (n.childNodes ?? []) as (typeof n)[]) walk(child);
    };
    walk(rfc2060.bodyStructure as { type: string });
    expect(parts).toEqual([
      ':multipart/mixed',
      '1:text/plain',
      '2:application/octet-stream',
      '3:message/rfc822',
      '3:multipart/mixed',
      '3.1:text/plain',
      '3.2:application/octet-stream',
      '4:multipart/mixed',
      '4.1:image/gif',
      '4.2:message/rfc822',
      '4.2:multipart/mixed',
      '4.2.1:text/plain',
      '4.2.2:multipart/alternative',
      '4.2.2.1:text/plain',
      '4.2.2.2:text/richtext',
    ]);
    const japanese = got[msgs.findIndex((m) => m.name === 'mimekit-japanese.txt')]!;
    // imapflow decodes the RFC 2047 subject itself from the raw header value the server sent.
    expect(japanese.envelope?.subject).toBe('日本語メールテスト (testing Japanese emails)');
  });

  it('searches, adds flags, copies, moves and appends', async () => {
    const user = await h.addUser(`flow${++n}`);
    const a = await h.addMessage(user, 'INBOX', quick('alpha report', 'ann@alpha.test'));
    const b = await h.addMessage(user, 'INBOX', quick('beta notes', 'bob@beta.test'), { flags: ['\\Seen'] });
    const c3 = await h.addMessage(user, 'INBOX', quick('alpha follow-up', 'carol@gamma.test'));
    const c = await connect(user, 'starttls');
    await c.mailboxOpen('INBOX');
    expect(await c.search({ from: 'alpha.test' }, { uid: true })).toEqual([a.uid]);
    expect(await c.search({ subject: 'alpha' }, { uid: true })).toEqual([a.uid, c3.uid]);
    expect(await c.search({ seen: false }, { uid: true })).toEqual([a.uid, c3.uid]);
    expect(await c.search({ or: [{ from: 'bob' }, { from: 'carol' }] }, { uid: true })).toEqual([b.uid, c3.uid]);

    expect(await c.messageFlagsAdd(String(a.uid), ['\\Flagged', '$Project'], { uid: true })).toBe(true);
    const inbox = await h.folder(user, 'INBOX');
    const [stored] = await h.store.meta.mailboxes.getMessages(inbox.id, [a.uid]);
    expect([...stored!.flags].sort()).toEqual(['$Project', '\\Flagged']);

    const copied = await c.messageCopy(String(b.uid), 'Archive', { uid: true });
    expect(copied && copied.destination).toBe('Archive');
    const moved = await c.messageMove(String(c3.uid), 'Trash', { uid: true });
    expect(moved && moved.destination).toBe('Trash');
    expect((await h.store.meta.mailboxes.listMessages(inbox.id)).map((m) => m.uid)).toEqual([a.uid, b.uid]);
    const archive = await h.store.meta.mailboxes.listMessages((await h.folder(user, 'Archive')).id);
    const trash = await h.store.meta.mailboxes.listMessages((await h.folder(user, 'Trash')).id);
    expect(archive.map((m) => m.blobId)).toEqual([b.message.blobId]);
    expect(trash.map((m) => m.blobId)).toEqual([c3.message.blobId]);
    if (copied && copied.uidMap) expect([...copied.uidMap.entries()]).toEqual([[b.uid, archive[0]!.uid]]);
    if (moved && moved.uidMap) expect([...moved.uidMap.entries()]).toEqual([[c3.uid, trash[0]!.uid]]);

    const draft = quick('draft via imapflow');
    const when = new Date('2022-08-09T10:11:12Z');
    const appended = await c.append('Drafts', draft, ['\\Draft'], when);
    expect(appended).toBeTruthy();
    const drafts = await h.store.meta.mailboxes.listMessages((await h.folder(user, 'Drafts')).id);
    expect(drafts).toHaveLength(1);
    expect(drafts[0]!.flags).toEqual(['\\Draft']);
    expect(drafts[0]!.internalDate).toBe(when.getTime());
    expect((await h.bytesOf(user, 'Drafts', drafts[0]!.uid)).equals(draft)).toBe(true);
    if (appended && appended.uid !== undefined) expect(appended.uid).toBe(drafts[0]!.uid);
    await c.mailboxOpen('Drafts', { readOnly: true });
    const back = await c.fetchOne('*', { source: true });
    expect(back && back.source?.equals(draft)).toBe(true);
  });

  it('IDLE: a message delivered through the store and notifier arrives as an exists event', async () => {
    const user = await h.addUser(`flow${++n}`);
    await h.addMessage(user, 'INBOX', quick('first'));
    const c = await connect(user);
    await c.mailboxOpen('INBOX');
    const exists = nextEvent<{ path: string; count: number; prevCount: number }>(c, 'exists', (e) => e.path === 'INBOX');
    const idling = c.idle();
    // Give the IDLE command a moment to be on the wire before delivery; delivery during IDLE setup is also fine.
    await new Promise((r) => setTimeout(r, 100));
    const delivered = await h.addMessage(user, 'INBOX', quick('delivered while idling'));
    const e = await exists;
    expect(e).toMatchObject({ path: 'INBOX', count: 2, prevCount: 1 });
    // The next command ends IDLE; the new message is there.
    const m = await c.fetchOne('2', { uid: true, source: true });
    expect(m && m.uid).toBe(delivered.uid);
    expect(m && m.source?.equals(delivered.bytes)).toBe(true);
    await idling;
  });

  it('two clients on one mailbox: flags set by one reach the other in IDLE and after NOOP', async () => {
    const user = await h.addUser(`flow${++n}`);
    const first = await h.addMessage(user, 'INBOX', quick('shared one'));
    const second = await h.addMessage(user, 'INBOX', quick('shared two'));
    const watcher = await connect(user);
    const writer = await connect(user, 'starttls');
    await watcher.mailboxOpen('INBOX');
    await writer.mailboxOpen('INBOX');

    type FlagsEvent = { path: string; seq: number; uid?: number; flags: Set<string> };
    const inIdle = nextEvent<FlagsEvent>(watcher, 'flags', (e) => e.seq === 1 && e.flags.has('\\Flagged'));
    const idling = watcher.idle();
    await new Promise((r) => setTimeout(r, 100));
    await writer.messageFlagsAdd(String(first.uid), ['\\Flagged'], { uid: true });
    const e1 = await inIdle;
    expect(e1.path).toBe('INBOX');
    // A command breaks IDLE; then a NOOP must carry the next change.
    await watcher.noop();
    await idling;
    const afterNoop = nextEvent<FlagsEvent>(watcher, 'flags', (e) => e.seq === 2 && e.flags.has('\\Seen')).catch(() => null);
    await writer.messageFlagsAdd(String(second.uid), ['\\Seen'], { uid: true });
    let e2: FlagsEvent | null = null;
    for (let i = 0; i < 20 && !e2; i++) {
      await watcher.noop();
      e2 = await Promise.race([afterNoop, new Promise<null>((r) => setTimeout(() => r(null), 100))]);
    }
    expect(e2?.flags.has('\\Seen')).toBe(true);
  });
});
