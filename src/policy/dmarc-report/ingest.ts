/**
 * The hook for mail addressed to the rua address: extract the reports a
 * message carries and store each once. A report the store already holds (the
 * same reporter mailed it twice) counts as a duplicate, not a problem.
 */
import type { DmarcReportRepo } from '../../store/types.js';
import { extractReports } from './extract.js';
import type { ReportLimits } from './types.js';
import type { Extracted } from './extract.js';

export interface IngestResult {
  readonly stored: number;
  readonly duplicates: number;
  readonly problems: string[];
}

/**
 * Never throws for bad input; a store failure is returned as a problem too
 * (`storeFailed`), so the caller can keep the message and retry later.
 */
export async function ingestDmarcMail(raw: Uint8Array, repo: DmarcReportRepo, now: number, limits?: ReportLimits): Promise<IngestResult & { storeFailed: boolean }> {
  return storeReports(extractReports(raw, limits), repo, now);
}

/** Stores what extractReports found (e.g. in a worker thread), each report once. */
export async function storeReports(extracted: Extracted, repo: DmarcReportRepo, now: number): Promise<IngestResult & { storeFailed: boolean }> {
  const reports = extracted.reports;
  const problems = [...extracted.problems];
  let stored = 0;
  let duplicates = 0;
  let storeFailed = false;
  for (const r of reports) {
    try {
      if (await repo.add(r, now)) stored++;
      else duplicates++;
    } catch (e) {
      storeFailed = true;
      problems.push(`report ${JSON.stringify(r.reportId.slice(0, 100))} from ${JSON.stringify(r.orgName.slice(0, 100))}: not stored (${(e as Error).message.slice(0, 200)})`);
    }
  }
  return { stored, duplicates, problems, storeFailed };
}
