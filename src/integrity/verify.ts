/**
 * Verifies a backup folder without changing it: the manifest's own digest,
 * the metadata file's digest and a full SQLite integrity check of it, every
 * blob container's digest and block checks, and that every blob the
 * metadata references is in the backup. Each problem names the file at
 * fault. `restore` runs exactly this before it writes anything.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { verifyBlob } from '../crypto/blockcodec.js';
import { inspectMetaFile } from '../store/backends/sqlite/index.js';
import { sha256File, sha256Hex } from './files.js';
import { MANIFEST_FILE, blobRelPath } from './layout.js';
import { parseManifest, type Manifest } from './manifest.js';
import type { CopyProgress } from './backup.js';
import { DEFAULT_CONCURRENCY, forEachLimited } from './pool.js';

export interface VerifyOptions {
  /** The manifest digest the operator recorded when the backup was made; a different one is refused. */
  expectDigest?: string;
  onProgress?: (p: CopyProgress) => void;
}

export interface VerifyReport {
  readonly src: string;
  readonly ok: boolean;
  /** One line per problem, each starting with the path of the file at fault. */
  readonly problems: readonly string[];
  readonly manifest: Manifest | null;
  readonly manifestSha256: string | null;
  readonly blobs: number;
  readonly bytes: number;
  /** Blobs the source store already had damaged when the backup was made (listed in the manifest). */
  readonly unavailable: readonly { id: string; reason: string }[];
}

/** Blob problems beyond this many are counted, not listed. */
const MAX_LISTED = 50;

export async function verifyBackup(srcIn: string, opts: VerifyOptions = {}): Promise<VerifyReport> {
  const src = path.resolve(srcIn);
  const problems: string[] = [];
  const fail = (rel: string, what: string) => problems.push(`${path.join(src, rel)}: ${what}`);
  const result = (manifest: Manifest | null, sha: string | null, blobs = 0, bytes = 0): VerifyReport => ({
    src,
    ok: problems.length === 0,
    problems: problems.length > MAX_LISTED ? [...problems.slice(0, MAX_LISTED), `... and ${problems.length - MAX_LISTED} more`] : problems,
    manifest,
    manifestSha256: sha,
    blobs,
    bytes,
    unavailable: manifest?.unavailable ?? [],
  });

  let text: string;
  try {
    text = await fsp.readFile(path.join(src, MANIFEST_FILE), 'utf8');
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
    fail(MANIFEST_FILE, missing ? 'missing: this is not a postern backup' : `cannot be read: ${(e as Error).message}`);
    return result(null, null);
  }
  const parsed = parseManifest(text);
  if (!parsed.ok) {
    fail(MANIFEST_FILE, parsed.reason);
    return result(null, null);
  }
  const { manifest, sha256 } = parsed;
  if (opts.expectDigest !== undefined && opts.expectDigest.toLowerCase() !== sha256) {
    fail(MANIFEST_FILE, `its SHA-256 is ${sha256}, not the expected ${opts.expectDigest}`);
  }

  // The metadata: digest first, then SQLite's own full check, then what it references.
  const metaRel = manifest.metadata.file;
  let referenced: string[] = [];
  const metaDigest = await sha256File(path.join(src, metaRel)).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? 'missing' : `cannot be read: ${e.message}`));
  if (typeof metaDigest === 'string') fail(metaRel, metaDigest);
  else if (metaDigest.size !== manifest.metadata.size) fail(metaRel, `is ${metaDigest.size} bytes, the manifest says ${manifest.metadata.size}`);
  else if (metaDigest.sha256 !== manifest.metadata.sha256) fail(metaRel, 'its SHA-256 does not match the manifest: the file is damaged or was replaced');
  else {
    const info = inspectMetaFile(path.join(src, metaRel));
    for (const p of info.problems.slice(0, 10)) fail(metaRel, `integrity check: ${p}`);
    if (info.problems.length === 0 && info.schemaVersion > info.knownVersion) {
      fail(metaRel, `has schema version ${info.schemaVersion}; this postern knows up to ${info.knownVersion}: restore with a newer postern`);
    }
    referenced = info.referencedBlobs;
  }

  // Every blob: present, the recorded size and digest, and every block sound.
  const bytesTotal = manifest.blobs.reduce((s, b) => s + b.size, 0);
  let bytes = 0;
  let done = 0;
  const progress = () => opts.onProgress?.({ blobs: done, blobsTotal: manifest.blobs.length, bytes, bytesTotal });
  progress();
  const blobProblems = new Map<string, string>();
  await forEachLimited(manifest.blobs, DEFAULT_CONCURRENCY, async (b) => {
    const problem = await checkBlobFile(path.join(src, blobRelPath(b.id)), b);
    if (problem) blobProblems.set(b.id, problem);
    done++;
    bytes += b.size;
    progress();
  });
  // Listed in manifest order, whatever order the reads finished in.
  for (const b of manifest.blobs) {
    const problem = blobProblems.get(b.id);
    if (problem) fail(blobRelPath(b.id), problem);
  }

  const inBackup = new Set(manifest.blobs.map((b) => b.id));
  const known = new Set(manifest.unavailable.map((u) => u.id));
  for (const id of referenced) {
    if (!inBackup.has(id) && !known.has(id)) fail(metaRel, `references blob ${id}, which the manifest does not list`);
  }
  return result(manifest, sha256, manifest.blobs.length, bytes);
}

async function checkBlobFile(file: string, b: { id: string; size: number; sha256: string }): Promise<string | null> {
  let bytes: Buffer;
  try {
    bytes = await fsp.readFile(file);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : `cannot be read: ${(e as Error).message}`;
  }
  if (bytes.length !== b.size) return `is ${bytes.length} bytes, the manifest says ${b.size}`;
  if (sha256Hex(bytes) !== b.sha256) {
    const r = verifyBlob(bytes);
    const hint = !r.ok ? 'damaged beyond repair' : r.corrections.length > 0 ? `${r.corrections.length} flipped bit(s)` : 'a different container';
    return `its SHA-256 does not match the manifest (${hint})`;
  }
  const r = verifyBlob(bytes);
  if (!r.ok || r.corrections.length > 0) return `fails its block checks: ${r.damage.map((d) => d.reason).join('; ') || 'needs repair'}`;
  if (r.sha256 !== b.id) return 'holds a different blob than its name says';
  return null;
}
