/**
 * SMTP MAIL FROM / RCPT TO lines as postern reads them: smtp-server's address
 * parser (with postern's options), then postern's address validation
 * (src/core/address.ts) and the trace header built from client text
 * (src/smtp/received.ts). Promises checked: never throws; an accepted
 * address is normalised (idempotent, lower case, no controls or blanks
 * outside quotes, at most 254 octets); the Received header is one field of
 * printable ASCII whatever the HELO and address were.
 */
import fc from 'fast-check';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import { parseHeaderSection } from '../../../src/codec/mime/index.js';
import { domainOf, normalizeAddress, normalizeDomain } from '../../../src/core/address.js';
import { formatReceived } from '../../../src/smtp/received.js';
import { anyBytes, mutatedSeeds, tokenSoup } from '../harness/mutate.js';
import { check, type FuzzTarget } from '../harness/types.js';

type ParsedAddress = { address: string; args: false | Record<string, string | true> };
const parseAddressCommand = SMTPConnection.prototype._parseAddressCommand as unknown as (this: unknown, name: string, cmd: Buffer) => ParsedAddress | false;
// The part of a connection the parser reads: postern runs with strict address parsing.
const connection = { _server: { options: { lenientAddressParsing: false }, logger: { error() {} } }, session: {}, id: 'fuzz' };

const LINES = [
  'MAIL FROM:<alice@example.org>', 'MAIL FROM:<> BODY=8BITMIME', 'MAIL FROM:<bob@example.org> SIZE=1024 REQUIRETLS', 'MAIL FROM:<@relay.example,@b.example:c@d.example>',
  'RCPT TO:<carol@example.net>', 'RCPT TO:<Postmaster>', 'RCPT TO:<"john smith"@example.com> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;a+2Bb@c.d', 'mail from: <x@[192.0.2.1]>',
  'RCPT TO:<user%other@example.org>', 'MAIL FROM:<a.b-c+d@sub.example.co.uk> ENVID=QQ314159 RET=HDRS', 'MAIL FROM:<"a\\"b"@example.org>',
];
const TOKENS = ['<', '>', '@', ':', ',', '"', '\\', ' ', '\t', '=', '+0D+0A', '+00', 'MAIL FROM:', 'RCPT TO:', 'postmaster', '.', '..', '[', ']', '\r', '\n', '\0', '\x7f', '\u200b', 'é', '\xc3\xa9', 'xn--', '-'];

const HELOS = ['mail.example.org', 'x) by evil.example (postern) with ESMTP; Mon', '[127.0.0.1]', ''];

function checkAddress(n: string): void {
  check(normalizeAddress(n) === n, () => `normalizeAddress is not idempotent on ${JSON.stringify(n)}`);
  check(n.length <= 254, `a normalised address of ${n.length} octets`);
  check(n === n.toLowerCase(), 'a normalised address is not lower case');
  // eslint-disable-next-line no-control-regex -- control characters are what must not pass
  check(!/[\x00-\x1f\x7f]/.test(n), 'a normalised address holds a control character');
  const d = domainOf(n);
  check(/^[a-z0-9.-]+$/.test(d) && !d.startsWith('.') && !d.endsWith('.') && !d.includes('..'), `domain ${JSON.stringify(d)} is not a host name`);
  if (normalizeDomain(d) !== null) check(normalizeDomain(d) === d, 'normalizeDomain is not idempotent');
}

function checkReceived(helo: string, rcpt: string): void {
  const r = formatReceived({ helo, reverseName: helo, ip: '192.0.2.1', hostname: 'mx.example.org', protocol: 'ESMTPS', queueId: 'Q1', tls: { protocol: helo, cipher: 'X' }, recipients: [rcpt], date: 0 });
  check(/^[\x20-\x7e\t\r\n]*$/.test(r), 'the Received header holds a byte outside printable ASCII');
  const h = parseHeaderSection(Buffer.from(r, 'latin1'));
  const defects = h.defects.filter((d) => d.code !== 'header-no-separator');
  check(h.fields.length === 1 && h.fields[0]!.name === 'Received' && defects.length === 0, () => `the Received header does not read as one field: ${JSON.stringify(r.slice(0, 300))}`);
}

function run(input: Uint8Array): 'ok' | 'rejected' {
  const line = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  let accepted = false;
  for (const name of ['mail from', 'rcpt to']) {
    const parsed = parseAddressCommand.call(connection, name, line);
    if (!parsed) continue;
    check(typeof parsed.address === 'string', 'the parser returned no address');
    const n = parsed.address === '' ? '' : normalizeAddress(parsed.address);
    if (n === null || n === '') continue;
    accepted = true;
    checkAddress(n);
    checkReceived(line.toString('utf8'), n);
  }
  for (const helo of HELOS) checkReceived(helo, line.toString('latin1'));
  return accepted ? 'ok' : 'rejected';
}

export const smtpCommand: FuzzTarget = {
  name: 'smtp-command',
  seeds: () => LINES.map((l) => Buffer.from(l, 'latin1')),
  arbitrary: fc.oneof(
    { weight: 5, arbitrary: mutatedSeeds(LINES.map((l) => Buffer.from(l, 'latin1')), { dictionary: TOKENS, maxBytes: 4096, maxRepeat: 4096 }) },
    { weight: 3, arbitrary: tokenSoup(TOKENS, 60) },
    { weight: 1, arbitrary: anyBytes(600) },
  ),
  run,
};
