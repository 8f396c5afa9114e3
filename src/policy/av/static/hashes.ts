/**
 * The known-bad SHA-256 list: a text file the administrator maintains, one
 * hex digest a line with an optional name after it ("<digest> Emotet
 * dropper"); blank lines and lines starting with # are skipped. The file is
 * checked at most every 10 seconds and read again when it changed. A line
 * that is not a digest is skipped and reported (health), not fatal: one typo
 * must not stop all mail.
 */
import { readFile, stat } from 'node:fs/promises';

export interface HashList {
  /** Digest (lower-case hex) → name ("" when none). */
  readonly names: ReadonlyMap<string, string>;
  /** Line numbers (1-based) that are not a digest, the first 10. */
  readonly badLines: readonly number[];
  readonly mtimeMs: number;
}

/** A list larger than this is refused (it would be read into memory). */
export const MAX_HASH_FILE_BYTES = 256 * 1024 * 1024;
const RECHECK_MS = 10_000;
const DIGEST = /^([0-9a-fA-F]{64})(?:\s+(.{0,200}))?$/;

export function parseHashList(text: string, mtimeMs = 0): HashList {
  const names = new Map<string, string>();
  const badLines: number[] = [];
  let line = 0;
  for (const raw of text.split('\n')) {
    line++;
    const s = raw.trim();
    if (s === '' || s.startsWith('#')) continue;
    const m = DIGEST.exec(s);
    if (m) names.set(m[1]!.toLowerCase(), (m[2] ?? '').trim());
    else if (badLines.length < 10) badLines.push(line);
  }
  return { names, badLines, mtimeMs };
}

export class HashListFile {
  private list: HashList | null = null;
  private checkedAt = -Infinity;
  private size = -1;

  constructor(
    readonly file: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** The current list; throws (naming the file) when it cannot be read. */
  async get(): Promise<HashList> {
    if (this.list && this.now() - this.checkedAt < RECHECK_MS) return this.list;
    const st = await stat(this.file).catch((e: unknown) => {
      throw new Error(`bad_hashes_file ${this.file}: ${e instanceof Error ? e.message : String(e)}`);
    });
    if (!st.isFile()) throw new Error(`bad_hashes_file ${this.file}: not a file`);
    if (st.size > MAX_HASH_FILE_BYTES) throw new Error(`bad_hashes_file ${this.file}: larger than ${MAX_HASH_FILE_BYTES} bytes`);
    if (!this.list || st.mtimeMs !== this.list.mtimeMs || st.size !== this.size) {
      this.list = parseHashList(await readFile(this.file, 'utf8'), st.mtimeMs);
      this.size = st.size;
    }
    this.checkedAt = this.now();
    return this.list;
  }
}
