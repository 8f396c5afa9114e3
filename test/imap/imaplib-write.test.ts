/**
 * Python's imaplib changing mailboxes: STORE, COPY, MOVE, EXPUNGE, APPEND
 * (read back byte for byte), CREATE/RENAME/DELETE, STATUS, GETQUOTAROOT,
 * NAMESPACE, and IDLE (imaplib 3.11 has no idle(), so it is sent raw). Each
 * test has its own account; results are checked in the store as well as in
 * what the client saw.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeMessage, startHarness, toCrlf, type Harness, type Stored, type TestUser } from './harness.js';
import { corpusFile } from './corpus.js';
import { fromB64, pyParams, runPython } from './python.js';
import { parseImapDate } from './util.js';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});

afterAll(async () => {
  await h?.close();
});

let users = 0;
async function userWith(n: number, flags: string[][] = []): Promise<{ user: TestUser; msgs: Stored[] }> {
  const user = await h.addUser(`writer${++users}`);
  const msgs: Stored[] = [];
  for (let i = 0; i < n; i++) {
    const bytes = makeMessage({ from: `sender${i}@remote.test`, subject: `message ${i + 1}`, date: 'Tue, 2 Jan 2024 10:00:00 +0000' }, `body ${i + 1}`);
    msgs.push(await h.addMessage(user, 'INBOX', bytes, { flags: flags[i] ?? [] }));
  }
  return { user, msgs };
}

const listOf = async (user: TestUser, folder: string) => h.store.meta.mailboxes.listMessages((await h.folder(user, folder)).id);
const sorted = (a: readonly string[]): string[] => a.filter((f) => f !== '\\Recent').sort();

describe('imaplib changes mailboxes', () => {
  it('STORE +FLAGS, -FLAGS and +FLAGS.SILENT change flags and report them', async () => {
    const { user, msgs } = await userWith(3);
    const r = await runPython(
      `
m = login(tls())
ok(m.select('INBOX'), 'SELECT')
emit('add', [x.decode() for x in ok(m.store('1', '+FLAGS', '(\\\\Flagged $Work)'), '+FLAGS') if x])
emit('seen', [x.decode() for x in ok(m.store('2', '+FLAGS', '(\\\\Seen)'), '+FLAGS') if x])
emit('remove', [x.decode() for x in ok(m.store('1', '-FLAGS', '($Work)'), '-FLAGS') if x])
typ, data = m.uid('STORE', str(P['uid3']), '+FLAGS.SILENT', '(\\\\Deleted)')
emit('silent', [typ, [x.decode() if x else None for x in data]])
emit('after', [x.decode() for x in ok(m.fetch('1:3', '(UID FLAGS)'), 'FETCH') if x])
m.logout()
`,
      pyParams(h, user, { uid3: msgs[2]!.uid }),
    );
    expect((r.add as string[]).join(' ')).toMatch(/FLAGS \((?=[^)]*\\Flagged)(?=[^)]*\$Work)[^)]*\)/);
    expect((r.remove as string[]).join(' ')).not.toContain('$Work');
    expect((r.remove as string[]).join(' ')).toContain('\\Flagged');
    expect((r.silent as [string, unknown[]])[0]).toBe('OK');
    // .SILENT: no FETCH for the session that stored (RFC 3501 6.4.6).
    expect(JSON.stringify(r.silent)).not.toContain('FLAGS (');
    const stored = await listOf(user, 'INBOX');
    expect(stored.map((m) => sorted(m.flags))).toEqual([['\\Flagged'], ['\\Seen'], ['\\Deleted']]);
    const after = (r.after as string[]).map((l) => ({ uid: Number(/UID (\d+)/.exec(l)?.[1]), flags: sorted(/FLAGS \(([^)]*)\)/.exec(l)?.[1]?.split(' ') ?? []) }));
    expect(after).toEqual(stored.map((m) => ({ uid: m.uid, flags: sorted(m.flags) })));
  });

  it('COPY and UID MOVE place the same bytes in the target; MOVE removes them from the source', async () => {
    const { user, msgs } = await userWith(4);
    const r = await runPython(
      `
m = login(starttls())
ok(m.select('INBOX'), 'SELECT')
emit('copy', [x.decode() for x in ok(m.copy('1:2', 'Archive'), 'COPY')])
typ, data = m.uid('MOVE', str(P['moveUid']), 'Trash')
emit('move', [typ, [x.decode() for x in data if x]])
emit('expunged', [x.decode() for x in m.untagged_responses.get('EXPUNGE', []) if x])
emit('left', nums(ok(m.uid('SEARCH', 'ALL'), 'UID SEARCH')))
ok(m.select('Trash', readonly=True), 'SELECT Trash')
emit('trash', b64(one_literal(ok(m.fetch('1', '(BODY.PEEK[])'), 'FETCH'), 'trash')))
m.logout()
`,
      pyParams(h, user, { moveUid: msgs[3]!.uid }),
    );
    const archive = await listOf(user, 'Archive');
    expect(archive).toHaveLength(2);
    for (const [i, m] of archive.entries()) expect((await h.bytesOf(user, 'Archive', m.uid)).equals(msgs[i]!.bytes)).toBe(true);
    expect((r.move as [string])[0]).toBe('OK');
    expect(r.expunged).toEqual(['4']);
    expect(r.left).toEqual(msgs.slice(0, 3).map((m) => m.uid));
    expect(fromB64(r.trash).equals(msgs[3]!.bytes)).toBe(true);
    expect((await listOf(user, 'INBOX')).map((m) => m.uid)).toEqual(msgs.slice(0, 3).map((m) => m.uid));
    const trash = await listOf(user, 'Trash');
    expect(trash).toHaveLength(1);
    expect((await h.bytesOf(user, 'Trash', trash[0]!.uid)).equals(msgs[3]!.bytes)).toBe(true);
    // UIDPLUS, when offered, names the new UIDs.
    const copyLine = (r.copy as string[]).join(' ');
    if (/COPYUID/.test(copyLine)) expect(copyLine).toMatch(new RegExp(`COPYUID \\d+ ${msgs[0]!.uid}[:,]${msgs[1]!.uid} ${archive[0]!.uid}[:,]${archive[1]!.uid}`));
  });

  it('EXPUNGE removes \\Deleted messages and reports their sequence numbers', async () => {
    const { user, msgs } = await userWith(5, [[], ['\\Deleted'], [], ['\\Deleted', '\\Seen'], []]);
    const r = await runPython(
      `
m = login(tls())
ok(m.select('INBOX'), 'SELECT')
emit('expunged', [x.decode() for x in ok(m.expunge(), 'EXPUNGE') if x])
emit('exists', nums(ok(m.search(None, 'ALL'), 'SEARCH')))
m.logout()
`,
      pyParams(h, user),
    );
    // Each EXPUNGE renumbers the messages after it at once (RFC 3501 7.4.1): replay them in order
    // (ascending with renumbering and descending are both correct) to see which messages went.
    const view = msgs.map((m) => m.uid);
    const gone = (r.expunged as string[]).map((n) => view.splice(Number(n) - 1, 1)[0]);
    expect(gone.sort((a, b) => a! - b!)).toEqual([msgs[1]!.uid, msgs[3]!.uid]);
    expect(r.exists).toEqual([1, 2, 3]);
    expect((await listOf(user, 'INBOX')).map((m) => m.uid)).toEqual([msgs[0]!.uid, msgs[2]!.uid, msgs[4]!.uid]);
  });

  it('APPEND with flags and a date stores the exact bytes; they come back byte for byte', async () => {
    const { user } = await userWith(0);
    const msg = toCrlf(corpusFile('flanker-8bitmime.eml', 'mime'));
    // A message whose header passes postern's storage rule (flanker-iphone.eml starts with a continuation line).
    const plain = toCrlf(corpusFile('flanker-outlook-express.eml', 'imap'));
    const when = Date.parse('2023-11-05T08:09:10Z') / 1000;
    const r = await runPython(
      `
import base64
m = login(tls())
typ, data = m.append('Drafts', '(\\\\Draft \\\\Seen $Pending)', imaplib.Time2Internaldate(P['when']), base64.b64decode(P['msg']))
emit('append', [typ, data[0].decode()])
typ, data = m.append('INBOX', None, None, base64.b64decode(P['plain']))
emit('append2', [typ, data[0].decode()])
ok(m.select('Drafts', readonly=True), 'SELECT Drafts')
emit('body', b64(one_literal(ok(m.fetch('1', '(BODY.PEEK[])'), 'FETCH'), 'body')))
emit('meta', ok(m.fetch('1', '(FLAGS INTERNALDATE RFC822.SIZE)'), 'FETCH')[0].decode())
ok(m.select('INBOX', readonly=True), 'SELECT INBOX')
emit('body2', b64(one_literal(ok(m.fetch('1', '(BODY.PEEK[])'), 'FETCH'), 'body2')))
m.logout()
`,
      pyParams(h, user, { msg: msg.toString('base64'), plain: plain.toString('base64'), when }),
    );
    expect((r.append as string[])[0]).toBe('OK');
    expect((r.append2 as string[])[0]).toBe('OK');
    expect(fromB64(r.body).equals(msg)).toBe(true);
    expect(fromB64(r.body2).equals(plain)).toBe(true);
    const meta = String(r.meta);
    expect(sorted(/FLAGS \(([^)]*)\)/.exec(meta)?.[1]?.split(' ') ?? [])).toEqual(['$Pending', '\\Draft', '\\Seen']);
    expect(parseImapDate(/INTERNALDATE "([^"]+)"/.exec(meta)?.[1])).toBe(when * 1000);
    expect(meta).toMatch(new RegExp(`RFC822\\.SIZE ${msg.length}\\b`));
    const drafts = await listOf(user, 'Drafts');
    expect(drafts).toHaveLength(1);
    expect(drafts[0]!.internalDate).toBe(when * 1000);
    expect((await h.bytesOf(user, 'Drafts', drafts[0]!.uid)).equals(msg)).toBe(true);
    const appendUid = /APPENDUID (\d+) (\d+)/.exec((r.append as string[])[1]!);
    if (appendUid) {
      expect(Number(appendUid[1])).toBe((await h.folder(user, 'Drafts')).uidValidity);
      expect(Number(appendUid[2])).toBe(drafts[0]!.uid);
    }
  });

  it('CREATE, RENAME (children and messages follow) and DELETE folders', async () => {
    const { user } = await userWith(0);
    const r = await runPython(
      `
m = login(tls())
names = lambda: sorted(re.match(rb'\\(.*?\\) (?:"(?:.|\\\\.)"|NIL) "?(.*?)"?$', l).group(1).decode() for l in ok(m.list(), 'LIST') if l)
d = re.match(rb'\\(.*?\\) "(.)"', ok(m.list(), 'LIST')[0]).group(1).decode()
emit('delim', d)
ok(m.create('Projects'), 'CREATE')
ok(m.create('Projects' + d + '2024'), 'CREATE child')
ok(m.append('Projects' + d + '2024', None, None, b'Subject: kept\\r\\n\\r\\nkept across a rename\\r\\n'), 'APPEND')
emit('created', names())
emit('dup', m.create('Projects')[0])
ok(m.rename('Projects', 'Work'), 'RENAME')
emit('renamed', names())
ok(m.select('Work' + d + '2024', readonly=True), 'SELECT renamed child')
emit('kept', b64(one_literal(ok(m.fetch('1', '(BODY.PEEK[])'), 'FETCH'), 'kept')))
ok(m.close(), 'CLOSE')
ok(m.delete('Work' + d + '2024'), 'DELETE child')
ok(m.delete('Work'), 'DELETE')
emit('deleted', names())
emit('missing', m.delete('No-such-folder')[0])
emit('inbox', m.delete('INBOX')[0])
m.logout()
`,
      pyParams(h, user),
    );
    const d = String(r.delim);
    const base = ['Archive', 'Drafts', 'INBOX', 'Junk', 'Sent', 'Trash'];
    expect(r.created).toEqual([...base, 'Projects', `Projects${d}2024`].sort());
    expect(r.dup).toBe('NO');
    expect(r.renamed).toEqual([...base, 'Work', `Work${d}2024`].sort());
    expect(fromB64(r.kept).toString()).toBe('Subject: kept\r\n\r\nkept across a rename\r\n');
    expect(r.deleted).toEqual(base);
    expect(r.missing).toBe('NO');
    expect(r.inbox).toBe('NO'); // RFC 3501 6.3.4: deleting INBOX is an error
    expect((await h.store.meta.mailboxes.listFolders(user.accountId)).map((f) => f.name).sort()).toEqual(base);
  });

  it('STATUS, GETQUOTAROOT and NAMESPACE agree with the store', async () => {
    const user = await h.addUser(`quota${++users}`, { quotaBytes: 10 * 1024 * 1024 });
    for (let i = 0; i < 4; i++) {
      await h.addMessage(user, 'INBOX', makeMessage({ from: 'q@remote.test', subject: `q${i}`, date: 'Tue, 2 Jan 2024 10:00:00 +0000' }, 'z'.repeat(3000)), {
        flags: i < 1 ? ['\\Seen'] : [],
      });
    }
    const r = await runPython(
      `
m = login(tls())
emit('status', ok(m.status('INBOX', '(MESSAGES UIDNEXT UIDVALIDITY UNSEEN)'), 'STATUS')[0].decode())
emit('caps', ' '.join(m.capabilities))
typ, data = m.getquotaroot('INBOX')
emit('quota', [typ, [[x.decode() for x in part if x] for part in data]])
emit('ns', [x.decode() for x in ok(m.namespace(), 'NAMESPACE')])
emit('delim', re.match(rb'\\(.*?\\) "(.)"', ok(m.list(), 'LIST')[0]).group(1).decode())
m.logout()
`,
      pyParams(h, user),
    );
    const inbox = await h.folder(user, 'INBOX');
    const status = String(r.status);
    expect(status).toMatch(/MESSAGES 4\b/);
    expect(status).toMatch(/UNSEEN 3\b/);
    expect(status).toMatch(new RegExp(`UIDNEXT ${inbox.uidNext}\\b`));
    expect(status).toMatch(new RegExp(`UIDVALIDITY ${inbox.uidValidity}\\b`));

    expect(String(r.caps)).toMatch(/\bQUOTA\b/);
    const [typ, [roots, quotas]] = r.quota as [string, string[][]];
    expect(typ).toBe('OK');
    expect(roots!.join(' ')).toMatch(/^"?INBOX"? /);
    const used = await h.store.meta.mailboxes.usage(user.accountId);
    const storage = /STORAGE (\d+) (\d+)/.exec(quotas!.join(' '));
    expect(storage, quotas!.join(' ')).not.toBeNull();
    expect([Math.floor(used / 1024), Math.ceil(used / 1024)]).toContain(Number(storage![1]));
    expect(Number(storage![2])).toBe(10 * 1024);

    // Personal namespace with the hierarchy delimiter LIST uses.
    const ns = (r.ns as string[]).join(' ');
    expect(ns).toMatch(new RegExp(`^\\(\\("[^"]*" "${String(r.delim).replace(/[.\\/]/g, '\\$&')}"\\)\\) `));
  });

  it('flags stored by one session reach another one at NOOP as an untagged FETCH', async () => {
    const { user } = await userWith(2);
    const r = await runPython(
      `
a = login(tls())
ok(a.select('INBOX'), 'SELECT a')
b = login(starttls())
ok(b.select('INBOX'), 'SELECT b')
ok(b.store('2', '+FLAGS', '(\\\\Flagged)'), 'STORE b')
seen = []
for _ in range(20):
    ok(a.noop(), 'NOOP')
    seen += [x.decode() for x in a.untagged_responses.pop('FETCH', []) if x]
    if seen:
        break
    import time; time.sleep(0.05)
emit('fetch', seen)
b.logout()
a.logout()
`,
      pyParams(h, user),
    );
    expect((r.fetch as string[]).join(' ')).toMatch(/^2 \(.*FLAGS \([^)]*\\Flagged/);
  });

  it('IDLE: a message appended by another connection arrives as EXISTS, an expunge as EXPUNGE; DONE ends it', async () => {
    const { user } = await userWith(2);
    const extra = makeMessage({ from: 'idle@remote.test', subject: 'while idling', date: 'Tue, 2 Jan 2024 10:00:00 +0000' }, 'new mail');
    const r = await runPython(
      `
import base64
a = login(tls())
emit('idlecap', 'IDLE' in a.capabilities)
ok(a.select('INBOX'), 'SELECT')
tag = a._new_tag()
a.send(tag + b' IDLE\\r\\n')
emit('cont', a._get_line().decode())
b = login(starttls())
ok(b.append('INBOX', None, None, base64.b64decode(P['extra'])), 'APPEND')
b.logout()
lines = []
for _ in range(50):
    line = a._get_line().decode()
    lines.append(line)
    if line.endswith('EXISTS'):
        break
a.send(b'DONE\\r\\n')
rest, tagged = untagged_lines(a, tag)
emit('lines', lines)
emit('tagged', tagged.decode())
emit('body', b64(one_literal(ok(a.fetch('3', '(BODY.PEEK[])'), 'FETCH'), 'body')))
# A second IDLE: another session expunges message 1, and this one hears EXPUNGE.
tag = a._new_tag()
a.send(tag + b' IDLE\\r\\n')
a._get_line()
b = login(tls())
ok(b.select('INBOX'), 'SELECT b')
ok(b.store('1', '+FLAGS.SILENT', '(\\\\Deleted)'), 'STORE b')
ok(b.expunge(), 'EXPUNGE b')
b.logout()
lines2 = []
for _ in range(50):
    line = a._get_line().decode()
    lines2.append(line)
    if line.endswith('EXPUNGE'):
        break
a.send(b'DONE\\r\\n')
rest, tagged2 = untagged_lines(a, tag)
emit('lines2', lines2)
emit('tagged2', tagged2.decode())
emit('left', nums(ok(a.uid('SEARCH', 'ALL'), 'UID SEARCH')))
a.shutdown()
`,
      pyParams(h, user, { extra: extra.toString('base64') }),
    );
    expect(r.idlecap).toBe(true);
    expect(String(r.cont)).toMatch(/^\+/);
    expect((r.lines as string[]).at(-1)).toBe('* 3 EXISTS');
    expect(String(r.tagged)).toMatch(/^\S+ OK/);
    expect(fromB64(r.body).equals(extra)).toBe(true);
    expect((r.lines2 as string[]).at(-1)).toBe('* 1 EXPUNGE');
    expect(String(r.tagged2)).toMatch(/^\S+ OK/);
    expect(r.left).toEqual((await listOf(user, 'INBOX')).map((m) => m.uid));
    expect(r.left).toHaveLength(2);
  });
});
