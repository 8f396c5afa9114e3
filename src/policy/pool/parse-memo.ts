/**
 * One MIME parse per message across the stages of a batch. While
 * `withParseMemo(raw, fn)` runs (the batch task), `parseOnce(raw, limits)`
 * hands every stage that parses those bytes the tree an earlier stage built,
 * when that tree is exactly what `parseMessage(raw, limits)` would return:
 * the same limits (defaults applied), or a parse that hit none of its limits
 * and whose message stays inside the new ones too (then no limit check of
 * either parse could have come out differently). Anything else is parsed
 * afresh, and other bytes are plain `parseMessage`.
 *
 * The memo hangs on the buffer object the batch owns (a copy made for the
 * thread, changed by no one), not on an async context: AsyncLocalStorage
 * would turn on promise hooks for every promise of the thread.
 *
 * Stages only read the tree (its types are read-only but for arrays no
 * policy code changes), so sharing it is safe.
 */
import { DEFAULT_MAX_DEPTH, DEFAULT_MAX_PARTS, parseMessage } from '../../codec/mime/index.js';
import type { MimeLimits, MimeMessage, MimePart } from '../../codec/mime/index.js';
import { DEFAULT_MAX_HEADER_BYTES, DEFAULT_MAX_HEADER_FIELDS } from '../../codec/mime/header.js';

/** The limits as parseMessage applies them. */
interface Effective {
  readonly maxDepth: number;
  readonly maxParts: number;
  readonly maxHeaderBytes: number;
  readonly maxHeaderFields: number;
}

/** What a parse that hit no limit needed: any limits at least this large give the same tree. */
interface Needs {
  readonly depth: number;
  readonly parts: number;
  readonly headerBytes: number;
  readonly headerFields: number;
}

interface Entry {
  readonly limits: Effective;
  readonly msg: MimeMessage;
  /** Computed on first use; null when the parse hit a limit (then only the same limits may share it). */
  needs?: Needs | null;
}

/** A few entries cover every limits variant the stages use. */
const MAX_ENTRIES = 8;
const LIMIT_DEFECTS = new Set(['header-too-large', 'header-too-many-fields', 'depth-limit', 'part-limit']);

/** The buffers whose parses are shared now, each with its parses. */
const memos = new WeakMap<Uint8Array, Entry[]>();

/** Runs `fn`; until it settles, parses of `raw` (this very object) through parseOnce are shared. */
export async function withParseMemo<T>(raw: Uint8Array, fn: () => Promise<T>): Promise<T> {
  // Nested or concurrent use on one buffer keeps the outer memo and leaves its end to it.
  if (memos.has(raw)) return fn();
  memos.set(raw, []);
  try {
    return await fn();
  } finally {
    memos.delete(raw);
  }
}

/** `parseMessage(raw, limits)`, shared while a memo for `raw` is open. */
export function parseOnce(raw: Uint8Array, limits: MimeLimits = {}): MimeMessage {
  const memo = memos.get(raw);
  if (!memo) return parseMessage(raw, limits);
  const want = effective(limits);
  for (const e of memo) {
    if (sameLimits(e.limits, want)) return e.msg;
    e.needs ??= needsOf(e.msg);
    if (e.needs && fits(e.needs, want)) return e.msg;
  }
  const msg = parseMessage(raw, limits);
  if (memo.length < MAX_ENTRIES) memo.push({ limits: want, msg });
  return msg;
}

function effective(l: MimeLimits): Effective {
  return {
    maxDepth: Math.max(0, l.maxDepth ?? DEFAULT_MAX_DEPTH),
    maxParts: Math.max(1, l.maxParts ?? DEFAULT_MAX_PARTS),
    maxHeaderBytes: l.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES,
    maxHeaderFields: l.maxHeaderFields ?? DEFAULT_MAX_HEADER_FIELDS,
  };
}

function sameLimits(a: Effective, b: Effective): boolean {
  return a.maxDepth === b.maxDepth && a.maxParts === b.maxParts && a.maxHeaderBytes === b.maxHeaderBytes && a.maxHeaderFields === b.maxHeaderFields;
}

/**
 * The parser's limit checks, and why these bounds cover them (parse.ts, header.ts):
 * - depth `d >= maxDepth` is tested with d = a part's depth: every depth < maxDepth passes;
 * - parts `parts >= maxParts` is tested with at most partCount - 1 parts made;
 * - header bytes `lineEnd - start > maxHeaderBytes`, largest at the last line
 *   tested, which ends where the header's fields end (header.end);
 * - header fields `fields.length >= maxHeaderFields`, tested before a field
 *   that is then kept, so with at most fields.length - 1.
 * Comparisons with NaN limits come out false here, which only means no sharing.
 */
function fits(n: Needs, l: Effective): boolean {
  return n.depth < l.maxDepth && n.parts <= l.maxParts && n.headerBytes <= l.maxHeaderBytes && n.headerFields <= l.maxHeaderFields;
}

/** Walks the tree (a stack, not recursion); null if any limit was hit. */
function needsOf(msg: MimeMessage): Needs | null {
  let depth = 0;
  let headerBytes = 0;
  let headerFields = 0;
  const stack: MimePart[] = [msg.root];
  for (let p = stack.pop(); p; p = stack.pop()) {
    for (const d of p.defects) if (LIMIT_DEFECTS.has(d.code)) return null;
    depth = Math.max(depth, p.depth);
    headerBytes = Math.max(headerBytes, p.header.end - p.header.start);
    headerFields = Math.max(headerFields, p.header.fields.length);
    stack.push(...p.children);
    if (p.message) stack.push(p.message);
  }
  return { depth, parts: msg.partCount, headerBytes, headerFields };
}
