/**
 * Message bytes for FETCH and SEARCH. The blob store verifies every read; a
 * blob that fails (damaged beyond repair, or missing) is reported to the
 * client as a failure naming the message, never served as if it were good.
 */
import { no, type ImapCommand } from '../codec/imap/index.js';
import { isPosternError } from '../core/errors.js';
import { parseMessage, type MimeMessage } from '../codec/mime/index.js';
import { SEARCH_PART_DERIVER } from '../mailbox/search-part.js';
import type { ImapSession } from './session.js';

/** A message's bytes, parsed on first need. */
export class MessageContent {
  private parsed: MimeMessage | null = null;

  constructor(readonly data: Buffer) {}

  get mime(): MimeMessage {
    this.parsed ??= parseMessage(this.data);
    return this.parsed;
  }
}

export type Problem = 'damaged' | 'missing' | 'unavailable';

export interface ContentProblem {
  readonly uid: number;
  readonly problem: Problem;
}

export type Loaded = { readonly ok: true; readonly content: MessageContent } | { readonly ok: false; readonly problem: Problem };

export async function loadContent(s: ImapSession, uid: number, blobId: string): Promise<Loaded> {
  try {
    return { ok: true, content: contentOf(await s.deps.blobs.get(blobId)) };
  } catch (err) {
    return failed(s, uid, blobId, err);
  }
}

/** A message's header cache search part (null: it has none), derived where the blob store verified it. */
export type SearchPartLoaded = { readonly ok: true; readonly search: string | null };

/**
 * For a SEARCH filling the header cache: the message's search part when the
 * blob store derives it as it reads (BlobStore.getDerived), else its
 * content as loadContent gives it.
 */
export async function loadSearchPart(s: ImapSession, uid: number, blobId: string): Promise<Loaded | SearchPartLoaded> {
  const blobs = s.deps.blobs;
  if (!blobs.getDerived) return loadContent(s, uid, blobId);
  try {
    const got = await blobs.getDerived(blobId, SEARCH_PART_DERIVER);
    return 'derived' in got ? { ok: true, search: got.derived } : { ok: true, content: contentOf(got.data) };
  } catch (err) {
    return failed(s, uid, blobId, err);
  }
}

function contentOf(bytes: Uint8Array): MessageContent {
  return new MessageContent(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}

/** A read that failed: logged, and named as the client is told of it. */
function failed(s: ImapSession, uid: number, blobId: string, err: unknown): { ok: false; problem: Problem } {
  const problem: Problem = isPosternError(err, 'INTEGRITY') ? 'damaged' : isPosternError(err, 'NOT_FOUND') ? 'missing' : 'unavailable';
  const folder = s.selected?.name;
  if (problem === 'unavailable') s.log.error({ err, uid, blobId, folder }, 'message could not be read');
  else s.log.warn({ uid, blobId, folder, problem }, 'message not served: stored data failed its integrity check');
  return { ok: false, problem };
}

const WHAT: Record<Problem, string> = {
  damaged: 'stored data is damaged (integrity check failed)',
  missing: 'stored data is missing',
  unavailable: 'stored data could not be read',
};

/**
 * The tagged NO for a command that skipped unreadable messages (RFC 9051 7.1):
 * SERVERBUG for damaged or missing data, UNAVAILABLE for a read that may work later.
 */
export function problemResponse(cmd: ImapCommand, problems: readonly ContentProblem[], verb: string): Buffer {
  const lasting = problems.filter((p) => p.problem !== 'unavailable');
  const shown = (lasting.length > 0 ? lasting : problems).slice(0, 10);
  const list = shown.map((p) => `UID ${p.uid}: ${WHAT[p.problem]}`).join('; ');
  const more = problems.length > shown.length ? ` (and ${problems.length - shown.length} more)` : '';
  const text = `${verb} incomplete, messages not returned: ${list}${more}`;
  return no(cmd.tag, text, lasting.length > 0 ? 'SERVERBUG' : 'UNAVAILABLE');
}

/**
 * Reads in flight at once: blob reads wait on the disk, so several together
 * go several times faster, and the blob store reads those started together
 * as one batch (one hand-off to its reader threads). Refilled by half, so a
 * batch is 256 reads: on 10,000 bodies of 4 KiB that took a FETCH from
 * about 275 to 230 ms and the event loop's CPU from about 117 to 101 ms
 * against 64; 1,024 was slower again (more garbage held at once).
 */
export const READ_AHEAD = 512;
/** Bytes in flight at once, so large messages are not all held together. */
const READ_AHEAD_BYTES = 16 * 1024 * 1024;

/**
 * Runs load() for each item with a bounded read-ahead and hands back the
 * results in item order. `size` estimates what a load will hold in memory.
 */
export async function* readAhead<T, R>(
  items: readonly T[],
  load: (item: T) => Promise<R>,
  size: (item: T) => number,
  depth: number = READ_AHEAD,
): AsyncGenerator<[T, R]> {
  const queue: Array<{ item: T; result: Promise<R>; bytes: number }> = [];
  let inFlightBytes = 0;
  let next = 0;
  let filling = true;
  for (;;) {
    // Refilled once half has drained, so the reads started together go to the blob store together (one batch).
    if (queue.length <= depth / 2) filling = true;
    while (filling && next < items.length && (queue.length === 0 || (queue.length < depth && inFlightBytes < READ_AHEAD_BYTES))) {
      const item = items[next++]!;
      const bytes = size(item);
      inFlightBytes += bytes;
      queue.push({ item, result: load(item), bytes });
    }
    filling = false;
    const head = queue.shift();
    if (!head) return;
    const result = await head.result;
    inFlightBytes -= head.bytes;
    yield [head.item, result];
  }
}
