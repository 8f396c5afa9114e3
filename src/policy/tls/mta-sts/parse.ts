/**
 * MTA-STS (RFC 8461) text formats: the `_mta-sts` TXT record and the policy
 * file. Pure parsing; a bad input yields null or an error string, never a throw.
 */
import { canonicalName } from '../../../net/dns/types.js';

export type StsMode = 'enforce' | 'testing' | 'none';

export interface StsPolicy {
  readonly mode: StsMode;
  readonly mx: readonly string[];
  /** Seconds, at most 31557600 (one year). */
  readonly maxAge: number;
  /** The policy lines as fetched, for TLS-RPT's policy-string. */
  readonly lines: readonly string[];
}

const MAX_AGE_LIMIT = 31_557_600;

/**
 * The policy id from the TXT records at `_mta-sts.<domain>`. Records not
 * starting with v=STSv1 are ignored; more than one STSv1 record, or one
 * without a valid id, means no usable record (RFC 8461 3.1).
 */
export function parseStsTxt(records: readonly string[]): { id: string } | null {
  const sts = records.filter((r) => /^v=STSv1\s*(;|$)/.test(r));
  if (sts.length !== 1) return null;
  let id: string | null = null;
  for (const field of sts[0]!.split(';').slice(1)) {
    const m = /^\s*([A-Za-z0-9_.-]+)\s*=\s*(.*?)\s*$/.exec(field);
    if (!m) continue;
    if (m[1] === 'id') {
      if (!/^[A-Za-z0-9]{1,32}$/.test(m[2]!)) return null;
      id = m[2]!;
    }
  }
  return id ? { id } : null;
}

export function parseStsPolicy(text: string): { ok: true; policy: StsPolicy } | { ok: false; error: string } {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  let version: string | null = null;
  let mode: string | null = null;
  let maxAge: number | null = null;
  const mx: string[] = [];
  for (const line of lines) {
    const m = /^([A-Za-z0-9_]+)\s*:\s*(.*?)\s*$/.exec(line);
    if (!m) return { ok: false, error: `malformed line ${JSON.stringify(line.slice(0, 80))}` };
    const [, key, value] = m as unknown as [string, string, string];
    if (key === 'version') version = value;
    else if (key === 'mode') mode = value;
    else if (key === 'max_age') {
      if (!/^\d{1,10}$/.test(value) || Number(value) > MAX_AGE_LIMIT) return { ok: false, error: `bad max_age ${JSON.stringify(value)}` };
      maxAge = Number(value);
    } else if (key === 'mx') {
      if (!isMxPattern(value)) return { ok: false, error: `bad mx pattern ${JSON.stringify(value)}` };
      mx.push(canonicalName(value));
    }
    // Unknown keys are ignored, for extensions.
  }
  if (version !== 'STSv1') return { ok: false, error: 'version is not STSv1' };
  if (mode !== 'enforce' && mode !== 'testing' && mode !== 'none') return { ok: false, error: `bad mode ${JSON.stringify(mode)}` };
  if (maxAge === null) return { ok: false, error: 'max_age missing' };
  if (mode !== 'none' && mx.length === 0) return { ok: false, error: 'no mx pattern' };
  return { ok: true, policy: { mode, mx, maxAge, lines } };
}

function isMxPattern(p: string): boolean {
  const host = p.startsWith('*.') ? p.slice(2) : p;
  return /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+\.?$/.test(host);
}

/** Whether an MX host matches a pattern; "*." stands for exactly one leftmost label (RFC 8461 4.1). */
export function mxMatches(pattern: string, host: string): boolean {
  const p = canonicalName(pattern);
  const h = canonicalName(host);
  if (!p.startsWith('*.')) return p === h;
  const dot = h.indexOf('.');
  return dot > 0 && h.slice(dot + 1) === p.slice(2);
}

export function mxAllowed(policy: StsPolicy, host: string): boolean {
  return policy.mx.some((p) => mxMatches(p, host));
}
