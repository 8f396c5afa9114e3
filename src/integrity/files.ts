/** File helpers shared by backup and restore: digests, durable writes, folder checks. */
import { createHash } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import path from 'node:path';
import { syncDir } from '../store/index.js';
import { newToken } from '../core/ids.js';

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** SHA-256 of a file, streamed so a large metadata file is never held in memory. */
export async function sha256File(file: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), size };
}

/** Whether `dir` is missing or an empty folder; throws if it is a file. */
export async function isMissingOrEmpty(dir: string): Promise<boolean> {
  try {
    return (await fsp.readdir(dir)).length === 0;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw e;
  }
}

export async function fsyncFile(file: string): Promise<void> {
  const fh = await fsp.open(file, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Writes temp + fsync + rename, and remembers the folder so the caller can
 * fsync each touched folder once before it commits (the manifest), instead
 * of once per file.
 */
export async function writeSynced(file: string, data: Uint8Array, dirty: Set<string>): Promise<void> {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.tmp-${newToken(8)}`);
  const fh = await fsp.open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (e) {
    await fh.close();
    await fsp.rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  try {
    await fsp.rename(tmp, file);
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    throw e;
  }
  dirty.add(dir);
}

/** Creates a folder and any missing parents (mode 0700), marking the parents of new ones dirty. */
export async function ensureDir(dir: string, dirty: Set<string>, known: Set<string>): Promise<void> {
  if (known.has(dir)) return;
  const first = await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
  if (first !== undefined) {
    // Every folder from `first` down to `dir` is new: each one's parent must be synced.
    for (let d = dir; ; d = path.dirname(d)) {
      dirty.add(path.dirname(d));
      if (d === first || d === path.dirname(d)) break;
    }
  }
  known.add(dir);
}

export async function syncDirs(dirty: Set<string>): Promise<void> {
  // Deepest first, so a folder's entry is synced after its contents.
  for (const d of [...dirty].sort((a, b) => b.length - a.length)) await syncDir(d);
  dirty.clear();
}
