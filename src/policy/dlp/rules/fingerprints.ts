/**
 * Registered documents: `<fingerprint_dir>/<name>.fp.json`, each the hashes of
 * a document's word shingles (never its text). Read and checked here so a
 * corrupt file is named at load rather than matching nothing in silence.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Fingerprint } from '../types.js';
import { NAME } from './schema.js';

export const FP_SUFFIX = '.fp.json';
const MAX_FILES = 1000;
const MAX_FILE_BYTES = 16 * 1024 * 1024;
const MAX_HASHES = 1_000_000;

export interface FingerprintFile {
  /** The name from the file name (`merger-plan` for merger-plan.fp.json). */
  readonly name: string;
  readonly bytes: Uint8Array;
}

/** The fingerprint files of a folder, by name; none when the folder does not exist. */
export async function readFingerprintDir(dir: string): Promise<{ files: FingerprintFile[]; errors: string[] }> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith(FP_SUFFIX)).sort();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { files: [], errors: [] };
    return { files: [], errors: [`cannot read ${dir}: ${code ?? String(e)}`] };
  }
  const errors: string[] = [];
  if (names.length > MAX_FILES) errors.push(`${names.length} fingerprint files, at most ${MAX_FILES}`);
  const files: FingerprintFile[] = [];
  for (const n of names.slice(0, MAX_FILES)) {
    const name = n.slice(0, -FP_SUFFIX.length);
    try {
      const bytes = await readFile(join(dir, n));
      if (bytes.length > MAX_FILE_BYTES) errors.push(`${n}: larger than ${MAX_FILE_BYTES} bytes`);
      else files.push({ name, bytes });
    } catch (e) {
      errors.push(`${n}: cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
    }
  }
  return { files, errors };
}

/** A fingerprint file checked: `{ name, words, created, hashes: sorted distinct uint32 }`. */
export function parseFingerprint(file: FingerprintFile): Fingerprint | string {
  if (!NAME.test(file.name)) return 'the file name must be <name>.fp.json with a name of letters, digits, ".", "_" or "-"';
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(file.bytes));
  } catch {
    return 'not valid JSON';
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'expected a JSON object';
  const o = v as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => !['name', 'words', 'created', 'hashes'].includes(k));
  if (unknown.length > 0) return `unknown key "${unknown[0]!.slice(0, 40)}"`;
  if (o.name !== file.name) return `"name" must be "${file.name}", as in the file name`;
  if (typeof o.words !== 'number' || !Number.isInteger(o.words) || o.words < 0) return '"words" must be a whole number';
  if (typeof o.created !== 'string' || Number.isNaN(Date.parse(o.created))) return '"created" must be an ISO date';
  const h = o.hashes;
  if (!Array.isArray(h) || h.length === 0 || h.length > MAX_HASHES) return `"hashes" must be a list of 1 to ${MAX_HASHES} numbers`;
  const hashes = new Uint32Array(h.length);
  let prev = -1;
  for (let i = 0; i < h.length; i++) {
    const x = h[i];
    if (typeof x !== 'number' || !Number.isInteger(x) || x < 0 || x > 0xffffffff) return `"hashes"[${i}] is not a 32-bit unsigned number`;
    if (x <= prev) return `"hashes" must be sorted and distinct (at ${i})`;
    hashes[i] = x;
    prev = x;
  }
  return { name: file.name, words: o.words, hashes };
}
