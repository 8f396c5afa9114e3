import type { DmarcQuery, DmarcReportInput, DmarcReportMeta, DmarcReportRepo, DmarcSummaryRow } from '../../types.js';
import { GROUP_BY, GROUP_COLUMNS, LIST_SQL_SELECT, recordValues, reportMeta, sinceSeconds, summaryRows, type DmarcGroupRow, type DmarcReportRow } from '../dmarc-rows.js';
import { tx, type Pool } from './db.js';

/** Rows sent per INSERT (as arrays through unnest): a 100,000-row report takes 20 round trips. */
const BATCH = 5000;

export class PgDmarcReports implements DmarcReportRepo {
  constructor(private readonly pool: Pool) {}

  async add(report: DmarcReportInput, receivedAt: number): Promise<boolean> {
    return tx(this.pool, async (c) => {
      const r = await c.query<{ id: number }>(
        `INSERT INTO dmarc_reports (org_name, email, report_id, domain, begin_s, end_s, policy, received_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (org_name, report_id, domain) DO NOTHING RETURNING id`,
        [report.orgName, report.email, report.reportId, report.domain, report.begin, report.end, JSON.stringify(report.policy), receivedAt],
      );
      const id = r.rows[0]?.id;
      if (id === undefined) return false;
      for (let i = 0; i < report.records.length; i += BATCH) {
        const cols: unknown[][] = [[], [], [], [], [], [], [], []];
        for (const rec of report.records.slice(i, i + BATCH)) recordValues(rec).forEach((v, k) => cols[k]!.push(v));
        await c.query(
          `INSERT INTO dmarc_records (report, source_ip, count, disposition, dkim, spf, header_from, envelope_from, auth)
           SELECT $1, * FROM unnest($2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])`,
          [id, ...cols],
        );
      }
      return true;
    });
  }

  async summary(q: DmarcQuery): Promise<DmarcSummaryRow[]> {
    const where = q.domain === undefined ? 'r.end_s >= $1' : 'r.end_s >= $1 AND r.domain = $2';
    const args = q.domain === undefined ? [sinceSeconds(q.since)] : [sinceSeconds(q.since), q.domain];
    const r = await this.pool.query<DmarcGroupRow>(`SELECT ${GROUP_COLUMNS} FROM dmarc_reports r JOIN dmarc_records d ON d.report = r.id WHERE ${where} ${GROUP_BY}`, args);
    return summaryRows(r.rows);
  }

  async list(q: DmarcQuery & { readonly limit?: number }): Promise<DmarcReportMeta[]> {
    const where = q.domain === undefined ? 'r.end_s >= $1' : 'r.end_s >= $1 AND r.domain = $2';
    const args: (string | number)[] = q.domain === undefined ? [sinceSeconds(q.since)] : [sinceSeconds(q.since), q.domain];
    const r = await this.pool.query<DmarcReportRow>(`${LIST_SQL_SELECT} WHERE ${where} ORDER BY r.end_s DESC, r.id DESC LIMIT $${args.length + 1}`, [...args, q.limit ?? 1000]);
    return r.rows.map(reportMeta);
  }
}
