import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseImapCommand } from './parse.js';
import { ImapCommandReader, type ImapReaderEvent, type ImapReaderOptions } from './reader.js';

const SMALL: ImapReaderOptions = { maxLineLength: 40, maxLiteralSize: 20, maxNonSyncLiteral: 10, maxDiscard: 15, maxCommandSize: 200, maxLiterals: 3 };
const TINY: ImapReaderOptions = { maxLineLength: 6, maxLiteralSize: 4, maxDiscard: 3, maxCommandSize: 30 };
const limits = fc.constantFrom(SMALL, TINY, {});

/** Deterministic answers so that chunking is the only thing that varies. */
const decide = (size: number): boolean => size % 3 !== 0;

const json = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x));

/** Feeds the chunks, answers literal requests, parses commands; fails if the reader yields more events than bytes. */
function run(chunks: readonly Buffer[], options: ImapReaderOptions, accept: (size: number) => boolean = decide): string[] {
  const reader = new ImapCommandReader(options);
  const out: string[] = [];
  let bytes = 0;
  for (const chunk of chunks) {
    reader.push(chunk);
    bytes += chunk.length;
    for (let ev: ImapReaderEvent | null = reader.next(); ev !== null; ev = reader.next()) {
      // Every event consumes at least one byte, so this bounds the loop.
      if (out.length > bytes) throw new Error('reader does not make progress');
      if (ev.type === 'literal-request') {
        out.push(json(ev));
        if (accept(ev.size)) reader.acceptLiteral();
        else out.push(json(reader.refuseLiteral()));
      } else if (ev.type === 'command') {
        out.push(json(parseImapCommand(ev.command)));
        out.push(json(parseImapCommand(ev.command, { utf8: true })));
      } else {
        out.push(json({ ...ev, line: 'line' in ev ? ev.line.toString('hex') : undefined }));
      }
    }
  }
  return out;
}

function split(data: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => (data.length === 0 ? 0 : c % data.length)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(data.subarray(prev, p));
    prev = p;
  }
  out.push(data.subarray(prev));
  return out;
}

const TOKENS = [
  'a1 ', 'A2 ', '* ', '+ ', 'UID ', 'FETCH ', 'SEARCH ', 'APPEND ', 'LOGIN ', 'SELECT ', 'LIST ', 'STORE ', 'ID ', 'ENABLE ',
  '{3}\r\n', '{2+}\r\n', '~{1}\r\n', '{0}\r\n', '{11}\r\n', '{12+}\r\n', '{99999999999999999999}\r\n', '{}\r\n',
  '"', '\\', '(', ')', '[', ']', '<0.5>', ' ', '\r\n', '\n', '\r', 'x', 'INBOX', '1:*', '$', '*', ',', 'NIL', 'OR ', 'NOT ',
  'BODY.PEEK[HEADER.FIELDS (From)]', '+FLAGS.SILENT ', '\\Seen', 'RETURN (MIN) ', 'CHARSET UTF-8 ', '1-Feb-1994',
  '"17-Jul-1996 02:44:25 -0700" ', '&ZeVnLIqe-', '&', '\x00', '\xff', '\xc3\xa9', 'DONE\r\n',
];
const tokenStream = fc.array(fc.constantFrom(...TOKENS), { maxLength: 60 }).map((ts) => Buffer.from(ts.join(''), 'latin1'));
const anyBytes = fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a));
const input = fc.oneof(tokenStream, anyBytes);

describe('reader + parser on arbitrary input', () => {
  it('never throw, always progress, and give the same result however the bytes are chunked', () => {
    fc.assert(
      fc.property(input, fc.array(fc.nat(), { maxLength: 12 }), limits, (data, cuts, options) => {
        const whole = run([data], options);
        expect(run(split(data, cuts), options)).toEqual(whole);
      }),
      { numRuns: 600 },
    );
  });

  it('give the same result fed byte by byte, with default limits', () => {
    fc.assert(
      fc.property(tokenStream, (data) => {
        const bytes = [...data].map((x) => Buffer.from([x]));
        expect(run(bytes, {})).toEqual(run([data], {}));
      }),
      { numRuns: 150 },
    );
  });
});

const COMMANDS = [
  'a1 NOOP',
  'a2 LOGIN {4}\r\nuser {8+}\r\npassword',
  'a3 APPEND INBOX (\\Seen) "17-Jul-1996 02:44:25 -0700" {12}\r\nHello world!',
  'a4 UID FETCH 1:* (UID FLAGS BODY.PEEK[HEADER.FIELDS (From To)])',
  'a5 SEARCH CHARSET UTF-8 SUBJECT {6+}\r\nr\xc3\xa9sum',
  'a6 SELECT "INBOX" (CONDSTORE)',
  'a7 APPEND Drafts ~{3}\r\na\x00b',
];

describe('valid command streams', () => {
  it('split anywhere, parse to the same commands', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...COMMANDS), { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 20 }), (cmds, cuts) => {
        const data = Buffer.from(cmds.map((c) => `${c}\r\n`).join(''), 'latin1');
        const all = (): boolean => true;
        const whole = run([data], {}, all);
        expect(whole.filter((e) => e.includes('"ok":false'))).toEqual([]);
        expect(whole.filter((e) => e.includes('"ok":true')).length).toBe(cmds.length * 2);
        expect(run(split(data, cuts), {}, all)).toEqual(whole);
      }),
    );
  });
});

describe('literal limits', () => {
  it('decide on a literal before any of its bytes are consumed', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 100 }), fc.boolean(), (size, limit, nonSync) => {
        const reader = new ImapCommandReader({ maxLiteralSize: limit });
        const data = Buffer.alloc(size, 0x61);
        reader.push(Buffer.from(`t APPEND x {${size}${nonSync ? '+' : ''}}\r\n`));
        reader.push(data);
        const ev = reader.next();
        expect(reader.bufferedBytes).toBe(size);
        if (size > limit) expect(ev).toMatchObject({ type: 'error', code: 'literal-too-large', tag: 't' });
        else expect(ev).toMatchObject({ type: 'literal-request', size, nonSync });
      }),
    );
  });
});
