import { describe, expect, it } from 'vitest';
import { readAll } from './read-all.js';
import { ImapCommandReader, type ImapReaderEvent } from './reader.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

/** Events with Buffers shown as text, for exact comparison. */
function show(events: ImapReaderEvent[]): unknown[] {
  return events.map((ev) => {
    if (ev.type === 'command') {
      return { command: ev.tag, lines: ev.command.lines.map(String), literals: ev.command.literals.map(String) };
    }
    if (ev.type === 'line' || ev.type === 'idle-end') return { ...ev, line: String(ev.line) };
    return ev;
  });
}

describe('ImapCommandReader: lines', () => {
  it('reads CRLF, bare LF and pipelined commands, skipping empty lines', () => {
    expect(show(readAll([b('a1 NOOP\r\n\r\na2 CAPABILITY\na3 LOGOUT\r\n')]))).toEqual([
      { command: 'a1', lines: ['a1 NOOP'], literals: [] },
      { command: 'a2', lines: ['a2 CAPABILITY'], literals: [] },
      { command: 'a3', lines: ['a3 LOGOUT'], literals: [] },
    ]);
  });

  it('waits for the line end', () => {
    const r = new ImapCommandReader();
    r.push(b('a1 NO'));
    expect(r.next()).toBeNull();
    r.push(b('OP\r'));
    expect(r.next()).toBeNull();
    r.push(b('\n'));
    expect(r.next()).toMatchObject({ type: 'command', tag: 'a1' });
  });

  it('gives a null tag for lines without a valid tag', () => {
    expect(readAll([b('+x NOOP\r\n')])[0]).toMatchObject({ type: 'command', tag: null });
  });

  it('reports an overlong line once, skips it, and carries on', () => {
    const events = readAll([b(`a1 NOOP ${'x'.repeat(30)}\r\na2 NOOP\r\n`)], { maxLineLength: 20 });
    expect(show(events)).toEqual([
      { type: 'error', code: 'line-too-long', tag: 'a1', message: 'Line too long', fatal: false },
      { command: 'a2', lines: ['a2 NOOP'], literals: [] },
    ]);
  });

  it('reports an overlong line before its end arrives and never buffers it', () => {
    const r = new ImapCommandReader({ maxLineLength: 20 });
    r.push(b(`a1 LOGIN ${'x'.repeat(1000)}`));
    expect(r.next()).toMatchObject({ type: 'error', code: 'line-too-long', tag: 'a1' });
    r.push(b('y'.repeat(100_000)));
    expect(r.next()).toBeNull();
    expect(r.bufferedBytes).toBe(0);
    r.push(b('\r\na2 NOOP\r\n'));
    expect(r.next()).toMatchObject({ type: 'command', tag: 'a2' });
  });

  it('names no tag when the tag itself runs past the limit', () => {
    expect(readAll([b('abcdefghijkl NOOP\r\n')], { maxLineLength: 6 })[0]).toMatchObject({ code: 'line-too-long', tag: null });
    expect(readAll([b('abcde NOOP NOOP\r\n')], { maxLineLength: 6 })[0]).toMatchObject({ code: 'line-too-long', tag: 'abcde' });
  });

  it('accepts a line of exactly maxLineLength with CRLF or LF', () => {
    const line = `a1 ${'x'.repeat(17)}`;
    expect(readAll([b(`${line}\r\n${line}\n`)], { maxLineLength: 20 }).map((e) => e.type)).toEqual(['command', 'command']);
  });

  it('skips the non-synchronising literal announced by an overlong line', () => {
    const events = readAll([b(`a1 APPEND ${'x'.repeat(30)} {3+}\r\n{0}\r\nb1 NOOP\r\n`)], { maxLineLength: 20 });
    expect(show(events)).toEqual([
      { type: 'error', code: 'line-too-long', tag: 'a1', message: 'Line too long', fatal: false },
      { command: 'b1', lines: ['b1 NOOP'], literals: [] },
    ]);
  });
});

describe('ImapCommandReader: literals', () => {
  it('asks before reading a synchronising literal, then splices it in', () => {
    const r = new ImapCommandReader();
    r.push(b('A003 APPEND saved-messages (\\Seen) {5}\r\n'));
    const req = r.next();
    expect(req).toEqual({ type: 'literal-request', tag: 'A003', verb: 'APPEND', size: 5, nonSync: false, binary: false, index: 0 });
    // Unanswered, the same request comes back and nothing moves.
    expect(r.next()).toBe(req);
    r.acceptLiteral();
    expect(r.next()).toBeNull();
    r.push(b('hel'));
    expect(r.next()).toBeNull();
    r.push(b('lo\r\n'));
    expect(show([r.next()!])).toEqual([{ command: 'A003', lines: ['A003 APPEND saved-messages (\\Seen) {5}', ''], literals: ['hello'] }]);
  });

  it('names the verb, UID commands included', () => {
    expect(readAll([b('u1 uid store 1 FLAGS {3}\r\n')])[0]).toMatchObject({ type: 'literal-request', tag: 'u1', verb: 'UID STORE' });
    expect(readAll([b('{3}\r\n')])[0]).toMatchObject({ type: 'literal-request', tag: null, verb: null });
  });

  it('reads several literals, literal8 and empty literals', () => {
    const events = readAll([b('a LOGIN {4+}\r\nuser ~{0}\r\n {2}\r\npw\r\n')]);
    expect(events.filter((e) => e.type === 'literal-request').map((e) => e.type === 'literal-request' && [e.size, e.nonSync, e.binary, e.index])).toEqual([
      [4, true, false, 0],
      [0, false, true, 1],
      [2, false, false, 2],
    ]);
    expect(show(events.filter((e) => e.type === 'command'))).toEqual([
      { command: 'a', lines: ['a LOGIN {4+}', ' ~{0}', ' {2}', ''], literals: ['user', '', 'pw'] },
    ]);
  });

  it('drops the command when a synchronising literal is refused; the client never sends it', () => {
    const r = new ImapCommandReader();
    r.push(b('a1 LOGIN {500}\r\n'));
    expect(r.next()).toMatchObject({ type: 'literal-request', size: 500 });
    expect(r.refuseLiteral()).toEqual({ mustClose: false });
    r.push(b('a2 NOOP\r\n'));
    expect(r.next()).toMatchObject({ type: 'command', tag: 'a2' });
  });

  it('skips a refused non-synchronising literal and the rest of its command', () => {
    const events = readAll([b('a1 APPEND x {5+}\r\nhello {3+}\r\nabc\r\na2 NOOP\r\n')], {}, () => false);
    expect(show(events)).toEqual([
      { type: 'literal-request', tag: 'a1', verb: 'APPEND', size: 5, nonSync: true, binary: false, index: 0 },
      { command: 'a2', lines: ['a2 NOOP'], literals: [] },
    ]);
  });

  it('refuses a literal over maxLiteralSize by itself, before any of its bytes', () => {
    const r = new ImapCommandReader({ maxLiteralSize: 10 });
    r.push(b('a1 APPEND x {11}\r\n'));
    expect(r.next()).toEqual({ type: 'error', code: 'literal-too-large', tag: 'a1', message: 'Literal too large (limit 10 octets)', fatal: false });
    r.push(b('a2 NOOP\r\n'));
    expect(r.next()).toMatchObject({ type: 'command', tag: 'a2' });
  });

  it('applies the LITERAL- limit to non-synchronising literals only, skipping the refused bytes', () => {
    const big = 'x'.repeat(4097);
    const events = readAll([b(`a1 APPEND x {4097+}\r\n${big}\r\na2 APPEND x {4097}\r\n`)], { maxNonSyncLiteral: 4096 });
    expect(show(events)).toEqual([
      { type: 'error', code: 'literal-too-large', tag: 'a1', message: 'Literal too large (limit 4096 octets)', fatal: false },
      { type: 'literal-request', tag: 'a2', verb: 'APPEND', size: 4097, nonSync: false, binary: false, index: 0 },
    ]);
  });

  it('closes when a refused non-synchronising literal is larger than maxDiscard', () => {
    const r = new ImapCommandReader({ maxNonSyncLiteral: 4096, maxDiscard: 8192 });
    r.push(b('a1 APPEND x {9000+}\r\n'));
    expect(r.next()).toMatchObject({ type: 'error', code: 'literal-too-large', fatal: true });
    expect(r.closed).toBe(true);
    r.push(b('a2 NOOP\r\n'));
    expect(r.next()).toBeNull();
  });

  it('tells the server to close when it refuses a non-synchronising literal beyond maxDiscard', () => {
    const r = new ImapCommandReader({ maxDiscard: 10 });
    r.push(b('a1 APPEND x {11+}\r\n'));
    expect(r.next()).toMatchObject({ type: 'literal-request', size: 11 });
    expect(r.refuseLiteral()).toEqual({ mustClose: true });
    expect(r.next()).toBeNull();
  });

  it('counts literals and text against maxCommandSize and maxLiterals', () => {
    expect(readAll([b('a1 APPEND x {50}\r\n')], { maxCommandSize: 60 })[0]).toMatchObject({ code: 'literal-too-large', tag: 'a1' });
    expect(readAll([b('a1 X {1+}\r\nx {1+}\r\ny\r\n')], { maxLiterals: 1 }).map((e) => e.type === 'error' && e.code)).toEqual([false, 'too-many-literals']);
    expect(readAll([b('a1 X {1+}\r\nx yyyyyyyyyyyyyyyyyyyy\r\n')], { maxCommandSize: 25 }).map((e) => e.type === 'error' && e.code)).toEqual([
      false,
      'command-too-large',
    ]);
  });

  it('finds markers outside quoted strings only', () => {
    expect(readAll([b('a1 LOGIN u "p {3}\r\n')])[0]).toMatchObject({ type: 'command' });
    expect(readAll([b('a1 LOGIN u "p\\" {3}\r\n')])[0]).toMatchObject({ type: 'command' });
    expect(readAll([b('a1 LOGIN "p\\\\" {3}\r\n')])[0]).toMatchObject({ type: 'literal-request', size: 3 });
    expect(readAll([b('a1 LOGIN u {3}x\r\n')])[0]).toMatchObject({ type: 'command' });
    expect(readAll([b('a1 LOGIN u {}\r\n')])[0]).toMatchObject({ type: 'command' });
    expect(readAll([b('a1 LOGIN u {+}\r\n')])[0]).toMatchObject({ type: 'command' });
  });
});

describe('ImapCommandReader: modes', () => {
  it('yields DONE while idling, even when pipelined behind IDLE', () => {
    const r = new ImapCommandReader();
    r.push(b('a1 IDLE\r\ndone\r\na2 NOOP\r\n'));
    expect(r.next()).toMatchObject({ type: 'command', tag: 'a1' });
    r.setMode('idle');
    expect(show([r.next()!])).toEqual([{ type: 'idle-end', done: true, line: 'done' }]);
    expect(r.mode).toBe('command');
    expect(r.next()).toMatchObject({ type: 'command', tag: 'a2' });
  });

  it('ends idle on any other line with done: false', () => {
    const r = new ImapCommandReader();
    r.setMode('idle');
    r.push(b('a2 NOOP {5}\r\n'));
    expect(show([r.next()!])).toEqual([{ type: 'idle-end', done: false, line: 'a2 NOOP {5}' }]);
    expect(r.mode).toBe('command');
  });

  it('reads raw lines for AUTHENTICATE, without literal handling', () => {
    const r = new ImapCommandReader();
    r.push(b('a1 AUTHENTICATE PLAIN\r\nAHVzZXIAcGFzcw==\r\n{5}\r\n*\r\n'));
    expect(r.next()).toMatchObject({ type: 'command', tag: 'a1' });
    r.setMode('raw');
    expect(show([r.next()!, r.next()!, r.next()!])).toEqual([
      { type: 'line', line: 'AHVzZXIAcGFzcw==' },
      { type: 'line', line: '{5}' },
      { type: 'line', line: '*' },
    ]);
  });

  it('limits raw and idle lines too', () => {
    const r = new ImapCommandReader({ maxLineLength: 8 });
    r.setMode('raw');
    r.push(b('0123456789\r\nabc\r\n'));
    expect(r.next()).toMatchObject({ type: 'error', code: 'line-too-long', tag: null });
    expect(show([r.next()!])).toEqual([{ type: 'line', line: 'abc' }]);
  });
});
