/**
 * `postern audit`: every check group run at once, the results counted,
 * written as a table or JSON, and the latest result recorded as events
 * (`posture.audited` always, `posture.failed` when a check fails, which
 * the alerter turns into an alert).
 */
import type { CheckGroup, CheckResult, Grade } from './types.js';
import type { PostureContext } from './context.js';
import { tlsChecks } from './tls.js';
import { credentialChecks } from './credentials.js';
import { outboundChecks } from './outbound.js';
import { dlpChecks, failOpenChecks, malwareChecks } from './policy.js';
import { atRestChecks, integrityChecks, roleChecks } from './operations.js';
import { dnsChecks } from './dns.js';
import type { Store } from '../store/index.js';

export const POSTURE_AUDITED = 'posture.audited';
export const POSTURE_FAILED = 'posture.failed';

/** The groups that grade postern itself. */
export const CORE_GROUPS: readonly CheckGroup<PostureContext>[] = [tlsChecks, credentialChecks, outboundChecks, malwareChecks, dlpChecks, failOpenChecks, integrityChecks, roleChecks, atRestChecks];

/**
 * The DNS records of the organisation's domains (SPF, DKIM, DMARC, MTA-STS,
 * TLS-RPT, MX, TLSA, SRV, autoconfig): `dnsChecks` from ./dns.ts.
 */
export const DNS_GROUPS: readonly CheckGroup<PostureContext>[] = [(ctx) => dnsChecks({ config: ctx.config, dns: ctx.dns, directory: ctx.store.meta.directory })];

export const ALL_GROUPS: readonly CheckGroup<PostureContext>[] = [...CORE_GROUPS, ...DNS_GROUPS];

export interface AuditSummary {
  readonly pass: number;
  readonly warn: number;
  readonly fail: number;
}

export interface AuditResult {
  readonly at: number;
  readonly summary: AuditSummary;
  readonly checks: readonly CheckResult[];
}

const ORDER: Record<Grade, number> = { fail: 0, warn: 1, pass: 2 };

/** Runs the groups concurrently; a group that throws becomes one failed check naming it. */
export async function runAudit(ctx: PostureContext, groups: readonly CheckGroup<PostureContext>[] = ALL_GROUPS): Promise<AuditResult> {
  const parts = await Promise.all(
    groups.map((g) =>
      g(ctx).catch((e: unknown): CheckResult[] => [
        { id: `posture.${g.name || 'group'}`, area: 'posture', grade: 'fail', reason: `the check group ${g.name || '?'} could not run: ${(e as Error).message}`, fix: 'Fix what the reason names and run the audit again.' },
      ]),
    ),
  );
  const checks = parts.flat();
  const count = (g: Grade) => checks.filter((c) => c.grade === g).length;
  return { at: ctx.now, summary: { pass: count('pass'), warn: count('warn'), fail: count('fail') }, checks };
}

/** The table: grouped by area in first-seen order, the worst first within an area; reason and fix for every non-pass. */
export function formatAudit(r: AuditResult): string {
  const areas = [...new Set(r.checks.map((c) => c.area))];
  const lines: string[] = [];
  for (const area of areas) {
    lines.push(`${area}`);
    const cs = r.checks.filter((c) => c.area === area).sort((a, b) => ORDER[a.grade] - ORDER[b.grade] || a.id.localeCompare(b.id));
    for (const c of cs) {
      lines.push(`  ${c.grade.toUpperCase().padEnd(4)}  ${c.id.padEnd(36)}  ${c.reason}`);
      if (c.grade !== 'pass' && c.fix) lines.push(`  ${''.padEnd(4)}  ${''.padEnd(36)}  fix: ${c.fix}`);
    }
  }
  const { pass, warn, fail } = r.summary;
  lines.push('', `${pass} passed, ${warn} warning(s), ${fail} failed`);
  return `${lines.join('\n')}\n`;
}

const MAX_KEPT = 200;
const clip = (s: string): string => (s.length > 300 ? `${s.slice(0, 297)}...` : s);

/** Records the result for the console and the alerter; reasons are clipped so one event stays small. */
export async function recordAudit(store: Store, r: AuditResult, host: string): Promise<void> {
  const findings = r.checks
    .filter((c) => c.grade !== 'pass')
    .slice(0, MAX_KEPT)
    .map((c) => ({ id: c.id, area: c.area, grade: c.grade, reason: clip(c.reason), fix: clip(c.fix) }));
  await store.meta.events.record(POSTURE_AUDITED, host, { ...r.summary, findings }, r.at);
  if (r.summary.fail > 0) {
    const failed = findings.filter((f) => f.grade === 'fail');
    await store.meta.events.record(POSTURE_FAILED, host, { fail: r.summary.fail, checks: failed.map((f) => f.id).slice(0, 50), first: failed[0]?.reason ?? '' }, r.at);
  }
}
