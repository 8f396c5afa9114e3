/**
 * SPF records (RFC 7208) as published, read for the posture checks: the
 * parser, the count of DNS-querying terms (at most 10, 4.6.4) through
 * include and redirect, and whether the record, evaluated in order, lets
 * our mail host send for the domain. Lookups go through the small `SpfDns`
 * interface and are bounded in number; answers are compared, never trusted.
 */
import { BlockList, isIP } from 'node:net';
import type { DnsResolver } from '../net/dns/types.js';
import { answerRecords, canonicalName } from '../net/dns/types.js';
import { MAX_RECORD, type Parsed } from './tags.js';

export type Qualifier = '+' | '-' | '~' | '?';
export type MechanismName = 'all' | 'include' | 'a' | 'mx' | 'ptr' | 'ip4' | 'ip6' | 'exists';

export interface Mechanism {
  readonly kind: 'mechanism';
  readonly qualifier: Qualifier;
  readonly name: MechanismName;
  /** The domain or network after ':'; '' when absent. */
  readonly target: string;
  /** CIDR lengths after '/' and '//' (a, mx, ip4, ip6). */
  readonly cidr4: number | null;
  readonly cidr6: number | null;
}

export interface Modifier {
  readonly kind: 'modifier';
  readonly name: string;
  readonly value: string;
}

export type SpfTerm = Mechanism | Modifier;

/** Mechanisms and modifiers that cost a DNS query (RFC 7208 4.6.4). */
const QUERYING = new Set(['include', 'a', 'mx', 'ptr', 'exists', 'redirect']);
const MECHANISMS = new Set<string>(['all', 'include', 'a', 'mx', 'ptr', 'ip4', 'ip6', 'exists']);
const MAX_TERMS = 256;
export const SPF_LOOKUP_LIMIT = 10;

export function isSpf(txt: string): boolean {
  const t = txt.trimStart().toLowerCase();
  return t === 'v=spf1' || t.startsWith('v=spf1 ');
}

export function parseSpf(text: string): Parsed<readonly SpfTerm[]> {
  if (text.length > MAX_RECORD) return { ok: false, problem: `longer than ${MAX_RECORD} characters` };
  if (!isSpf(text)) return { ok: false, problem: 'does not start with v=spf1' };
  const words = text.trim().split(/ +/).slice(1);
  if (words.length > MAX_TERMS) return { ok: false, problem: `more than ${MAX_TERMS} terms` };
  const terms: SpfTerm[] = [];
  for (const w of words) {
    const t = parseTerm(w);
    if (typeof t === 'string') return { ok: false, problem: t };
    if (t.kind === 'modifier' && terms.some((x) => x.kind === 'modifier' && x.name === t.name) && (t.name === 'redirect' || t.name === 'exp')) {
      return { ok: false, problem: `${t.name}= appears twice` };
    }
    terms.push(t);
  }
  return { ok: true, value: terms };
}

function parseTerm(w: string): SpfTerm | string {
  const shown = JSON.stringify(w.slice(0, 60));
  const mod = /^([a-zA-Z][a-zA-Z0-9_.-]*)=(.*)$/.exec(w);
  if (mod) {
    const value = mod[2]!;
    const name = mod[1]!.toLowerCase();
    if ((name === 'redirect' || name === 'exp') && !isDomainSpec(value)) return `${shown} does not name a domain`;
    return { kind: 'modifier', name, value };
  }
  let rest = w;
  let qualifier: Qualifier = '+';
  if ('+-~?'.includes(rest[0] ?? '')) {
    qualifier = rest[0] as Qualifier;
    rest = rest.slice(1);
  }
  const colon = rest.indexOf(':');
  const slash = rest.indexOf('/');
  const end = colon >= 0 ? colon : slash >= 0 ? slash : rest.length;
  const name = rest.slice(0, end).toLowerCase();
  if (!MECHANISMS.has(name)) return `${shown} is not an SPF mechanism`;
  let target = colon >= 0 ? rest.slice(colon + 1) : '';
  let cidr = colon >= 0 ? '' : rest.slice(end);
  if (name !== 'ip6' && target.includes('/')) {
    cidr = target.slice(target.indexOf('/'));
    target = target.slice(0, target.indexOf('/'));
  } else if (name === 'ip6' && /\/\d+$/.test(target)) {
    cidr = target.slice(target.lastIndexOf('/'));
    target = target.slice(0, target.lastIndexOf('/'));
  }
  const cidrs = /^(?:\/(\d{1,2}))?(?:\/\/(\d{1,3}))?$/.exec(cidr);
  if (!cidrs) return `${shown} has a bad CIDR length`;
  let cidr4 = cidrs[1] !== undefined ? Number(cidrs[1]) : null;
  let cidr6 = cidrs[2] !== undefined ? Number(cidrs[2]) : null;
  switch (name) {
    case 'all':
      if (colon >= 0 || cidr !== '') return `${shown}: all takes no argument`;
      break;
    case 'include':
    case 'exists':
      if (!isDomainSpec(target) || cidr !== '') return `${shown} needs a domain`;
      break;
    case 'a':
    case 'mx':
    case 'ptr':
      if (colon >= 0 && !isDomainSpec(target)) return `${shown} does not name a domain`;
      if (name === 'ptr' && cidr !== '') return `${shown}: ptr takes no CIDR length`;
      break;
    case 'ip4':
      if (isIP(target) !== 4 || cidrs[2] !== undefined) return `${shown} is not an IPv4 network`;
      break;
    case 'ip6':
      if (isIP(target) !== 6) return `${shown} is not an IPv6 network`;
      cidr6 = cidrs[1] !== undefined ? Number(cidrs[1]) : null;
      cidr4 = null;
      break;
  }
  if ((cidr4 !== null && cidr4 > 32) || (cidr6 !== null && cidr6 > 128)) return `${shown} has a bad CIDR length`;
  return { kind: 'mechanism', qualifier, name: name as MechanismName, target, cidr4, cidr6 };
}

/** A domain-spec, macros allowed: printable, no spaces, bounded. */
function isDomainSpec(s: string): boolean {
  return s.length > 0 && s.length <= 253 && /^[\x21-\x7e]+$/.test(s);
}

/** The DNS lookups the analysis needs: the resolver's own interface, narrowed. */
export type SpfDns = Pick<DnsResolver, 'txt' | 'a' | 'aaaa' | 'mx'>;

export interface SpfAnalysis {
  /** DNS-querying terms, counted through include and redirect; stops counting past the limit. */
  readonly lookups: number;
  /** Whether the record, evaluated in order, passes mail from the host (by name or address). */
  readonly authorises: boolean;
  /** The qualifier of the final `all` (of the redirect target when the record redirects), null when none. */
  readonly all: Qualifier | null;
  /** Included or redirected records that are missing or broken. */
  readonly problems: readonly string[];
}

/** Our mail host as SPF sees it: its name and the addresses it sends from. */
export interface SpfSender {
  readonly host: string;
  readonly addresses: readonly string[];
}

/** The most queries one analysis makes, whatever the record says (the limit plus address lookups). */
const MAX_QUERIES = 40;

export async function analyzeSpf(domain: string, terms: readonly SpfTerm[], sender: SpfSender, dns: SpfDns): Promise<SpfAnalysis> {
  const problems: string[] = [];
  let queries = 0;
  const budget = (): boolean => ++queries <= MAX_QUERIES;
  const records = new Map<string, readonly SpfTerm[] | null>();

  const fetch = async (name: string): Promise<readonly SpfTerm[] | null> => {
    const key = canonicalName(name);
    if (records.has(key)) return records.get(key)!;
    if (!budget()) return null;
    const answer = await dns.txt(key);
    const spf = answerRecords(answer).filter(isSpf);
    let terms: readonly SpfTerm[] | null = null;
    if (answer.status === 'temperror') problems.push(`${key}: ${answer.reason}`);
    else if (spf.length === 0) problems.push(`${key} publishes no SPF record`);
    else if (spf.length > 1) problems.push(`${key} publishes ${spf.length} SPF records`);
    else {
      const p = parseSpf(spf[0]!);
      if (p.ok) terms = p.value;
      else problems.push(`${key}: ${p.problem}`);
    }
    records.set(key, terms);
    return terms;
  };

  // The count: every querying term of the record and of what it includes or redirects to, each record once.
  let lookups = 0;
  const counted = new Set<string>();
  const count = async (name: string, ts: readonly SpfTerm[]): Promise<void> => {
    counted.add(canonicalName(name));
    for (const t of ts) {
      if (lookups > SPF_LOOKUP_LIMIT) return;
      if (!QUERYING.has(t.name)) continue;
      lookups++;
      const next = t.kind === 'mechanism' ? (t.name === 'include' ? t.target : null) : t.name === 'redirect' ? t.value : null;
      if (next && !counted.has(canonicalName(next))) {
        const sub = await fetch(next);
        if (sub) await count(next, sub);
      }
    }
  };
  await count(domain, terms);

  const host = canonicalName(sender.host);
  const addrs = sender.addresses.filter((a) => isIP(a) !== 0);
  const inNet = (net: string, len: number | null): boolean => {
    const type = isIP(net) === 4 ? 'ipv4' : 'ipv6';
    const list = new BlockList();
    list.addSubnet(net, len ?? (type === 'ipv4' ? 32 : 128), type);
    return addrs.some((a) => (isIP(a) === 4) === (type === 'ipv4') && list.check(a, type));
  };
  const addressMatch = async (name: string, m: Mechanism): Promise<boolean> => {
    if (canonicalName(name) === host) return true;
    if (addrs.length === 0 || !budget()) return false;
    const [a4, a6] = await Promise.all([dns.a(name), dns.aaaa(name)]);
    return answerRecords(a4).some((ip) => inNet(ip, m.cidr4)) || answerRecords(a6).some((ip) => inNet(ip, m.cidr6));
  };

  // First match decides (RFC 7208 4.6.2); depth bounds include/redirect loops.
  type Result = 'pass' | 'fail' | 'softfail' | 'neutral' | 'none';
  const RESULT: Record<Qualifier, Result> = { '+': 'pass', '-': 'fail', '~': 'softfail', '?': 'neutral' };
  const evaluate = async (name: string, ts: readonly SpfTerm[], depth: number): Promise<Result> => {
    if (depth > SPF_LOOKUP_LIMIT) return 'none';
    for (const t of ts) {
      if (t.kind !== 'mechanism') continue;
      if (await matches(name, t, depth)) return RESULT[t.qualifier];
    }
    const redirect = ts.find((t): t is Modifier => t.kind === 'modifier' && t.name === 'redirect');
    if (redirect) {
      const sub = await fetch(redirect.value);
      return sub ? evaluate(redirect.value, sub, depth + 1) : 'none';
    }
    return 'neutral';
  };
  const matches = async (name: string, m: Mechanism, depth: number): Promise<boolean> => {
    switch (m.name) {
      case 'all':
        return true;
      case 'include': {
        const sub = await fetch(m.target);
        return sub !== null && (await evaluate(m.target, sub, depth + 1)) === 'pass';
      }
      case 'a':
        return addressMatch(m.target || name, m);
      case 'mx': {
        if (!budget()) return false;
        const exchanges = answerRecords(await dns.mx(m.target || name)).slice(0, 10);
        for (const x of exchanges) if (await addressMatch(x.exchange, m)) return true;
        return false;
      }
      case 'ip4':
      case 'ip6':
        return inNet(m.target, m.name === 'ip4' ? m.cidr4 : m.cidr6);
      default:
        // ptr and exists depend on the connecting client; a check cannot rely on them.
        return false;
    }
  };
  const authorises = (await evaluate(domain, terms, 0)) === 'pass';

  let all = finalAll(terms);
  const redirect = terms.find((t): t is Modifier => t.kind === 'modifier' && t.name === 'redirect');
  if (all === null && redirect) {
    const sub = await fetch(redirect.value);
    all = sub ? finalAll(sub) : null;
  }
  return { lookups, authorises, all, problems };
}

function finalAll(terms: readonly SpfTerm[]): Qualifier | null {
  const alls = terms.filter((t): t is Mechanism => t.kind === 'mechanism' && t.name === 'all');
  return alls.at(-1)?.qualifier ?? null;
}
