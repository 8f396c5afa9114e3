/**
 * The header cache (src/mailbox/header-cache.ts) as SEARCH, FETCH and APPEND
 * use it: entries for a batch of messages come in one store call, and entries
 * derived from blobs a command had to read anyway go back in batches (SEARCH
 * derives the search part only; what needs the detail derives both). The
 * cache is only an optimisation: a failed write is logged and forgotten, and
 * an entry that fails its check is treated as absent (and rewritten).
 */
import { deriveEntry, envelopeEntry, searchEntry, type CachedStructure, type DerivedEntry } from '../mailbox/header-cache.js';
import type { MimeMessage } from '../codec/mime/index.js';
import type { CachedHeader, HeaderCacheEntry } from '../store/types.js';
import type { ImapSession } from './session.js';

/** Bytes of new entries held before they are written. */
const PENDING_BYTES = 8 * 1024 * 1024;
/**
 * Entries held before they are written: search parts alone are small, and one
 * transaction of 8 MiB of them (about 25,000 rows) would hold the event loop
 * for a noticeable while; 5,000 take about 20 ms.
 */
const PENDING_ENTRIES = 5000;

/** The entries of these blobs, by blob id (absent: no entry, or the blob is marked damaged). */
export async function readCache(s: ImapSession, blobIds: readonly string[], withDetail: boolean): Promise<Map<string, CachedHeader>> {
  const out = new Map<string, CachedHeader>();
  if (blobIds.length === 0) return out;
  for (const row of await s.deps.mailboxes.getHeaderCache(blobIds, withDetail)) out.set(row.blobId, row);
  return out;
}

/** Collects entries for messages a command parsed, and writes them in batches. */
export class CacheFiller {
  private pending: HeaderCacheEntry[] = [];
  private readonly seen = new Set<string>();
  private bytes = 0;
  /** Entries that were present but failed their check. */
  damaged = 0;

  constructor(private readonly s: ImapSession) {}

  /**
   * Derives the whole entry of a blob from its verified, parsed bytes (once
   * per blob per command); returns it with the structure it holds, or null.
   */
  async add(blobId: string, mime: MimeMessage, uid?: number): Promise<DerivedEntry | null> {
    let structure: CachedStructure | null = null;
    const entry = await this.derive(blobId, uid, () => {
      const d = deriveEntry(blobId, mime);
      structure = d?.structure ?? null;
      return d?.entry ?? null;
    });
    return entry && structure ? { entry, structure } : null;
  }

  /**
   * Derives the search part only (detail absent until first needed) from a
   * blob's verified bytes: its header section is scanned, the message is not
   * parsed. Once per blob per command; returns the entry, or null.
   */
  addSearch(blobId: string, bytes: Uint8Array, uid?: number): Promise<HeaderCacheEntry | null> {
    return this.derive(blobId, uid, () => searchEntry(blobId, bytes));
  }

  /**
   * Takes a search part derived by the blob store from the blob's verified
   * bytes (BlobStore.getDerived with the search-part deriver), without a
   * promise per message (the caller awaits flush() once `due`). `noBlobEntry`:
   * the blob had no entry when the command looked (HeaderCacheEntry.message).
   */
  hold(entry: HeaderCacheEntry, uid: number, noBlobEntry: boolean): void {
    if (this.seen.has(entry.blobId)) return;
    this.seen.add(entry.blobId);
    this.pend(entry, uid, noBlobEntry);
  }

  /** The entries held are enough to be written now. */
  get due(): boolean {
    return this.bytes >= PENDING_BYTES || this.pending.length >= PENDING_ENTRIES;
  }

  /**
   * Derives an entry for FETCH ENVELOPE from a blob's verified bytes without
   * parsing the message (body structure pending); returns its ENVELOPE text,
   * or null when that shortcut does not apply (then use add).
   */
  async addEnvelope(blobId: string, bytes: Uint8Array, uid?: number): Promise<string | null> {
    if (this.seen.has(blobId)) return null;
    let text: string | null = null;
    try {
      const made = envelopeEntry(blobId, bytes);
      if (!made) return null;
      text = made.envelopeText;
      await this.derive(blobId, uid, () => made.entry);
    } catch (err) {
      this.s.log.warn({ err, blobId }, 'header cache entry not derived');
      return null;
    }
    return text;
  }

  /** `uid`: the selected folder's message it was read for (HeaderCacheEntry.message). */
  private async derive(blobId: string, uid: number | undefined, make: () => HeaderCacheEntry | null): Promise<HeaderCacheEntry | null> {
    if (this.seen.has(blobId)) return null;
    this.seen.add(blobId);
    let entry: HeaderCacheEntry | null;
    try {
      entry = make();
    } catch (err) {
      this.s.log.warn({ err, blobId }, 'header cache entry not derived');
      return null;
    }
    if (!entry) return null;
    this.pend(entry, uid, false);
    if (this.due) await this.flush();
    return entry;
  }

  /** Holds an entry to write. */
  private pend(entry: HeaderCacheEntry, uid: number | undefined, noBlobEntry: boolean): void {
    const folderId = this.s.selected?.id;
    // Built field by field: a spread copies through the generic path, and a first SEARCH does this 100,000 times.
    this.pending.push(
      uid === undefined || folderId === undefined
        ? entry
        : { blobId: entry.blobId, search: entry.search, detail: entry.detail, message: noBlobEntry ? { folderId, uid, noBlobEntry } : { folderId, uid } },
    );
    this.bytes += entry.search.length + (entry.detail?.length ?? 0);
  }

  async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    this.bytes = 0;
    if (this.damaged > 0) {
      this.s.log.warn({ entries: this.damaged, folder: this.s.selected?.name }, 'header cache entries failed their check: rebuilt from the blobs');
      this.damaged = 0;
    }
    if (batch.length === 0) return;
    try {
      await this.s.deps.mailboxes.putHeaderCache(batch);
    } catch (err) {
      this.s.log.warn({ err, entries: batch.length }, 'header cache not written');
    }
  }
}
