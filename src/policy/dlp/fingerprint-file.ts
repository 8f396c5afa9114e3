/**
 * Registering documents for the `fingerprint` detector (`postern dlp
 * fingerprint add|list|remove`): a document is read with the same extraction
 * as mail, reduced to the hashes of its word shingles and written as
 * `<fingerprint_dir>/<name>.fp.json`. Only hashes are written, never the text,
 * so the folder holds nothing confidential itself.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fingerprintOf } from './detect/index.js';
import { DEFAULT_CONTENT_LIMITS, extractDocument } from './extract/index.js';
import { fingerprintDirIn, FP_SUFFIX, parseFingerprint } from './rules/index.js';
import { NAME as FILE_NAME } from './rules/schema.js';
import type { ContentLimits, ExtractFinding, Fingerprint } from './types.js';

/** Names an administrator gives: lower-case, digits and '-', so a name is also a safe file name. */
export const FINGERPRINT_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** A document larger than this is refused before it is read into memory. */
export const MAX_DOCUMENT_BYTES = 64 * 1024 * 1024;

export class FingerprintFileError extends Error {}

export function checkName(name: string): string {
  if (!FINGERPRINT_NAME.test(name)) throw new FingerprintFileError(`--name must be 1 to 63 of a-z, 0-9 and "-", starting with a letter or digit, not ${JSON.stringify(name.slice(0, 80))}`);
  return name;
}

/** Where the rules file keeps registered documents: its `fingerprint_dir` (default "fingerprints"), relative to the rules file. */
export async function fingerprintDirOf(rulesPath: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(rulesPath, 'utf8');
  } catch (e) {
    throw new FingerprintFileError(`${rulesPath}: cannot read the DLP rules file (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  try {
    return fingerprintDirIn(text, dirname(resolve(rulesPath)));
  } catch (e) {
    throw new FingerprintFileError(`${rulesPath}: not valid TOML (${String((e as Error).message).split('\n')[0]})`);
  }
}

/** The file's JSON: hashes as a sorted list of numbers, and nothing of the text. */
export function fingerprintJson(fp: Fingerprint, created: Date): string {
  return `${JSON.stringify({ name: fp.name, words: fp.words, created: created.toISOString(), hashes: Array.from(fp.hashes) })}\n`;
}

export interface DocumentFingerprint {
  readonly fingerprint: Fingerprint;
  /** What extraction found (encrypted, unreadable, truncated…): a fingerprint of an unreadable document is refused. */
  readonly findings: readonly ExtractFinding[];
  readonly chars: number;
}

/** Extracts a document's text and fingerprints it; refuses a document with no readable words. */
export async function fingerprintDocument(bytes: Uint8Array, filename: string, name: string, limits: ContentLimits = DEFAULT_CONTENT_LIMITS): Promise<DocumentFingerprint> {
  checkName(name);
  const content = await extractDocument(bytes, filename, limits);
  const blocking = content.findings.find((f) => f.kind === 'encrypted' || f.kind === 'encrypted-message' || f.kind === 'unreadable');
  const text = content.segments
    .filter((s) => s.kind !== 'header')
    .map((s) => s.text)
    .join('\n');
  if (blocking && text.trim() === '') throw new FingerprintFileError(`${filename}: ${blocking.kind === 'unreadable' ? 'cannot be read' : 'is encrypted'} (${blocking.detail}); nothing to fingerprint`);
  const fingerprint = fingerprintOf(name, text);
  if (fingerprint.hashes.length === 0) throw new FingerprintFileError(`${filename}: no text found to fingerprint (too short, or an image-only document?)`);
  return { fingerprint, findings: content.findings, chars: content.chars };
}

/** Reads a document for `fingerprint add`, refusing what is too large or not a file. */
export async function readDocument(path: string): Promise<Uint8Array> {
  let size: number;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new FingerprintFileError(`${path}: not a file`);
    size = st.size;
  } catch (e) {
    if (e instanceof FingerprintFileError) throw e;
    throw new FingerprintFileError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  if (size > MAX_DOCUMENT_BYTES) throw new FingerprintFileError(`${path}: ${size} bytes, larger than the ${MAX_DOCUMENT_BYTES} bytes a document may have`);
  return new Uint8Array(await readFile(path));
}

/** Writes `<dir>/<name>.fp.json` atomically (temporary file, then rename); refuses to replace one unless `replace`. */
export async function writeFingerprint(dir: string, fp: Fingerprint, o: { replace?: boolean; now?: Date } = {}): Promise<string> {
  checkName(fp.name);
  const file = join(dir, `${fp.name}${FP_SUFFIX}`);
  await mkdir(dir, { recursive: true, mode: 0o750 });
  if (!o.replace) {
    const exists = await stat(file).then(
      () => true,
      () => false,
    );
    if (exists) throw new FingerprintFileError(`a document named "${fp.name}" is already registered (${file}); remove it first or use --replace`);
  }
  const tmp = join(dir, `.${fp.name}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, fingerprintJson(fp, o.now ?? new Date()), { mode: 0o640, flag: 'wx' });
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  return file;
}

export interface ListedFingerprint {
  readonly name: string;
  readonly words: number | null;
  readonly hashes: number | null;
  readonly created: string | null;
  /** Why the file cannot be used (the rules loader refuses it too); null when it is good. */
  readonly problem: string | null;
}

export async function listFingerprints(dir: string): Promise<ListedFingerprint[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith(FP_SUFFIX)).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new FingerprintFileError(`${dir}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  const out: ListedFingerprint[] = [];
  for (const n of names) {
    const name = n.slice(0, -FP_SUFFIX.length);
    let bytes: Uint8Array;
    try {
      bytes = await readFile(join(dir, n));
    } catch (e) {
      out.push({ name, words: null, hashes: null, created: null, problem: `cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})` });
      continue;
    }
    const fp = parseFingerprint({ name, bytes });
    if (typeof fp === 'string') {
      out.push({ name, words: null, hashes: null, created: null, problem: fp });
      continue;
    }
    let created: string | null = null;
    try {
      created = String((JSON.parse(Buffer.from(bytes).toString('utf8')) as { created?: unknown }).created ?? '') || null;
    } catch {
      /* parseFingerprint already accepted it */
    }
    out.push({ name, words: fp.words, hashes: fp.hashes.length, created, problem: null });
  }
  return out;
}

/** Removes `<dir>/<name>.fp.json`; an unknown name is an error. Any name the rules loader reads may be removed (a file placed by hand too). */
export async function removeFingerprint(dir: string, name: string): Promise<string> {
  if (!FILE_NAME.test(name)) throw new FingerprintFileError(`not a document name: ${JSON.stringify(name.slice(0, 80))}`);
  const file = join(dir, `${name}${FP_SUFFIX}`);
  try {
    await rm(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new FingerprintFileError(`no document named "${name}" is registered (${file})`);
    throw new FingerprintFileError(`${file}: cannot remove (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  return file;
}
