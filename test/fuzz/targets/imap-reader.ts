/**
 * IMAP command stream: ImapCommandReader with literals, then parseImapCommand.
 * Promises checked: the events do not depend on how the bytes are split; the
 * reader always progresses; commands respect every configured bound; the
 * parser answers a typed error, never its "Internal parser error" fallback,
 * and agrees with the reader on the tag.
 */
import fc from 'fast-check';
import { encodeString, ImapCommandReader, mailboxWireName, parseImapCommand, type ImapReaderEvent, type ImapReaderOptions } from '../../../src/codec/imap/index.js';
import { anyBytes, mutatedSeeds, nested, tokenSoup } from '../harness/mutate.js';
import { mailSeeds } from '../harness/seeds.js';
import { check, inputSeed, prng, type FuzzTarget } from '../harness/types.js';

const SMALL: ImapReaderOptions = { maxLineLength: 40, maxLiteralSize: 20, maxNonSyncLiteral: 10, maxDiscard: 15, maxCommandSize: 200, maxLiterals: 3 };
const MEDIUM: ImapReaderOptions = { maxLineLength: 1024, maxLiteralSize: 64 * 1024, maxNonSyncLiteral: 4096, maxDiscard: 8192, maxCommandSize: 128 * 1024, maxLiterals: 50 };
const LIMITS: ImapReaderOptions[] = [SMALL, MEDIUM, {}];
const DEFAULTS = { maxLineLength: 64 * 1024, maxLiteralSize: 64 * 1024 * 1024, maxCommandSize: 80 * 1024 * 1024, maxLiterals: 1000 };

const TOKENS = [
  'a1 ', 'A2 ', '* ', '+ ', 'UID ', 'FETCH ', 'SEARCH ', 'APPEND ', 'LOGIN ', 'SELECT ', 'LIST ', 'STORE ', 'ID ', 'ENABLE ', 'IDLE', 'DONE', 'AUTHENTICATE PLAIN',
  '{3}\r\n', '{2+}\r\n', '~{1}\r\n', '{0}\r\n', '{11}\r\n', '{12+}\r\n', '{99999999999999999999}\r\n', '{}\r\n', '{1+}\r\nx', '"', '\\', '(', ')', '[', ']', '<0.5>',
  ' ', '\r\n', '\n', '\r', 'INBOX', '1:*', '$', '*', ',', 'NIL', 'OR ', 'NOT ', 'BODY.PEEK[HEADER.FIELDS (From)]', '+FLAGS.SILENT ', '\\Seen', 'RETURN (MIN) ',
  'CHARSET UTF-8 ', '1-Feb-1994', '"17-Jul-1996 02:44:25 -0700" ', '&ZeVnLIqe-', '&', '\x00', '\xff', '\xc3\xa9', 'MODSEQ 18446744073709551616 ', 'BINARY[1]<0.10>',
];

const COMMANDS = [
  'a1 CAPABILITY', 'a2 LOGIN {4}\r\nuser {8+}\r\npassword', 'a3 AUTHENTICATE PLAIN', 'AGZvbwBiYXI=', 'a4 ID ("name" "fuzz" "version" NIL)', 'a5 ENABLE QRESYNC UTF8=ACCEPT',
  'a6 LIST "" "*" RETURN (SUBSCRIBED CHILDREN STATUS (MESSAGES UNSEEN SIZE))', 'a7 SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541))',
  'a8 UID FETCH 1:* (UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[HEADER.FIELDS (From To Cc Subject Date Message-ID)] BODYSTRUCTURE ENVELOPE) (CHANGEDSINCE 12345)',
  'a9 UID SEARCH RETURN (MIN MAX COUNT SAVE) CHARSET UTF-8 OR (FROM "x" SUBJECT {6+}\r\nr\xc3\xa9sum) NOT (SEEN DELETED) SINCE 1-Feb-1994 LARGER 100 HEADER "X-Y" ""',
  'b1 UID STORE $ +FLAGS.SILENT (\\Seen $Forwarded) (UNCHANGEDSINCE 99)', 'b2 UID MOVE 1,3:5 "Archive/2024"', 'b3 IDLE', 'DONE', 'b4 GETQUOTAROOT INBOX', 'b5 SETQUOTA "" (STORAGE 512)',
  'b6 RENAME "a/&ZeVnLIqe-" "b"', 'b7 STATUS "Sent" (MESSAGES UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE HIGHESTMODSEQ)', 'b8 UID EXPUNGE 1:4', 'b9 APPEND Drafts ~{3}\r\na\x00b',
  'c1 FETCH 1 (BINARY.PEEK[1.2]<0.100> BINARY.SIZE[1] BODY[1.MIME] BODY[TEXT]<5.10>)', 'c2 CREATE "Projects" (USE (\\Archive))', 'c3 LOGOUT',
  'c4 APPEND Sent (\\Seen) CATENATE (URL "/INBOX;UIDVALIDITY=9/;UID=1/;SECTION=HEADER" TEXT {5+}\r\nhello URL "/INBOX/;UID=2/;PARTIAL=0.10") CATENATE (TEXT ~{2}\r\n\x00x)',
];

function seeds(): Uint8Array[] {
  const out: Uint8Array[] = [Buffer.from(COMMANDS.map((c) => `${c}\r\n`).join(''), 'latin1')];
  for (const c of COMMANDS) out.push(Buffer.from(`${c}\r\n`, 'latin1'));
  // APPENDs of real messages, as a client sends them, synchronising and LITERAL+.
  mailSeeds(64 * 1024).forEach((m, i) => {
    const head = i % 2 === 0 ? `t${i} APPEND INBOX (\\Seen) "05-Mar-2024 09:07:03 +0100" {${m.length}}\r\n` : `t${i} APPEND Sent {${m.length}+}\r\n`;
    out.push(Buffer.concat([Buffer.from(head, 'latin1'), m, Buffer.from('\r\n')]));
  });
  return out;
}

const json = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : Buffer.isBuffer(x) ? x.toString('hex') : x));

/** Feeds the chunks like a server would and returns the events as text; checks the bounds as it goes. */
function drive(chunks: readonly Buffer[], options: ImapReaderOptions): string[] {
  const reader = new ImapCommandReader(options);
  const lim = { ...DEFAULTS, ...options };
  const out: string[] = [];
  let pushed = 0;
  let rawLeft = 0;
  for (const chunk of chunks) {
    reader.push(chunk);
    pushed += chunk.length;
    for (let ev: ImapReaderEvent | null = reader.next(); ev !== null; ev = reader.next()) {
      check(out.length <= 2 * pushed + 2, 'the reader gives events without consuming bytes');
      check(reader.bufferedBytes <= pushed, `bufferedBytes ${reader.bufferedBytes} over the ${pushed} bytes pushed`);
      if (ev.type === 'literal-request') {
        const cap = ev.nonSync ? Math.min(lim.maxNonSyncLiteral ?? lim.maxLiteralSize, lim.maxLiteralSize) : lim.maxLiteralSize;
        check(ev.size <= cap && ev.index < lim.maxLiterals, `literal-request of ${ev.size} bytes (#${ev.index}) past the limits`);
        out.push(json(ev));
        // Deterministic answers, so only the chunking varies.
        if (ev.size % 3 !== 0) reader.acceptLiteral();
        else out.push(json(reader.refuseLiteral()));
        continue;
      }
      if (ev.type !== 'command') {
        out.push(json(ev));
        if (rawLeft > 0 && --rawLeft === 0) reader.setMode('command');
        continue;
      }
      const { lines, literals } = ev.command;
      check(lines.length === literals.length + 1, `command with ${lines.length} lines and ${literals.length} literals`);
      check(literals.length <= lim.maxLiterals, `${literals.length} literals, over the limit`);
      let size = 0;
      for (const l of lines) {
        check(l.length <= lim.maxLineLength, `a command line of ${l.length} bytes, over the limit`);
        check(!l.includes(0x0a), 'a command line holds LF');
        size += l.length + 2;
      }
      for (const l of literals) {
        check(l.length <= lim.maxLiteralSize, `a literal of ${l.length} bytes, over the limit`);
        size += l.length;
      }
      check(size <= lim.maxCommandSize, `a command of ${size} bytes, over the limit`);
      for (const utf8 of [false, true]) {
        const r = parseImapCommand(ev.command, { utf8 });
        if (r.ok) {
          check(r.command.tag === ev.tag, `parser tag ${JSON.stringify(r.command.tag)} differs from the reader's ${JSON.stringify(ev.tag)}`);
          if ('mailbox' in r.command && r.command.mailbox !== null) roundTripMailbox(r.command.mailbox, utf8);
        }
        else check(r.error.message !== 'Internal parser error', 'parseImapCommand hit an unexpected exception (Internal parser error)');
        out.push(json(r));
        if (!r.ok || utf8) continue;
        // Switch modes as the server does, so IDLE and AUTHENTICATE paths are read too.
        if (r.command.name === 'IDLE') reader.setMode('idle');
        else if (r.command.name === 'AUTHENTICATE' && r.command.initialResponse === null) {
          reader.setMode('raw');
          rawLeft = 1;
        }
      }
    }
  }
  return out;
}

/** A mailbox name the parser accepted, written back as postern writes names, parses to the same name. */
function roundTripMailbox(name: string, utf8: boolean): void {
  const wire = encodeString(mailboxWireName(name, { utf8 }), { utf8 });
  const brace = wire[0] === 0x7b ? wire.indexOf('\r\n') : -1;
  const raw = brace < 0
    ? { lines: [Buffer.concat([Buffer.from('t DELETE '), wire])], literals: [] }
    : { lines: [Buffer.concat([Buffer.from('t DELETE '), wire.subarray(0, brace)]), Buffer.alloc(0)], literals: [wire.subarray(brace + 2)] };
  const again = parseImapCommand(raw, { utf8 });
  check(again.ok && 'mailbox' in again.command && again.command.mailbox === name, () => `mailbox ${JSON.stringify(name.slice(0, 60))} does not survive encoding (${again.ok ? 'parsed differently' : again.error.message})`);
}

function split(data: Buffer, rnd: () => number, pieces: number): Buffer[] {
  const cuts = new Set<number>();
  for (let i = 0; i < pieces; i++) cuts.add(Math.floor(rnd() * (data.length + 1)));
  const points = [...cuts].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(data.subarray(prev, p));
    prev = p;
  }
  out.push(data.subarray(prev));
  return out;
}

function run(input: Uint8Array): 'ok' | 'rejected' {
  const data = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  const seed = inputSeed(input);
  const rnd = prng(seed);
  const options = LIMITS[seed % LIMITS.length]!;
  const whole = drive([data], options);
  const tries: Buffer[][] = [split(data, rnd, 1), split(data, rnd, 8), split(data, rnd, 64)];
  if (data.length <= 4096) tries.push([...data].map((b) => Buffer.from([b])));
  for (const chunks of tries) {
    const got = drive(chunks, options);
    const i = whole.findIndex((e, k) => got[k] !== e);
    check(got.length === whole.length && i < 0, () => `split into ${chunks.length} pieces, event ${i < 0 ? whole.length : i} differs: ${String(got[i < 0 ? whole.length : i]).slice(0, 200)} vs ${String(whole[i]).slice(0, 200)}`);
  }
  return whole.some((e) => e.includes('"ok":false') || e.includes('"type":"error"')) ? 'rejected' : 'ok';
}

export const imapReader: FuzzTarget = {
  name: 'imap-reader',
  seeds,
  // Whole, then in 2, 9 and 65 pieces (byte by byte only for small inputs); two parses per command each time.
  passes: 4,
  arbitrary: fc.oneof(
    { weight: 5, arbitrary: mutatedSeeds(seeds(), { dictionary: TOKENS, maxBytes: 128 * 1024, maxRepeat: 50_000 }) },
    { weight: 3, arbitrary: tokenSoup(TOKENS, 80) },
    { weight: 1, arbitrary: nested('(', 'ALL', ')', 3000).map((b) => Buffer.concat([Buffer.from('a SEARCH '), b, Buffer.from('\r\n')])) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 3000 }).map((n) => Buffer.from(`a APPEND INBOX ${'{1+}\r\nx '.repeat(n)}{1}\r\ny\r\n`, 'latin1')) },
    { weight: 1, arbitrary: anyBytes(1024) },
  ),
  run,
};
