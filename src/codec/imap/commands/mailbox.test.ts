import { describe, expect, it } from 'vitest';
import { parseImapCommand } from '../parse.js';
import { rawFromLine } from '../raw.js';

const parse = (line: string, utf8 = false) => parseImapCommand(rawFromLine(line), { utf8 });

describe('SELECT / EXAMINE', () => {
  it('reads plain, CONDSTORE and QRESYNC forms', () => {
    expect(parse('3 SELECT "INBOX" (CONDSTORE)')).toEqual({ ok: true, command: { tag: '3', name: 'SELECT', mailbox: 'INBOX', condstore: true, qresync: null } });
    expect(parse('a examine inbox')).toEqual({ ok: true, command: { tag: 'a', name: 'EXAMINE', mailbox: 'INBOX', condstore: false, qresync: null } });
    expect(parse('A02 SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541))')).toEqual({
      ok: true,
      command: {
        tag: 'A02', name: 'SELECT', mailbox: 'INBOX', condstore: false,
        qresync: {
          uidValidity: 67890007, modseq: 20050715194045000n,
          knownUids: { type: 'set', ranges: [{ from: 41, to: 41 }, { from: 43, to: 211 }, { from: 214, to: 541 }] },
          seqMatch: null,
        },
      },
    });
    expect(parse('B04 SELECT INBOX (QRESYNC (67890007 90060115194045000 1:29997 (5000,7500,9000,9990:9999 15000,22500,27000,29970,29973,29976:29979)))')).toMatchObject({
      ok: true,
      command: { qresync: { seqMatch: { seqs: { type: 'set' }, uids: { ranges: [{ from: 15000 }, {}, {}, {}, {}, { from: 29976, to: 29979 }] } } } },
    });
    expect(parse('B05 SELECT INBOX (QRESYNC (1 2 (1:2 3:4)))')).toMatchObject({ ok: true, command: { qresync: { knownUids: null, seqMatch: { seqs: { type: 'set' } } } } });
  });

  it.each([
    ['s SELECT', 'Expected space'],
    ['s SELECT INBOX ()', 'Empty list'],
    ['s SELECT INBOX (FOO)', 'Unknown SELECT parameter FOO'],
    ['s SELECT INBOX (QRESYNC (0 1))', 'Number must not be zero'],
    ['s SELECT INBOX (QRESYNC (1 0))', 'Mod-sequence must not be zero'],
  ])('rejects %j', (line, message) => {
    expect(parse(line)).toEqual({ ok: false, error: { tag: 's', code: 'syntax', message } });
  });
});

describe('mailbox names', () => {
  it('treats INBOX case-insensitively and only INBOX', () => {
    expect(parse('a DELETE "iNbOx"')).toMatchObject({ command: { mailbox: 'INBOX' } });
    expect(parse('a DELETE inbox.sub')).toMatchObject({ command: { mailbox: 'inbox.sub' } });
  });

  it('decodes modified UTF-7 for IMAP4rev1 and leaves UTF-8 sessions alone', () => {
    expect(parse('a SUBSCRIBE "~peter/mail/&ZeVnLIqe-/&U,BTFw-"')).toMatchObject({ command: { mailbox: '~peter/mail/日本語/台北' } });
    expect(parse('a SUBSCRIBE "R&-D"', true)).toMatchObject({ command: { mailbox: 'R&-D' } });
    expect(parse('a SUBSCRIBE "Entwürfe"')).toMatchObject({ command: { mailbox: 'Entwürfe' } });
    expect(parse('a SUBSCRIBE "Entwürfe"', true)).toMatchObject({ command: { mailbox: 'Entwürfe' } });
  });

  it('refuses names that are not valid modified UTF-7, with the mailbox-name code', () => {
    expect(parse('a UNSUBSCRIBE "&AGE-"')).toEqual({ ok: false, error: { tag: 'a', code: 'mailbox-name', message: 'Mailbox name is not valid modified UTF-7' } });
  });
});

describe('CREATE, DELETE, RENAME, SUBSCRIBE, STATUS', () => {
  it.each([
    ['c CREATE Archive', { name: 'CREATE', mailbox: 'Archive', specialUse: [] }],
    ['c CREATE "Sent Items" (USE (\\Sent))', { name: 'CREATE', mailbox: 'Sent Items', specialUse: ['\\Sent'] }],
    ['c CREATE x (USE (\\Drafts \\Junk))', { name: 'CREATE', mailbox: 'x', specialUse: ['\\Drafts', '\\Junk'] }],
    ['c DELETE foo/bar', { name: 'DELETE', mailbox: 'foo/bar' }],
    ['c RENAME "old" new', { name: 'RENAME', from: 'old', to: 'new' }],
    ['c SUBSCRIBE Lists', { name: 'SUBSCRIBE', mailbox: 'Lists' }],
    ['c UNSUBSCRIBE Lists', { name: 'UNSUBSCRIBE', mailbox: 'Lists' }],
    ['c STATUS blurdybloop (UIDNEXT MESSAGES)', { name: 'STATUS', mailbox: 'blurdybloop', items: ['UIDNEXT', 'MESSAGES'] }],
    ['c STATUS INBOX (messages uidnext uidvalidity unseen deleted size recent highestmodseq)', {
      name: 'STATUS', mailbox: 'INBOX', items: ['MESSAGES', 'UIDNEXT', 'UIDVALIDITY', 'UNSEEN', 'DELETED', 'SIZE', 'RECENT', 'HIGHESTMODSEQ'],
    }],
  ])('%s', (line, command) => {
    expect(parse(line)).toEqual({ ok: true, command: { tag: 'c', ...command } });
  });

  it.each([
    ['c CREATE x (FOO (\\Sent))', 'Unknown CREATE parameter FOO'],
    ['c RENAME a', 'Expected space'],
    ['c STATUS INBOX ()', 'Empty list'],
    ['c STATUS INBOX (MESSAGES BOGUS)', 'Unknown status item BOGUS'],
    ['c STATUS INBOX MESSAGES', 'Expected "("'],
  ])('rejects %j', (line, message) => {
    expect(parse(line)).toEqual({ ok: false, error: { tag: 'c', code: 'syntax', message } });
  });
});
