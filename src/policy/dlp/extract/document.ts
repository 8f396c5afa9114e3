/**
 * One file's text by its true type (its bytes, not its name): PDF, office
 * packages, ZIP and TAR archives (walked, nested, under the malware stage's
 * bounds), gzip, encrypted Office (OLE "EncryptedPackage"), plain text and HTML, and
 * attached messages. What cannot be read is a finding; nothing throws.
 */
import { gunzipBounded } from '../../dmarc-report/unpack.js';
import { looksLikeZip } from '../../av/zip.js';
import type { SegmentKind } from '../types.js';
import type { Collector } from './collector.js';
import { htmlToText } from '../../../codec/mime/index.js';
import { officeKind, officeText } from './office.js';
import { looksLikePdf, pdfText } from './pdf.js';
import { readTar, looksLikeTar } from './tar.js';
import { decodeText, looksLikeHtml, looksLikeText } from './text.js';
import { listZip, readEntry } from './zipread.js';

export interface FileInput {
  readonly bytes: Uint8Array;
  /** The file name as given (may lie: only used to name the source and strip .gz). */
  readonly name: string | null;
  /** The declared Content-Type (lower-cased type/subtype) and charset, when a MIME part declares them. */
  readonly declaredType: string | null;
  readonly charset: string | null;
  /** Where it is, as in TextSegment.source. */
  readonly source: string;
  readonly kind: SegmentKind;
  /** Archive levels above it (0 for a MIME part or a file). */
  readonly archiveDepth: number;
}

/** Reads an attached message (RFC 822) into the collector; set by the message walker (it calls back into this module). */
export type MessageReader = (bytes: Uint8Array, source: string) => Promise<void>;

const OLE = [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1];
const ENCRYPTED_PACKAGE = Buffer.from('EncryptedPackage', 'utf16le');
const ODF_ENCRYPTED = Buffer.from('encryption-data');
const PGP_MESSAGE = '-----BEGIN PGP MESSAGE-----';

function isOle(b: Uint8Array): boolean {
  return b.length >= 512 && OLE.every((x, i) => b[i] === x);
}

function buf(b: Uint8Array): Buffer {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

function looksLikeMessage(f: FileInput): boolean {
  if (f.declaredType === 'message/rfc822' || f.declaredType === 'message/global') return true;
  return /\.eml$/i.test(f.name ?? '') && looksLikeText(f.bytes);
}

async function zipFile(c: Collector, f: FileInput, readMessage: MessageReader): Promise<void> {
  const entries = listZip(c, f.bytes, f.source);
  if (!entries) return;
  const office = officeKind(entries);
  if (office) {
    const manifest = office === 'odf' ? entries.find((e) => e.name === 'META-INF/manifest.xml') : undefined;
    const m = manifest ? readEntry(c, f.bytes, manifest, f.source) : null;
    if (m && buf(m).indexOf(ODF_ENCRYPTED) >= 0) {
      c.find('encrypted', f.source, 'a password-protected OpenDocument file');
      return;
    }
    const text = officeText(c, office, f.bytes, entries, f.source);
    if (text !== null) c.add(f.kind, f.source, text);
    return;
  }
  if (f.archiveDepth >= c.limits.maxArchiveDepth) {
    c.find('archive-limit', f.source, `an archive nested more than ${c.limits.maxArchiveDepth} deep`);
    return;
  }
  const encrypted: string[] = [];
  for (const e of entries) {
    if (c.full) break;
    if (++c.entries > c.limits.maxEntries) {
      c.find('archive-limit', f.source, `more than ${c.limits.maxEntries} archive entries`);
      break;
    }
    if (e.encrypted) {
      encrypted.push(e.name);
      continue;
    }
    const source = `${f.source}!${e.name}`;
    if (e.size > c.byteRoom) {
      c.find('archive-limit', f.source, `${e.name}: more than the ${c.limits.maxTotalBytes} bytes allowed per message`);
      break;
    }
    const bytes = readEntry(c, f.bytes, e, f.source);
    if (!bytes) continue;
    await extractFile(c, { bytes, name: e.name, declaredType: null, charset: null, source, kind: f.kind, archiveDepth: f.archiveDepth + 1 }, readMessage);
  }
  if (encrypted.length > 0) c.find('encrypted', f.source, `${encrypted.length} encrypted entries: ${encrypted.join(', ')}`);
}

async function tarFile(c: Collector, f: FileInput, readMessage: MessageReader): Promise<void> {
  if (f.archiveDepth >= c.limits.maxArchiveDepth) {
    c.find('archive-limit', f.source, `an archive nested more than ${c.limits.maxArchiveDepth} deep`);
    return;
  }
  const tar = readTar(f.bytes, Math.max(0, c.limits.maxEntries - c.entries));
  if (!tar.ok) {
    c.find('unreadable', f.source, tar.error);
    return;
  }
  for (const e of tar.entries) {
    if (c.full) break;
    c.entries++;
    await extractFile(c, { bytes: e.data, name: e.name, declaredType: null, charset: null, source: `${f.source}!${e.name}`, kind: f.kind, archiveDepth: f.archiveDepth + 1 }, readMessage);
  }
  if (tar.more) c.find('archive-limit', f.source, `more than ${c.limits.maxEntries} archive entries`);
}

/** Adds the text of one file (and of what it contains) to the collector. */
export async function extractFile(c: Collector, f: FileInput, readMessage: MessageReader): Promise<void> {
  if (c.full) return;
  const b = f.bytes;
  if (looksLikePdf(b)) {
    const text = await pdfText(c, b, f.source);
    if (text !== null) c.add(f.kind, f.source, text);
    return;
  }
  if (looksLikeZip(b)) return zipFile(c, f, readMessage);
  if (b.length >= 18 && b[0] === 0x1f && b[1] === 0x8b) {
    if (f.archiveDepth >= c.limits.maxArchiveDepth) {
      c.find('archive-limit', f.source, `an archive nested more than ${c.limits.maxArchiveDepth} deep`);
      return;
    }
    const r = gunzipBounded(b, c.byteRoom);
    if (!r.ok) {
      c.find(/more than/.test(r.error) ? 'archive-limit' : 'unreadable', f.source, r.error);
      return;
    }
    c.bytes += r.data.length;
    const inner = (f.name ?? 'file').replace(/\.t?gz$/i, (x) => (x.toLowerCase() === '.tgz' ? '.tar' : ''));
    return extractFile(c, { ...f, bytes: r.data, name: inner, declaredType: null, charset: null, source: `${f.source}!${inner}`, archiveDepth: f.archiveDepth + 1 }, readMessage);
  }
  if (looksLikeTar(b)) return tarFile(c, f, readMessage);
  if (isOle(b)) {
    if (buf(b).indexOf(ENCRYPTED_PACKAGE) >= 0) c.find('encrypted', f.source, 'a password-protected Office document');
    else c.find('unreadable', f.source, 'a legacy binary Office document (not read)');
    return;
  }
  if (looksLikeMessage(f)) return readMessage(b, f.source);
  if (!looksLikeText(b)) return;
  const text = decodeText(b, f.charset);
  if (text.includes(PGP_MESSAGE)) c.find('encrypted', f.source, 'a PGP-encrypted file');
  const html = f.declaredType === 'text/html' || looksLikeHtml(text);
  c.add(f.kind, f.source, html ? htmlToText(text, c.room + 1) : text);
}
