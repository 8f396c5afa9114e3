/**
 * Gathers what extraction finds under one message's budgets: characters of
 * text (a 'truncated' finding past maxTextChars, then nothing more is
 * kept), decoded bytes and archive entries (the malware walker's bounds).
 * Sources and details are made printable and bounded here, once.
 */
import type { ContentLimits, ExtractFinding, ExtractFindingKind, SegmentKind, TextSegment } from '../types.js';

const MAX_SOURCE = 200;
const MAX_DETAIL = 200;
/** Findings kept per message: a hostile archive could otherwise list thousands. */
const MAX_FINDINGS = 100;

/** Printable ASCII only (controls, bidi marks and other non-ASCII become '?'), at most `max` characters. */
export function printable(s: string, max: number): string {
  let out = '';
  for (let i = 0; i < s.length && out.length < max; i++) {
    const c = s.charCodeAt(i);
    out += c >= 0x20 && c < 0x7f ? s[i] : '?';
  }
  if (s.length > max && out.length >= max) out = `${out.slice(0, max - 3)}...`;
  return out;
}

export class Collector {
  readonly segments: TextSegment[] = [];
  readonly findings: ExtractFinding[] = [];
  chars = 0;
  /** Decoded and uncompressed bytes produced so far. */
  bytes = 0;
  /** Archive entries seen so far. */
  entries = 0;
  private truncated = false;

  constructor(readonly limits: ContentLimits) {}

  /** Characters still allowed. */
  get room(): number {
    return Math.max(0, this.limits.maxTextChars - this.chars);
  }

  /** Bytes still allowed. */
  get byteRoom(): number {
    return Math.max(0, this.limits.maxTotalBytes - this.bytes);
  }

  get full(): boolean {
    return this.truncated;
  }

  /** Keeps `text` (cut at the budget); empty text is dropped. Returns false once the budget is spent. */
  add(kind: SegmentKind, source: string, text: string): boolean {
    if (this.truncated) return false;
    if (text.length === 0) return true;
    let t = text;
    if (t.length > this.room) {
      t = t.slice(0, this.room);
      this.stop(source);
    }
    if (t.length > 0) {
      this.segments.push({ kind, source: printable(source, MAX_SOURCE), text: t });
      this.chars += t.length;
    }
    return !this.truncated;
  }

  /** Records that the text budget ran out at `source`. */
  stop(source: string): void {
    if (this.truncated) return;
    this.truncated = true;
    this.find('truncated', source, `more than ${this.limits.maxTextChars} characters of text`);
  }

  find(kind: ExtractFindingKind, part: string, detail: string): void {
    if (this.findings.length >= MAX_FINDINGS) return;
    this.findings.push({ kind, part: printable(part, MAX_SOURCE), detail: printable(detail, MAX_DETAIL) });
  }
}
