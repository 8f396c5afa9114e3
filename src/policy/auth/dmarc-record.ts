/**
 * DMARC policy discovery and record parsing (RFC 7489 §6.3, §6.6.3). Plain
 * string work, bounded: a record longer than MAX_RECORD is not a policy.
 */
import { organizationalDomain } from './alignment.js';
import type { MailauthResolver } from './resolver.js';
import type { AlignmentMode, DmarcPolicy } from './types.js';

const MAX_RECORD = 4096;
const POLICIES: readonly DmarcPolicy[] = ['none', 'quarantine', 'reject'];

export interface DmarcRecord {
  /** The policy for this From domain: sp when the record came from the organizational domain and the From domain is below it. */
  readonly policy: DmarcPolicy;
  readonly p: DmarcPolicy;
  readonly sp: DmarcPolicy;
  readonly adkim: AlignmentMode;
  readonly aspf: AlignmentMode;
  readonly pct: number;
  /** The record text (bounded), for the A-R comment and logs. */
  readonly text: string;
}

export type DmarcLookup =
  | { readonly status: 'found'; readonly record: DmarcRecord }
  | { readonly status: 'none'; readonly why: string }
  | { readonly status: 'temperror'; readonly why: string };

/** Looks up _dmarc.<from>, then _dmarc.<organizational domain> (RFC 7489 §6.6.3). */
export async function discoverDmarc(fromDomain: string, dns: MailauthResolver): Promise<DmarcLookup> {
  const first = await fetchRecord(fromDomain, dns);
  if (first.status !== 'none') return finish(first, false);
  const org = organizationalDomain(fromDomain);
  if (org === fromDomain) return first;
  return finish(await fetchRecord(org, dns), true);
}

function finish(r: { status: 'found'; text: string } | DmarcLookup, atOrg: boolean): DmarcLookup {
  if (r.status !== 'found' || !('text' in r)) return r as DmarcLookup;
  const record = parseDmarcRecord(r.text, atOrg);
  return record ? { status: 'found', record } : { status: 'none', why: 'record without a valid policy' };
}

async function fetchRecord(domain: string, dns: MailauthResolver): Promise<{ status: 'found'; text: string } | DmarcLookup> {
  let answer: unknown;
  try {
    answer = await dns(`_dmarc.${domain}`, 'TXT');
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'ENOTFOUND' || code === 'ENODATA') return { status: 'none', why: 'no record' };
    return { status: 'temperror', why: err instanceof Error ? err.message : 'DNS failure' };
  }
  const texts = (Array.isArray(answer) ? answer : [])
    .map((r: unknown) => (Array.isArray(r) ? r.map(String).join('') : String(r)).trim())
    .filter((t) => /^v\s*=\s*DMARC1\s*(;|$)/i.test(t.slice(0, 16)));
  if (texts.length !== 1) return { status: 'none', why: texts.length === 0 ? 'no record' : 'several records' };
  return { status: 'found', text: texts[0] ?? '' };
}

/**
 * Parses a DMARC record; null when it is not a usable policy. A missing or
 * invalid p= (or sp=) counts as p=none when rua= is present, else the record
 * is ignored (RFC 7489 §6.6.3).
 */
export function parseDmarcRecord(text: string, atOrg: boolean): DmarcRecord | null {
  if (text.length > MAX_RECORD) return null;
  const tags = new Map<string, string>();
  for (const part of text.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const key = part.slice(0, eq).trim().toLowerCase();
    if (!tags.has(key)) tags.set(key, part.slice(eq + 1).trim());
  }
  if ((tags.get('v') ?? '').toUpperCase() !== 'DMARC1') return null;
  const hasRua = (tags.get('rua') ?? '').length > 0;
  let p = asPolicy(tags.get('p'));
  const spTag = tags.get('sp');
  let sp = spTag === undefined ? p : asPolicy(spTag);
  if (p === null || sp === null) {
    if (!hasRua) return null;
    p = p ?? 'none';
    sp = sp ?? p;
  }
  const pctTag = tags.get('pct');
  const pctNum = pctTag !== undefined && /^\d{1,3}$/.test(pctTag) ? Number(pctTag) : 100;
  return {
    policy: atOrg ? sp : p,
    p,
    sp,
    adkim: tags.get('adkim')?.toLowerCase() === 's' ? 's' : 'r',
    aspf: tags.get('aspf')?.toLowerCase() === 's' ? 's' : 'r',
    pct: pctNum <= 100 ? pctNum : 100,
    text: text.slice(0, 512),
  };
}

function asPolicy(v: string | undefined): DmarcPolicy | null {
  const p = v?.toLowerCase();
  return POLICIES.find((x) => x === p) ?? null;
}
