/**
 * What a phase's verdicts do to the message: header fields prepended (folded,
 * never carrying CR or LF from a stage), the visible banner, the Junk flag,
 * the certificates to encrypt to.
 */
import type { Verdict } from '../../core/verdict.js';
import { encodeEncodedWords } from '../../codec/mime/encoded-word.js';

const MAX_FIELD = 4096;
const FOLD_AT = 76;

/** One header field, folded at spaces to lines of about 76 characters; CR, LF and other controls become spaces. */
export function formatField(name: string, value: string): string {
  let clean = '';
  for (const ch of value.slice(0, MAX_FIELD)) {
    const c = ch.charCodeAt(0);
    clean += (c < 0x20 && c !== 0x09) || c === 0x7f ? ' ' : ch;
  }
  const words = clean.split(' ');
  let line = `${name}:`;
  const out: string[] = [];
  for (const w of words) {
    if (w === '') continue;
    if (line.length + 1 + w.length > FOLD_AT && line.length > name.length + 1) {
      out.push(line);
      line = `\t${w}`;
    } else {
      line += ` ${w}`;
    }
  }
  out.push(line);
  return out.join('\r\n') + '\r\n';
}

/** The header fields the verdicts ask for, in stage order, as one block to prepend. */
export function headerBlock(verdicts: readonly Verdict[]): Buffer {
  const fields = verdicts.flatMap((v) => v.headers.map(([n, val]) => formatField(n, val)));
  return Buffer.from(fields.join(''), 'utf8');
}

/** Deliver to Junk when any stage says so. */
export function wantsJunk(verdicts: readonly Verdict[]): boolean {
  return verdicts.some((v) => v.junk === true);
}

/** The first banner of a stage that tagged the message. */
export function bannerOf(verdicts: readonly Verdict[]): string | null {
  return verdicts.find((v) => v.action === 'tag' && v.banner)?.banner ?? null;
}

/** The certificates (DER) the verdicts ask to encrypt to, all stages together, each once; null when none asks. */
export function encryptToOf(verdicts: readonly Verdict[]): Uint8Array[] | null {
  const asked = verdicts.filter((v) => v.encryptTo !== undefined);
  if (asked.length === 0) return null;
  const seen = new Set<string>();
  const out: Uint8Array[] = [];
  for (const c of asked.flatMap((v) => v.encryptTo ?? [])) {
    const k = Buffer.from(c.buffer, c.byteOffset, c.byteLength).toString('base64');
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(c);
  }
  return out;
}

/** The stage and reason a hold is filed under in the quarantine. */
export function holdReason(verdicts: readonly Verdict[]): { stage: string; reason: string } {
  const v = verdicts.find((x) => x.action === 'hold') ?? verdicts[0];
  const r = v?.reasons[0];
  return { stage: v?.stage ?? 'policy', reason: r ? [r.rule, r.detail].filter(Boolean).join(': ').slice(0, 200) : 'held' };
}

/** The reply a reject or tempfail verdict asked for, or a default with the right class. */
export function replyFor(verdicts: readonly Verdict[], action: 'reject' | 'tempfail'): [number, string] {
  const v = verdicts.find((x) => x.action === action);
  const text = v?.reply?.replace(/[\r\n]/g, ' ').slice(0, 300);
  if (action === 'reject') return [550, text && /^5\.\d+\.\d+ /.test(text) ? text : `5.7.1 Message refused by policy (${v?.stage ?? 'policy'})`];
  return [451, text && /^4\.\d+\.\d+ /.test(text) ? text : `4.7.0 Message could not be checked (${v?.stage ?? 'policy'}), try again later`];
}

/**
 * The message with `block` inserted after its first header field when that is
 * our own trace field (Received, which SMTP prepends), else at the very top:
 * the trace field stays first, and the fields our stages add sit just below.
 */
export function insertBelowTrace(raw: Uint8Array, block: Uint8Array): Buffer {
  const buf = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  if (block.length === 0) return Buffer.from(buf);
  if (!buf.subarray(0, 9).toString('latin1').toLowerCase().startsWith('received:')) return Buffer.concat([block, buf]);
  let end = 0;
  // Bounded: a header field line is at most a few KiB; give up past 64 KiB and prepend instead.
  while (end < 65_536) {
    const nl = buf.indexOf('\r\n', end);
    if (nl < 0) return Buffer.concat([block, buf]);
    end = nl + 2;
    const next = buf[end];
    if (next !== 0x20 && next !== 0x09) return Buffer.concat([buf.subarray(0, end), block, buf.subarray(end)]);
  }
  return Buffer.concat([block, buf]);
}

const MAX_TAG = 100;
/** How far into a message the header section is looked for (data.ts bounds real header sections well below). */
const MAX_HEADER_SCAN = 256 * 1024;

/** The first subject tag the verdicts ask for, one line, bounded, as header text (RFC 2047 words when not ASCII); null when none. */
export function subjectTagOf(verdicts: readonly Verdict[]): string | null {
  for (const v of verdicts) {
    if (!v.subjectTag) continue;
    let clean = '';
    for (const ch of v.subjectTag) {
      const c = ch.charCodeAt(0);
      clean += c < 0x20 || c === 0x7f ? ' ' : ch;
    }
    clean = clean.replace(/ +/g, ' ').trim().slice(0, MAX_TAG).trim();
    if (clean) return encodeEncodedWords(clean);
  }
  return null;
}

/**
 * Puts `tag` in front of the first Subject field's value: the message with
 * the tag, 'unchanged' when the subject already starts with it, 'absent'
 * when there is no Subject field (the caller adds one). An encoded-word
 * subject gets the tag as ASCII text before it, separated by a space (RFC
 * 2047 allows that). A line that would pass 78 characters is folded after the tag.
 */
export function tagSubject(raw: Uint8Array, tag: string): Buffer | 'unchanged' | 'absent' {
  const buf = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const limit = Math.min(buf.length, MAX_HEADER_SCAN);
  let pos = 0;
  while (pos < limit) {
    const nl = buf.indexOf(0x0a, pos);
    const end = nl < 0 || nl >= limit ? limit : nl + 1;
    const first = buf[pos];
    if (first === 0x0d || first === 0x0a) return 'absent'; // the blank line: end of the header section
    if (end - pos >= 8 && buf.subarray(pos, pos + 8).toString('latin1').toLowerCase() === 'subject:') {
      return tagField(buf, pos, end, limit, tag);
    }
    pos = end;
  }
  return 'absent';
}

function tagField(buf: Buffer, start: number, lineEnd: number, limit: number, tag: string): Buffer | 'unchanged' {
  // The whole field, continuation lines included, to compare the unfolded value.
  let fieldEnd = lineEnd;
  while (fieldEnd < limit && (buf[fieldEnd] === 0x20 || buf[fieldEnd] === 0x09)) {
    const nl = buf.indexOf(0x0a, fieldEnd);
    fieldEnd = nl < 0 || nl >= limit ? limit : nl + 1;
  }
  const value = buf.subarray(start + 8, fieldEnd).toString('utf8').replace(/\r?\n(?=[ \t])/g, '').replace(/^[ \t]+/, '');
  if (value.toLowerCase().startsWith(tag.toLowerCase())) return 'unchanged';
  let at = start + 8;
  while (at < lineEnd && (buf[at] === 0x20 || buf[at] === 0x09)) at++;
  const rest = value.replace(/[\r\n]+$/, '');
  const lineLength = lineEnd - start + tag.length + 1;
  const nl = buf[lineEnd - 2] === 0x0d ? '\r\n' : '\n';
  // An empty subject gets just the tag; a long first line is folded after it.
  const insert = rest === '' ? `${tag}` : lineLength > 78 ? `${tag}${nl} ` : `${tag} `;
  return Buffer.concat([buf.subarray(0, start), Buffer.from('Subject: ', 'latin1'), Buffer.from(insert, 'utf8'), buf.subarray(at)]);
}
