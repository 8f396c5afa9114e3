/**
 * The "yara" ScanEngine: Debian's `yara` command over the parts of a
 * message, with the rules the administrator keeps in a folder (*.yar,
 * *.yara). The rules are compiled once with `yarac` (again when a file
 * changes; the folder is looked at every 10 s and at each health check)
 * into a private folder. For each message a pool worker writes the
 * message and its extracted parts into a fresh folder (0700, files 0600,
 * named by number), `yara -C -r` scans it under a timeout (the process is
 * killed when the time is up or the caller aborts; it sees no environment
 * but PATH), its "RULE path" lines
 * become detections, and the folder is removed whatever happened.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { PolicyPool } from '../../pool/index.js';
import { EngineUnavailable, type Detection, type EngineHealth, type EngineResult, type ScanEngine } from '../engine.js';
import type { ExtractLimits } from '../parts.js';
import type { MaterializeOutput } from './task.js';

export const YARA_ENGINE = 'yara';
const RULE_FILE = /\.(yar|yara)$/i;
const MAX_RULE_FILES = 10_000;
const MAX_OUTPUT = 1024 * 1024;
const MAX_DETECTIONS = 100;
const RECHECK_MS = 10_000;

export interface YaraEngineOptions {
  readonly pool: PolicyPool;
  readonly limits: ExtractLimits;
  readonly rulesDir: string;
  /** Milliseconds for one message: writing its parts and running yara. */
  readonly timeoutMs: number;
  readonly yara?: string;
  readonly yarac?: string;
  /** Where the scan folders and the compiled rules go (default: the system's temp folder). */
  readonly tmpRoot?: string;
  readonly now?: () => number;
}

interface RuleSet {
  readonly files: string[];
  /** Newest modification time of a rule file, Unix ms. */
  readonly newest: number;
  readonly key: string;
}

interface Compiled extends RuleSet {
  readonly file: string;
}

function run(cmd: string, args: string[], signal: AbortSignal, timeoutMs: number): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      { signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]), killSignal: 'SIGKILL', maxBuffer: MAX_OUTPUT, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (err && (err.name === 'AbortError' || signal.aborted)) return reject(new Error(`${path.basename(cmd)} stopped after ${timeoutMs} ms or by abort`));
        if (err && typeof err.code !== 'number') return reject(err);
        resolve({ code: err ? Number(err.code) : 0, stdout, stderr });
      },
    );
  });
}

const firstLine = (s: string): string => (s.trim().split('\n')[0] ?? '').slice(0, 300);

export class YaraEngine implements ScanEngine {
  readonly name = YARA_ENGINE;
  private readonly yara: string;
  private readonly yarac: string;
  private readonly tmpRoot: string;
  private readonly now: () => number;
  private compiled: Compiled | null = null;
  private compiling: Promise<Compiled> | null = null;
  private rulesHome: string | null = null;
  private checkedAt = -Infinity;
  private generation = 0;

  constructor(private readonly o: YaraEngineOptions) {
    this.yara = o.yara ?? 'yara';
    this.yarac = o.yarac ?? 'yarac';
    this.tmpRoot = o.tmpRoot ?? tmpdir();
    this.now = o.now ?? Date.now;
  }

  private async ruleSet(): Promise<RuleSet> {
    const names = (await readdir(this.o.rulesDir)).filter((n) => RULE_FILE.test(n)).sort();
    if (names.length === 0) throw new Error(`rules_dir ${this.o.rulesDir}: no *.yar or *.yara files`);
    if (names.length > MAX_RULE_FILES) throw new Error(`rules_dir ${this.o.rulesDir}: more than ${MAX_RULE_FILES} rule files`);
    const files = names.map((n) => path.join(this.o.rulesDir, n));
    const times = await Promise.all(files.map(async (f) => (await stat(f)).mtimeMs));
    return { files, newest: Math.round(Math.max(...times)), key: files.map((f, i) => `${f}@${times[i]}`).join('\n') };
  }

  /** The compiled rules, compiled again when a rule file was added, removed or changed. */
  private async rules(): Promise<Compiled> {
    // The folder is looked at again at most every RECHECK_MS, not for every message.
    if (this.compiled && this.now() - this.checkedAt < RECHECK_MS) return this.compiled;
    const set = await this.ruleSet();
    if (this.compiled?.key === set.key) {
      this.checkedAt = this.now();
      return this.compiled;
    }
    this.compiling ??= this.compile(set).finally(() => (this.compiling = null));
    const c = await this.compiling;
    this.checkedAt = this.now();
    return c;
  }

  /** Not tied to one caller's signal: other scans wait for the same compilation. */
  private async compile(set: RuleSet): Promise<Compiled> {
    const signal = new AbortController().signal;
    this.rulesHome ??= await mkdtemp(path.join(this.tmpRoot, 'postern-yara-rules-'));
    const file = path.join(this.rulesHome, `rules-${++this.generation}.yarc`);
    // A namespace per file: two files may name a rule alike.
    const r = await run(this.yarac, ['-w', ...set.files.map((f, i) => `f${i}:${f}`), file], signal, Math.max(this.o.timeoutMs, 60_000));
    if (r.code !== 0) throw new Error(`rules_dir ${this.o.rulesDir}: the rules do not compile: ${firstLine(r.stderr || r.stdout)}`);
    const old = this.compiled;
    this.compiled = { ...set, file };
    if (old) await rm(old.file, { force: true });
    return this.compiled;
  }

  async scan(raw: Uint8Array, signal: AbortSignal): Promise<EngineResult> {
    const started = this.now();
    let dir: string | null = null;
    try {
      const rules = await this.rules();
      dir = await mkdtemp(path.join(this.tmpRoot, 'postern-yara-scan-'));
      const written = await this.o.pool.run<MaterializeOutput>('av.materialize', { raw, dir, limits: this.o.limits }, { budgetMs: this.o.timeoutMs, signal });
      const left = Math.max(1, this.o.timeoutMs - (this.now() - started));
      const args = ['-C', '-r', '-w', '-N', '-p', '1', '-a', String(Math.max(1, Math.ceil(left / 1000))), rules.file, dir];
      const r = await run(this.yara, args, signal, left);
      if (r.code !== 0) throw new Error(`yara exited with ${r.code}: ${firstLine(r.stderr)}`);
      const byFile = new Map(written.files.map((f) => [f.file, f.part]));
      const detections: Detection[] = [];
      for (const line of r.stdout.split('\n')) {
        const m = /^(\S+) (.+)$/.exec(line.trim());
        if (!m || detections.length >= MAX_DETECTIONS) continue;
        const part = byFile.get(path.basename(m[2]!));
        if (part !== undefined) detections.push({ engine: this.name, signature: m[1]!.slice(0, 128), part });
      }
      return { engine: this.name, detections, version: `yara/${rules.files.length} rule files`, ms: this.now() - started };
    } catch (e) {
      throw new EngineUnavailable(this.name, e instanceof Error ? e.message : String(e), { cause: e });
    } finally {
      if (dir) await rm(dir, { recursive: true, force: true });
    }
  }

  async health(signal: AbortSignal): Promise<EngineHealth> {
    try {
      const v = await run(this.yara, ['--version'], signal, 10_000);
      if (v.code !== 0) throw new Error(`${this.yara} --version exited with ${v.code}`);
      this.checkedAt = -Infinity; // health looks at the folder now
      const rules = await this.rules();
      return { engine: this.name, up: true, version: `yara ${v.stdout.trim()}/${rules.files.length} rule files`, signaturesAt: rules.newest };
    } catch (e) {
      return { engine: this.name, up: false, version: null, signaturesAt: null, detail: e instanceof Error ? e.message : String(e) };
    }
  }

  async close(): Promise<void> {
    await this.compiling?.catch(() => undefined);
    if (this.rulesHome) await rm(this.rulesHome, { recursive: true, force: true });
    this.rulesHome = null;
    this.compiled = null;
  }
}
