import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ImapCommand } from './ast.js';
import { parseImapCommand } from './parse.js';
import { rawFromLine, type RawCommand } from './raw.js';
import { readAll } from './read-all.js';

const parse = (line: string) => parseImapCommand(rawFromLine(line));

/** Replays a client transcript: every command must parse. */
function replay(transcript: string): ImapCommand[] {
  const out: ImapCommand[] = [];
  for (const ev of readAll([Buffer.from(transcript, 'utf8')])) {
    if (ev.type !== 'command') continue;
    const r = parseImapCommand(ev.command);
    if (!r.ok) throw new Error(`${r.error.tag} BAD ${r.error.message}`);
    out.push(r.command);
  }
  return out;
}

describe('dispatch', () => {
  it('answers bad or missing tags with *', () => {
    expect(parse('')).toEqual({ ok: false, error: { tag: '*', code: 'syntax', message: 'Expected tag' } });
    expect(parse('+a NOOP')).toEqual({ ok: false, error: { tag: '*', code: 'syntax', message: 'Expected tag' } });
    expect(parse('a')).toEqual({ ok: false, error: { tag: 'a', code: 'syntax', message: 'Expected space' } });
    expect(parse('a(b NOOP')).toEqual({ ok: false, error: { tag: 'a', code: 'syntax', message: 'Expected space' } });
    expect(parse(`${'t'.repeat(300)} NOOP`)).toEqual({ ok: false, error: { tag: '*', code: 'syntax', message: 'Tag too long' } });
  });

  it('keeps unusual but valid tags', () => {
    expect(parse('7.1 NOOP')).toEqual({ ok: true, command: { tag: '7.1', name: 'NOOP' } });
    expect(parse('a]b NOOP')).toEqual({ ok: true, command: { tag: 'a]b', name: 'NOOP' } });
  });

  it('gives unknown commands their own case', () => {
    expect(parse('c1 COMPRESS DEFLATE')).toEqual({ ok: true, command: { tag: 'c1', name: 'unknown', verb: 'COMPRESS' } });
    expect(parse('c1 uid XAPPLE REFERENCES')).toEqual({ ok: false, error: { tag: 'c1', code: 'syntax', message: 'Unknown UID command XAPPLE' } });
    expect(parse('c1 UID')).toEqual({ ok: false, error: { tag: 'c1', code: 'syntax', message: 'Expected space' } });
  });

  it('refuses a literal the command did not expect', () => {
    const raw: RawCommand = { lines: [Buffer.from('a NOOP {3}'), Buffer.alloc(0)], literals: [Buffer.from('abc')] };
    expect(parseImapCommand(raw)).toEqual({ ok: false, error: { tag: 'a', code: 'syntax', message: 'Unexpected extra arguments' } });
  });
});

describe('client transcripts', () => {
  it('Thunderbird', () => {
    const cmds = replay([
      '1 capability',
      '2 authenticate PLAIN',
      '3 ID ("name" "Thunderbird" "version" "115.3.1")',
      '4 select "INBOX" (CONDSTORE)',
      '5 getquotaroot "INBOX"',
      '6 UID fetch 1:* (FLAGS) (CHANGEDSINCE 2345)',
      '7 UID fetch 4 (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (From To Cc Bcc Subject Date Message-ID Priority X-Priority References Newsgroups In-Reply-To Content-Type Reply-To)])',
      '8 IDLE',
      '9 UID fetch 4 (UID RFC822.SIZE BODY.PEEK[])',
      '10 list (subscribed) "" "*" return (special-use)',
      '11 UID store 4 +Flags (\\Seen)',
      '12 lsub "" "*"',
      '13 UID move 4 "Trash"',
      '14 NAMESPACE',
      '15 append "Sent" (\\Seen) {6}\r\nHello!',
      '16 logout',
    ].join('\r\n') + '\r\n');
    expect(cmds.map((c) => c.name)).toEqual([
      'CAPABILITY', 'AUTHENTICATE', 'ID', 'SELECT', 'GETQUOTAROOT', 'FETCH', 'FETCH', 'IDLE', 'FETCH', 'LIST', 'STORE', 'LSUB', 'MOVE', 'NAMESPACE', 'APPEND', 'LOGOUT',
    ]);
    expect(cmds[9]).toMatchObject({ selectOptions: ['SUBSCRIBED'], patterns: ['*'], returnOptions: { specialUse: true } });
    expect(cmds[10]).toMatchObject({ uid: true, operation: 'add', flags: ['\\Seen'] });
  });

  it('mbsync', () => {
    const cmds = replay([
      '1 CAPABILITY',
      '2 AUTHENTICATE PLAIN AHVzZXIAc2VjcmV0',
      '3 LIST "" "*"',
      '4 SELECT "INBOX"',
      '5 UID FETCH 1:1000000000 (UID FLAGS)',
      '6 UID FETCH 7:* (UID BODY.PEEK[HEADER.FIELDS (X-TUID)])',
      '7 UID FETCH 7 (BODY.PEEK[])',
      '8 APPEND "INBOX" (\\Seen) {20+}\r\nSubject: x\r\n\r\nbody\r\n',
      '9 UID STORE 5 +FLAGS.SILENT (\\Deleted)',
      '10 UID EXPUNGE 5',
      '11 CLOSE',
      '12 LOGOUT',
    ].join('\r\n') + '\r\n');
    expect(cmds.map((c) => c.name)).toEqual(['CAPABILITY', 'AUTHENTICATE', 'LIST', 'SELECT', 'FETCH', 'FETCH', 'FETCH', 'APPEND', 'STORE', 'EXPUNGE', 'CLOSE', 'LOGOUT']);
    expect(cmds[7]).toMatchObject({ mailbox: 'INBOX', messages: [{ flags: ['\\Seen'], data: Buffer.from('Subject: x\r\n\r\nbody\r\n') }] });
  });

  it('Python imaplib', () => {
    const cmds = replay([
      'FKNB1 CAPABILITY',
      'FKNB2 LOGIN alice "pass word"',
      'FKNB3 SELECT INBOX',
      'FKNB4 SEARCH ALL',
      'FKNB5 FETCH 1 (RFC822)',
      'FKNB6 STORE 1 +FLAGS \\Deleted',
      'FKNB7 EXPUNGE',
      'FKNB8 LOGOUT',
    ].join('\r\n') + '\r\n');
    expect(cmds.map((c) => [c.tag, c.name])).toEqual([
      ['FKNB1', 'CAPABILITY'], ['FKNB2', 'LOGIN'], ['FKNB3', 'SELECT'], ['FKNB4', 'SEARCH'], ['FKNB5', 'FETCH'], ['FKNB6', 'STORE'], ['FKNB7', 'EXPUNGE'], ['FKNB8', 'LOGOUT'],
    ]);
    expect(cmds[1]).toEqual({ tag: 'FKNB2', name: 'LOGIN', username: 'alice', password: 'pass word' });
  });
});

describe('parseImapCommand on arbitrary input', () => {
  const segment = fc.uint8Array({ maxLength: 80 }).map((a) => Buffer.from(a));
  const words = fc.array(fc.constantFrom('a ', 'UID ', 'SEARCH ', 'FETCH ', 'OR ', 'NOT ', '(', ')', '"', '\\', '1:*', ' ', 'BODY[', ']', 'x', '{1}', '~{1}', 'NIL', 'LIST ', 'APPEND ', 'STORE '), { maxLength: 40 })
    .map((w) => Buffer.from(w.join(''), 'latin1'));

  it('never throws and always names a tag', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(segment, words), { minLength: 1, maxLength: 4 }), fc.array(segment, { maxLength: 3 }), fc.boolean(), (lines, literals, utf8) => {
        const raw: RawCommand = { lines, literals: literals.slice(0, lines.length - 1) };
        const r = parseImapCommand(raw, { utf8 });
        if (!r.ok) {
          expect(r.error.tag.length).toBeGreaterThan(0);
          expect(r.error.message).not.toBe('Internal parser error');
        }
      }),
      { numRuns: 2000 },
    );
  });
});
