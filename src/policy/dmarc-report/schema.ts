/**
 * The shape a parsed <feedback> element must have, and its conversion to an
 * AggregateReport. Values are compared case-insensitively (some reporters
 * write `Pass`), every string is bounded, and missing optional policy fields
 * get RFC 7489's defaults.
 */
import { z } from 'zod';
import type { AggregateReport, ReportRecord } from './types.js';

const ENTITY = /&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|amp|lt|gt|quot|apos);/g;
const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** The five predefined XML entities and character references; the parser leaves them as written. */
export function decodeXmlText(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(ENTITY, (all, e: string) => {
    if (e[0] !== '#') return NAMED[e] ?? all;
    const cp = e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
    return cp > 0 && cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff) ? String.fromCodePoint(cp) : '\uFFFD';
  });
}

/** An element's text, bounded; an element with children is not text. */
const text = (max: number) =>
  z
    .string()
    .max(max)
    .transform((s) => decodeXmlText(s).trim());

/** Text compared in lower case against a fixed set. */
const lowerEnum = <T extends string>(values: readonly [T, ...T[]]) =>
  z
    .string()
    .max(32)
    .transform((s) => s.trim().toLowerCase())
    .pipe(z.enum(values));

/** A non-negative integer written as text (a few reporters add a fraction: it is dropped). */
const uint = z
  .string()
  .max(24)
  .regex(/^\s*\d{1,15}(?:\.\d{1,9})?\s*$/, 'expected a non-negative integer')
  .transform((s) => Math.floor(Number(s)));

const DOMAIN = 255;

const dkimAuth = z.object({
  domain: text(DOMAIN).optional(),
  selector: text(DOMAIN).optional(),
  result: lowerEnum(['none', 'pass', 'fail', 'policy', 'neutral', 'temperror', 'permerror', 'softfail', 'hardfail', 'unknown']),
});

const spfAuth = z.object({
  domain: text(DOMAIN).optional(),
  scope: text(16).optional(),
  result: lowerEnum(['none', 'neutral', 'pass', 'fail', 'softfail', 'temperror', 'permerror', 'hardfail', 'unknown', 'policy']),
});

const ip = z
  .string()
  .max(64)
  .transform((s) => s.trim())
  .pipe(z.union([z.ipv4(), z.ipv6()]));

const record = z.object({
  row: z.object({
    source_ip: ip,
    count: uint,
    policy_evaluated: z.object({
      disposition: lowerEnum(['none', 'quarantine', 'reject', 'pass']),
      dkim: lowerEnum(['pass', 'fail']),
      spf: lowerEnum(['pass', 'fail']),
    }),
  }),
  identifiers: z.object({
    header_from: text(DOMAIN).default(''),
    envelope_from: text(DOMAIN).optional(),
  }),
  // An empty <auth_results/> parses as ''.
  auth_results: z
    .union([z.literal(''), z.object({ dkim: z.array(dkimAuth).optional(), spf: z.array(spfAuth).optional() })])
    .optional(),
});

const policyP = lowerEnum(['none', 'quarantine', 'reject']);
const alignment = lowerEnum(['r', 's']);

export const reportSchema = z
  .object({
    report_metadata: z.object({
      org_name: text(512).default(''),
      email: text(512).default(''),
      report_id: text(512).refine((s) => s.length > 0, 'report_id is empty'),
      date_range: z.object({ begin: uint, end: uint }),
    }),
    policy_published: z.object({
      domain: text(DOMAIN)
        .transform((s) => s.toLowerCase())
        .refine((s) => s.length > 0, 'domain is empty'),
      adkim: alignment.default('r'),
      aspf: alignment.default('r'),
      p: policyP,
      sp: policyP.optional(),
      pct: uint.optional(),
    }),
    record: z.array(record).default([]),
  })
  .transform((f): AggregateReport => {
    const pp = f.policy_published;
    return {
      orgName: f.report_metadata.org_name,
      email: f.report_metadata.email,
      reportId: f.report_metadata.report_id,
      begin: f.report_metadata.date_range.begin,
      end: f.report_metadata.date_range.end,
      domain: pp.domain,
      policy: { adkim: pp.adkim, aspf: pp.aspf, p: pp.p, sp: pp.sp ?? pp.p, pct: Math.min(pp.pct ?? 100, 100) },
      records: f.record.map((r): ReportRecord => {
        const auth = r.auth_results === '' || r.auth_results === undefined ? {} : r.auth_results;
        return {
          sourceIp: r.row.source_ip,
          count: r.row.count,
          disposition: r.row.policy_evaluated.disposition,
          dkim: r.row.policy_evaluated.dkim,
          spf: r.row.policy_evaluated.spf,
          headerFrom: r.identifiers.header_from.toLowerCase(),
          ...(r.identifiers.envelope_from ? { envelopeFrom: r.identifiers.envelope_from.toLowerCase() } : {}),
          authDkim: (auth.dkim ?? []).map((d) => ({ domain: (d.domain ?? '').toLowerCase(), result: d.result, ...(d.selector ? { selector: d.selector } : {}) })),
          authSpf: (auth.spf ?? []).map((s) => ({ domain: (s.domain ?? '').toLowerCase(), result: s.result, ...(s.scope ? { scope: s.scope.toLowerCase() } : {}) })),
        };
      }),
    };
  });

/** The first few problems, as "path: message". */
export function describeIssues(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  const shown = issues.slice(0, 3).map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`);
  return issues.length > 3 ? `${shown.join('; ')}; and ${issues.length - 3} more` : shown.join('; ');
}
