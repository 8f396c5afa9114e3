import { PosternError } from '../../../core/errors.js';

/** SQLite's answers for a file whose pages do not hold what they must. */
const DAMAGE = /^SQLITE_(CORRUPT|NOTADB)/;

export function isDamage(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' && DAMAGE.test(code);
}

/** What an operator reads when the metadata file is damaged: what, where, and what to do. */
export function damagedMetadata(file: string, e: unknown): PosternError {
  const code = String((e as { code?: unknown }).code);
  const what = code.startsWith('SQLITE_NOTADB') ? 'not a database' : (e as Error).message;
  return new PosternError(
    'INTEGRITY',
    `the metadata database ${file} is damaged (${code}: ${what}): restore it from a verified backup with \`postern restore\` (see docs/integrity.md)`,
    { cause: e },
  );
}

/**
 * Wraps a repository so that any call that meets a damaged page fails with
 * damagedMetadata() instead of a bare SqliteError: every caller, from the CLI
 * to IMAP, then reports one clear error (the process never sees a stack
 * trace for it). Other errors pass through unchanged.
 */
export function reportingDamage<T extends object>(repo: T, file: string): T {
  const map = (e: unknown): never => {
    throw isDamage(e) ? damagedMetadata(file, e) : e;
  };
  return new Proxy(repo, {
    get(target, key) {
      const v = Reflect.get(target, key) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        try {
          const r = (v as (...a: unknown[]) => unknown).apply(target, args);
          return r instanceof Promise ? r.catch(map) : r;
        } catch (e) {
          return map(e);
        }
      };
    },
  });
}
