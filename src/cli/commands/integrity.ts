import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { audited, cliActor } from '../audit.js';
import {
  BackupError,
  backup,
  gc,
  integrityMetrics,
  restore,
  scrub,
  verifyBackup,
  INTEGRITY_EVENTS,
  type CopyProgress,
  type GcReport,
  type IntegrityMetrics,
  type ScrubReport,
  type VerifyReport,
} from '../../integrity/index.js';
import type { Store } from '../../store/index.js';
import { openConfiguredStore, readConfig, resolveConfigPath, UsageError, withStore } from '../context.js';
import { Progress, formatBytes, formatDuration } from '../progress.js';

const configPathOf = (cmd: Command) => resolveConfigPath((cmd.optsWithGlobals() as { config?: string }).config);

function bar(label: string) {
  const p = new Progress({ label, unit: 'bytes' });
  return { onProgress: (x: CopyProgress) => p.update(x.bytes, x.bytesTotal), finish: () => p.finish() };
}

/** Usage problems exit 2, data that failed a check exits 1; both as plain lines on stderr. */
async function reportingBackupErrors(fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    if (!(e instanceof BackupError)) throw e;
    process.stderr.write(`postern: ${e.message}\n`);
    process.exitCode = e.kind === 'usage' ? 2 : 1;
  }
}

/** Records an event in the configured installation's store, if there is one; a verify on another machine has none. */
async function recordIfInstalled(configPath: string, kind: string, subject: string, data: Record<string, unknown>, notDataDir?: string): Promise<void> {
  try {
    const config = readConfig(configPath);
    const dir = path.resolve(config.server.data_dir);
    if (!existsSync(path.join(dir, 'meta.sqlite')) || (notDataDir && path.resolve(notDataDir) === dir)) return;
    const store = await openConfiguredStore(config);
    try {
      await store.meta.events.record(kind, subject, data, Date.now());
    } finally {
      await store.close();
    }
  } catch {
    // No readable configuration: there is no installation to record in.
  }
}

/** The data folder of the configured embedded store: where `restore` goes without --data-dir. */
function configuredDataDir(configPath: string): string {
  if (!existsSync(configPath)) throw new UsageError(`no configuration file ${configPath}: say where to restore with --data-dir`);
  const config = readConfig(configPath);
  if (config.store.backend !== 'sqlite') throw new UsageError('restore writes the embedded store (store.backend = "sqlite"); pass --data-dir');
  return config.server.data_dir;
}

function printScrub(r: ScrubReport): void {
  const line = (k: string, v: string) => console.log(`  ${k.padEnd(22)}${v}`);
  console.log(r.aborted ? 'scrub stopped before the end' : `scrub finished in ${formatDuration(r.durationMs)}`);
  line('blobs verified', `${r.blobs} (${formatBytes(r.bytes)})`);
  line('corrected', `${r.corrected} blob(s), ${r.correctedBits} bit(s) repaired`);
  line('uncorrectable', String(r.uncorrectable.length));
  line('missing', String(r.missing.length));
  line('orphans', `${r.orphans.length} (reported, kept; \`postern gc\` removes them)`);
  line('stale temp files', `${r.staleTemp.files} removed (${formatBytes(r.staleTemp.bytes)})`);
  line(`metadata (${r.metadataMode})`, r.metadata.ok ? 'ok' : `${r.metadata.problems.length} problem(s)`);
  line('damaged messages', String(r.damagedMessages));
  line('throughput', `${r.mbps.toFixed(1)} MB/s`);
  for (const u of r.uncorrectable) console.log(`uncorrectable blob ${u.id}: ${u.detail}`);
  for (const id of r.missing) console.log(`missing blob ${id}`);
  for (const p of r.metadata.problems) console.log(`metadata: ${p}`);
  if (!r.metadata.ok) console.log('the metadata database is damaged: restore it from a verified backup with `postern restore` (see docs/integrity.md)');
  console.log(r.clean ? 'result: clean (everything found was repaired)' : 'result: DAMAGE REMAINS (see above; restore the affected messages from a backup)');
}

function printGc(r: GcReport): void {
  const line = (k: string, v: string) => console.log(`  ${k.padEnd(22)}${v}`);
  const verb = r.dryRun ? 'would remove' : 'removed';
  console.log(`${r.dryRun ? 'garbage collection (dry run, nothing removed)' : 'garbage collection'} ${r.aborted ? 'stopped before the end' : `finished in ${formatDuration(r.durationMs)}`}`);
  line('blobs', `${r.blobsTotal} stored, ${r.unreferenced} unreferenced`);
  line(`blobs ${verb}`, `${r.blobsRemoved} (${formatBytes(r.bytesRemoved)})`);
  line('blobs kept', `${r.blobsKept} (written within the grace period)`);
  line(`cache rows ${verb}`, String(r.headerCacheRemoved));
  line(`events ${verb}`, String(r.eventsRemoved));
  if (!r.dryRun) line('stale temp files', `${r.staleTemp.files} removed (${formatBytes(r.staleTemp.bytes)})`);
}

function printStatus(m: IntegrityMetrics): void {
  const when = (t: number) => new Date(t).toISOString();
  const line = (k: string, v: string) => console.log(`  ${k.padEnd(24)}${v}`);
  console.log('store integrity (from the event log)');
  line('corrected bits', String(m.corrected));
  line('uncorrectable findings', String(m.uncorrectable));
  line('missing findings', String(m.missing));
  line('metadata damage reports', String(m.metadataDamageReports));
  line('backup verify failures', String(m.backupVerifyFailures));
  line('damaged now', `${m.damagedBlobs} blob(s), ${m.damagedMessages} message(s)`);
  line('last full scrub', m.lastFullScrub ? `${when(m.lastFullScrub.at)} (${m.lastFullScrub.clean ? 'clean' : 'damage remained'})` : 'never');
  line('last verified backup', m.lastVerifiedBackup ? `${when(m.lastVerifiedBackup.at)} (${m.lastVerifiedBackup.kind}, ${m.lastVerifiedBackup.location})` : 'never');
}

function printVerify(r: VerifyReport): void {
  const m = r.manifest!;
  console.log(`backup ${r.src} verified: ${r.blobs} blob(s), ${formatBytes(r.bytes)}, metadata sound`);
  console.log(`  made ${m.createdAt} on ${m.sourceHost}; manifest SHA-256 ${r.manifestSha256}`);
  for (const u of r.unavailable) console.log(`  note: blob ${u.id} was already damaged in the store when the backup was made (${u.reason})`);
}

async function runScrub(store: Store, o: { full?: boolean; rate?: string; json?: boolean }): Promise<ScrubReport> {
  const rate = o.rate === undefined ? undefined : Number(o.rate);
  if (rate !== undefined && !(rate > 0)) throw new UsageError('--rate takes a positive number of MB/s');
  const p = new Progress({ label: 'scrub', unit: 'bytes' });
  const r = await scrub(store, { metadata: o.full ? 'full' : 'quick', rateMBps: rate, onProgress: (x) => p.update(x.bytes, x.bytesTotal) });
  p.finish();
  return r;
}

export function registerIntegrityCommands(program: Command): void {
  program
    .command('scrub')
    .description('verify every stored block and the metadata, repair what can be repaired; exit 1 if damage remains')
    .option('--full', 'full metadata check (integrity_check) instead of the quick one')
    .option('--rate <MBps>', 'read at most this many MB/s (default: as fast as the disk allows)')
    .option('--status', 'print the integrity figures from the event log instead of scrubbing')
    .option('--json', 'machine-readable output')
    .action(async (o: { full?: boolean; rate?: string; status?: boolean; json?: boolean }, cmd: Command) => {
      await withStore(configPathOf(cmd), async (store) => {
        if (o.status) {
          const m = await integrityMetrics(store.meta);
          if (o.json) console.log(JSON.stringify(m, null, 2));
          else printStatus(m);
          return;
        }
        const r = await runScrub(store, o);
        if (o.json) console.log(JSON.stringify(r, null, 2));
        else printScrub(r);
        if (!r.clean) process.exitCode = 1;
      });
    });

  program
    .command('gc')
    .description('remove blobs of expunged and delivered mail, unused header cache rows, old events and stale temp files')
    .option('--dry-run', 'report what would be removed, remove nothing')
    .option('--json', 'machine-readable output')
    .action(async (o: { dryRun?: boolean; json?: boolean }, cmd: Command) => {
      await withStore(configPathOf(cmd), async (store, config) => {
        const r = await gc(store, { dryRun: o.dryRun, eventsRetentionDays: config.integrity.events_retention_days });
        if (o.json) console.log(JSON.stringify(r, null, 2));
        else printGc(r);
      });
    });

  const b = program
    .command('backup')
    .description('online backup while the server runs: a metadata snapshot and every referenced blob, verified as copied')
    .argument('<dest>', 'backup folder: new or empty, or an existing backup with --incremental')
    .option('--incremental', 'update the backup in <dest>: copy only blobs it does not hold yet')
    .action(async (dest: string, o: { incremental?: boolean }, cmd: Command) => {
      await reportingBackupErrors(() =>
        withStore(configPathOf(cmd), async (store, config) => {
          const p = bar('backup');
          const r = await backup(store, dest, { incremental: o.incremental, sourceHost: config.server.hostname, onProgress: p.onProgress });
          p.finish();
          await audited(store, 'backup.create', r.dest, { incremental: o.incremental === true, complete: r.complete, manifestSha256: r.manifestSha256 });
          console.log(`backup written to ${r.dest} in ${formatDuration(r.durationMs)}`);
          console.log(`  ${r.blobs} blob(s), ${formatBytes(r.bytes)}: ${r.copied} copied, ${r.reused} already there and verified; metadata ${formatBytes(r.metadataBytes)}`);
          console.log(`  throughput ${r.mbps.toFixed(1)} MB/s`);
          if (r.repaired.length > 0) console.log(`  ${r.repaired.length} blob(s) had a flipped bit: copied repaired, and repaired in the store`);
          for (const u of r.unavailable) console.log(`  LEFT OUT: blob ${u.id} is damaged in the store (${u.reason})`);
          console.log(`manifest SHA-256: ${r.manifestSha256}  (keep it apart from the backup; check with: postern backup verify ${r.dest} --digest <it>)`);
          if (!r.complete) process.exitCode = 1;
        }),
      );
    });

  b.command('verify')
    .description('check a backup completely (digests, block checks, metadata) without restoring it; exit 1 if it fails')
    .argument('<src>', 'backup folder')
    .option('--digest <sha256>', 'the manifest SHA-256 printed when the backup was made')
    .action(async (src: string, o: { digest?: string }, cmd: Command) => {
      const p = bar('verify');
      const r = await verifyBackup(src, { expectDigest: o.digest, onProgress: p.onProgress });
      p.finish();
      if (r.ok) {
        printVerify(r);
        await recordIfInstalled(configPathOf(cmd), INTEGRITY_EVENTS.backupVerified, r.src, { manifestSha256: r.manifestSha256, blobs: r.blobs, bytes: r.bytes });
        return;
      }
      process.stderr.write(`postern: backup ${r.src} failed verification:\n${r.problems.map((x) => `  ${x}`).join('\n')}\n`);
      await recordIfInstalled(configPathOf(cmd), INTEGRITY_EVENTS.backupVerifyFailed, r.src, { command: 'verify', problems: r.problems.slice(0, 20) });
      process.exitCode = 1;
    });

  program
    .command('restore')
    .description('verify a backup completely, then restore it into an empty data folder')
    .argument('<src>', 'backup folder')
    .option('--data-dir <dir>', 'empty folder to restore into (default: server.data_dir of the configuration)')
    .option('--digest <sha256>', 'the manifest SHA-256 printed when the backup was made')
    .action(async (src: string, o: { dataDir?: string; digest?: string }, cmd: Command) => {
      const configPath = configPathOf(cmd);
      const dataDir = o.dataDir ?? configuredDataDir(configPath);
      await reportingBackupErrors(async () => {
        const v = bar('verify');
        const c = bar('restore');
        // The copy bar starts on the line after the finished verify bar.
        const onCopy = (x: CopyProgress) => {
          v.finish();
          c.onProgress(x);
        };
        try {
          const r = await restore(src, dataDir, { expectDigest: o.digest, onVerifyProgress: v.onProgress, onCopyProgress: onCopy, actor: cliActor() });
          c.finish();
          console.log(`restored ${r.blobs} blob(s), ${formatBytes(r.bytes)} and the metadata into ${r.dataDir}`);
          console.log(`  backup made ${r.verify.manifest!.createdAt} on ${r.verify.manifest!.sourceHost}; every file verified before and while it was copied`);
          for (const u of r.unavailable) console.log(`  note: blob ${u.id} was damaged before the backup; its messages are marked damaged`);
        } catch (e) {
          if (e instanceof BackupError && e.kind === 'refused') {
            await recordIfInstalled(configPath, INTEGRITY_EVENTS.backupVerifyFailed, path.resolve(src), { command: 'restore', problems: e.problems.slice(0, 20) }, dataDir);
          }
          throw e;
        } finally {
          v.finish();
        }
      });
    });
}
