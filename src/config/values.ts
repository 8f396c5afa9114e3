/**
 * Leaf validators for the config schema. Each one owns its whole error message
 * ("expected ..., got ...") so an operator reads one plain sentence per wrong
 * key instead of a validator's internals.
 */
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { z } from 'zod';
import { normalizeDomain } from '../core/address.js';

/** How a TOML value is shown back in an error: short, and never a whole table. */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (Array.isArray(v)) return 'an array';
  if (v instanceof Date) return 'a date';
  if (typeof v === 'object' && v !== null) return 'a table';
  return typeof v;
}

function got(input: unknown, expected: string): string {
  return input === undefined ? `is required (${expected})` : `expected ${expected}, got ${describeValue(input)}`;
}

/**
 * A leaf that reports "expected <what>, got <value>". abort: false lets the
 * cross-field checks of the enclosing table still run, so they are reported
 * in the same pass.
 */
function leaf<T>(test: (v: unknown) => boolean, expected: string) {
  return z.custom<T>(test, { abort: false, error: (iss) => got(iss.input, expected) });
}

export function int(min: number, max: number) {
  return leaf<number>((v) => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max, `a whole number from ${min} to ${max}`);
}

export function bool() {
  return leaf<boolean>((v) => typeof v === 'boolean', 'true or false');
}

export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  const set = new Set<string>(values);
  return leaf<T[number]>((v) => typeof v === 'string' && set.has(v), `one of ${values.map((v) => JSON.stringify(v)).join(', ')}`);
}

/** A string that is never echoed back in errors: it may hold a password. */
export function secretString() {
  return z.custom<string>((v) => typeof v === 'string', {
    abort: false,
    error: (iss) => (iss.input === undefined ? 'is required' : 'expected a string'),
  });
}

/** A host name, lower-cased. `fqdn` demands at least one dot (or "localhost"). */
export function hostname(fqdn: boolean) {
  const valid = (v: unknown): boolean => {
    if (typeof v !== 'string') return false;
    const d = normalizeDomain(v);
    return d !== null && d === v.toLowerCase() && (!fqdn || d.includes('.') || d === 'localhost');
  };
  const expected = fqdn ? 'a fully qualified host name such as "mail.example.org"' : 'a host name';
  return leaf<string>(valid, expected).transform((v) => v.toLowerCase());
}

/** A listen address: an IP literal or a host name. */
export function listenAddress() {
  return leaf<string>(
    (v) => typeof v === 'string' && (isIP(v) !== 0 || normalizeDomain(v) === v.toLowerCase()),
    'an IP address such as "0.0.0.0" or "::1", or a host name',
  );
}

/** Lower-case DNS labels, such as a DKIM selector. */
export function dnsName() {
  return leaf<string>((v) => typeof v === 'string' && normalizeDomain(v) === v, 'lower-case DNS labels (letters, digits, hyphens)');
}

/** A file or folder path; relative paths resolve against the config file's folder. */
export function filePath(baseDir: string) {
  return leaf<string>((v) => typeof v === 'string' && v.length > 0 && !v.includes('\0'), 'a non-empty path').transform((v) =>
    resolve(baseDir, v),
  );
}

/** A TOML table with no unknown keys; its own wrong type is reported plainly. */
export function table<S extends z.core.$ZodLooseShape>(shape: S) {
  return z.strictObject(shape, {
    error: (iss) => (iss.code === 'invalid_type' ? got(iss.input, 'a table') : undefined),
  });
}
