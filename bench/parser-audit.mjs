// Pathological inputs for every parser that sees client text: each is timed
// once at about 1 MB (or the size given). A super-linear parser shows up as
// seconds where its neighbours take milliseconds.
//
//   npm run build && node bench/parser-audit.mjs [distDir]
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const dist = path.resolve(process.argv[2] ?? new URL('../dist', import.meta.url).pathname);
const load = (p) => import(pathToFileURL(path.join(dist, p)).href);
const mime = await load('codec/mime/index.js');
const imap = await load('codec/imap/index.js');
const pop3 = await load('codec/pop3/index.js');
const headers = await load('smtp/headers.js');
const search = await load('mailbox/search.js');
const address = await load('core/address.js');

const MB = 1024 * 1024;
const KB = 1024;
const mine = new Set(['alice@example.test']);
const b = (s) => Buffer.from(s, 'latin1');
const cases = [
  ['smtp unownedInField: 500 KB of "a"', () => headers.unownedInField('a'.repeat(500 * KB), mine)],
  ['smtp unownedInField: 1 MB of "a"', () => headers.unownedInField('a'.repeat(MB), mine)],
  ['smtp unownedInField: 1 MB of "a@"', () => headers.unownedInField('a@'.repeat(MB / 2), mine)],
  ['smtp unownedInField: 1 MB of "(" nesting', () => headers.unownedInField('('.repeat(MB), mine)],
  ['smtp checkHeaderSection: 256 K lines without colon, 1 MB body', () => headers.checkHeaderSection(b('a\r\n'.repeat(170 * KB) + '\r\n' + 'x'.repeat(MB)))],
  ['smtp checkHeaderSection: header lines then a colon-free 1 MB body', () => headers.checkHeaderSection(b('Subject: x\r\n' + 'a\r\n'.repeat(100 * KB) + 'b'.repeat(MB)))],
  ['mime parseAddressList: 1 MB of "a"', () => mime.parseAddressList('a'.repeat(MB))],
  ['mime parseAddressList: 1 MB of "<"', () => mime.parseAddressList('<'.repeat(MB))],
  ['mime parseAddressList: 1 MB of "a:"', () => mime.parseAddressList('a:'.repeat(MB / 2))],
  ['mime parseAddressList: 1 MB of "a@"', () => mime.parseAddressList('a@'.repeat(MB / 2))],
  ['mime parseAddressList: 1 MB of "\\""', () => mime.parseAddressList('"'.repeat(MB))],
  ['mime parseAddressList: 1 MB of "<@a,"', () => mime.parseAddressList('<@a,'.repeat(MB / 4))],
  ['mime parseStructuredValue: spaces inside a token', () => mime.parseStructuredValue('text/plain; name=a' + ' '.repeat(MB) + 'b')],
  ['mime parseStructuredValue: 1 MB of ";a="', () => mime.parseStructuredValue('text/plain' + ';a='.repeat(MB / 3))],
  ['mime parseStructuredValue: 1 MB of "(" ', () => mime.parseStructuredValue('text/plain; ' + '('.repeat(MB))],
  ['mime parseStructuredValue: RFC 2231 sections', () => mime.parseStructuredValue('text/plain' + Array.from({ length: 50000 }, (_, i) => `; n*${i}*=%41`).join(''))],
  ['mime decodeEncodedWords: 1 MB of "=?a?q?"', () => mime.decodeEncodedWords('=?a?q?'.repeat(MB / 6))],
  ['mime decodeEncodedWords: unterminated word', () => mime.decodeEncodedWords('=?utf-8?q?' + '='.repeat(MB))],
  ['mime decodeEncodedWords: 1 MB of words', () => mime.decodeEncodedWords('=?utf-8?q?a?= '.repeat(MB / 14))],
  ['mime parseMessage: 1 MB of boundary lines', () => mime.parseMessage(b('Content-Type: multipart/mixed; boundary=b\r\n\r\n' + '--b\r\n\r\n'.repeat(MB / 7)))],
  ['mime parseMessage: nested multiparts', () => mime.parseMessage(b(Array.from({ length: 5000 }, (_, i) => `Content-Type: multipart/mixed; boundary=b${i}\r\n\r\n--b${i}\r\n`).join('') + 'x'.repeat(MB)))],
  ['mime parseMessage: boundary prefixes', () => mime.parseMessage(b('Content-Type: multipart/mixed; boundary=' + 'b'.repeat(69) + '\r\n\r\n' + ('--' + 'b'.repeat(68) + '\r\n').repeat(MB / 72)))],
  ['mime parseHeaderSection: 1 MB one-line field', () => mime.parseHeaderSection(b('Subject: ' + 'x'.repeat(MB) + '\r\n\r\n'))],
  ['mime parseHeaderSection: 1 MB of folds', () => mime.parseHeaderSection(b('Subject: x\r\n' + ' y\r\n'.repeat(MB / 4) + '\r\n'))],
  ['search parseHeaderDate: 1 MB of spaces', () => search.parseHeaderDate('1 Jan' + ' '.repeat(MB) + 'x')],
  ['search parseHeaderDate: 1 MB of "1 "', () => search.parseHeaderDate('1 '.repeat(MB / 2))],
  ['search parseHeaderDate: 1 MB of "1 Janx"', () => search.parseHeaderDate('1 Jan' + 'a'.repeat(MB))],
  ['search contains: 1 MB of "a", needle a^4000 b', () => search.contains('a'.repeat(MB), 'a'.repeat(4000) + 'b')],
  ['search contains: 4 MB of (a^15999 b), needle a^16000', () => search.contains(('a'.repeat(15_999) + 'b').repeat(262), 'a'.repeat(16_000))],
  ['core normalizeAddress: 1 MB', () => address.normalizeAddress('a'.repeat(MB) + '@x')],
  ['core normalizeDomain: 1 MB of "a"', () => address.normalizeDomain('a'.repeat(MB) + '!')],
  ['core normalizeDomain: 1 MB of "a-"', () => address.normalizeDomain('a-'.repeat(MB / 2) + '!')],
  ['imap parse: SEARCH with 1 MB of "("', () => parseImap('a SEARCH ' + '('.repeat(MB))],
  ['imap parse: SEARCH with 64 KB of "NOT "', () => parseImap('a SEARCH ' + 'NOT '.repeat(16 * KB) + 'ALL')],
  ['imap parse: SEARCH with 64 KB of "OR ALL "', () => parseImap('a SEARCH ' + 'OR ALL '.repeat(9 * KB) + 'ALL')],
  ['imap parse: FETCH 1 MB sequence set', () => parseImap('a FETCH ' + '1:2,'.repeat(MB / 4) + '1 FLAGS')],
  ['imap parse: 1 MB quoted string', () => parseImap('a LOGIN "' + '\\"'.repeat(MB / 2) + '" x')],
  ['imap inSequenceSet: 16,000 ranges x 100,000 messages (SEARCH)', () => {
    const set = imap.parseSequenceSet(Array.from({ length: 16_000 }, (_, i) => String(2 * i + 1)).join(','));
    for (let n = 1; n <= 100_000; n++) imap.inSequenceSet(set.ranges, n, 100_000);
  }],
  ['imap isBase64: 1 MB + 1', () => imap.isBase64('A'.repeat(MB + 1))],
  ['imap reader: 1 MB line in 1-byte pushes', () => readImap(Array.from({ length: 64 * KB }, () => b('a')))],
  ['imap reader: 1 MB of "{1}" markers', () => readImap([b('a APPEND x ' + '{1}'.repeat(MB / 3))])],
  ['pop3 reader: 1 MB in 1-byte pushes', () => readPop3(Array.from({ length: MB }, () => b('a')))],
  ['pop3 parse: 1 MB of spaces', () => pop3.parsePop3Command(b('USER ' + ' '.repeat(MB) + 'x'))],
];

function parseImap(line) {
  return imap.parseImapCommand(imap.rawFromLine(b(line)));
}
function readImap(chunks) {
  const r = new imap.ImapCommandReader({ maxLineLength: 2 * MB, maxCommandSize: 4 * MB });
  let n = 0;
  for (const c of chunks) {
    r.push(c);
    for (let e = r.next(); e; e = r.next()) if (n++ > 1000) return;
  }
}
function readPop3(chunks) {
  const r = new pop3.Pop3LineReader({ maxLineLength: 2 * MB });
  for (const c of chunks) {
    r.push(c);
    while (r.next());
  }
}

// Each case runs in its own process so that one stuck parser is cut off at
// the time cap (default 60 s) and the others are still measured.
const CAP_S = Number(process.env.CAP_S ?? 60);
if (process.env.AUDIT_CASE !== undefined) {
  const [, fn] = cases[Number(process.env.AUDIT_CASE)];
  const t = performance.now();
  fn();
  console.log((performance.now() - t).toFixed(1));
} else {
  const { spawnSync } = await import('node:child_process');
  const only = process.env.ONLY;
  for (const [i, [name]] of cases.entries()) {
    if (only && !name.includes(only)) continue;
    const r = spawnSync(process.execPath, [new URL(import.meta.url).pathname, ...process.argv.slice(2)], {
      env: { ...process.env, AUDIT_CASE: String(i) },
      timeout: CAP_S * 1000,
      encoding: 'utf8',
    });
    const out = r.status === 0 ? `${r.stdout.trim()} ms` : r.signal ? `> ${CAP_S} s` : `failed: ${r.stderr.trim().split('\n')[0]}`;
    console.log(`${out.padStart(12)}  ${name}`);
  }
}
