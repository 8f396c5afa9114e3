/**
 * `postern dlp`: data-loss prevention for the administrator. `report` tallies
 * what the dlp stage recorded (who sends confidential data where); `scan`
 * classifies stored mail with today's rules (audited: it reads users' mail);
 * `test` explains how the rules judge one message file; `fingerprint`
 * (dlp-fingerprint.ts) registers documents for the fingerprint detector.
 */
import { readFile, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { classifyMessage } from '../../policy/dlp/classify.js';
import { buildDlpReport, formatDlpReport } from '../../policy/dlp/report.js';
import { scanExitCode, scanStoredMail, type ScanItem } from '../../policy/dlp/scan.js';
import type { Classification } from '../../policy/dlp/types.js';
import { PolicyPool } from '../../policy/pool/index.js';
import { audited } from '../audit.js';
import { UsageError, withStore } from '../context.js';
import { parseSince } from '../duration.js';
import { formatBytes, Progress } from '../progress.js';
import { explain, formatExplanation, formatScanItem } from './dlp-explain.js';
import { registerFingerprintCommands } from './dlp-fingerprint.js';
import { asUsage, cfgPath, configIfAny, limitsOf, parseDirection, rulesFrom, rulesPathOf } from './dlp-settings.js';

/** A message file for `dlp test` larger than this is refused (the SMTP limit is 1 GiB at most, usually 25 MiB). */
const MAX_TEST_BYTES = 256 * 1024 * 1024;

function registerReport(dlp: Command): void {
  dlp
    .command('report')
    .description('which groups send confidential data to which outside domains, and totals by rule and result')
    .option('--since <when>', 'how far back: 90m, 12h, 30d, 2w or YYYY-MM-DD', '30d')
    .option('--json', 'machine-readable output (schema postern.dlp-report/1)')
    .action(async (o: { since: string; json?: boolean }, cmd: Command) => {
      const now = Date.now();
      const since = parseSince(o.since, now);
      const r = await withStore(cfgPath(cmd), (s) => buildDlpReport(s.meta.events, since, now + 1));
      console.log(o.json ? JSON.stringify(r, null, 2) : formatDlpReport(r));
    });
}

function registerScan(dlp: Command): void {
  dlp
    .command('scan')
    .description('classify stored mail with the DLP rules; exit 0 when nothing matches, 1 when something does, 2 on error')
    .option('--mailbox <address>', 'only this account')
    .option('--group <name>', 'only the accounts of this group')
    .option('--since <when>', 'messages received since: 7d, 12h, 2w or YYYY-MM-DD (default: all)')
    .option('--rules <file>', 'a rules file instead of [policy.dlp] rules')
    .option('--json', 'machine-readable result (schema postern.dlp-scan/1)')
    .action(async (o: { mailbox?: string; group?: string; since?: string; rules?: string; json?: boolean }, cmd: Command) => {
      if (o.mailbox !== undefined && o.group !== undefined) throw new UsageError('give --mailbox or --group, not both');
      const since = o.since === undefined ? 0 : parseSince(o.since, Date.now());
      const rules = await rulesFrom(rulesPathOf(cmd, o.rules));
      const subject = o.mailbox?.trim().toLowerCase() ?? (o.group !== undefined ? `group:${o.group}` : '*');
      const items: ScanItem[] = [];
      // `postern dlp scan | head`: a closed pipe ends the scan quietly, as it ends grep.
      process.stdout.on('error', (e: NodeJS.ErrnoException) => {
        if (e.code === 'EPIPE') process.exit(process.exitCode ?? 1);
        throw e;
      });
      const summary = await withStore(cfgPath(cmd), async (store, config) => {
        // Reading users' mail is recorded before any is read (what and since when; never content).
        await audited(store, 'dlp.scan', subject, { since, rules: rules.key.slice(0, 16) });
        const { limits, budgetMs } = limitsOf(config);
        const threads = Math.max(1, Math.min(2, availableParallelism()));
        const pool = PolicyPool.open({ threads, maxQueue: 16 });
        const progress = new Progress({ label: 'dlp scan', unit: 'items' });
        try {
          return await asUsage(() =>
            scanStoredMail(store, {
              since,
              ...(o.mailbox !== undefined ? { mailbox: o.mailbox } : {}),
              ...(o.group !== undefined ? { group: o.group } : {}),
              classify: (raw) => pool.run<Classification>('dlp.classify', { raw, rules, limits }, { budgetMs }),
              unscannableRule: rules.unscannable_rule,
              concurrency: threads,
              onProgress: (d, t) => progress.update(d, t),
              onItem: (i) => {
                if (o.json) items.push(i);
                else console.log(formatScanItem(i));
              },
            }),
          );
        } finally {
          progress.finish();
          await pool.close();
        }
      });
      if (o.json) {
        console.log(JSON.stringify({ schema: 'postern.dlp-scan/1', selection: subject, since: new Date(since).toISOString(), summary, items }, null, 2));
      } else {
        const rules = Object.entries(summary.byRule)
          .sort((a, b) => b[1] - a[1])
          .map(([r, n]) => `${r} ${n}`)
          .join(', ');
        console.log(
          `scanned ${summary.messages} message(s) in ${summary.folders} folder(s) of ${summary.accounts} account(s) ` +
            `(${summary.classified} distinct, ${formatBytes(summary.bytes)}): ${summary.matched} matched${rules ? ` (${rules})` : ''}, ` +
            `${summary.encrypted} not scannable (encrypted), ${summary.corrupt} corrupt, ${summary.failed} failed`,
        );
      }
      process.exitCode = scanExitCode(summary);
    });
}

function registerTest(dlp: Command): void {
  dlp
    .command('test')
    .description('explain which DLP rules match a message file (.eml) and why; exit 1 when a rule matches')
    .argument('<file>', 'an RFC 5322 message')
    .option('--direction <direction>', 'inbound, outbound or internal: which actions to show', 'outbound')
    .option('--rules <file>', 'a rules file instead of [policy.dlp] rules')
    .option('--json', 'machine-readable output (schema postern.dlp-test/1)')
    .action(async (file: string, o: { direction: string; rules?: string; json?: boolean }, cmd: Command) => {
      const direction = parseDirection(o.direction);
      const rules = await rulesFrom(rulesPathOf(cmd, o.rules));
      const { limits } = limitsOf(configIfAny(cmd, o.rules !== undefined));
      const st = await stat(file).catch((e: NodeJS.ErrnoException) => {
        throw new UsageError(`${file}: cannot read (${e.code ?? String(e)})`);
      });
      if (!st.isFile()) throw new UsageError(`${file}: not a file`);
      if (st.size > MAX_TEST_BYTES) throw new UsageError(`${file}: ${st.size} bytes, more than the ${MAX_TEST_BYTES} a message may have here`);
      const raw = new Uint8Array(await readFile(file));
      const c = await classifyMessage(raw, rules, limits);
      const x = explain(basename(file), c, rules, direction);
      console.log(o.json ? JSON.stringify(x, null, 2) : formatExplanation(x));
      process.exitCode = c.matches.length > 0 ? 1 : 0;
    });
}

export function registerDlpCommands(program: Command): void {
  const dlp = program.command('dlp').description('data-loss prevention: reports, scanning stored mail, testing rules, registered documents');
  registerReport(dlp);
  registerScan(dlp);
  registerTest(dlp);
  registerFingerprintCommands(dlp);
}
