/**
 * `postern av`: the malware engines of [policy.malware]. `status` asks each
 * engine whether it answers, its version and how old its signatures are;
 * `rescan` scans stored mail again and moves what is now detected into the
 * quarantine.
 */
import type { Command } from 'commander';
import { rescanStored } from '../../policy/av/rescan.js';
import type { EngineHealth } from '../../policy/av/engine.js';
import { commandEngines } from '../policy.js';
import { readConfig, resolveConfigPath, UsageError, withStore } from '../context.js';
import { parseSince } from '../duration.js';
import { formatBytes, formatDuration, Progress } from '../progress.js';
import { audited } from '../audit.js';

const cfg = (cmd: Command): string => resolveConfigPath((cmd.optsWithGlobals() as { config?: string }).config);

const HEALTH_MS = 10_000;

export function formatHealth(h: EngineHealth, now: number): string {
  if (!h.up) return `${h.engine}\tdown\t${h.detail ?? ''}`;
  const age = h.signaturesAt === null ? 'signature age unknown' : `signatures ${formatDuration(Math.max(0, now - h.signaturesAt))} old (${new Date(h.signaturesAt).toISOString()})`;
  return `${h.engine}\tup\t${h.version ?? '-'}\t${age}`;
}

export function registerAvCommands(program: Command): void {
  const av = program.command('av').description('malware engines: health, and rescanning stored mail');

  av.command('status')
    .description('whether each configured engine answers, its version and signature age; exit 1 if one is down')
    .option('--json', 'machine-readable output')
    .action(async (o: { json?: boolean }, cmd: Command) => {
      const { engines, close } = commandEngines(readConfig(cfg(cmd)));
      if (engines.length === 0) throw new UsageError('no malware engine is configured: set [policy.malware.clamav] socket, or host and port');
      try {
        const health = await Promise.all(engines.map((e) => e.health(AbortSignal.timeout(HEALTH_MS))));
        if (o.json) console.log(JSON.stringify(health, null, 2));
        else for (const h of health) console.log(formatHealth(h, Date.now()));
        if (health.some((h) => !h.up)) process.exitCode = 1;
      } finally {
        await close();
      }
    });

  av.command('rescan')
    .description('scan stored mail again with the engines; move what they now detect into the quarantine')
    .option('--since <when>', 'messages received since: 7d, 12h, 2w or YYYY-MM-DD', '7d')
    .option('--mailbox <address>', 'only this account')
    .option('--json', 'machine-readable summary')
    .action(async (o: { since: string; mailbox?: string; json?: boolean }, cmd: Command) => {
      const since = parseSince(o.since, Date.now());
      const summary = await withStore(cfg(cmd), async (s, config) => {
        if (o.mailbox && !(await s.meta.directory.getAccount(o.mailbox.toLowerCase()))) throw new UsageError(`${o.mailbox}: no such account`);
        const { engines, close } = commandEngines(config);
        if (engines.length === 0) {
          await close();
          throw new UsageError('no malware engine is configured: set [policy.malware.clamav] socket, or host and port');
        }
        const p = new Progress({ label: 'rescan', unit: 'items' });
        try {
          const r = await rescanStored(s, engines, {
            since,
            ...(o.mailbox ? { account: o.mailbox } : {}),
            budgetMs: config.policy.malware.budget_ms,
            concurrency: Math.min(4, config.policy.malware.clamav?.max_connections ?? 4),
            onProgress: (d, t) => p.update(d, t),
          });
          p.finish();
          await audited(s, 'av.rescan', o.mailbox ?? '*', { since, scanned: r.scanned, detected: r.detected });
          return r;
        } finally {
          await close();
        }
      });
      if (o.json) console.log(JSON.stringify(summary, null, 2));
      else {
        for (const f of summary.findings) console.log(`${f.queueId}\t${f.engine}\t${f.signature}\t${f.recipients.join(' ')}`);
        console.log(
          `scanned ${summary.scanned} message(s) (${summary.copies} stored copies, ${formatBytes(summary.bytes)}); ` +
            `${summary.detected} detected, ${summary.quarantinedCopies} copies moved to the quarantine; ${summary.failed} could not be scanned`,
        );
      }
      if (summary.stopped) {
        process.stderr.write(`postern: rescan stopped early, the engines keep failing: ${summary.stopped}\n`);
        process.exitCode = 1;
      } else if (summary.failed > 0) process.exitCode = 1;
    });
}
