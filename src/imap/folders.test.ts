/** LIST, LSUB, CREATE, DELETE, RENAME, STATUS, quotas, and SELECT with QRESYNC. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RawClient, startHarness, type Harness } from './testing/harness.js';

let h: Harness;
let c: RawClient;

beforeEach(async () => {
  h = await startHarness({ quotaBytes: 10 * 1024 });
  c = await RawClient.tls(h.ports.tls);
  await c.line();
  await c.login();
});
afterEach(async () => {
  c.close();
  await h.close();
});

describe('folders', () => {
  it('creates parents, lists with children and special use, renames with children, deletes', async () => {
    expect(await c.command('a', 'CREATE Projects/2024/')).toEqual(['a OK CREATE completed']);
    expect(await c.command('b', 'CREATE Projects')).toEqual(['b NO [ALREADYEXISTS] Mailbox already exists']);
    expect(await c.command('c', 'CREATE inbox')).toEqual(['c NO [ALREADYEXISTS] INBOX always exists']);
    expect(await c.command('d', 'CREATE "Bad*Name"')).toEqual(['d NO [CANNOT] Mailbox name contains a character that is not allowed']);
    expect(await c.command('e', 'LIST "" %')).toEqual([
      '* LIST (\\HasNoChildren) "/" "INBOX"',
      '* LIST (\\HasNoChildren \\Archive) "/" "Archive"',
      '* LIST (\\HasNoChildren \\Drafts) "/" "Drafts"',
      '* LIST (\\HasNoChildren \\Junk) "/" "Junk"',
      '* LIST (\\HasChildren) "/" "Projects"',
      '* LIST (\\HasNoChildren \\Sent) "/" "Sent"',
      '* LIST (\\HasNoChildren \\Trash) "/" "Trash"',
      'e OK LIST completed',
    ]);
    expect(await c.command('f', 'LIST "Projects/" *')).toEqual(['* LIST (\\HasNoChildren) "/" "Projects/2024"', 'f OK LIST completed']);
    expect(await c.command('g', 'LIST "" ""')).toEqual(['* LIST (\\Noselect) "/" ""', 'g OK LIST completed']);
    expect(await c.command('h', 'RENAME Projects Work')).toEqual(['h OK RENAME completed']);
    expect(await c.command('i', 'DELETE Work')).toEqual(['i OK DELETE completed']);
    // The child stays; its parent is now only a name.
    expect(await c.command('j', 'LIST "" Work*')).toEqual(['* LIST (\\Noselect \\HasChildren) "/" "Work"', '* LIST (\\HasNoChildren) "/" "Work/2024"', 'j OK LIST completed']);
    expect(await c.command('k', 'SELECT Work')).toEqual(['k NO [NONEXISTENT] No such mailbox']);
    expect(await c.command('l', 'DELETE INBOX')).toEqual(['l NO [CANNOT] INBOX cannot be deleted']);
    expect(await c.command('m', 'RENAME Nope Other')).toEqual(['m NO [NONEXISTENT] No such mailbox']);
  });

  it('answers LIST-EXTENDED selection and return options, and LSUB', async () => {
    await c.command('a', 'CREATE Lists/Dev (USE (\\Archive))');
    // CREATE subscribes nothing (RFC 3501 6.3.6): the client subscribes what it wants.
    expect(await c.command('b', 'LSUB "" Lists*')).toEqual(['b OK LSUB completed']);
    expect(await c.command('b2', 'SUBSCRIBE Lists/Dev')).toEqual(['b2 OK SUBSCRIBE completed']);
    await c.command('c', 'UNSUBSCRIBE Junk');
    expect(await c.command('d', 'LIST (SUBSCRIBED RECURSIVEMATCH) "" "L%"')).toEqual([
      // Lists exists but is not subscribed: it shows only because of its subscribed child.
      '* LIST (\\HasChildren) "/" "Lists" ("CHILDINFO" ("SUBSCRIBED"))',
      'd OK LIST completed',
    ]);
    // The subscribed child matches a pattern itself: no CHILDINFO for its parent.
    expect(await c.command('d2', 'LIST (SUBSCRIBED RECURSIVEMATCH) "" (Lists Lists/Dev)')).toEqual([
      '* LIST (\\HasNoChildren \\Archive \\Subscribed) "/" "Lists/Dev"',
      'd2 OK LIST completed',
    ]);
    expect(await c.command('e', 'LIST (SPECIAL-USE) "" * RETURN (STATUS (MESSAGES UIDNEXT))')).toEqual([
      '* LIST (\\HasNoChildren \\Archive) "/" "Archive"',
      '* STATUS "Archive" (MESSAGES 0 UIDNEXT 1)',
      '* LIST (\\HasNoChildren \\Drafts) "/" "Drafts"',
      '* STATUS "Drafts" (MESSAGES 0 UIDNEXT 1)',
      '* LIST (\\HasNoChildren \\Junk) "/" "Junk"',
      '* STATUS "Junk" (MESSAGES 0 UIDNEXT 1)',
      '* LIST (\\HasNoChildren \\Archive) "/" "Lists/Dev"',
      '* STATUS "Lists/Dev" (MESSAGES 0 UIDNEXT 1)',
      '* LIST (\\HasNoChildren \\Sent) "/" "Sent"',
      '* STATUS "Sent" (MESSAGES 0 UIDNEXT 1)',
      '* LIST (\\HasNoChildren \\Trash) "/" "Trash"',
      '* STATUS "Trash" (MESSAGES 0 UIDNEXT 1)',
      'e OK LIST completed',
    ]);
    expect(await c.command('f', 'LSUB "" %')).toEqual([
      '* LSUB () "/" "INBOX"',
      '* LSUB () "/" "Archive"',
      '* LSUB () "/" "Drafts"',
      '* LSUB (\\Noselect) "/" "Lists"',
      '* LSUB () "/" "Sent"',
      '* LSUB () "/" "Trash"',
      'f OK LSUB completed',
    ]);
    expect(await c.command('g', 'CREATE X (USE (\\All))')).toEqual(['g NO [USEATTR] Unsupported special use']);
  });

  it('keeps subscriptions apart from folders: DELETE and RENAME leave them, LIST (SUBSCRIBED) shows \\NonExistent', async () => {
    expect(await c.command('a', 'CREATE Keep/Child')).toEqual(['a OK CREATE completed']);
    expect(await c.command('b', 'SUBSCRIBE Keep/Child')).toEqual(['b OK SUBSCRIBE completed']);
    expect(await c.command('b2', 'SUBSCRIBE Nowhere')).toEqual(['b2 NO [NONEXISTENT] No such mailbox']);
    expect(await c.command('c', 'DELETE Keep/Child')).toEqual(['c OK DELETE completed']);
    expect(await c.command('d', 'LIST (SUBSCRIBED) "" Keep*')).toEqual(['* LIST (\\NonExistent \\Subscribed) "/" "Keep/Child"', 'd OK LIST completed']);
    expect(await c.command('e', 'LIST "" Keep*')).toEqual(['* LIST (\\HasNoChildren) "/" "Keep"', 'e OK LIST completed']);
    // The unsubscribed parent of a subscribed name that "%" does not reach.
    expect(await c.command('f', 'LSUB "" Keep%')).toEqual(['* LSUB (\\Noselect) "/" "Keep"', 'f OK LSUB completed']);
    expect(await c.command('g', 'LSUB "" Keep/*')).toEqual(['* LSUB () "/" "Keep/Child"', 'g OK LSUB completed']);
    // CREATE again: the name was subscribed all along.
    expect(await c.command('h', 'CREATE Keep/Child')).toEqual(['h OK CREATE completed']);
    expect(await c.command('i', 'LIST "" Keep/* RETURN (SUBSCRIBED)')).toEqual(['* LIST (\\HasNoChildren \\Subscribed) "/" "Keep/Child"', 'i OK LIST completed']);
    // RENAME moves the folder, not the subscription.
    expect(await c.command('j', 'RENAME Keep/Child Moved')).toEqual(['j OK RENAME completed']);
    expect(await c.command('k', 'LSUB "" *')).toContain('* LSUB () "/" "Keep/Child"');
    expect(await c.command('l', 'LSUB "" Moved')).toEqual(['l OK LSUB completed']);
    expect(await c.command('m', 'UNSUBSCRIBE Keep/Child')).toEqual(['m OK UNSUBSCRIBE completed']);
    expect(await c.command('n', 'UNSUBSCRIBE Keep/Child')).toEqual(['n NO [NONEXISTENT] Not subscribed']);
    expect(await c.command('o', 'LIST (SUBSCRIBED) "" Keep*')).toEqual(['o OK LIST completed']);
  });

  it('sends mailbox names in modified UTF-7, or UTF-8 once IMAP4rev2 is enabled', async () => {
    expect(await c.command('a', 'CREATE "Entw&APw-rfe"')).toEqual(['a OK CREATE completed']);
    expect(await c.command('b', 'LIST "" Entw*')).toEqual(['* LIST (\\HasNoChildren) "/" "Entw&APw-rfe"', 'b OK LIST completed']);
    await c.command('c', 'ENABLE IMAP4rev2');
    const utf8 = (await c.command('d', 'LIST "" Entw*')).map((l) => Buffer.from(l, 'latin1').toString('utf8'));
    expect(utf8).toEqual(['* LIST (\\HasNoChildren) "/" "Entwürfe"', 'd OK LIST completed']);
    expect((await c.command('e', 'SELECT "Entwürfe"')).at(-1)).toBe('e OK [READ-WRITE] SELECT completed');
  });

  it('reads and sends UTF-8 mailbox names once UTF8=ACCEPT is enabled (RFC 6855), and not before', async () => {
    const text = (lines: string[]) => lines.map((l) => Buffer.from(l, 'latin1').toString('utf8'));
    expect((await c.command('z', 'CAPABILITY'))[0]).toContain(' UTF8=ACCEPT');
    expect(await c.command('a', 'CREATE "Gr&APYA3w-e"')).toEqual(['a OK CREATE completed']);
    // Before ENABLE an ASCII name is modified UTF-7: "&APY-" is not read as UTF-8.
    expect(await c.command('b', 'LIST "" Gr*')).toEqual(['* LIST (\\HasNoChildren) "/" "Gr&APYA3w-e"', 'b OK LIST completed']);
    expect(await c.command('c', 'ENABLE UTF8=ACCEPT')).toEqual(['* ENABLED UTF8=ACCEPT', 'c OK ENABLE completed']);
    expect(text(await c.command('d', 'LIST "" Gr*'))).toEqual(['* LIST (\\HasNoChildren) "/" "Größe"', 'd OK LIST completed']);
    expect(await c.command('e', 'CREATE "Größe/Übersicht"')).toEqual(['e OK CREATE completed']);
    expect(text(await c.command('f', 'STATUS "Größe/Übersicht" (MESSAGES)'))).toEqual(['* STATUS "Größe/Übersicht" (MESSAGES 0)', 'f OK STATUS completed']);
    // After ENABLE, "&" is an ordinary character of a UTF-8 name.
    expect(await c.command('g', 'CREATE "A&B"')).toEqual(['g OK CREATE completed']);
    expect(await c.command('h', 'LIST "" A&B')).toEqual(['* LIST (\\HasNoChildren) "/" "A&B"', 'h OK LIST completed']);
    // RFC 6855 3: SEARCH with a CHARSET is refused once UTF8=ACCEPT is on; without one it runs.
    expect(await c.command('i', 'SELECT INBOX')).toContain('i OK [READ-WRITE] SELECT completed');
    expect((await c.command('j', 'SEARCH CHARSET UTF-8 ALL')).at(-1)).toMatch(/^j BAD /);
    expect((await c.command('k', 'SEARCH ALL')).at(-1)).toBe('k OK SEARCH completed');
  });
});

describe('STATUS and quota', () => {
  it('counts without selecting and reports storage against the quota', async () => {
    await h.deliver('INBOX', 'Subject: one\n\nx\n', ['\\Seen']);
    await h.deliver('INBOX', 'Subject: two\n\nyy\n', ['\\Deleted']);
    const inbox = (await h.meta.mailboxes.getFolder(h.account.id, 'INBOX'))!;
    expect(await c.command('a', 'STATUS INBOX (MESSAGES UNSEEN DELETED SIZE UIDNEXT UIDVALIDITY HIGHESTMODSEQ)')).toEqual([
      `* STATUS "INBOX" (MESSAGES 2 UNSEEN 1 DELETED 1 SIZE 39 UIDNEXT 3 UIDVALIDITY ${inbox.uidValidity} HIGHESTMODSEQ ${inbox.highestModseq})`,
      'a OK STATUS completed',
    ]);
    expect(await c.command('b', 'GETQUOTAROOT INBOX')).toEqual(['* QUOTAROOT "INBOX" ""', '* QUOTA "" (STORAGE 1 10)', 'b OK GETQUOTAROOT completed']);
    expect(await c.command('c', 'GETQUOTA ""')).toEqual(['* QUOTA "" (STORAGE 1 10)', 'c OK GETQUOTA completed']);
    expect(await c.command('d', 'SETQUOTA "" (STORAGE 1)')).toEqual(['d NO [NOPERM] Quotas are set by the administrator']);
  });
});

describe('names with atom characters', () => {
  it("accepts !#$&'+,-. and ] in names and LIST patterns written as atoms", async () => {
    // "&" is written "&-" in modified UTF-7 (RFC 3501 5.1.3).
    const name = "a!#$&-'+,-.b]c";
    expect(await c.command('a', `CREATE ${name}/x`)).toEqual(['a OK CREATE completed']);
    expect(await c.command('b', `LIST "" ${name}*`)).toEqual([
      `* LIST (\\HasChildren) "/" "${name}"`,
      `* LIST (\\HasNoChildren) "/" "${name}/x"`,
      'b OK LIST completed',
    ]);
    expect(await c.command('c', `LIST "" a!#$&-'+,-.%/%`)).toEqual([`* LIST (\\HasNoChildren) "/" "${name}/x"`, 'c OK LIST completed']);
    expect(await c.command('d', `STATUS ${name} (MESSAGES)`)).toEqual([`* STATUS "${name}" (MESSAGES 0)`, 'd OK STATUS completed']);
    expect((await c.command('e', `SELECT ${name}/x`)).at(-1)).toBe('e OK [READ-WRITE] SELECT completed');
    expect(await c.command('f', `RENAME ${name} z.+,`)).toEqual(['f OK RENAME completed']);
    expect(await c.command('g', 'LIST "" z.+,*')).toEqual(['* LIST (\\HasChildren) "/" "z.+,"', '* LIST (\\HasNoChildren) "/" "z.+,/x"', 'g OK LIST completed']);
    expect(await c.command('h', "CREATE a&b")).toEqual(['h NO Mailbox name is not valid modified UTF-7']);
  });
});

describe('quota rounding', () => {
  it('rounds usage and limit alike, so usage within the limit never reads as above it', async () => {
    const small = await startHarness({ quotaBytes: 3000 });
    const q = await RawClient.tls(small.ports.tls);
    try {
      await q.line();
      await q.login();
      await small.deliver('INBOX', `Subject: fill\n\n${'x'.repeat(2909 - 'Subject: fill\r\n\r\n'.length)}`);
      expect(await small.meta.mailboxes.usage(small.account.id)).toBe(2909);
      expect(await q.command('a', 'GETQUOTA ""')).toEqual(['* QUOTA "" (STORAGE 3 3)', 'a OK GETQUOTA completed']);
    } finally {
      q.close();
      await small.close();
    }
  });
});

describe('QRESYNC', () => {
  it('replays what changed since a known modseq on SELECT', async () => {
    for (let i = 1; i <= 4; i++) await h.deliver('INBOX', `Subject: ${i}\n\nx\n`);
    const inbox = (await h.meta.mailboxes.getFolder(h.account.id, 'INBOX'))!;
    const known = inbox.highestModseq;
    await h.meta.mailboxes.storeFlags(inbox.id, { uids: [2], op: 'add', flags: ['\\Seen'] });
    await h.meta.mailboxes.expunge(inbox.id, [3]);
    expect(await c.command('a', `SELECT INBOX (QRESYNC (${inbox.uidValidity} ${known}))`)).toEqual(['a BAD QRESYNC is not enabled']);
    await c.command('b', 'ENABLE QRESYNC');
    const r = await c.command('c', `SELECT INBOX (QRESYNC (${inbox.uidValidity} ${known} 1:4))`);
    expect(r.slice(-3)).toEqual(['* VANISHED (EARLIER) 3', `* 2 FETCH (UID 2 FLAGS (\\Recent \\Seen) MODSEQ (${known + 1}))`, 'c OK [READ-WRITE] SELECT completed']);
    expect(await c.command('d', `UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${known} VANISHED)`)).toEqual([
      '* VANISHED (EARLIER) 3',
      `* 2 FETCH (UID 2 FLAGS (\\Recent \\Seen) MODSEQ (${known + 1}))`,
      'd OK FETCH completed',
    ]);
  });
});
