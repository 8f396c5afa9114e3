import { describe, expect, it } from 'vitest';
import { parsePop3Command } from './parse.js';

describe('parsePop3Command', () => {
  it.each([
    ['USER alice', { cmd: 'USER', name: 'alice' }],
    ['user alice@example.org', { cmd: 'USER', name: 'alice@example.org' }],
    ['PASS secret', { cmd: 'PASS', password: 'secret' }],
    ['PASS  pass with spaces ', { cmd: 'PASS', password: ' pass with spaces ' }],
    ['APOP mrose c4c9334bac560ecc979e58001b3e22fb', { cmd: 'APOP', name: 'mrose', digest: 'c4c9334bac560ecc979e58001b3e22fb' }],
    ['STAT', { cmd: 'STAT' }],
    ['noop', { cmd: 'NOOP' }],
    ['RSET', { cmd: 'RSET' }],
    ['QUIT', { cmd: 'QUIT' }],
    ['CAPA', { cmd: 'CAPA' }],
    ['STLS', { cmd: 'STLS' }],
    ['UTF8', { cmd: 'UTF8' }],
    ['utf8', { cmd: 'UTF8' }],
    ['LIST', { cmd: 'LIST', msg: null }],
    ['LIST 2', { cmd: 'LIST', msg: 2 }],
    ['UIDL', { cmd: 'UIDL', msg: null }],
    ['UIDL 4294967295', { cmd: 'UIDL', msg: 4294967295 }],
    ['RETR 1', { cmd: 'RETR', msg: 1 }],
    ['RETR 007', { cmd: 'RETR', msg: 7 }],
    ['DELE 3 ', { cmd: 'DELE', msg: 3 }],
    ['TOP 10 0', { cmd: 'TOP', msg: 10, lines: 0 }],
    ['TOP 1 25', { cmd: 'TOP', msg: 1, lines: 25 }],
    ['AUTH', { cmd: 'AUTH', mechanism: null, initialResponse: null }],
    ['AUTH plain', { cmd: 'AUTH', mechanism: 'PLAIN', initialResponse: null }],
    ['AUTH PLAIN dGVzdAB0ZXN0AHRlc3Q=', { cmd: 'AUTH', mechanism: 'PLAIN', initialResponse: 'dGVzdAB0ZXN0AHRlc3Q=' }],
    ['AUTH EXTERNAL =', { cmd: 'AUTH', mechanism: 'EXTERNAL', initialResponse: '=' }],
    ['XTND XMIT', { cmd: 'unknown', keyword: 'XTND' }],
    ['HELLOWORLD', { cmd: 'unknown', keyword: 'HELLOWORL' + 'D' }],
  ])('%j', (line, command) => {
    expect(parsePop3Command(line)).toEqual({ ok: true, command });
  });

  it.each([
    ['', 'Empty command'],
    [' STAT', 'Empty command'],
    ['STAT 1', 'Too many arguments'],
    ['USER', 'Missing argument'],
    ['USER a b', 'Too many arguments'],
    ['PASS', 'Missing argument'],
    ['PASS ', 'Missing argument'],
    ['RETR', 'Missing argument'],
    ['RETR 0', 'Invalid message number'],
    ['RETR -1', 'Invalid message number'],
    ['RETR +1', 'Invalid message number'],
    ['RETR 1.5', 'Invalid message number'],
    ['RETR 4294967296', 'Invalid message number'],
    ['RETR 12345678901', 'Invalid message number'],
    ['LIST x', 'Invalid message number'],
    ['TOP 1', 'Missing argument'],
    ['TOP 1 -1', 'Invalid line count'],
    ['DELE 1 2', 'Too many arguments'],
    ['APOP mrose nothex', 'Invalid digest'],
    ['AUTH PLAIN abc', 'Initial response is not base64'],
    ['AUTH PL@IN', 'Invalid mechanism'],
    ['USER a\0b', 'Invalid character in command'],
  ])('rejects %j', (line, message) => {
    expect(parsePop3Command(line)).toEqual({ ok: false, message });
  });

  it('rejects invalid UTF-8 in arguments', () => {
    expect(parsePop3Command(Buffer.from([0x55, 0x53, 0x45, 0x52, 0x20, 0xff]))).toEqual({ ok: false, message: 'Invalid UTF-8' });
    expect(parsePop3Command(Buffer.from('PASS p\u00e4ss', 'utf8'))).toEqual({ ok: true, command: { cmd: 'PASS', password: 'päss' } });
  });

  it('names odd keywords safely', () => {
    expect(parsePop3Command(Buffer.from('X\xffY1 2', 'latin1'))).toEqual({ ok: true, command: { cmd: 'unknown', keyword: 'X?Y1' } });
  });
});
