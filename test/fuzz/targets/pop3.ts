/**
 * POP3: the line reader and command parser on a client stream, and the
 * multi-line response encoder on stored messages. Promises checked: events do
 * not depend on the split; lines respect the RFC 2449 bound; the parser
 * answers a reason, never its "Invalid command" fallback for an unexpected
 * exception; a stuffed message never contains the terminator line, un-stuffs
 * to the message, and TOP returns a prefix.
 */
import fc from 'fast-check';
import { dotStuff, extractTop, parsePop3Command, Pop3LineReader, type Pop3ReaderOptions } from '../../../src/codec/pop3/index.js';
import { parseHeaderSection } from '../../../src/codec/mime/index.js';
import { anyBytes, mutatedSeeds, tokenSoup } from '../harness/mutate.js';
import { mailSeeds } from '../harness/seeds.js';
import { check, inputSeed, prng, type FuzzTarget } from '../harness/types.js';

const COMMANDS = [
  'CAPA', 'STLS', 'USER alice@example.org', 'PASS correct horse battery staple', 'AUTH', 'AUTH PLAIN', 'AGFsaWNlAHNlY3JldA==', 'AUTH PLAIN =', 'APOP mrose c4c9334bac560ecc979e58001b3e22fb',
  'STAT', 'LIST', 'LIST 1', 'UIDL', 'UIDL 4294967295', 'RETR 1', 'TOP 1 0', 'TOP 2 10', 'DELE 3', 'RSET', 'NOOP', 'QUIT',
];
const TOKENS = [...COMMANDS.map((c) => `${c}\r\n`), ' ', '  ', '\r\n', '\n', '\r', '\0', '\xff', '\xc3\xa9', '4294967296', '0', '-1', '.', '..', '\r\n.\r\n', '\n.\n'];
const LIMITS: Pop3ReaderOptions[] = [{}, { maxLineLength: 16, maxRawLineLength: 32 }];

function drive(chunks: readonly Buffer[], options: Pop3ReaderOptions): string[] {
  const reader = new Pop3LineReader(options);
  const max = options.maxLineLength ?? 255;
  const maxRaw = options.maxRawLineLength ?? 16 * 1024;
  const out: string[] = [];
  let pushed = 0;
  for (const chunk of chunks) {
    reader.push(chunk);
    pushed += chunk.length;
    for (let ev = reader.next(); ev !== null; ev = reader.next()) {
      check(out.length <= pushed + 1, 'the reader gives events without consuming bytes');
      if (ev.type === 'error') {
        out.push('error');
        continue;
      }
      const raw = reader.mode === 'raw';
      check(ev.line.length <= (raw ? maxRaw : max) - 1, `a line of ${ev.line.length} bytes, over the ${raw ? maxRaw : max}-byte limit`);
      check(!ev.line.includes(0x0a), 'a line holds LF');
      if (raw) {
        reader.setMode('command');
        out.push(`raw ${ev.line.toString('hex')}`);
        continue;
      }
      const r = parsePop3Command(ev.line);
      if (!r.ok) check(r.message !== 'Invalid command', 'parsePop3Command hit an unexpected exception');
      out.push(JSON.stringify(r));
      if (r.ok && r.command.cmd === 'AUTH' && r.command.mechanism !== null && r.command.initialResponse === null) reader.setMode('raw');
    }
  }
  return out;
}

/** What a client gets back from a stuffed body: leading dots removed, CRLF line ends. */
function unstuff(stuffed: Buffer): Buffer {
  const text = stuffed.toString('latin1');
  check(text === '' || text.endsWith('\r\n'), 'stuffed body does not end with CRLF');
  const lines = text === '' ? [] : text.slice(0, -2).split('\r\n');
  for (const l of lines) check(l !== '.', 'stuffed body holds the terminator line');
  return Buffer.from(lines.map((l) => (l.startsWith('.') ? l.slice(1) : l)).join('\r\n') + (lines.length > 0 ? '\r\n' : ''), 'latin1');
}

/** The body as a client should read it: every line end CRLF, one added at the end. */
function expected(body: Buffer): Buffer {
  if (body.length === 0) return body;
  const lines = body.toString('latin1').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return Buffer.from(lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l)).join('\r\n') + '\r\n', 'latin1');
}

function run(input: Uint8Array): 'ok' | 'rejected' {
  const data = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  const seed = inputSeed(input);
  const rnd = prng(seed);
  const options = LIMITS[seed % LIMITS.length]!;
  const whole = drive([data], options);
  const cuts = [...new Set(Array.from({ length: 16 }, () => Math.floor(rnd() * (data.length + 1))))].sort((a, b) => a - b);
  const chunks = [0, ...cuts].map((c, i, a) => data.subarray(c, a[i + 1] ?? data.length));
  check(JSON.stringify(drive(chunks, options)) === JSON.stringify(whole), 'events depend on how the bytes are split');
  const stuffed = dotStuff(data);
  check(unstuff(stuffed).equals(expected(data)), 'the stuffed body does not read back as the message');
  const n = Math.floor(rnd() * 20);
  const top = extractTop(data, n);
  check(top.length <= data.length && data.subarray(0, top.length).equals(top), 'TOP is not a prefix of the message');
  // TOP n 0 is the header section and its blank line, where the MIME parser says they end.
  const header = parseHeaderSection(data, { maxHeaderBytes: Infinity, maxHeaderFields: Infinity });
  const top0 = extractTop(data, 0).length;
  check(top0 === (header.hasSeparator ? header.bodyStart : data.length), () => `TOP n 0 ends at ${top0}, the header section at ${header.bodyStart}`);
  return whole.some((e) => e === 'error' || e.includes('"ok":false')) ? 'rejected' : 'ok';
}

const seeds = (): Uint8Array[] => [Buffer.from(COMMANDS.map((c) => `${c}\r\n`).join(''), 'latin1'), ...mailSeeds(64 * 1024)];

export const pop3: FuzzTarget = {
  name: 'pop3',
  seeds,
  // Whole, then in 17 pieces.
  passes: 2,
  arbitrary: fc.oneof(
    { weight: 5, arbitrary: mutatedSeeds(seeds(), { dictionary: TOKENS, maxBytes: 64 * 1024, maxRepeat: 50_000 }) },
    { weight: 3, arbitrary: tokenSoup(TOKENS, 60) },
    { weight: 1, arbitrary: anyBytes(1024) },
  ),
  run,
};
