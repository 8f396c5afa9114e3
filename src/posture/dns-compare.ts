/**
 * Published against expected, one DNS record at a time: pure, so every rule
 * is tested without a socket. `postern dns --check` prints these results and
 * the posture checks grade them; both come from `compareRecord`.
 */
import type { DnsRecord } from '../crypto/dnsrecords.js';
import { canonicalName } from '../net/dns/types.js';
import { isSpf, parseSpf, SPF_LOOKUP_LIMIT, type SpfAnalysis } from './spf.js';
import { parseDkimKey, parseDmarc, parseMtaSts, parseTlsRpt } from './tags.js';
import type { Grade } from './types.js';

export type RecordKind = 'mx' | 'spf' | 'dkim' | 'dmarc' | 'mta-sts' | 'tls-rpt' | 'tlsa' | 'srv' | 'autoconfig';

/** What one lookup found: records in presentation form, nothing (NXDOMAIN or NODATA), or no answer. */
export type Answer = { readonly status: 'found'; readonly values: readonly string[] } | { readonly status: 'none' } | { readonly status: 'error'; readonly reason: string };

/** What was looked up for one expected record. */
export interface Observed {
  /** The record's own name and type. */
  readonly answer: Answer;
  /** For a CNAME: the addresses the name has when it is not an alias. */
  readonly addresses?: Answer;
  /** For a CNAME: our host's addresses, to accept address records that match them. */
  readonly hostAddresses?: readonly string[];
  /** For SPF: the analysis of the one published SPF record. */
  readonly spf?: SpfAnalysis;
}

export type RecordStatus = 'ok' | 'missing' | 'different' | 'unknown';

export interface RecordCheck {
  readonly record: DnsRecord;
  readonly kind: RecordKind;
  readonly status: RecordStatus;
  /** The relevant published values (e.g. only the SPF one of a name's TXT records). */
  readonly published: readonly string[];
  /** Why it is not ok, in one sentence; '' when ok. */
  readonly detail: string;
  /** How much it matters: pass when ok. */
  readonly grade: Grade;
}

export interface CompareContext {
  /** The mail host, server.hostname. */
  readonly hostname: string;
  /** The DKIM selector that signs; a missing record of another selector (a key not yet activated) is a warning. */
  readonly activeDkimSelector: string | null;
}

export function recordKind(r: DnsRecord): RecordKind {
  const n = canonicalName(r.name);
  if (r.type === 'MX') return 'mx';
  if (r.type === 'TLSA') return 'tlsa';
  if (r.type === 'SRV') return 'srv';
  if (n.startsWith('autoconfig.')) return 'autoconfig';
  if (n.startsWith('_mta-sts.') || n.startsWith('mta-sts.')) return 'mta-sts';
  if (n.startsWith('_dmarc.')) return 'dmarc';
  if (n.startsWith('_smtp._tls.')) return 'tls-rpt';
  if (n.includes('._domainkey.')) return 'dkim';
  return 'spf';
}

/** When a kind is absent altogether: fail for what mail delivery and authentication need, warn for the rest. */
const MISSING_GRADE: Record<RecordKind, Grade> = { mx: 'fail', spf: 'fail', dkim: 'fail', dmarc: 'fail', 'mta-sts': 'warn', 'tls-rpt': 'warn', tlsa: 'warn', srv: 'warn', autoconfig: 'warn' };

export function compareRecord(record: DnsRecord, observed: Observed, ctx: CompareContext): RecordCheck {
  const kind = recordKind(record);
  const result = (status: RecordStatus, published: readonly string[], detail: string, grade: Grade): RecordCheck => ({ record, kind, status, published, detail, grade });
  const a = observed.answer;
  if (a.status === 'error') return result('unknown', [], `no answer: ${a.reason}`, 'warn');
  const values = a.status === 'found' ? a.values : [];
  let missingGrade = MISSING_GRADE[kind];
  if (kind === 'dkim' && ctx.activeDkimSelector !== null && !canonicalName(record.name).startsWith(`${ctx.activeDkimSelector}._domainkey.`)) missingGrade = 'warn';
  const missing = (shown: readonly string[] = values, what = 'not published') => result('missing', shown, what, missingGrade);
  const host = canonicalName(ctx.hostname);

  switch (kind) {
    case 'mx': {
      if (values.length === 0) return missing();
      const targets = values.map((v) => canonicalName(v.split(' ')[1] ?? ''));
      if (targets.includes(host)) return result('ok', values, '', 'pass');
      return result('different', values, `no MX points at ${host}`, 'fail');
    }
    case 'spf': {
      const spf = values.filter(isSpf);
      if (spf.length === 0) return missing(spf, 'no SPF record');
      if (spf.length > 1) return result('different', spf, `${spf.length} SPF records; receivers treat that as an error (RFC 7208 4.5)`, 'fail');
      const parsed = parseSpf(spf[0]!);
      if (!parsed.ok) return result('different', spf, `does not parse: ${parsed.problem}`, 'fail');
      const x = observed.spf;
      if (!x) return result('unknown', spf, 'not analysed', 'warn');
      if (x.lookups > SPF_LOOKUP_LIMIT) return result('different', spf, `needs more than ${SPF_LOOKUP_LIMIT} DNS lookups (RFC 7208 4.6.4): receivers fail it`, 'fail');
      if (!x.authorises) return result('different', spf, `does not authorise ${host}${x.problems.length ? ` (${x.problems.join('; ')})` : ''}`, 'fail');
      if (x.all !== '-' && x.all !== '~') return result('different', spf, `ends in ${x.all === null ? 'no all' : `${x.all}all`}, not -all or ~all: anyone may send as the domain`, 'warn');
      return result('ok', spf, x.problems.length ? x.problems.join('; ') : '', x.problems.length ? 'warn' : 'pass');
    }
    case 'dkim': {
      if (values.length === 0) return missing();
      const want = parseDkimKey(record.value);
      const keys = values.map(parseDkimKey);
      if (want.ok && keys.some((k) => k.ok && k.value.p === want.value.p && k.value.k === want.value.k)) return result('ok', values, '', 'pass');
      const why = keys.map((k) => (k.ok ? (k.value.p === '' ? 'key revoked (empty p=)' : 'another key') : `does not parse: ${k.problem}`));
      return result('different', values, `${why.join('; ')}: signatures with our key fail`, 'fail');
    }
    case 'dmarc': {
      const dmarc = values.filter((v) => /^\s*v\s*=\s*DMARC1\s*(;|$)/.test(v));
      if (dmarc.length === 0) return missing(dmarc, 'no DMARC record');
      if (dmarc.length > 1) return result('different', dmarc, `${dmarc.length} DMARC records; receivers ignore them all`, 'fail');
      const p = parseDmarc(dmarc[0]!);
      if (!p.ok) return result('different', dmarc, `does not parse: ${p.problem}`, 'fail');
      if (p.value.p === 'none') return result('different', dmarc, 'p=none: receivers accept mail forged in the domain\'s name', 'fail');
      if (p.value.rua.length === 0) return result('different', dmarc, 'no rua=: nobody receives the aggregate reports', 'warn');
      if (p.value.pct < 100) return result('different', dmarc, `pct=${p.value.pct}: the policy covers only part of the forged mail`, 'warn');
      return result('ok', dmarc, '', 'pass');
    }
    case 'tls-rpt': {
      const rpt = values.filter((v) => /^\s*v\s*=\s*TLSRPTv1\s*(;|$)/.test(v));
      if (rpt.length === 0) return missing(rpt, 'no TLS-RPT record');
      if (rpt.length > 1) return result('different', rpt, `${rpt.length} TLS-RPT records; senders ignore them all`, 'warn');
      const p = parseTlsRpt(rpt[0]!);
      if (!p.ok) return result('different', rpt, `does not parse: ${p.problem}`, 'warn');
      return result('ok', rpt, '', 'pass');
    }
    case 'tlsa': {
      if (values.length === 0) return missing();
      const want = record.value.toLowerCase();
      if (values.some((v) => v.toLowerCase() === want)) return result('ok', values, '', 'pass');
      return result('different', values, 'no record matches the current certificate\'s key: DANE senders will not deliver', 'fail');
    }
    case 'srv': {
      if (values.length === 0) return missing();
      const [, , port, target] = record.value.split(' ');
      const same = values.some((v) => {
        const f = v.split(' ');
        return f[2] === port && canonicalName(f[3] ?? '') === canonicalName(target ?? '');
      });
      return same ? result('ok', values, '', 'pass') : result('different', values, `expected port ${port} on ${target}`, 'warn');
    }
    case 'mta-sts':
    case 'autoconfig': {
      if (record.type === 'TXT') {
        const sts = values.filter((v) => /^\s*v\s*=\s*STSv1\s*(;|$)/.test(v));
        if (sts.length === 0) return missing(sts, 'no MTA-STS record');
        if (sts.length > 1) return result('different', sts, `${sts.length} MTA-STS records; senders ignore them all`, 'warn');
        const got = parseMtaSts(sts[0]!);
        const want = parseMtaSts(record.value);
        if (!got.ok) return result('different', sts, `does not parse: ${got.problem}`, 'warn');
        if (want.ok && got.value.id !== want.value.id) return result('different', sts, `id ${got.value.id} is not the id of the policy served (${want.value.id}): senders keep an old policy`, 'warn');
        return result('ok', sts, '', 'pass');
      }
      // The policy host and autoconfig host: an alias of the mail host, or address records of its own that match it.
      const target = canonicalName(record.value);
      if (values.length > 0) {
        return values.some((v) => canonicalName(v) === target) ? result('ok', values, '', 'pass') : result('different', values, `is an alias of another host, not ${target}`, 'warn');
      }
      const addrs = observed.addresses?.status === 'found' ? observed.addresses.values : [];
      if (addrs.length === 0) return missing();
      if (addrs.some((x) => observed.hostAddresses?.includes(x))) return result('ok', addrs, '', 'pass');
      return result('different', addrs, `its addresses are not those of ${target}`, 'warn');
    }
  }
}
