/**
 * The webhook signature, like Stripe's: `X-Postern-Signature:
 * t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`. The receiver
 * recomputes the HMAC over the exact body bytes, compares in constant time,
 * and refuses a `t` outside its replay window (default 5 minutes).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'X-Postern-Signature';
export const DEFAULT_TOLERANCE_S = 300;

export function signWebhook(secret: Uint8Array | string, body: string, unixSeconds: number): string {
  const t = Math.floor(unixSeconds);
  const mac = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
  return `t=${t},v1=${mac}`;
}

/** Whether `header` signs `body` with `secret` at a time within `toleranceS` of `nowSeconds`. */
export function verifyWebhook(header: string, body: string, secret: Uint8Array | string, nowSeconds: number, toleranceS = DEFAULT_TOLERANCE_S): boolean {
  const parts = new Map<string, string[]>();
  for (const p of header.split(',')) {
    const eq = p.indexOf('=');
    if (eq < 1) continue;
    const k = p.slice(0, eq).trim();
    parts.set(k, [...(parts.get(k) ?? []), p.slice(eq + 1).trim()]);
  }
  const ts = parts.get('t');
  if (ts?.length !== 1 || !/^\d{1,12}$/.test(ts[0]!)) return false;
  const t = Number(ts[0]);
  if (Math.abs(nowSeconds - t) > toleranceS) return false;
  const want = Buffer.from(createHmac('sha256', secret).update(`${t}.${body}`).digest('hex'));
  return (parts.get('v1') ?? []).some((v) => v.length === want.length && timingSafeEqual(Buffer.from(v), want));
}
