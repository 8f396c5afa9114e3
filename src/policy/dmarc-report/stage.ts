/**
 * Mail to the DMARC report address (`dmarc-reports@<local domain>`, the rua
 * that `postern init` publishes): after the queue, the reports it carries are
 * extracted in a worker thread and stored once each; the message itself is
 * then delivered like any other. A store failure retries the scan.
 */
import { passVerdict } from '../../core/verdict.js';
import type { DmarcReportRepo } from '../../store/types.js';
import type { Stage } from '../pipeline/stage.js';
import type { PolicyPool } from '../pool/index.js';
import type { Extracted } from './extract.js';
import { storeReports } from './ingest.js';

export interface DmarcReportStageOptions {
  readonly pool: PolicyPool;
  readonly repo: DmarcReportRepo;
  readonly budgetMs: number;
  readonly localPart: string;
  /** Local domains, lower-case (the caller keeps the set current). */
  readonly localDomains: () => ReadonlySet<string>;
  readonly now: () => number;
}

export function dmarcReportStage(o: DmarcReportStageOptions): Stage {
  const isReportAddress = (a: string): boolean => {
    const at = a.lastIndexOf('@');
    return at > 0 && a.slice(0, at).toLowerCase() === o.localPart && o.localDomains().has(a.slice(at + 1).toLowerCase());
  };
  return {
    name: 'dmarc-reports',
    phase: 'after-queue',
    directions: ['inbound'],
    applies: (envelope) => envelope.recipients.some(isReportAddress),
    poolWork: () => ({ task: 'dmarc.extract', input: {}, budgetMs: o.budgetMs }),
    async run(input, ctx) {
      const extracted = (await (ctx.pooled ?? o.pool.run<Extracted>('dmarc.extract', { raw: input.raw }, { budgetMs: o.budgetMs, signal: ctx.signal }))) as Extracted;
      const r = await storeReports(extracted, o.repo, o.now());
      if (r.storeFailed) throw new Error(`DMARC report not stored: ${r.problems.at(-1) ?? 'store failure'}`);
      return passVerdict('dmarc-reports', {
        reasons: r.problems.slice(0, 5).map((p) => ({ rule: 'report-problem', detail: p.slice(0, 200) })),
        events: [{ kind: 'dmarc.report_received', labels: { result: r.stored > 0 ? 'stored' : r.duplicates > 0 ? 'duplicate' : 'unreadable' }, data: { stored: r.stored, duplicates: r.duplicates } }],
        facts: { reports_stored: r.stored, reports_duplicate: r.duplicates },
      });
    },
  };
}
