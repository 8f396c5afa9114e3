import { describe, expect, it } from 'vitest';
import { parseImapCommand } from '../parse.js';
import { rawFromLine } from '../raw.js';

const parse = (line: string) => parseImapCommand(rawFromLine(line));
const none = { subscribed: false, children: false, specialUse: false, status: null };

describe('LIST', () => {
  it.each([
    ['l LIST "" *', { extended: false, selectOptions: [], reference: '', patterns: ['*'], returnOptions: none }],
    ['l LIST "" ""', { extended: false, selectOptions: [], reference: '', patterns: [''], returnOptions: none }],
    ['l LIST ~/Mail/ %', { extended: false, selectOptions: [], reference: '~/Mail/', patterns: ['%'], returnOptions: none }],
    ['l LIST "" "&ZeVnLIqe-/*"', { extended: false, selectOptions: [], reference: '', patterns: ['日本語/*'], returnOptions: none }],
    // Every atom character and both wildcards; not valid modified UTF-7, so taken as written.
    ["l LIST \"\" !#$&'+,-.0123456789:;<=>?@^_`|[}%*", { extended: false, selectOptions: [], reference: '', patterns: ["!#$&'+,-.0123456789:;<=>?@^_`|[}%*"], returnOptions: none }],
    ['l LIST "" inbox', { extended: false, selectOptions: [], reference: '', patterns: ['INBOX'], returnOptions: none }],
    ['l LIST (SUBSCRIBED) "" "*"', { extended: true, selectOptions: ['SUBSCRIBED'], reference: '', patterns: ['*'], returnOptions: none }],
    ['l LIST (subscribed recursivematch) "" %', { extended: true, selectOptions: ['SUBSCRIBED', 'RECURSIVEMATCH'], reference: '', patterns: ['%'], returnOptions: none }],
    ['l LIST () "" ("INBOX" Sent%)', { extended: true, selectOptions: [], reference: '', patterns: ['INBOX', 'Sent%'], returnOptions: none }],
    ['l LIST "" % RETURN (CHILDREN SUBSCRIBED)', {
      extended: true, selectOptions: [], reference: '', patterns: ['%'], returnOptions: { ...none, children: true, subscribed: true },
    }],
    ['l LIST (SPECIAL-USE) "" * RETURN (SPECIAL-USE STATUS (MESSAGES UNSEEN))', {
      extended: true, selectOptions: ['SPECIAL-USE'], reference: '', patterns: ['*'],
      returnOptions: { ...none, specialUse: true, status: ['MESSAGES', 'UNSEEN'] },
    }],
    ['l LIST "" % RETURN ()', { extended: true, selectOptions: [], reference: '', patterns: ['%'], returnOptions: none }],
  ])('%s', (line, fields) => {
    expect(parse(line)).toEqual({ ok: true, command: { tag: 'l', name: 'LIST', ...fields } });
  });

  it.each([
    ['l LIST (RECURSIVEMATCH) "" %', 'RECURSIVEMATCH requires another selection option'],
    ['l LIST (BOGUS) "" %', 'Unknown LIST selection option BOGUS'],
    ['l LIST "" % RETURN (BOGUS)', 'Unknown LIST return option BOGUS'],
    ['l LIST "" % FOO (X)', 'Expected RETURN'],
    ['l LIST "" ()', 'Empty list'],
    ['l LIST ""', 'Expected space'],
  ])('rejects %j', (line, message) => {
    expect(parse(line)).toEqual({ ok: false, error: { tag: 'l', code: 'syntax', message } });
  });
});

describe('LSUB', () => {
  it('reads reference and pattern', () => {
    expect(parse('l LSUB "#news." "comp.mail.*"')).toEqual({ ok: true, command: { tag: 'l', name: 'LSUB', reference: '#news.', pattern: 'comp.mail.*' } });
    expect(parse('l LSUB "" *')).toEqual({ ok: true, command: { tag: 'l', name: 'LSUB', reference: '', pattern: '*' } });
  });
});
