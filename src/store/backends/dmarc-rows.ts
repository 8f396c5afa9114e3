/**
 * DMARC report rows as both SQL backends return them, and the one place that
 * turns them into the repository's answers, so SQLite and PostgreSQL agree.
 */
import type { DmarcReportInput, DmarcReportMeta, DmarcSummaryRow } from '../types.js';

/** Counts of one (domain, source IP, header From, reporter) group. */
export interface DmarcGroupRow {
  domain: string;
  source_ip: string;
  header_from: string;
  reporter: string;
  n: number;
  dkim_pass: number;
  spf_pass: number;
  dmarc_pass: number;
}

/** The SQL that sums one group; `:since` and `:domain` are bound by each backend in its own style. */
export const GROUP_COLUMNS = `r.domain AS domain, d.source_ip AS source_ip, d.header_from AS header_from,
  CASE WHEN r.org_name <> '' THEN r.org_name ELSE r.email END AS reporter,
  SUM(d.count) AS n,
  SUM(CASE WHEN d.dkim = 'pass' THEN d.count ELSE 0 END) AS dkim_pass,
  SUM(CASE WHEN d.spf = 'pass' THEN d.count ELSE 0 END) AS spf_pass,
  SUM(CASE WHEN d.dkim = 'pass' OR d.spf = 'pass' THEN d.count ELSE 0 END) AS dmarc_pass`;

export const GROUP_BY = 'GROUP BY r.domain, d.source_ip, d.header_from, reporter';

/** Merges per-reporter groups into one row per (domain, source IP, header From), largest count first. */
export function summaryRows(groups: readonly DmarcGroupRow[]): DmarcSummaryRow[] {
  const byKey = new Map<string, { row: Omit<DmarcSummaryRow, 'reporters' | 'dkimFail' | 'spfFail' | 'dmarcFail'>; reporters: Set<string> }>();
  for (const g of groups) {
    const key = JSON.stringify([g.domain, g.source_ip, g.header_from]);
    let e = byKey.get(key);
    if (!e) {
      e = { row: { domain: g.domain, sourceIp: g.source_ip, headerFrom: g.header_from, count: 0, dkimPass: 0, spfPass: 0, dmarcPass: 0 }, reporters: new Set() };
      byKey.set(key, e);
    }
    const r = e.row;
    e.row = { ...r, count: r.count + Number(g.n), dkimPass: r.dkimPass + Number(g.dkim_pass), spfPass: r.spfPass + Number(g.spf_pass), dmarcPass: r.dmarcPass + Number(g.dmarc_pass) };
    e.reporters.add(g.reporter);
  }
  const out = [...byKey.values()].map(({ row, reporters }) => ({
    ...row,
    dkimFail: row.count - row.dkimPass,
    spfFail: row.count - row.spfPass,
    dmarcFail: row.count - row.dmarcPass,
    reporters: [...reporters].sort(),
  }));
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return out.sort((a, b) => b.count - a.count || cmp(a.domain, b.domain) || cmp(a.sourceIp, b.sourceIp) || cmp(a.headerFrom, b.headerFrom));
}

export interface DmarcReportRow {
  id: number;
  org_name: string;
  email: string;
  report_id: string;
  domain: string;
  begin_s: number;
  end_s: number;
  received_at: number;
  n_rows: number;
  messages: number | null;
}

export const LIST_SQL_SELECT = `SELECT r.id, r.org_name, r.email, r.report_id, r.domain, r.begin_s, r.end_s, r.received_at,
  (SELECT COUNT(*) FROM dmarc_records d WHERE d.report = r.id) AS n_rows,
  (SELECT SUM(d.count) FROM dmarc_records d WHERE d.report = r.id) AS messages
  FROM dmarc_reports r`;

export function reportMeta(r: DmarcReportRow): DmarcReportMeta {
  return {
    id: Number(r.id),
    orgName: r.org_name,
    email: r.email,
    reportId: r.report_id,
    domain: r.domain,
    begin: Number(r.begin_s),
    end: Number(r.end_s),
    receivedAt: Number(r.received_at),
    rows: Number(r.n_rows),
    messages: Number(r.messages ?? 0),
  };
}

/** The columns of one stored report row, in insert order (auth results kept as JSON). */
export function recordValues(rec: DmarcReportInput['records'][number]): [string, number, string, string, string, string, string | null, string] {
  return [rec.sourceIp, rec.count, rec.disposition, rec.dkim, rec.spf, rec.headerFrom, rec.envelopeFrom ?? null, JSON.stringify({ dkim: rec.authDkim, spf: rec.authSpf })];
}

/** The `since` bound in the reports' unit (seconds). */
export const sinceSeconds = (sinceMs: number): number => Math.floor(sinceMs / 1000);
