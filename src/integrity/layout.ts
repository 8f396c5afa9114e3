/**
 * File names of the embedded store (openStore with backend "sqlite": the
 * metadata file and the blob folder under the data folder) and of a backup
 * folder. A backup keeps blobs in two fan-out levels (ab/cd/abcd...), as
 * every backup before it did, whatever the store's own layout (one level in
 * a store made now: store/backends/fs/blobs.ts openLayout); blobs are copied
 * by id, so the two need not match.
 */
import path from 'node:path';

export const META_FILE = 'meta.sqlite';
export const BLOB_DIR = 'blobs';
export const MANIFEST_FILE = 'manifest.json';

export const BLOB_ID_RE = /^[0-9a-f]{64}$/;
/** The metadata snapshot in a backup is named by its digest, so a new one never overwrites the old before the manifest moves. */
export const META_SNAPSHOT_RE = /^meta-[0-9a-f]{16}\.sqlite$/;

export function metaSnapshotName(sha256: string): string {
  return `meta-${sha256.slice(0, 16)}.sqlite`;
}

/** Path of a blob relative to a backup folder; the id must already be checked against BLOB_ID_RE. */
export function blobRelPath(id: string): string {
  return path.join(BLOB_DIR, id.slice(0, 2), id.slice(2, 4), id);
}
