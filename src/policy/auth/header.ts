/**
 * The Authentication-Results value postern adds (RFC 8601), unfolded: the
 * pipeline folds header fields when it writes them. Everything taken from
 * the message or DNS is reduced to safe characters first, so a crafted d=
 * or comment cannot add a method result or a header line.
 */
import type { DmarcRecord } from './dmarc-record.js';
import type { ArcOutcome, DkimSignatureOutcome, DmarcOutcome, SpfOutcome } from './types.js';

export interface HeaderParts {
  readonly spf: SpfOutcome;
  readonly dkim: readonly DkimSignatureOutcome[];
  readonly dmarc: DmarcOutcome;
  readonly arc: ArcOutcome;
  readonly record: DmarcRecord | null;
}

export function authResultsHeader(authservId: string, parts: HeaderParts): string {
  const rows: string[] = [];
  if (parts.dkim.length === 0) rows.push('dkim=none');
  for (const s of parts.dkim) {
    const note = s.result !== 'pass' ? '' : s.unsignedBodyBytes > 0 ? ` (${s.unsignedBodyBytes} body bytes unsigned)` : parts.dmarc.domain && !s.aligned ? ' (not aligned)' : '';
    rows.push(`dkim=${s.result}${note}${s.domain ? ` header.d=${prop(s.domain)}` : ''}${s.selector ? ` header.s=${prop(s.selector)}` : ''}`);
  }
  const spf = parts.spf;
  rows.push(`spf=${spf.result}${comment(spf.comment)}${spf.domain ? ` smtp.mailfrom=${prop(spf.domain)}` : ''}${spf.heloDomain ? ` smtp.helo=${prop(spf.heloDomain)}` : ''}`);
  const arc = parts.arc;
  rows.push(`arc=${arc.result}${arc.length > 0 ? ` (i=${arc.length}${arc.sealers[0] ? ` as.d=${prop(arc.sealers[0])}` : ''})` : ''}`);
  const d = parts.dmarc;
  const r = parts.record;
  const policy = r ? ` (p=${r.p.toUpperCase()} sp=${r.sp.toUpperCase()}${r.pct < 100 ? ` pct=${r.pct}` : ''})` : comment(d.comment);
  rows.push(`dmarc=${d.result}${policy}${d.domain ? ` header.from=${prop(d.domain)}` : ''}`);
  return `${prop(authservId)}; ${rows.join('; ')}`;
}

/** A property value: a domain, selector or address part; anything else becomes '_'. */
function prop(v: string): string {
  const s = v.slice(0, 253).replace(/[^A-Za-z0-9._@+-]/g, '_');
  return s.length > 0 ? s : '_';
}

function comment(text: string): string {
  const t = text.slice(0, 200).replace(/[^\x20-\x7e]|[()\\]/g, ' ').trim();
  return t ? ` (${t})` : '';
}
