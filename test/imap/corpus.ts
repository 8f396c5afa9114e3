/**
 * Real-world messages for the IMAP end-to-end tests, stored the way postern
 * stores mail it accepted over SMTP: CRLF line endings (SMTP refuses bare LF
 * and CR, so every mailbox message is CRLF). test/corpus/mime/ and
 * test/corpus/imap/ hold the originals byte for byte.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { toCrlf } from './harness.js';

const ROOT = path.resolve(import.meta.dirname, '../corpus');

/** name → folder under test/corpus. None has NUL bytes: IMAP literals cannot carry them (RFC 3501 CHAR8). */
export const CORPUS: readonly { name: string; dir: 'mime' | 'imap' }[] = [
  { name: 'mimekit-rfc2060.txt', dir: 'mime' },
  { name: 'cpython-msg_10.txt', dir: 'mime' },
  { name: 'flanker-8bitmime.eml', dir: 'mime' },
  { name: 'mimekit-japanese.txt', dir: 'mime' },
  { name: 'mimekit-simple-embedded-message.eml', dir: 'mime' },
  { name: 'flanker-iphone.eml', dir: 'imap' },
  { name: 'flanker-outlook-express.eml', dir: 'imap' },
  { name: 'flanker-bounce-office365.eml', dir: 'imap' },
  { name: 'mimekit-gnupg-2.1.20-announce.eml', dir: 'imap' },
];

export function corpusFile(name: string, dir: 'mime' | 'imap'): Buffer {
  return readFileSync(path.join(ROOT, dir, name));
}

/** The corpus messages as stored in a mailbox (CRLF). */
export function corpusMessages(): { name: string; bytes: Buffer }[] {
  return CORPUS.map((c) => ({ name: c.name, bytes: toCrlf(corpusFile(c.name, c.dir)) }));
}

/** The header section as RFC 3501 defines it: up to and including the blank line. */
export function headerOf(msg: Buffer): Buffer {
  const at = msg.indexOf('\r\n\r\n');
  return at < 0 ? msg : msg.subarray(0, at + 4);
}

export function textOf(msg: Buffer): Buffer {
  const at = msg.indexOf('\r\n\r\n');
  return at < 0 ? Buffer.alloc(0) : msg.subarray(at + 4);
}
