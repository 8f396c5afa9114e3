/**
 * The "static" ScanEngine: the message is taken apart in a pool worker
 * (MIME parts, ZIP entries), checked there for macro documents, disguised
 * executables, HTML smuggling and archives that cannot be scanned, and the
 * parts' SHA-256 digests come back to be matched here against the
 * administrator's known-bad list. Any failure to answer is EngineUnavailable.
 */
import type { PolicyPool } from '../../pool/index.js';
import type { PoolWork } from '../../pool/batch.js';
import { EngineUnavailable, type Detection, type EngineHealth, type EngineResult, type ScanEngine } from '../engine.js';
import type { ExtractLimits } from '../parts.js';
import type { HashListFile } from './hashes.js';
import type { StaticScanOutput } from './task.js';

export const STATIC_ENGINE = 'static';
/** Bumped when the checks change, so a verdict says which checks made it. */
export const STATIC_CHECKS_VERSION = 'static-1';

export interface StaticEngineOptions {
  readonly pool: PolicyPool;
  readonly limits: ExtractLimits;
  /** Milliseconds the worker task may take. */
  readonly budgetMs: number;
  readonly hashes: HashListFile | null;
  readonly now?: () => number;
}

export class StaticEngine implements ScanEngine {
  readonly name = STATIC_ENGINE;
  private readonly now: () => number;

  constructor(private readonly o: StaticEngineOptions) {
    this.now = o.now ?? Date.now;
  }

  poolWork(): PoolWork {
    return { task: 'av.static', input: { limits: this.o.limits }, budgetMs: this.o.budgetMs };
  }

  async scan(raw: Uint8Array, signal: AbortSignal, pooled?: Promise<unknown>): Promise<EngineResult> {
    const started = this.now();
    let out: StaticScanOutput;
    let names: ReadonlyMap<string, string> = new Map();
    try {
      if (this.o.hashes) names = (await this.o.hashes.get()).names;
      out = (await (pooled ?? this.o.pool.run<StaticScanOutput>('av.static', { raw, limits: this.o.limits }, { budgetMs: this.o.budgetMs, signal }))) as StaticScanOutput;
    } catch (e) {
      throw new EngineUnavailable(this.name, e instanceof Error ? e.message : String(e), { cause: e });
    }
    if (!out || !Array.isArray(out.detections) || !Array.isArray(out.digests)) throw new EngineUnavailable(this.name, 'the worker gave a malformed answer');
    const detections: Detection[] = out.detections.map((d) => ({ engine: this.name, signature: String(d.signature), part: String(d.part) }));
    for (const d of out.digests) {
      const name = names.get(String(d.sha256));
      if (name !== undefined) detections.push({ engine: this.name, signature: name ? `known-bad-hash:${name.slice(0, 80)}` : 'known-bad-hash', part: String(d.part) });
    }
    return { engine: this.name, detections, version: this.version(names.size), ms: this.now() - started };
  }

  private version(hashes: number): string {
    return this.o.hashes ? `${STATIC_CHECKS_VERSION}/${hashes} hashes` : STATIC_CHECKS_VERSION;
  }

  async health(): Promise<EngineHealth> {
    if (!this.o.hashes) return { engine: this.name, up: true, version: this.version(0), signaturesAt: null };
    try {
      const list = await this.o.hashes.get();
      const detail = list.badLines.length > 0 ? `bad_hashes_file: lines ${list.badLines.join(', ')} are not SHA-256 digests (skipped)` : undefined;
      return { engine: this.name, up: true, version: this.version(list.names.size), signaturesAt: Math.round(list.mtimeMs), ...(detail ? { detail } : {}) };
    } catch (e) {
      return { engine: this.name, up: false, version: null, signaturesAt: null, detail: e instanceof Error ? e.message : String(e) };
    }
  }

  async close(): Promise<void> {
    // The pool belongs to the caller.
  }
}
