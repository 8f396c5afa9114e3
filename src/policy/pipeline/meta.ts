/**
 * A verdict's queue meta (e.g. the DLP stage's `tlsFloor: 'verify'`) merged
 * into what the queue entry records. Stages may add facts but never replace
 * what the SMTP session recorded (listener, RCPT TO, TLS, REQUIRETLS…), and a
 * TLS floor only ever goes up: a later, milder stage cannot lower it.
 */
import type { Verdict } from '../../core/verdict.js';
import { isTlsFloor, stricterFloor, type TlsFloor } from '../tls/index.js';

export type QueueMeta = Readonly<Record<string, string | number | boolean>>;

/** Keys the session (smtp/data.ts) or the queue itself writes; a stage cannot set them. */
export const SESSION_META_KEYS: ReadonlySet<string> = new Set(['listener', 'rcptTo', 'helo', 'tls', 'requireTls', 'tlsRequiredNo', 'body', 'dsn', 'dsnFor', 'noticeFor']);

const MAX_KEYS = 32;
const MAX_KEY = 64;
const MAX_VALUE = 256;

/**
 * The verdicts' meta merged in order (later stages win per key), bounded;
 * `tlsFloor` is the strictest of the verdicts' and `base`'s (the stored meta
 * after the queue) and is omitted when it would not raise `base`'s. Values of
 * the wrong type are dropped.
 */
export function mergeMeta(verdicts: readonly Verdict[], base: Readonly<Record<string, unknown>> = {}): QueueMeta {
  const out: Record<string, string | number | boolean> = {};
  const baseFloor: TlsFloor = isTlsFloor(base.tlsFloor) ? base.tlsFloor : 'none';
  let floor = baseFloor;
  for (const v of verdicts) {
    for (const [k, val] of Object.entries(v.meta ?? {})) {
      if (SESSION_META_KEYS.has(k) || k.length > MAX_KEY || k === '__proto__') continue;
      if (!(k in out) && Object.keys(out).length >= MAX_KEYS) continue;
      if (k === 'tlsFloor') {
        if (isTlsFloor(val)) floor = stricterFloor(floor, val);
        continue;
      }
      if (typeof val === 'string') out[k] = val.slice(0, MAX_VALUE);
      else if ((typeof val === 'number' && Number.isFinite(val)) || typeof val === 'boolean') out[k] = val;
    }
  }
  if (floor !== baseFloor) out.tlsFloor = floor;
  return out;
}
