/**
 * The worker side of the static and yara engines (registered in
 * pool/tasks.ts): the message is parsed and its archives opened here, never
 * on the main thread. The answer is small: detections, part digests, or the
 * names of the files written for yara.
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { extractParts, limitsFrom } from '../parts.js';
import { staticChecks, type StaticDetection } from './checks.js';

export interface PartDigest {
  readonly part: string;
  readonly sha256: string;
}

export interface StaticScanOutput {
  readonly detections: StaticDetection[];
  readonly digests: PartDigest[];
  readonly parts: number;
  readonly bytes: number;
}

/** Digests are sent back for at most this many parts (the rest are still checked statically). */
const MAX_DIGESTS = 2000;

export function staticScan(raw: Uint8Array, limits: unknown): StaticScanOutput {
  const x = extractParts(raw, limitsFrom(limits));
  const digests: PartDigest[] = [];
  for (const p of x.parts) {
    if (p.encrypted || digests.length >= MAX_DIGESTS) continue;
    digests.push({ part: p.path, sha256: createHash('sha256').update(p.bytes).digest('hex') });
  }
  return { detections: staticChecks(x), digests, parts: x.parts.length, bytes: x.bytes };
}

export interface WrittenPart {
  /** The file's name in the scan folder: a number, never anything from the message. */
  readonly file: string;
  /** The part it holds, or null for the whole message. */
  readonly part: string | null;
}

export interface MaterializeOutput {
  readonly files: WrittenPart[];
  readonly findings: { kind: string; part: string }[];
}

/**
 * Writes the whole message and each extracted part to `dir` (made 0700 by
 * the caller), as files 0600 named 0, 1, 2...: names from the message never
 * become paths.
 */
export function materialize(raw: Uint8Array, dir: unknown, limits: unknown): MaterializeOutput {
  if (typeof dir !== 'string' || !path.isAbsolute(dir)) throw new Error('materialize: an absolute folder is required');
  const x = extractParts(raw, limitsFrom(limits));
  const files: WrittenPart[] = [{ file: '0', part: null }];
  writeFileSync(path.join(dir, '0'), raw, { mode: 0o600, flag: 'wx' });
  for (const p of x.parts) {
    if (p.encrypted || p.bytes.length === 0) continue;
    const file = String(files.length);
    writeFileSync(path.join(dir, file), p.bytes, { mode: 0o600, flag: 'wx' });
    files.push({ file, part: p.path });
  }
  return { files, findings: x.findings.map((f) => ({ kind: f.kind, part: f.part })) };
}
