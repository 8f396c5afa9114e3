/**
 * Parsers of the tag=value TXT records a mail domain publishes: DMARC (RFC
 * 7489 6.3), TLS-RPT (RFC 8460 3), MTA-STS (RFC 8461 3.1) and DKIM keys (RFC
 * 6376 3.6.1). Pure and linear: a record is split on ';' once, never
 * matched by a backtracking pattern; malformed input is a `problem`, never a throw.
 */

/** Longer than any TXT record a domain sensibly publishes; more is refused unread. */
export const MAX_RECORD = 8192;

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problem: string };

/** "a=b; c=d" as lower-case tag names with their trimmed values, and the first tag; a problem when malformed. */
export function parseTagList(text: string): { readonly tags: Map<string, string>; readonly first: string } | { readonly problem: string } {
  if (text.length > MAX_RECORD) return { problem: `longer than ${MAX_RECORD} characters` };
  const tags = new Map<string, string>();
  let first = '';
  for (const raw of text.split(';')) {
    const part = raw.trim();
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) return { problem: `"${part.slice(0, 40)}" is not tag=value` };
    const name = part.slice(0, eq).trim().toLowerCase();
    if (!/^[a-z][a-z0-9_]*$/.test(name)) return { problem: `"${name.slice(0, 40)}" is not a tag name` };
    if (tags.has(name)) return { problem: `tag ${name} appears twice` };
    tags.set(name, part.slice(eq + 1).trim());
    if (first === '') first = name;
  }
  return { tags, first };
}

function tagged(text: string, version: string, expected: string): Parsed<Map<string, string>> {
  const t = parseTagList(text);
  if ('problem' in t) return { ok: false, problem: t.problem };
  if (t.first !== version) return { ok: false, problem: `does not start with ${version}=${expected}` };
  if (t.tags.get(version) !== expected) return { ok: false, problem: `${version}=${t.tags.get(version) ?? ''}, expected ${expected}` };
  return { ok: true, value: t.tags };
}

/** A comma-separated URI list (rua=), each URI with its scheme lower-cased; a "!size" suffix dropped. */
function uris(list: string | undefined): string[] {
  if (!list) return [];
  return list
    .split(',')
    .map((u) => u.trim().replace(/!\d+[kmgt]?$/i, ''))
    .filter((u) => u !== '')
    .map((u) => {
      const colon = u.indexOf(':');
      return colon > 0 ? u.slice(0, colon).toLowerCase() + u.slice(colon) : u;
    });
}

export interface DmarcRecord {
  readonly p: 'none' | 'quarantine' | 'reject';
  readonly sp: 'none' | 'quarantine' | 'reject' | null;
  readonly rua: readonly string[];
  readonly pct: number;
}

const DMARC_POLICIES = new Set(['none', 'quarantine', 'reject']);

export function parseDmarc(text: string): Parsed<DmarcRecord> {
  const r = tagged(text, 'v', 'DMARC1');
  if (!r.ok) return r;
  const tags = r.value;
  const p = tags.get('p')?.toLowerCase();
  if (p === undefined) return { ok: false, problem: 'no p= tag' };
  if (!DMARC_POLICIES.has(p)) return { ok: false, problem: `p=${p.slice(0, 20)} is not none, quarantine or reject` };
  const sp = tags.get('sp')?.toLowerCase();
  if (sp !== undefined && !DMARC_POLICIES.has(sp)) return { ok: false, problem: `sp=${sp.slice(0, 20)} is not none, quarantine or reject` };
  const pctText = tags.get('pct') ?? '100';
  const pct = /^\d{1,3}$/.test(pctText) ? Number(pctText) : NaN;
  if (!(pct >= 0 && pct <= 100)) return { ok: false, problem: `pct=${pctText.slice(0, 20)} is not 0..100` };
  const rua = uris(tags.get('rua'));
  const bad = rua.find((u) => !u.startsWith('mailto:'));
  if (bad) return { ok: false, problem: `rua ${bad.slice(0, 60)} is not a mailto: URI` };
  return { ok: true, value: { p: p as DmarcRecord['p'], sp: (sp ?? null) as DmarcRecord['sp'], rua, pct } };
}

export function parseTlsRpt(text: string): Parsed<{ readonly rua: readonly string[] }> {
  const r = tagged(text, 'v', 'TLSRPTv1');
  if (!r.ok) return r;
  const rua = uris(r.value.get('rua'));
  if (rua.length === 0) return { ok: false, problem: 'no rua= tag' };
  const bad = rua.find((u) => !u.startsWith('mailto:') && !u.startsWith('https:'));
  if (bad) return { ok: false, problem: `rua ${bad.slice(0, 60)} is neither mailto: nor https:` };
  return { ok: true, value: { rua } };
}

export function parseMtaSts(text: string): Parsed<{ readonly id: string }> {
  const r = tagged(text, 'v', 'STSv1');
  if (!r.ok) return r;
  const id = r.value.get('id');
  if (id === undefined) return { ok: false, problem: 'no id= tag' };
  if (!/^[a-zA-Z0-9]{1,32}$/.test(id)) return { ok: false, problem: `id=${id.slice(0, 40)} is not 1 to 32 letters and digits` };
  return { ok: true, value: { id } };
}

/** The p= of a DKIM key record, whitespace removed (RFC 6376 3.6.1 allows folding); v=DKIM1 is optional but must come first. */
export function parseDkimKey(text: string): Parsed<{ readonly p: string; readonly k: string }> {
  const t = parseTagList(text);
  if ('problem' in t) return { ok: false, problem: t.problem };
  if (t.tags.has('v') && (t.first !== 'v' || t.tags.get('v') !== 'DKIM1')) return { ok: false, problem: 'v= is not DKIM1 or not first' };
  const p = t.tags.get('p');
  if (p === undefined) return { ok: false, problem: 'no p= tag' };
  return { ok: true, value: { p: p.replace(/\s+/g, ''), k: (t.tags.get('k') ?? 'rsa').toLowerCase() } };
}

/** The address of a mailto: URI, lower-case; null for anything else. */
export function mailtoAddress(uri: string): string | null {
  if (!uri.toLowerCase().startsWith('mailto:')) return null;
  const addr = decodeSafe(uri.slice(7).split('?')[0] ?? '').trim().toLowerCase();
  const at = addr.lastIndexOf('@');
  return at > 0 && at < addr.length - 1 ? addr : null;
}

function decodeSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
