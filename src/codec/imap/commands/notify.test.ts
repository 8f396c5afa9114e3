import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseImapCommand } from '../parse.js';
import { rawFromLine } from '../raw.js';

const parse = (line: string) => parseImapCommand(rawFromLine(line));

describe('NOTIFY', () => {
  it('reads NOTIFY NONE', () => {
    expect(parse('n NOTIFY none')).toEqual({ ok: true, command: { tag: 'n', name: 'NOTIFY', status: false, groups: null } });
  });

  it('reads filters, events and MessageNew fetch attributes', () => {
    const r = parse('n NOTIFY SET STATUS (SELECTED (MessageNew (UID FLAGS BODY.PEEK[HEADER.FIELDS (Subject)]) MessageExpunge)) (personal (messagenew MessageExpunge MailboxName))');
    expect(r).toEqual({
      ok: true,
      command: {
        tag: 'n', name: 'NOTIFY', status: true,
        groups: [
          {
            filter: { kind: 'SELECTED' },
            events: [
              { name: 'MessageNew', fetch: [{ name: 'UID' }, { name: 'FLAGS' }, { name: 'BODY[]', peek: true, section: { part: [], text: 'HEADER.FIELDS', fields: ['Subject'] }, partial: null }] },
              { name: 'MessageExpunge', fetch: null },
            ],
          },
          { filter: { kind: 'PERSONAL' }, events: [{ name: 'MessageNew', fetch: null }, { name: 'MessageExpunge', fetch: null }, { name: 'MailboxName', fetch: null }] },
        ],
      },
    });
  });

  it('reads SUBTREE and MAILBOXES with one or several names, NONE events, and unknown events', () => {
    const r = parse('n NOTIFY SET (subtree Lists (SubscriptionChange)) (MAILBOXES (INBOX "Sent Items" &ZeVnLIqe-) NONE) (INBOXES (Bogus-Event))');
    expect(r).toEqual({
      ok: true,
      command: {
        tag: 'n', name: 'NOTIFY', status: false,
        groups: [
          { filter: { kind: 'SUBTREE', mailboxes: ['Lists'] }, events: [{ name: 'SubscriptionChange', fetch: null }] },
          { filter: { kind: 'MAILBOXES', mailboxes: ['INBOX', 'Sent Items', '日本語'] }, events: [] },
          { filter: { kind: 'INBOXES' }, events: [{ name: 'BOGUS-EVENT', fetch: null }] },
        ],
      },
    });
  });

  it.each([
    ['n NOTIFY', 'Expected space'],
    ['n NOTIFY GET', 'Expected NONE or SET'],
    ['n NOTIFY NONE extra', 'Unexpected extra arguments'],
    ['n NOTIFY SET', 'Expected space'],
    ['n NOTIFY SET (ELSEWHERE (MessageNew))', 'Unknown NOTIFY mailbox filter ELSEWHERE'],
    ['n NOTIFY SET (SELECTED ())', 'Empty list'],
    ['n NOTIFY SET (MAILBOXES () (MessageNew))', 'Empty list'],
    ['n NOTIFY SET (SELECTED (MessageNew (UID FOO)))', 'Unknown fetch item FOO'],
    ['n NOTIFY SET (SELECTED (MessageNew MessageExpunge)', 'Expected ")"'],
    ['n NOTIFY SET (SELECTED (MessageNew)) junk', 'Expected "("'],
  ])('rejects %j', (line, message) => {
    expect(parse(line)).toEqual({ ok: false, error: { tag: 'n', code: 'syntax', message } });
  });

  it('never throws, whatever the arguments', () => {
    const tokens = ['(', ')', ' ', 'SET', 'NONE', 'STATUS', 'SELECTED', 'SUBTREE', 'MAILBOXES', 'PERSONAL', 'MessageNew', 'MessageExpunge',
      'UID', 'BODY.PEEK[HEADER.FIELDS (A)]', '"x"', '{1}', 'INBOX', '&-', '&Jjo', '\\', '"', '[', '<0.1>'];
    const args = fc.oneof(
      fc.array(fc.constantFrom(...tokens), { maxLength: 40 }).map((t) => t.join('')),
      fc.string({ maxLength: 200 }),
    );
    fc.assert(
      fc.property(args, (text) => {
        const r = parseImapCommand(rawFromLine(`t NOTIFY ${text}`));
        expect(typeof r.ok).toBe('boolean');
        if (r.ok) expect(r.command.name).toBe('NOTIFY');
        else expect(r.error.message).not.toBe('Internal parser error');
      }),
      { numRuns: 2000 },
    );
  });
});
