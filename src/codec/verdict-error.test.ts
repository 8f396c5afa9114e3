import { describe, expect, it } from 'vitest';
import { ParseFailure } from './imap/errors.js';
import { parseImapCommand, rawFromLine } from './imap/index.js';
import { parsePop3Command } from './pop3/index.js';
import { VerdictError } from './verdict-error.js';

// Found with the fuzz harness: 128 KiB of refused commands took seconds,
// because every refusal captured a stack trace (5-17 µs, against 1-4 µs).
describe('parse verdicts thrown inside the codecs', () => {
  it('capture no stack frames', () => {
    for (const e of [new VerdictError('x'), new ParseFailure('bad', 'syntax')]) {
      expect(e).toBeInstanceOf(Error);
      expect(e.stack ?? '').not.toMatch(/\n\s+at /);
    }
    expect(new ParseFailure('bad', 'too-complex')).toMatchObject({ message: 'bad', code: 'too-complex', name: 'ParseFailure' });
  });

  it('leave Error.stackTraceLimit as it was', () => {
    const before = Error.stackTraceLimit;
    parseImapCommand(rawFromLine('a1 LOGIN {4}{}'));
    parsePop3Command('RETR x');
    expect(Error.stackTraceLimit).toBe(before);
    expect(new Error('y').stack).toMatch(/\n\s+at /);
  });

  it('still answer with the reason', () => {
    expect(parseImapCommand(rawFromLine('a1 FETCH x'))).toMatchObject({ ok: false, error: { tag: 'a1', code: 'syntax' } });
    expect(parsePop3Command('RETR x')).toEqual({ ok: false, message: 'Invalid message number' });
  });
});
