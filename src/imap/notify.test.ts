/** NOTIFY (RFC 5465): what a session hears about other mailboxes, the selected one, and folder changes, unasked. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RawClient, startHarness, type Harness } from './testing/harness.js';

let h: Harness;
const clients: RawClient[] = [];

beforeEach(async () => {
  h = await startHarness();
  await h.meta.mailboxes.createFolder(h.account.id, 'Lists', null, 0);
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await h.close();
});

async function session(): Promise<RawClient> {
  const c = await RawClient.tls(h.ports.tls);
  clients.push(c);
  await c.line();
  await c.login();
  return c;
}

/** The next line the server sends unasked; fails the test rather than waiting forever. */
async function unsolicited(c: RawClient): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new Error('no notification within 5 s')), 5000)));
  try {
    const l = await Promise.race([c.line(), timeout]);
    if (l === null) throw new Error('connection closed');
    return l;
  } finally {
    clearTimeout(timer);
  }
}

const ok = async (c: RawClient, tag: string, text: string): Promise<string[]> => {
  const r = await c.command(tag, text);
  expect(r.at(-1)).toMatch(new RegExp(`^${tag} OK`));
  return r.slice(0, -1);
};

describe('NOTIFY', () => {
  it('is advertised once logged in', async () => {
    const c = await RawClient.tls(h.ports.tls);
    clients.push(c);
    await c.line();
    expect((await c.command('a', 'CAPABILITY'))[0]).not.toMatch(/\bNOTIFY\b/);
    await c.login();
    expect((await c.command('b', 'CAPABILITY'))[0]).toMatch(/\bNOTIFY\b/);
  });

  it.each([
    ['NOTIFY SET (SELECTED (MessageNew))', /^n BAD MessageNew requires MessageExpunge/],
    ['NOTIFY SET (SELECTED (FlagChange MessageExpunge))', /^n BAD FlagChange requires MessageNew and MessageExpunge/],
    ['NOTIFY SET (PERSONAL (MessageNew (UID) MessageExpunge))', /^n BAD MessageNew fetch attributes apply to the selected mailbox only/],
    ['NOTIFY SET (SELECTED (MessageNew (RFC822) MessageExpunge))', /^n BAD RFC822 would set/],
    ['NOTIFY SET (SELECTED (MessageNew MessageExpunge)) (SELECTED-DELAYED NONE)', /^n BAD SELECTED and SELECTED-DELAYED may be given once/],
    ['NOTIFY SET (PERSONAL (MessageNew MessageExpunge AnnotationChange))',
      /^n NO \[BADEVENT \(MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange\)\] Event AnnotationChange is not supported/],
    ['NOTIFY SET (INBOXES (MailboxMetadataChange))', /^n NO \[BADEVENT \(/],
    ['NOTIFY SET (INBOXES (ServerMetadataChange))', /^n NO \[BADEVENT \(/],
    ['NOTIFY SET (INBOXES (FancyNewEvent))', /^n NO \[BADEVENT \(.*\)\] Event FANCYNEWEVENT is not supported/],
    ['NOTIFY SET (SOMEWHERE (MessageNew))', /^n BAD Unknown NOTIFY mailbox filter/],
  ])('refuses %s', async (text, answer) => {
    const c = await session();
    expect((await c.command('n', text)).at(-1)).toMatch(answer);
  });

  it('refuses to watch more mailboxes than allowed', async () => {
    h.deps.notify = { maxMailboxes: 2 };
    const c = await session();
    expect((await c.command('n', 'NOTIFY SET (PERSONAL (MessageNew MessageExpunge))')).at(-1)).toBe('n NO [LIMIT] NOTIFY may watch at most 2 mailboxes');
    // Fewer mailboxes are fine.
    await ok(c, 'm', 'NOTIFY SET (MAILBOXES (INBOX Lists) (MessageNew MessageExpunge))');
  });

  it('sends STATUS for mail arriving in a mailbox that is not selected, and a STATUS of each at SET STATUS', async () => {
    const c = await session();
    const set = await ok(c, 'n', 'NOTIFY SET STATUS (MAILBOXES (INBOX Lists) (MessageNew MessageExpunge))');
    expect(set).toEqual([expect.stringMatching(/^\* STATUS "INBOX" \(MESSAGES 0 UIDNEXT 1 UIDVALIDITY \d+ UNSEEN 0\)$/), expect.stringMatching(/^\* STATUS "Lists" \(MESSAGES 0 /)]);
    await h.deliver('Lists', 'Subject: one\n\nbody\n');
    expect(await unsolicited(c)).toMatch(/^\* STATUS "Lists" \(MESSAGES 1 UIDNEXT 2 UIDVALIDITY \d+ UNSEEN 1\)$/);
    // Another folder is not watched: nothing for it.
    await h.meta.mailboxes.createFolder(h.account.id, 'Other', null, 0);
    await h.deliver('Other', 'Subject: two\n\nbody\n');
    expect(await c.command('x', 'NOOP')).toEqual(['x OK NOOP completed']);
  });

  it('takes one message event alone for a mailbox that is not selected, and sends STATUS only for that event', async () => {
    const c = await session();
    await ok(c, 'n', 'NOTIFY SET (MAILBOXES Lists (MessageExpunge))');
    const first = await h.deliver('Lists', 'Subject: one\n\nbody\n');
    await h.deliver('Lists', 'Subject: two\n\nbody\n');
    // Arrivals are not what was asked for.
    expect(await c.command('x', 'NOOP')).toEqual(['x OK NOOP completed']);
    const folder = (await h.meta.mailboxes.getFolder(h.account.id, 'Lists'))!;
    await h.meta.mailboxes.expunge(folder.id, [first]);
    h.deps.notifier.changed(folder.id);
    expect(await unsolicited(c)).toMatch(/^\* STATUS "Lists" \(MESSAGES 1 UIDNEXT 3 /);
    await ok(c, 'm', 'NOTIFY SET (MAILBOXES Lists (MessageNew))');
    await h.deliver('Lists', 'Subject: three\n\nbody\n');
    expect(await unsolicited(c)).toMatch(/^\* STATUS "Lists" \(MESSAGES 2 UIDNEXT 4 /);
    // FlagChange alone: a STATUS at SET STATUS with the modseq, CONDSTORE or not.
    expect(await ok(c, 'f', 'NOTIFY SET STATUS (MAILBOXES Lists (FlagChange))')).toEqual([
      expect.stringMatching(/^\* STATUS "Lists" \(MESSAGES 2 UIDNEXT 4 UIDVALIDITY \d+ UNSEEN 2 HIGHESTMODSEQ \d+\)$/),
    ]);
    // The selected mailbox keeps RFC 5465's pairing rule.
    expect((await c.command('s', 'NOTIFY SET (SELECTED (MessageNew))')).at(-1)).toMatch(/^s BAD MessageNew requires MessageExpunge/);
  });

  it('counts a changed folder once for all the sessions that watch it', async () => {
    const a = await session();
    const b = await session();
    for (const c of [a, b]) await ok(c, 'n', 'NOTIFY SET (MAILBOXES Lists (MessageNew MessageExpunge))');
    const counted = vi.spyOn(h.meta.mailboxes, 'folderStats');
    await h.deliver('Lists', 'Subject: one\n\nbody\n');
    for (const c of [a, b]) expect(await unsolicited(c)).toMatch(/^\* STATUS "Lists" \(MESSAGES 1 UIDNEXT 2 /);
    expect(counted).toHaveBeenCalledTimes(1);
    await h.deliver('Lists', 'Subject: two\n\nbody\n');
    for (const c of [a, b]) expect(await unsolicited(c)).toMatch(/^\* STATUS "Lists" \(MESSAGES 2 UIDNEXT 3 /);
    expect(counted).toHaveBeenCalledTimes(2);
  });

  it('sends a flag change only with FlagChange, with HIGHESTMODSEQ once CONDSTORE is on', async () => {
    const uid = await h.deliver('Lists', 'Subject: one\n\nbody\n');
    const folder = (await h.meta.mailboxes.getFolder(h.account.id, 'Lists'))!;
    const c = await session();
    await ok(c, 'e', 'ENABLE CONDSTORE');
    await ok(c, 'n', 'NOTIFY SET (MAILBOXES Lists (MessageNew MessageExpunge))');
    await h.meta.mailboxes.storeFlags(folder.id, { uids: [uid], op: 'add', flags: ['\\Seen'] });
    h.deps.notifier.changed(folder.id);
    expect(await c.command('x', 'NOOP')).toEqual(['x OK NOOP completed']);
    await ok(c, 'm', 'NOTIFY SET (MAILBOXES Lists (MessageNew MessageExpunge FlagChange))');
    await h.meta.mailboxes.storeFlags(folder.id, { uids: [uid], op: 'remove', flags: ['\\Seen'] });
    h.deps.notifier.changed(folder.id);
    expect(await unsolicited(c)).toMatch(/^\* STATUS "Lists" \(MESSAGES 1 UIDNEXT 2 UIDVALIDITY \d+ UNSEEN 1 HIGHESTMODSEQ \d+\)$/);
  });

  it('sends EXISTS and the FETCH asked for when mail arrives in the selected mailbox, without a command', async () => {
    const c = await session();
    await ok(c, 'e', 'ENABLE IMAP4rev2');
    await ok(c, 's', 'SELECT INBOX');
    await ok(c, 'n', 'NOTIFY SET (SELECTED (MessageNew (UID FLAGS RFC822.SIZE BODY.PEEK[HEADER.FIELDS (Subject)]) MessageExpunge))');
    const uid = await h.deliver('INBOX', 'Subject: hello\nFrom: a@b.test\n\nbody\n');
    expect(await unsolicited(c)).toBe('* 1 EXISTS');
    const fetched = await unsolicited(c);
    expect(fetched).toMatch(new RegExp(`^\\* 1 FETCH \\(UID ${uid} FLAGS \\(\\) RFC822\\.SIZE \\d+ BODY\\[HEADER\\.FIELDS \\(Subject\\)\\] \\{18\\}\\r\\nSubject: hello\\r\\n\\r\\n\\)$`));
    // BODY.PEEK: nothing was marked \Seen, and no other FETCH follows.
    expect(await c.command('f', 'FETCH 1 (FLAGS)')).toEqual(['* 1 FETCH (FLAGS ())', 'f OK FETCH completed']);
    // The session's own change is answered by its command, and not told again.
    expect(await c.command('t', 'STORE 1 +FLAGS (\\Flagged)')).toEqual(['* 1 FETCH (FLAGS (\\Flagged))', 't OK STORE completed']);
    expect(await c.command('u', 'NOOP')).toEqual(['u OK NOOP completed']);
  });

  it('sends expunges of the selected mailbox at once with SELECTED, and holds them with SELECTED-DELAYED', async () => {
    await h.deliver('INBOX', 'Subject: one\n\nbody\n');
    await h.deliver('INBOX', 'Subject: two\n\nbody\n');
    const a = await session();
    const b = await session();
    await ok(a, 'e', 'ENABLE IMAP4rev2');
    await ok(a, 's', 'SELECT INBOX');
    await ok(a, 'n', 'NOTIFY SET (SELECTED-DELAYED (MessageNew MessageExpunge FlagChange))');
    await ok(b, 's', 'SELECT INBOX');
    await ok(b, 'd', 'STORE 1 +FLAGS.SILENT (\\Deleted)');
    expect(await unsolicited(a)).toBe('* 1 FETCH (UID 1 FLAGS (\\Deleted))');
    await ok(b, 'x', 'EXPUNGE');
    // Held: the next command that may carry an expunge does.
    expect(await a.command('y', 'NOOP')).toEqual(['* 1 EXPUNGE', 'y OK NOOP completed']);
    await ok(a, 'm', 'NOTIFY SET (SELECTED (MessageNew MessageExpunge))');
    await ok(b, 'd2', 'STORE 1 +FLAGS.SILENT (\\Deleted)');
    await ok(b, 'x2', 'EXPUNGE');
    const lines = [await unsolicited(a)];
    if (lines[0] !== '* 1 EXPUNGE') lines.push(await unsolicited(a));
    expect(lines.at(-1)).toBe('* 1 EXPUNGE');
  });

  it('sends held expunges during IDLE with SELECTED-DELAYED, and STATUS of other mailboxes too', async () => {
    await h.deliver('INBOX', 'Subject: one\n\nbody\n');
    const a = await session();
    const b = await session();
    await ok(a, 'e', 'ENABLE IMAP4rev2');
    await ok(a, 's', 'SELECT INBOX');
    await ok(a, 'n', 'NOTIFY SET (SELECTED-DELAYED (MessageNew MessageExpunge)) (PERSONAL (MessageNew MessageExpunge))');
    a.write('i IDLE\r\n');
    expect(await unsolicited(a)).toMatch(/^\+ /);
    await ok(b, 's', 'SELECT INBOX');
    await ok(b, 'd', 'STORE 1 +FLAGS.SILENT (\\Deleted)');
    await ok(b, 'x', 'EXPUNGE');
    // The flag change may come first (flags of the selected mailbox are always reported).
    let next = await unsolicited(a);
    if (next.startsWith('* 1 FETCH')) next = await unsolicited(a);
    expect(next).toBe('* 1 EXPUNGE');
    await h.deliver('Lists', 'Subject: list\n\nbody\n');
    expect(await unsolicited(a)).toMatch(/^\* STATUS "Lists" \(MESSAGES 1 /);
    a.write('DONE\r\n');
    expect(await unsolicited(a)).toBe('i OK IDLE terminated');
  });

  it("sends LIST for another session's CREATE, RENAME, DELETE and SUBSCRIBE, not for its own", async () => {
    const a = await session();
    const b = await session();
    await ok(a, 'n', 'NOTIFY SET (PERSONAL (MessageNew MessageExpunge MailboxName SubscriptionChange))');
    await ok(a, 'own', 'CREATE Mine');
    await ok(b, 'c', 'CREATE Work/2026');
    expect(await unsolicited(a)).toBe('* LIST () "/" "Work"');
    expect(await unsolicited(a)).toBe('* LIST () "/" "Work/2026"');
    await ok(b, 'r', 'RENAME Work Jobs');
    expect(await unsolicited(a)).toBe('* LIST () "/" "Jobs" ("OLDNAME" ("Work"))');
    expect(await unsolicited(a)).toBe('* LIST () "/" "Jobs/2026" ("OLDNAME" ("Work/2026"))');
    await ok(b, 's', 'SUBSCRIBE Jobs');
    expect(await unsolicited(a)).toBe('* LIST (\\Subscribed) "/" "Jobs"');
    await ok(b, 'u', 'UNSUBSCRIBE Jobs');
    expect(await unsolicited(a)).toBe('* LIST () "/" "Jobs"');
    await ok(b, 'd', 'DELETE Jobs/2026');
    expect(await unsolicited(a)).toBe('* LIST (\\NonExistent) "/" "Jobs/2026"');
    // A folder created after NOTIFY SET falls under PERSONAL and is watched.
    await h.deliver('Mine', 'Subject: new\n\nbody\n');
    expect(await unsolicited(a)).toMatch(/^\* STATUS "Mine" \(MESSAGES 1 /);
    // NOTIFY NONE: silence.
    await ok(a, 'z', 'NOTIFY NONE');
    await ok(b, 'c2', 'CREATE Later');
    await h.deliver('INBOX', 'Subject: new\n\nbody\n');
    expect(await a.command('q', 'NOOP')).toEqual(['q OK NOOP completed']);
  });

  it('reports folder changes under SUBSCRIBED for subscribed names only', async () => {
    const a = await session();
    const b = await session();
    await ok(b, 'c', 'CREATE Kept');
    await ok(b, 'c2', 'CREATE Other');
    await ok(b, 's', 'SUBSCRIBE Kept');
    await ok(a, 'n', 'NOTIFY SET (SUBSCRIBED (MailboxName SubscriptionChange))');
    await ok(b, 'd2', 'DELETE Other');
    await ok(b, 'd', 'DELETE Kept');
    // The unsubscribed folder's deletion is not news under SUBSCRIBED; the subscribed one's is.
    expect(await unsolicited(a)).toBe('* LIST (\\NonExistent) "/" "Kept"');
    await ok(b, 'c3', 'CREATE Fresh');
    await ok(b, 's2', 'SUBSCRIBE Fresh');
    expect(await unsolicited(a)).toBe('* LIST (\\Subscribed) "/" "Fresh"');
    await ok(b, 'r', 'RENAME Fresh Renamed');
    expect(await unsolicited(a)).toBe('* LIST () "/" "Renamed" ("OLDNAME" ("Fresh"))');
  });

  it('overflows when notifications pile up past the bound, then stays silent', async () => {
    h.deps.notify = { maxPending: 3 };
    const a = await session();
    await ok(a, 'n', 'NOTIFY SET (PERSONAL (MessageNew MessageExpunge MailboxName))');
    // A burst within one turn: more events than may wait.
    for (let i = 0; i < 6; i++) h.deps.notifier.accountChanged(h.account.id, { kind: 'created', name: `Burst${i}` });
    expect(await unsolicited(a)).toMatch(/^\* OK \[NOTIFICATIONOVERFLOW\] /);
    await h.deliver('INBOX', 'Subject: after\n\nbody\n');
    expect(await a.command('q', 'NOOP')).toEqual(['q OK NOOP completed']);
    // NOTIFY SET again starts over.
    await ok(a, 'm', 'NOTIFY SET (INBOXES (MessageNew MessageExpunge))');
    await h.deliver('INBOX', 'Subject: again\n\nbody\n');
    expect(await unsolicited(a)).toMatch(/^\* STATUS "INBOX" \(MESSAGES 2 /);
  });
});
