/**
 * The backup manifest: what a backup holds and the digest of every file.
 * The file is {"sha256": ..., "manifest": {...}} where sha256 is the SHA-256
 * of JSON.stringify(manifest): one file, so the manifest and its digest are
 * replaced together by one rename. The digest catches damage and careless
 * edits; it is not a signature (whoever can write the backup can rewrite
 * both), which is why `backup` prints it for the operator to keep elsewhere
 * and `backup verify --digest` compares against it.
 */
import { BLOB_ID_RE, META_SNAPSHOT_RE } from './layout.js';
import { sha256Hex } from './files.js';

export const MANIFEST_FORMAT = 'postern-backup';
export const MANIFEST_VERSION = 1;

export interface BlobEntry {
  readonly id: string;
  /** Size of the container file in bytes. */
  readonly size: number;
  /** SHA-256 of the container file (not of the message: that is the id). */
  readonly sha256: string;
}

export interface Manifest {
  readonly format: typeof MANIFEST_FORMAT;
  readonly version: number;
  readonly createdAt: string;
  readonly createdAtMs: number;
  readonly sourceHost: string;
  readonly incremental: boolean;
  readonly metadata: { readonly file: string; readonly size: number; readonly sha256: string; readonly schemaVersion: number };
  readonly blobs: readonly BlobEntry[];
  /** Blobs the metadata references that were damaged or missing in the store when the backup ran. */
  readonly unavailable: readonly { readonly id: string; readonly reason: string }[];
}

export function manifestDigest(m: Manifest): string {
  return sha256Hex(JSON.stringify(m));
}

export function serializeManifest(m: Manifest): { text: string; sha256: string } {
  const sha256 = manifestDigest(m);
  return { text: `${JSON.stringify({ sha256, manifest: m }, null, 1)}\n`, sha256 };
}

export type ParsedManifest = { ok: true; manifest: Manifest; sha256: string } | { ok: false; reason: string };

const HEX64 = /^[0-9a-f]{64}$/;
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** Parses and checks a manifest file's text; every name in it is validated before it becomes a path. */
export function parseManifest(text: string): ParsedManifest {
  let outer: unknown;
  try {
    outer = JSON.parse(text);
  } catch (e) {
    return { ok: false, reason: `is not valid JSON (${(e as Error).message})` };
  }
  if (!isObj(outer) || !isObj(outer.manifest) || typeof outer.sha256 !== 'string') {
    return { ok: false, reason: 'is not a postern backup manifest' };
  }
  const m = outer.manifest;
  if (m.format !== MANIFEST_FORMAT) return { ok: false, reason: 'is not a postern backup manifest' };
  if (m.version !== MANIFEST_VERSION) return { ok: false, reason: `has format version ${String(m.version)}; this postern reads version ${MANIFEST_VERSION}` };
  // The digest is checked before the contents are trusted for anything else.
  const actual = sha256Hex(JSON.stringify(m));
  if (actual !== outer.sha256) return { ok: false, reason: 'does not match its recorded SHA-256: it was damaged or edited' };
  const why = shapeProblem(m);
  if (why) return { ok: false, reason: why };
  return { ok: true, manifest: m as unknown as Manifest, sha256: actual };
}

function shapeProblem(m: Record<string, unknown>): string | null {
  const meta = m.metadata;
  if (!isObj(meta) || typeof meta.file !== 'string' || !META_SNAPSHOT_RE.test(meta.file)) return 'names no valid metadata file';
  if (!isCount(meta.size) || typeof meta.sha256 !== 'string' || !HEX64.test(meta.sha256) || !isCount(meta.schemaVersion)) {
    return 'has a malformed metadata entry';
  }
  if (typeof m.createdAt !== 'string' || !isCount(m.createdAtMs) || typeof m.sourceHost !== 'string' || typeof m.incremental !== 'boolean') {
    return 'has malformed header fields';
  }
  if (!Array.isArray(m.blobs) || !Array.isArray(m.unavailable)) return 'has no blob list';
  const seen = new Set<string>();
  for (const b of m.blobs as unknown[]) {
    if (!isObj(b) || typeof b.id !== 'string' || !BLOB_ID_RE.test(b.id) || !isCount(b.size) || typeof b.sha256 !== 'string' || !HEX64.test(b.sha256)) {
      return 'has a malformed blob entry';
    }
    if (seen.has(b.id)) return `lists blob ${b.id} twice`;
    seen.add(b.id);
  }
  for (const u of m.unavailable as unknown[]) {
    // Never used as a path: a malformed id in damaged metadata is recorded as it was.
    if (!isObj(u) || typeof u.id !== 'string' || typeof u.reason !== 'string') return 'has a malformed unavailable entry';
  }
  return null;
}
