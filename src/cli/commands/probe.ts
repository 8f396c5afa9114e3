import type { Command } from 'commander';
import { systemClock } from '../../core/clock.js';
import { createLogger } from '../../metrics/logger.js';
import { PosternMetrics } from '../../metrics/prometheus.js';
import { probeTarget, runRound, startProbe, type RoundResult } from '../../probe/index.js';
import type { Store } from '../../store/index.js';
import { openConfiguredStore, readConfig, resolveConfigPath, UsageError } from '../context.js';

const cfg = (cmd: Command): string => resolveConfigPath((cmd.optsWithGlobals() as { config?: string }).config);

function describe(r: RoundResult): string {
  return r.ok ? `ok: round trip in ${r.ms} ms` : `failed at ${r.stage} after ${r.ms} ms: ${r.error}`;
}

async function requireAccount(store: Store, address: string): Promise<void> {
  const acct = await store.meta.directory.getAccount(address);
  if (!acct) throw new UsageError(`probe.address: no account ${address} (create it with: postern user add ${address})`);
}

/**
 * The synthetic probe in its own process: it also sees a server that is up
 * but hung (stopped, deadlocked), which a probe inside that server cannot.
 */
export function registerProbeCommands(program: Command): void {
  const p = program.command('probe').description('the synthetic probe: mail sent through SMTP and read back over IMAP');
  p.command('run')
    .description('probe every [probe] interval and record outages (until stopped); --once: one round, exit 0 or 1')
    .option('--once', 'run one round, print its result and exit 0 (ok) or 1 (failed)')
    .action(async (o: { once?: boolean }, cmd: Command) => {
      const config = readConfig(cfg(cmd));
      const target = probeTarget(config);
      const store = await openConfiguredStore(config);
      let stopProbe: (() => Promise<void>) | null = null;
      try {
        await requireAccount(store, config.probe.address);
        const subject = config.server.hostname;
        if (o.once) {
          const r = await runRound(target);
          if (!r.ok) await store.meta.events.record('probe.failure', subject, { stage: r.stage, error: r.error, ms: r.ms }, r.end);
          console.log(describe(r));
          process.exitCode = r.ok ? 0 : 1;
          return;
        }
        const log = createLogger(config.log.level).child({ part: 'probe' });
        const probe = startProbe({
          target,
          intervalMs: config.probe.interval * 1000,
          events: store.meta.events,
          subject,
          clock: systemClock,
          log,
          registry: new PosternMetrics({ processMetrics: false }).registry,
          schedule: config.maintenance,
        });
        stopProbe = () => probe.stop();
        log.info({ interval: config.probe.interval, timeout: config.probe.timeout, smtp: config.probe.smtp }, 'probe running');
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        log.info('probe stopping');
      } finally {
        await stopProbe?.();
        await store.close();
      }
    });
}
