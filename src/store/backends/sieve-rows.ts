/** Checks shared by both backends' sieve role: script names, sizes and vacation keys. */
import { SIEVE_LIMITS } from '../types.js';

// RFC 5804 section 1.6: no controls (C0, DEL, C1) and no line or paragraph separators in a script name.
// eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
const BAD_NAME_CHAR = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/u;

/** Throws RangeError unless `name` may name a script. */
export function checkScriptName(name: string): void {
  if (typeof name !== 'string' || name.length === 0) throw new RangeError('a script name may not be empty');
  if ([...name].length > SIEVE_LIMITS.maxNameLength) throw new RangeError(`a script name may have at most ${SIEVE_LIMITS.maxNameLength} characters`);
  if (BAD_NAME_CHAR.test(name)) throw new RangeError('a script name may not contain control characters');
  if (/\p{Cs}/u.test(name)) throw new RangeError('a script name must be valid Unicode');
}

/** Throws RangeError unless `text` fits; returns its UTF-8 size. */
export function checkScriptText(text: string): number {
  if (typeof text !== 'string') throw new RangeError('a script must be text');
  const size = Buffer.byteLength(text, 'utf8');
  if (size > SIEVE_LIMITS.maxScriptBytes) throw new RangeError(`a script may have at most ${SIEVE_LIMITS.maxScriptBytes} bytes`);
  return size;
}

export const TOO_MANY_SCRIPTS = () => new RangeError(`an account may keep at most ${SIEVE_LIMITS.maxScripts} scripts`);

/** Vacation keys are bounded so a hostile sender address cannot grow the table's rows. */
export function checkVacationKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0 || key.length > 1024) throw new RangeError('a vacation key must have 1 to 1024 characters');
}

export interface SieveRow {
  name: string;
  script: string;
  active: number | boolean;
  size: number | string;
  updated_at: number | string;
}

export const toInfo = (r: Omit<SieveRow, 'script'>) => ({ name: r.name, active: Boolean(r.active), size: Number(r.size), updatedAt: Number(r.updated_at) });
