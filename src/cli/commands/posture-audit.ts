/**
 * `postern audit`: grades the installation (TLS on every listener, logins
 * only inside TLS, outbound TLS, malware engines, DLP, fail-open stages,
 * scrub and backup ages, alerts, roles, the audit log, encryption at rest).
 * Exit 1 when a check fails, 0 otherwise, 2 for usage or configuration errors.
 */
import type { Command } from 'commander';
import { formatAudit, recordAudit, runAudit } from '../../posture/audit.js';
import { loadRules } from '../../policy/dlp/rules/load.js';
import { configuredResolver } from '../../posture/dns.js';
import { commandEngines } from '../policy.js';
import { openConfiguredStore, readConfig, resolveConfigPath, UsageError } from '../context.js';

const cfg = (cmd: Command): string => resolveConfigPath((cmd.optsWithGlobals() as { config?: string }).config);

export function registerPostureAuditCommand(program: Command): void {
  program
    .command('audit')
    .description('grade the installation: pass / warn / fail per check, with the reason and the fix; exit 1 if any fails')
    .option('--json', 'machine-readable output')
    .option('--timeout <seconds>', 'how long one connection or reply may take', '15')
    .addHelpText(
      'after',
      `
Run it on the machine postern runs on: it connects to every enabled listener
on loopback (TLS versions, weak suites, forward secrecy, the certificate;
logins refused before STARTTLS), asks the malware engines, and reads the
configuration and the store. The result is recorded as a posture.audited
event; a failed check also records posture.failed, which raises an alert.`,
    )
    .action(async (o: { json?: boolean; timeout: string }, cmd: Command) => {
      const seconds = Number(o.timeout);
      if (!Number.isFinite(seconds) || seconds < 1 || seconds > 300) throw new UsageError(`--timeout takes seconds from 1 to 300, not ${JSON.stringify(o.timeout)}`);
      const config = readConfig(cfg(cmd));
      const store = await openConfiguredStore(config);
      const { engines, close } = commandEngines(config);
      try {
        const result = await runAudit({
          config,
          store,
          engines,
          loadDlpRules: async (path) => (await loadRules(path)).rules.length,
          dns: configuredResolver(config),
          now: Date.now(),
          timeoutMs: seconds * 1000,
        });
        await recordAudit(store, result, config.server.hostname);
        process.stdout.write(o.json ? `${JSON.stringify(result, null, 2)}\n` : formatAudit(result));
        if (result.summary.fail > 0) process.exitCode = 1;
      } finally {
        await close();
        await store.close();
      }
    });
}
