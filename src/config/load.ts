/**
 * Reading the config: TOML text -> schema -> deeply frozen Config, or the full
 * list of what is wrong. Nothing is reported piecemeal: an operator fixing a
 * config should see every mistake in one run.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse, TomlError } from 'smol-toml';
import { PosternError } from '../core/errors.js';
import { configSchema, type Config } from './schema.js';

export interface ConfigError {
  /** Dotted key path ("smtp.max_recipients"), "(file)" or "(syntax)". */
  readonly key: string;
  readonly reason: string;
  /** Set for TOML syntax errors, 1-based. */
  readonly line?: number;
  readonly column?: number;
}

export type ConfigResult = { ok: true; config: Config } | { ok: false; errors: ConfigError[] };

export function parseConfig(text: string, baseDir: string): ConfigResult {
  let raw: unknown;
  try {
    raw = parse(text.replace(/^\uFEFF/, ''), { unsafeKeyBehaviour: 'throw' });
  } catch (e) {
    if (e instanceof TomlError) {
      const first = e.message.split('\n')[0] ?? e.message;
      const reason = first.replace(/^Invalid TOML document:\s*/, '');
      return { ok: false, errors: [{ key: '(syntax)', reason, line: e.line, column: e.column }] };
    }
    throw e;
  }
  const result = configSchema(resolve(baseDir)).safeParse(raw);
  if (result.success) return { ok: true, config: deepFreeze(result.data) };
  const errors: ConfigError[] = [];
  for (const issue of result.error.issues) {
    const path = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      for (const k of issue.keys) errors.push({ key: keyPath([...path, k]), reason: unknownKeyReason(path, k) });
    } else {
      errors.push({ key: keyPath(path), reason: issue.message });
    }
  }
  return { ok: false, errors };
}

export function loadConfig(path: string): ConfigResult {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'file not found' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a folder' : String((e as Error).message);
    return { ok: false, errors: [{ key: '(file)', reason: `cannot read ${path}: ${why}` }] };
  }
  return parseConfig(text, dirname(resolve(path)));
}

/** One line per error, prefixed with the file so editors can jump to it. */
export function formatConfigErrors(path: string, errors: readonly ConfigError[]): string {
  return errors
    .map((e) => {
      const reason = e.reason.replace(/[\r\n]+/g, ' ');
      if (e.line !== undefined) return `${path}:${e.line}:${e.column ?? 1}: ${reason}`;
      if (e.key === '(file)') return `${path}: ${reason}`;
      return `${path}: ${e.key}: ${reason}`;
    })
    .join('\n');
}

/** The port a listener binds: the configured port plus server.port_offset. */
export function listenPort(config: Config, port: number): number {
  const p = port + config.server.port_offset;
  if (!Number.isInteger(p) || p < 1 || p > 65535) {
    throw new PosternError('CONFIG_INVALID', `port ${port} + server.port_offset ${config.server.port_offset} is outside 1..65535`);
  }
  return p;
}

function keyPath(parts: readonly string[]): string {
  if (parts.length === 0) return '(root)';
  return parts.map((p) => (/^[A-Za-z0-9_-]+$/.test(p) ? p : JSON.stringify(p))).join('.');
}

// The parsed defaults hold every known key at every level: they answer
// "which keys could the operator have meant" without reaching into zod.
let defaultsCache: unknown;
let shapeCache: unknown;
function knownKeys(path: readonly string[]): string[] {
  if (defaultsCache === undefined) {
    const r = configSchema('/').safeParse({ server: { hostname: 'mail.example.org' } });
    defaultsCache = r.success ? r.data : {};
  }
  let node: unknown = defaultsCache;
  for (const p of path) node = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[p] : undefined;
  const fromDefaults = typeof node === 'object' && node !== null ? Object.keys(node) : [];
  // Keys without a default (optional ones) are missing from the defaults; the schema's shape has them.
  shapeCache ??= configSchema('/');
  const fromShape = shapeKeys(shapeCache, path);
  return [...new Set([...fromDefaults, ...fromShape])];
}

interface ZodLike {
  _zod: { def: { type: string; innerType?: ZodLike; in?: ZodLike; shape?: Record<string, ZodLike> } };
}

/** The keys a table of the schema declares, through its wrappers (default, optional, pipe). */
function shapeKeys(schema: unknown, path: readonly string[]): string[] {
  let s = schema as ZodLike | undefined;
  const unwrap = (): void => {
    for (let i = 0; i < 16 && s; i++) {
      const d: ZodLike['_zod']['def'] = s._zod.def;
      if (d.innerType) s = d.innerType;
      else if (d.type === 'pipe' && d.in) s = d.in;
      else return;
    }
  };
  for (const p of path) {
    unwrap();
    s = s?._zod.def.shape?.[p];
  }
  unwrap();
  return Object.keys(s?._zod.def.shape ?? {});
}

function unknownKeyReason(path: readonly string[], key: string): string {
  const known = knownKeys(path);
  const near = known.find((k) => editDistance(k, key.toLowerCase()) <= 2);
  return near ? `unknown key; did you mean "${near}"?` : `unknown key; expected one of ${known.join(', ')}`;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const sub = (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      cur.push(Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, sub));
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const child of Object.values(v)) deepFreeze(child);
  }
  return v;
}
