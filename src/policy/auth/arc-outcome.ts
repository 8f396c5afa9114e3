/**
 * Turns mailauth's ARC result into plain data: the chain's validity, its
 * length, the sealers newest first, and what the newest sealer's
 * ARC-Authentication-Results said about the message (RFC 8617 §7.2 lets a
 * receiver trust that for local policy, for sealers it chooses to trust).
 */
import type { ARCResult } from 'mailauth';
import { aligned, normalizeDomain } from './alignment.js';
import type { ArcOutcome, ArcResult, ArcUpstream } from './types.js';
import { oneLine } from './text.js';

interface TagValue {
  readonly value?: unknown;
}
interface ChainEntry {
  readonly i?: unknown;
  readonly 'arc-seal'?: { readonly parsed?: { readonly d?: TagValue; readonly s?: TagValue } };
  readonly 'arc-message-signature'?: { readonly parsed?: { readonly d?: TagValue; readonly s?: TagValue } };
}

export function noArc(comment: string): ArcOutcome {
  return { result: 'none', length: 0, sealers: [], upstream: null, comment: oneLine(comment) };
}

export function arcOutcome(r: ARCResult, fromDomain: string, tempNames: ReadonlySet<string>): ArcOutcome {
  const raw = (r as { chain?: unknown }).chain;
  const chain = (Array.isArray(raw) ? (raw as ChainEntry[]) : []).slice(0, 64);
  const newestFirst = [...chain].sort((a, b) => Number(b.i) - Number(a.i));
  const sealers = newestFirst.map((e) => normalizeDomain(String(e['arc-seal']?.parsed?.d?.value ?? '')));
  let result: ArcResult = r.status.result === 'pass' ? 'pass' : r.status.result === 'fail' ? 'fail' : 'none';
  if (result === 'fail') {
    // mailauth reads every ARC failure as permanent; a key lookup that failed temporarily is not.
    const keyNames = newestFirst.flatMap((e) => [keyName(e['arc-seal']?.parsed), keyName(e['arc-message-signature']?.parsed)]);
    if (keyNames.some((n) => n !== null && tempNames.has(n))) result = 'temperror';
  }
  return {
    result,
    length: chain.length,
    sealers,
    upstream: result === 'pass' ? upstreamOf(r.authenticationResults, fromDomain) : null,
    comment: oneLine(String(r.status.comment ?? '')),
  };
}

function keyName(p: { readonly d?: TagValue; readonly s?: TagValue } | undefined): string | null {
  const d = p?.d?.value;
  const s = p?.s?.value;
  return typeof d === 'string' && typeof s === 'string' ? normalizeDomain(`${s}._domainkey.${d}`) : null;
}

interface Method {
  readonly result?: unknown;
  readonly header?: { readonly d?: unknown; readonly i?: unknown; readonly from?: unknown };
  readonly smtp?: { readonly mailfrom?: unknown };
}

function upstreamOf(aar: Record<string, unknown> | undefined, fromDomain: string): ArcUpstream | null {
  if (!aar || fromDomain === '') return null;
  const dmarc = aar.dmarc as Method | undefined;
  const dmarcFrom = typeof dmarc?.header?.from === 'string' ? normalizeDomain(dmarc.header.from) : null;
  // A dmarc=pass for some other From domain says nothing about this one.
  const dmarcResult = dmarc && (dmarcFrom === null || dmarcFrom === fromDomain) ? String(dmarc.result ?? '') : null;
  const dkims = (Array.isArray(aar.dkim) ? (aar.dkim as Method[]) : []).slice(0, 32);
  const dkimAligned = dkims.some((m) => m.result === 'pass' && aligned(fromDomain, domainOf(m.header?.d ?? m.header?.i), 'r'));
  const spfM = aar.spf as Method | undefined;
  const spfAligned = spfM?.result === 'pass' && aligned(fromDomain, domainOf(spfM.smtp?.mailfrom), 'r');
  return { dmarc: dmarcResult, dkimAligned, spfAligned };
}

function domainOf(v: unknown): string {
  if (typeof v !== 'string') return '';
  return normalizeDomain(v.slice(v.lastIndexOf('@') + 1));
}
