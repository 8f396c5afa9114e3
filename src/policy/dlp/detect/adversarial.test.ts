/**
 * Inputs built to make a careless pattern backtrack or a scanner go quadratic:
 * each built-in and the keyword scanner must get through 1 MB of them (no
 * timing assertion: a quadratic scan would not finish within the test timeout).
 */
import { describe, expect, it } from 'vitest';
import { BUILTIN_TYPES, compileDetector } from './index.js';

const MB = 1 << 20;
const fill = (unit: string): string => unit.repeat(Math.ceil(MB / unit.length));

const INPUTS: [string, string][] = [
  ['digits grouped by single spaces', fill('4 ')],
  ['4-digit groups', fill('4111 ')],
  ['one digit run', fill('4')],
  ['dashes and digits', fill('12-')],
  ['upper-case letters and digits', fill('DE89AB')],
  ['IBAN-like groups', fill('DE89 3704 ')],
  ['base64url without dots', `eyJ${fill('A')}`],
  ['JWT-like starts', fill('eyJhbGc.')],
  ['PEM BEGIN lines without END', fill('-----BEGIN RSA PRIVATE KEY-----\n')],
  ['password keys without values', fill('password: ')],
  ['secret keys with short values', fill('api_key=abc ')],
  ['token prefixes', fill('xoxb-ghp_AKIA sk_live_')],
  ['NINO-like', fill('AB12 ')],
];

describe('linear scans', () => {
  const detectors = [
    ...BUILTIN_TYPES.map((type) => compileDetector(type, { type }, [])),
    compileDetector('kw', { type: 'keywords', terms: ['a b c', 'password', 'eyJ'], near: { terms: ['4111', 'DE89'], words: 50 } }, []),
  ];
  it.each(INPUTS)('gets through 1 MB of %s', (_name, text) => {
    for (const d of detectors) expect(d.text!(text).length).toBeLessThanOrEqual(1000);
  });
});
