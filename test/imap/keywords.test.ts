/**
 * Keyword limits seen through Python's imaplib: a mailbox takes at most
 * KEYWORD_LIMITS.perMailbox distinct keywords; once they are in use,
 * PERMANENTFLAGS drops \* and a STORE or APPEND adding another keyword gets
 * NO [LIMIT] and changes nothing. A flood of thousands of keywords in one
 * STORE is refused at once; removing keywords makes room again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEYWORD_LIMITS } from '../../src/store/index.js';
import { makeMessage, startHarness, type Harness } from './harness.js';
import { pyParams, runPython } from './python.js';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});

afterAll(async () => {
  await h?.close();
});

const CAP = KEYWORD_LIMITS.perMailbox;
const message = (n: number) => makeMessage({ from: 'sender@remote.test', subject: `kw ${n}`, date: 'Tue, 2 Jan 2024 10:00:00 +0000' }, `body ${n}`);

describe('IMAP keyword limits', () => {
  it('fills a mailbox to the cap, then refuses new keywords with NO [LIMIT] and drops \\* from PERMANENTFLAGS', async () => {
    const user = await h.addUser('keywords1');
    for (let i = 0; i < 2; i++) await h.addMessage(user, 'INBOX', message(i));
    const r = await runPython(
      `
m = login(tls())
typ, data = m.select('INBOX')
emit('perm_before', [x.decode() for x in m.untagged_responses.get('PERMANENTFLAGS', [])])
half = P['cap'] // 2
emit('fill1', m.store('1', '+FLAGS.SILENT', '(' + ' '.join('k%d' % i for i in range(half)) + ')')[0])
emit('fill2', m.store('2', '+FLAGS.SILENT', '(' + ' '.join('k%d' % i for i in range(half, P['cap'])) + ')')[0])
typ, data = m.select('INBOX')
emit('perm_full', [x.decode() for x in m.untagged_responses.get('PERMANENTFLAGS', [])])
typ, data = m.store('1', '+FLAGS', '(OneTooMany)')
emit('over', [typ, [x.decode() for x in data if x]])
# A keyword already in use elsewhere in the mailbox is no new keyword: still allowed.
emit('reuse', m.store('1', '+FLAGS.SILENT', '(K%d)' % (P['cap'] - 1))[0])
typ, data = m.append('INBOX', '(NewOnAppend)', None, P['msg'].encode())
emit('append', [typ, [x.decode() for x in data if x]])
typ, data = m.store('1:2', 'FLAGS', '(\\\\Seen Other1 Other2)')
emit('set', [typ, [x.decode() for x in data if x]])
emit('after', [x.decode() for x in ok(m.fetch('1:*', '(FLAGS)'), 'FETCH') if x])
# Removing keywords makes room: the next new keyword is accepted.
emit('remove', m.store('1', '-FLAGS.SILENT', '(k0 k1)')[0])
typ, data = m.select('INBOX')
emit('perm_room', [x.decode() for x in m.untagged_responses.get('PERMANENTFLAGS', [])])
emit('new', m.store('1', '+FLAGS.SILENT', '(Fresh)')[0])
m.logout()
`,
      pyParams(h, user, { cap: CAP, msg: message(9).toString('latin1') }),
    );
    expect(r.perm_before).toEqual([expect.stringContaining('\\*')]);
    expect([r.fill1, r.fill2]).toEqual(['OK', 'OK']);
    expect(r.perm_full).toHaveLength(1);
    expect(r.perm_full).not.toEqual([expect.stringContaining('\\*')]);
    expect(r.over).toEqual(['NO', [expect.stringMatching(/^\[LIMIT\] .*64 distinct keywords/)]]);
    expect(r.reuse).toBe('OK');
    expect(r.append).toEqual(['NO', [expect.stringMatching(/^\[LIMIT\]/)]]);
    expect(r.set).toEqual(['NO', [expect.stringMatching(/^\[LIMIT\]/)]]);
    expect((r.after as string[]).join(' ')).not.toMatch(/OneTooMany|Other1|\\Seen/);
    expect(r.remove).toBe('OK');
    expect(r.perm_room).toEqual([expect.stringContaining('\\*')]);
    expect(r.new).toBe('OK');
    // Nothing refused reached the store: two messages, no refused keyword.
    const stored = await h.store.meta.mailboxes.listMessages((await h.folder(user, 'INBOX')).id);
    expect(stored).toHaveLength(2);
    const all = new Set(stored.flatMap((m) => m.flags.map((f) => f.toLowerCase())));
    expect(all.has('onetoomany') || all.has('newonappend') || all.has('other1')).toBe(false);
    expect(all.has('fresh')).toBe(true);
    expect(all.size).toBe(CAP - 1);
  });

  it('refuses a flood of 8000 new keywords in one STORE at once, and a keyword that is too long', async () => {
    const user = await h.addUser('keywords2');
    await h.addMessage(user, 'INBOX', message(1));
    const r = await runPython(
      `
m = login(tls())
ok(m.select('INBOX'), 'SELECT')
typ, data = m.store('1', '+FLAGS', '(' + ' '.join('f%d' % i for i in range(8000)) + ')')
emit('flood', [typ, [x.decode() for x in data if x]])
typ, data = m.store('1', '+FLAGS', '(' + 'x' * (P['maxLength'] + 1) + ')')
emit('long', [typ, [x.decode() for x in data if x]])
emit('fits', m.store('1', '+FLAGS.SILENT', '(' + 'y' * P['maxLength'] + ')')[0])
emit('noop', ok(m.noop(), 'NOOP') and 'OK')
m.logout()
`,
      pyParams(h, user, { maxLength: KEYWORD_LIMITS.maxLength }),
      30_000,
    );
    expect(r.flood).toEqual(['NO', [expect.stringMatching(/^\[LIMIT\]/)]]);
    expect(r.long).toEqual(['NO', [expect.stringMatching(/^\[LIMIT\] .*characters/)]]);
    expect(r.fits).toBe('OK');
    expect(r.noop).toBe('OK');
    const [m] = await h.store.meta.mailboxes.listMessages((await h.folder(user, 'INBOX')).id);
    expect(m!.flags).toEqual(['y'.repeat(KEYWORD_LIMITS.maxLength)]);
  });
});
