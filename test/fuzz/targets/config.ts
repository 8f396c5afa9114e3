/**
 * The TOML config (src/config): mutations of the file `postern init` writes.
 * Promises checked: parseConfig never throws; it returns a deeply frozen
 * config, or a non-empty list of errors each with a key and a reason;
 * formatConfigErrors prints one line per error; the store.url secret is never
 * echoed in an error.
 */
import fc from 'fast-check';
import { parse } from 'smol-toml';
import { formatConfigErrors, parseConfig, renderConfigTemplate } from '../../../src/config/index.js';
import { mutatedSeeds, nested, tokenSoup } from '../harness/mutate.js';
import { check, type FuzzTarget } from '../harness/types.js';

const SECRET = 'S3cretFuzzPw';
const TOKENS = [
  '[', ']', '[[', ']]', '=', '"', "'", '"""', "'''", '\\u0000', '\\U0010FFFF', '\\x', '#', '\n', '\r\n', '\r', '.', ',', '{', '}', ' = ', '0x7f', '0o777', '0b1', '1_000', '+inf', 'nan', '-0',
  '1e400', '9223372036854775808', '1979-05-27T07:32:00Z', '07:32:00', 'true', 'false', '[server]', '[smtp]', '[smtp.mx]', '[delivery.tls_policy]', '[delivery.relay]', '[[x]]', '__proto__',
  'constructor', 'hostname', 'port', 'port_offset', 'max_recipients', 'data_dir', 'url', 'bare_newline', 'address', '"normalize"', '"::1"', '65535', '65536', '-1', '\xff', '\xc3\xa9', '\uFEFF',
];

function seeds(): Uint8Array[] {
  const texts = [
    renderConfigTemplate({ hostname: 'mail.example.org', domain: 'example.org', dataDir: 'data' }),
    renderConfigTemplate({ hostname: 'mx1.example.net', domain: 'example.net', dataDir: '/var/lib/postern', portOffset: 10000, listenAddress: '127.0.0.1' }).replace('url = ""', `url = "postgres://postern:${SECRET}@db.example.net/postern"`),
    '[server]\nhostname = "mail.example.org"\n',
    `[server]\nhostname = "h.example"\n[store]\nbackend = "postgres"\nurl = "postgres://u:${SECRET}@h/db"\n[smtp]\nmax_recipients = 0\n`,
  ];
  return texts.map((t) => Buffer.from(t, 'utf8'));
}

function isDeepFrozen(v: unknown, depth = 0): boolean {
  if (typeof v !== 'object' || v === null) return true;
  if (!Object.isFrozen(v) || depth > 64) return false;
  return Object.values(v).every((c) => isDeepFrozen(c, depth + 1));
}

function run(input: Uint8Array): 'ok' | 'rejected' {
  const text = Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('utf8');
  const r = parseConfig(text, '/srv/postern');
  if (r.ok) {
    check(isDeepFrozen(r.config), 'the config is not deeply frozen');
    return 'ok';
  }
  check(r.errors.length > 0, 'failed with no errors');
  for (const e of r.errors) check(typeof e.key === 'string' && e.key.length > 0 && typeof e.reason === 'string' && e.reason.length > 0, 'an error without a key or a reason');
  const printed = formatConfigErrors('postern.toml', r.errors);
  check(printed.split('\n').length === r.errors.length, 'formatConfigErrors does not print one line per error');
  // The secret may be echoed only if it also appears outside store.url.
  if (text.split(SECRET).length === 2) {
    let url: unknown;
    try {
      url = (parse(text.replace(/^\uFEFF/, '')) as { store?: { url?: unknown } }).store?.url;
    } catch {
      url = undefined;
    }
    if (typeof url === 'string' && url.includes(SECRET)) check(!printed.includes(SECRET), 'an error echoes the store.url password');
  }
  return 'rejected';
}

export const config: FuzzTarget = {
  name: 'config',
  seeds,
  arbitrary: fc.oneof(
    { weight: 6, arbitrary: mutatedSeeds(seeds(), { dictionary: TOKENS, maxBytes: 64 * 1024, maxRepeat: 30_000 }) },
    { weight: 2, arbitrary: tokenSoup(TOKENS, 80) },
    { weight: 1, arbitrary: nested('[', '1', ']', 3000).map((b) => Buffer.concat([Buffer.from('[server]\nhostname = "a.b"\nx = '), b, Buffer.from('\n')])) },
    { weight: 1, arbitrary: nested('{a=', '1', '}', 3000).map((b) => Buffer.concat([Buffer.from('[server]\nhostname = "a.b"\n[smtp]\nmx = '), b, Buffer.from('\n')])) },
  ),
  run,
};
