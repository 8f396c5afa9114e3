/** Messages between the event loop and the blob threads (blob-thread.ts). */

/** Temp files are named so; one older than TEMP_STALE_MS (blobs.ts) belongs to a write that died and is removed. */
export const TEMP_PREFIX = '.tmp-';

/**
 * raw: the file's bytes; decode / verify: check the container first (see
 * ReadAnswer); derive: as decode, but a clean blob is answered with what the
 * read's deriver module returns for its data (BlobStore.getDerived).
 */
export type ReadMode = 'raw' | 'decode' | 'verify' | 'derive';

/**
 * A read is sent as one string, its mode's letter and the path (plain
 * strings clone several times cheaper than objects, and a SEARCH sends one
 * read per message). A blob's file is named by its id, so the path also says
 * which digest the container must carry.
 */
export const MODE_LETTER: Readonly<Record<ReadMode, string>> = { raw: 'r', decode: 'd', verify: 'v', derive: 'x' };

/**
 * A read may name a row of the metadata database's `blobs` table instead of
 * a file (small blobs kept in the database: store/split-blobs.ts): the mark,
 * the database file, the mark again, the blob's id. No path holds a NUL.
 */
export const ROW_MARK = '\0';

/** The source string of a blob row for a read on a blob thread. */
export function rowSource(dbFile: string, id: string): string {
  return `${ROW_MARK}${dbFile}${ROW_MARK}${id}`;
}

/** The database file and blob id of a row's source string, or null for a file path. */
export function parseRowSource(source: string): { readonly dbFile: string; readonly id: string } | null {
  if (!source.startsWith(ROW_MARK)) return null;
  const end = source.indexOf(ROW_MARK, 1);
  return end < 0 ? null : { dbFile: source.slice(1, end), id: source.slice(end + 1) };
}

export interface ThreadError {
  readonly code: string;
  readonly message: string;
}

/**
 * A container read in mode decode / verify / derive that verified with
 * nothing to repair and the expected digest is answered clean
 * (`FromThread.clean`): its data for decode, null for verify; for derive
 * what the deriver returned (a string or null), or the data when the
 * deriver could not be loaded or threw. Anything else comes back as
 * the raw container, which the event loop decodes and settles exactly as
 * without the thread.
 */
export type ReadAnswer = Uint8Array | string | null | ThreadError;

export interface WriteJob {
  readonly file: string;
  readonly blobId: string;
  readonly container: Uint8Array;
  /**
   * false (a put): an existing clean copy is kept and touched instead, a
   * damaged or unreadable one is left for the event loop ('damaged').
   * true: the file is written whatever is there (a restore).
   */
  readonly replace: boolean;
}

/** stored: written and durable; existing: a clean copy was there (touched); damaged: see WriteJob.replace. */
export type WriteAnswer = 'stored' | 'existing' | 'damaged' | ThreadError;

export type ToThread =
  | {
      readonly op: 'read';
      readonly id: number;
      readonly files: readonly string[];
      /** For reads in mode derive, at the same index: the URL (href) of the deriver module. */
      readonly derivers?: readonly (string | null)[];
    }
  | { readonly op: 'write'; readonly id: number; readonly jobs: readonly WriteJob[] }
  /** Loads these deriver modules (hrefs) now, so the first derive read does not wait for them. No answer. */
  | { readonly op: 'load'; readonly derivers: readonly string[] }
  /** Ends the thread at once, as a crash would: tests of what a lost thread leaves behind. */
  | { readonly op: 'exit' }
  /** Ends the thread when it reads this, i.e. once its modules have loaded (see endThread). */
  | { readonly op: 'close' };

export interface FromThread {
  readonly id: number;
  readonly out: readonly (ReadAnswer | WriteAnswer)[];
  /** Reads only: '1' at each index answered clean, '0' raw (absent: all raw). */
  readonly clean?: string;
  /** Writes only: fsyncs made for the batch (files, folders). */
  readonly syncs?: { readonly files: number; readonly dirs: number };
}

export function isThreadError(a: unknown): a is ThreadError {
  return typeof a === 'object' && a !== null && typeof (a as ThreadError).code === 'string' && !(a instanceof Uint8Array);
}
