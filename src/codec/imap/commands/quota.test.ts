import { describe, expect, it } from 'vitest';
import { parseImapCommand } from '../parse.js';
import { rawFromLine } from '../raw.js';

const parse = (line: string) => parseImapCommand(rawFromLine(line));

describe('QUOTA commands', () => {
  it.each([
    ['q GETQUOTA ""', { name: 'GETQUOTA', root: '' }],
    ['q GETQUOTAROOT inbox', { name: 'GETQUOTAROOT', mailbox: 'INBOX' }],
    ['q SETQUOTA "" (STORAGE 512)', { name: 'SETQUOTA', root: '', limits: [{ resource: 'STORAGE', limit: 512 }] }],
    ['q SETQUOTA "#user/alice" (storage 512 MESSAGE 1000)', {
      name: 'SETQUOTA', root: '#user/alice', limits: [{ resource: 'STORAGE', limit: 512 }, { resource: 'MESSAGE', limit: 1000 }],
    }],
    ['q SETQUOTA x ()', { name: 'SETQUOTA', root: 'x', limits: [] }],
  ])('%s', (line, fields) => {
    expect(parse(line)).toEqual({ ok: true, command: { tag: 'q', ...fields } });
  });

  it.each(['q GETQUOTA', 'q SETQUOTA x (STORAGE)', 'q SETQUOTA x (STORAGE -1)', 'q SETQUOTA x (STORAGE 99999999999999999999)'])('rejects %j', (line) => {
    expect(parse(line)).toMatchObject({ ok: false, error: { tag: 'q' } });
  });
});
