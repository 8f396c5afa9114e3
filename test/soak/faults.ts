/**
 * The faults a soak run injects: SIGKILL and restart, a full disk, a
 * resolver that disappears, single flipped bits in stored blob files.
 */
import { closeSync, existsSync, openSync, readSync, readdirSync, statSync, unlinkSync, writeSync, fsyncSync } from 'node:fs';
import path from 'node:path';
import type { Rng } from '../integrity/helpers.js';

export type FaultKind = 'sigkill' | 'disk-full' | 'dns-down' | 'bitflip';
export const FAULT_KINDS: readonly FaultKind[] = ['sigkill', 'disk-full', 'dns-down', 'bitflip'];

export interface FaultRecord {
  kind: FaultKind;
  at: number;
  ms: number;
  exercised: boolean;
  detail: string;
}

const BLOB_NAME = /^[0-9a-f]{16,}$/;

/** Every blob file under the data folder's blob store (temp files excluded). */
export function blobFiles(dataDir: string): { id: string; file: string }[] {
  const root = path.join(dataDir, 'blobs');
  const out: { id: string; file: string }[] = [];
  if (!existsSync(root)) return out;
  // One fan-out level (ab/<id>), or two in a store made before that layout (ab/cd/<id>).
  const walk = (dir: string, depth: number): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory() && depth < 2) walk(p, depth + 1);
      else if (e.isFile() && depth > 0 && BLOB_NAME.test(e.name)) out.push({ id: e.name, file: p });
    }
  };
  walk(root, 0);
  return out;
}

/** Temp files the blob store left behind (each one is space a failed write never gave back). */
export function leftoverTempFiles(dataDir: string): number {
  const root = path.join(dataDir, 'blobs');
  let n = 0;
  const walk = (d: string, depth: number) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory() && depth < 3) walk(path.join(d, e.name), depth + 1);
      else if (e.isFile() && e.name.startsWith('.tmp-')) n++;
    }
  };
  if (existsSync(root)) walk(root, 0);
  return n;
}

/**
 * Flips one bit in place (one byte rewritten at its offset), so a reader
 * racing with it sees the file whole, with or without the flip — as bit rot
 * would look, never a truncated file.
 */
export function flipBitInPlace(file: string, bit: number): void {
  const fd = openSync(file, 'r+');
  try {
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, bit >>> 3);
    b[0]! ^= 1 << (bit & 7);
    writeSync(fd, b, 0, 1, bit >>> 3);
  } finally {
    closeSync(fd);
  }
}

/** Flips one bit in each of `count` blob files never flipped before; returns their ids. */
export function flipBlobs(dataDir: string, rng: Rng, count: number, flipped: Set<string>): string[] {
  const candidates = blobFiles(dataDir).filter((b) => !flipped.has(b.id));
  const out: string[] = [];
  for (const i of rng.pick(candidates.length, Math.min(count, candidates.length))) {
    const c = candidates[i]!;
    try {
      flipBitInPlace(c.file, rng.int(statSync(c.file).size * 8));
    } catch {
      continue; // deleted meanwhile
    }
    flipped.add(c.id);
    out.push(c.id);
  }
  return out;
}

/** Fills the file system under `dir` with a ballast file until writes fail; returns its size. */
export function fillDisk(ballast: string): number {
  const fd = openSync(ballast, 'w');
  let total = 0;
  try {
    for (const size of [1 << 20, 64 << 10, 4 << 10, 512]) {
      const chunk = Buffer.alloc(size, 0x5a);
      // Bounded: a 64 GiB file system would still end this loop.
      for (let i = 0; i < 65_536; i++) {
        try {
          total += writeSync(fd, chunk);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw e;
        }
      }
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return total;
}

export function freeDisk(ballast: string): void {
  if (existsSync(ballast)) unlinkSync(ballast);
}
