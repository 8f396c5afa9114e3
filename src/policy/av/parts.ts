/**
 * The parts of a message as the malware engines and the attachment policy
 * see them (runs in the worker pool: it decodes untrusted content). MIME
 * leaves are decoded (base64, quoted-printable); ZIP archives among them are
 * opened, nested up to a depth, under one byte budget for the whole message,
 * a ratio per entry and a count of entries. A breach is a finding, never a
 * throw and never a hang: what cannot be opened is reported, not scanned.
 */
import { decodePartBody, paramValue, type MimeMessage, type MimePart } from '../../codec/mime/index.js';
import { parseOnce } from '../pool/parse-memo.js';
import type { InflateStats } from '../dmarc-report/unpack.js';
import { looksLikeZip, readZipDirectory, readZipEntry } from './zip.js';

export interface ExtractLimits {
  /** Archives inside archives: an archive at a deeper level is not opened. */
  readonly maxArchiveDepth: number;
  /** Decoded and uncompressed bytes, all parts of the message together. */
  readonly maxTotalBytes: number;
  /** Uncompressed:compressed ratio an archive entry may have (entries under 1 MiB are exempt). */
  readonly maxRatio: number;
  /** Archive entries, all archives of the message together. */
  readonly maxEntries: number;
}

export const DEFAULT_EXTRACT_LIMITS: ExtractLimits = { maxArchiveDepth: 3, maxTotalBytes: 100 * 1024 * 1024, maxRatio: 100, maxEntries: 1000 };

/** MIME nesting and part count: far above real mail, far below what would cost. */
const MIME_LIMITS = { maxDepth: 20, maxParts: 1000 };
/** An entry this small may compress better than maxRatio (a page of zeros, a repetitive log). */
const RATIO_FLOOR = 1024 * 1024;

export type FindingKind = 'zip-bomb' | 'archive-too-deep' | 'encrypted-archive' | 'archive-unreadable';

export interface Finding {
  readonly kind: FindingKind;
  /** The archive's path, e.g. "2/files.zip". */
  readonly part: string;
  readonly detail: string;
}

export interface ExtractedPart {
  /** "2" (MIME part, IMAP numbering) or "2/invoice.zip!doc.exe" (an archive entry). */
  readonly path: string;
  /** The file name as given (Content-Disposition/Content-Type name, or the entry name), null when none. */
  readonly filename: string | null;
  /** The declared Content-Type, lower-cased; null inside archives and when the part has none. */
  readonly declaredType: string | null;
  readonly bytes: Uint8Array;
  /** Archive levels above it: 0 for a MIME part. */
  readonly archiveDepth: number;
  /** An attachment (has a name or says so), rather than a body. */
  readonly attachment: boolean;
  /** An encrypted archive entry: listed by name, no bytes. */
  readonly encrypted: boolean;
}

export interface Extracted {
  readonly parts: ExtractedPart[];
  readonly findings: Finding[];
  /** Decoded and uncompressed bytes produced. */
  readonly bytes: number;
}

/** Limits from plain data (a task's input), each one held to a sane range. */
export function limitsFrom(x: unknown): ExtractLimits {
  const o = (typeof x === 'object' && x !== null ? x : {}) as Record<string, unknown>;
  const n = (k: keyof ExtractLimits, min: number, max: number): number => {
    const v = o[k];
    return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? v : DEFAULT_EXTRACT_LIMITS[k];
  };
  return { maxArchiveDepth: n('maxArchiveDepth', 0, 16), maxTotalBytes: n('maxTotalBytes', 1024, 2 ** 31), maxRatio: n('maxRatio', 2, 100_000), maxEntries: n('maxEntries', 1, 1_000_000) };
}

function fileNameOf(p: MimePart): string | null {
  const name = paramValue(p.disposition?.params ?? [], 'filename') ?? paramValue(p.contentType.params, 'name');
  return name ? name.slice(0, 255) : null;
}

/** The MIME leaves with their IMAP part numbers, an explicit stack (no recursion on hostile nesting). */
function leaves(msg: MimeMessage): { part: MimePart; path: string }[] {
  const out: { part: MimePart; path: string }[] = [];
  const stack: { part: MimePart; path: string }[] = [{ part: msg.root, path: '' }];
  while (stack.length > 0) {
    const { part, path } = stack.pop()!;
    const at = (i: number) => (path ? `${path}.${i + 1}` : String(i + 1));
    if (part.contentType.type === 'multipart') {
      for (let i = part.children.length - 1; i >= 0; i--) stack.push({ part: part.children[i]!, path: at(i) });
    } else if (part.message) {
      const m = part.message;
      if (m.contentType.type === 'multipart') for (let i = m.children.length - 1; i >= 0; i--) stack.push({ part: m.children[i]!, path: at(i) });
      else stack.push({ part: m, path: `${path}.1` });
    } else out.push({ part, path: path || '1' });
  }
  return out;
}

class Walker {
  readonly parts: ExtractedPart[] = [];
  readonly findings: Finding[] = [];
  bytes = 0;
  private entries = 0;

  constructor(
    private readonly lim: ExtractLimits,
    private readonly stats?: InflateStats,
  ) {}

  add(p: ExtractedPart): void {
    this.parts.push(p);
    if (p.encrypted || !looksLikeZip(p.bytes)) return;
    if (p.archiveDepth >= this.lim.maxArchiveDepth) {
      this.findings.push({ kind: 'archive-too-deep', part: p.path, detail: `an archive nested more than ${this.lim.maxArchiveDepth} deep` });
      return;
    }
    this.openZip(p);
  }

  private openZip(archive: ExtractedPart): void {
    const dir = readZipDirectory(archive.bytes, this.lim.maxEntries - this.entries);
    if (!dir.ok) {
      this.findings.push({ kind: 'archive-unreadable', part: archive.path, detail: dir.error });
      return;
    }
    let encrypted = false;
    for (const e of dir.entries) {
      if (++this.entries > this.lim.maxEntries) {
        this.findings.push({ kind: 'zip-bomb', part: archive.path, detail: `more than ${this.lim.maxEntries} archive entries` });
        return;
      }
      const base = { path: `${archive.path}!${e.name}`, filename: e.name, declaredType: null, archiveDepth: archive.archiveDepth + 1, attachment: true };
      if (e.encrypted) {
        encrypted = true;
        this.parts.push({ ...base, bytes: new Uint8Array(0), encrypted: true });
        continue;
      }
      const r = readZipEntry(archive.bytes, e, { remaining: this.lim.maxTotalBytes - this.bytes, maxRatio: this.lim.maxRatio, ratioFloor: RATIO_FLOOR, stats: this.stats });
      if (!r.ok) {
        this.findings.push({ kind: r.bomb ? 'zip-bomb' : 'archive-unreadable', part: archive.path, detail: r.error });
        // Past a size limit the rest of the archive is not worth reading (and is probably more of the same).
        if (r.bomb) return;
        continue;
      }
      this.bytes += r.data.length;
      this.add({ ...base, bytes: r.data, encrypted: false });
    }
    if (encrypted) this.findings.push({ kind: 'encrypted-archive', part: archive.path, detail: 'encrypted entries cannot be scanned' });
  }
}

/** Every leaf part of the message and every entry of the archives among them. */
export function extractParts(raw: Uint8Array, limits: ExtractLimits = DEFAULT_EXTRACT_LIMITS, stats?: InflateStats): Extracted {
  const msg = parseOnce(raw, MIME_LIMITS);
  const w = new Walker(limits, stats);
  for (const { part, path } of leaves(msg)) {
    const remaining = limits.maxTotalBytes - w.bytes;
    if (remaining <= 0) {
      w.findings.push({ kind: 'zip-bomb', part: path, detail: `the message decodes to more than ${limits.maxTotalBytes} bytes` });
      break;
    }
    const bytes = decodePartBody(msg, part, remaining);
    w.bytes += bytes.length;
    const filename = fileNameOf(part);
    w.add({
      path: filename ? `${path}/${filename}` : path,
      filename,
      declaredType: part.contentType.defaulted ? null : `${part.contentType.type}/${part.contentType.subtype}`,
      bytes,
      archiveDepth: 0,
      attachment: filename !== null || part.disposition?.type === 'attachment',
      encrypted: false,
    });
  }
  return { parts: w.parts, findings: w.findings, bytes: w.bytes };
}
