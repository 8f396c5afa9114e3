/** Findings on disk: fuzz-findings/<target>/<hash>.bin (the input) and <hash>.txt (what went wrong). */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { inputHash, type Finding } from './engine.js';

export const FINDINGS_DIR = new URL('../../../fuzz-findings/', import.meta.url).pathname;

/** Keeps at most `perSignature` inputs of one bug; returns the path written, or null. */
export class FindingWriter {
  private readonly counts = new Map<string, number>();
  constructor(
    readonly dir = FINDINGS_DIR,
    readonly perSignature = 3,
  ) {}

  write(f: Finding): string | null {
    const n = this.counts.get(f.signature) ?? 0;
    this.counts.set(f.signature, n + 1);
    if (n >= this.perSignature) return null;
    const folder = join(this.dir, f.target);
    mkdirSync(folder, { recursive: true });
    const file = join(folder, `${inputHash(f.input)}.bin`);
    if (!existsSync(file)) {
      writeFileSync(file, f.input);
      writeFileSync(file.replace(/\.bin$/, '.txt'), `${f.kind}: ${f.message}\n\n${f.stack}\n`);
    }
    return file;
  }

  /** Distinct bugs seen, with how many inputs hit each. */
  summary(): Array<[string, number]> {
    return [...this.counts.entries()];
  }
}

/** The target a findings file belongs to: the name of its folder. */
export function targetOfFile(file: string): string {
  return basename(dirname(file));
}
