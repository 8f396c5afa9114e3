import type { DmarcQuery, DmarcReportInput, DmarcReportMeta, DmarcReportRepo, DmarcSummaryRow } from '../../types.js';
import { GROUP_BY, GROUP_COLUMNS, LIST_SQL_SELECT, recordValues, reportMeta, sinceSeconds, summaryRows, type DmarcGroupRow, type DmarcReportRow } from '../dmarc-rows.js';
import type { Db } from './db.js';
import { prepared } from './statements.js';

export class SqliteDmarcReports implements DmarcReportRepo {
  constructor(private readonly db: Db) {}

  async add(report: DmarcReportInput, receivedAt: number): Promise<boolean> {
    const insertReport = prepared(this.db,
      `INSERT INTO dmarc_reports (org_name, email, report_id, domain, begin_s, end_s, policy, received_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (org_name, report_id, domain) DO NOTHING`,
    );
    const insertRecord = prepared(this.db,
      'INSERT INTO dmarc_records (report, source_ip, count, disposition, dkim, spf, header_from, envelope_from, auth) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    // One transaction: a report is stored with all its rows or not at all.
    return this.db.transaction(() => {
      const r = insertReport.run(report.orgName, report.email, report.reportId, report.domain, report.begin, report.end, JSON.stringify(report.policy), receivedAt);
      if (r.changes === 0) return false;
      for (const rec of report.records) insertRecord.run(r.lastInsertRowid, ...recordValues(rec));
      return true;
    })();
  }

  async summary(q: DmarcQuery): Promise<DmarcSummaryRow[]> {
    const where = q.domain === undefined ? 'r.end_s >= ?' : 'r.end_s >= ? AND r.domain = ?';
    const args = q.domain === undefined ? [sinceSeconds(q.since)] : [sinceSeconds(q.since), q.domain];
    const rows = this.db.prepare(`SELECT ${GROUP_COLUMNS} FROM dmarc_reports r JOIN dmarc_records d ON d.report = r.id WHERE ${where} ${GROUP_BY}`).all(...args);
    return summaryRows(rows as DmarcGroupRow[]);
  }

  async list(q: DmarcQuery & { readonly limit?: number }): Promise<DmarcReportMeta[]> {
    const where = q.domain === undefined ? 'r.end_s >= ?' : 'r.end_s >= ? AND r.domain = ?';
    const args = q.domain === undefined ? [sinceSeconds(q.since)] : [sinceSeconds(q.since), q.domain];
    const rows = this.db.prepare(`${LIST_SQL_SELECT} WHERE ${where} ORDER BY r.end_s DESC, r.id DESC LIMIT ?`).all(...args, q.limit ?? 1000);
    return (rows as DmarcReportRow[]).map(reportMeta);
  }
}
