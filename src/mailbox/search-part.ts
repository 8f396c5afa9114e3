/**
 * The header cache search part as a deriver for BlobStore.getDerived: a
 * blob store that verifies blobs on threads derives it there, so a SEARCH
 * over messages without an entry is handed a few hundred bytes per message
 * instead of the message, and the event loop does not scan its header. The
 * same function on the same verified bytes as the event loop would run
 * (header-cache.ts searchEntry), so the part is the same byte for byte.
 */
import { searchEntry } from './header-cache.js';

/** This module, for BlobStore.getDerived. */
export const SEARCH_PART_DERIVER = new URL(import.meta.url);

/** The search part of a blob's verified bytes; null when the message has none (its fields are too large). */
export function derive(blobId: string, data: Uint8Array): string | null {
  return searchEntry(blobId, data)?.search ?? null;
}
