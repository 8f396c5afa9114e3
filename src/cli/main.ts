#!/usr/bin/env -S node --max-semi-space-size=64
// The V8 flag above: a larger young generation (up to 64 MiB per semi-space
// instead of 16) means fewer scavenges and less promotion of short-lived
// per-message objects; it cut the server's CPU per message by 3–12 % in
// bench/smtp-intake.mjs for about 55 MiB more peak memory (see the README).
// `npm start` and the benchmarks launch with the same flags (read from this line).
import { Command, CommanderError } from 'commander';
import { isPosternError } from '../core/errors.js';
import { UsageError } from './context.js';

const program = new Command('postern')
  .description('postern: a mail server that keeps mail confidential, intact and available')
  .option('-c, --config <file>', 'configuration file (default: $POSTERN_CONFIG or ./postern.toml)')
  .showHelpAfterError()
  .exitOverride();

type Register = (p: Command) => void;
/**
 * Each module of commands with the top-level names it defines, in the order of
 * the help text. Only the module of the command given is loaded (with all its
 * dependencies), so a short command such as `postern queue list` does not load
 * the S/MIME, PDF or web code: that halves the start-up of every invocation.
 * Help, or a name not listed here, loads them all.
 */
const MODULES: readonly [readonly string[], () => Promise<Register>][] = [
  [['init'], async () => (await import('./commands/init.js')).registerInitCommand],
  [['start'], async () => (await import('./commands/start.js')).registerStartCommand],
  [['domain', 'user', 'alias', 'group'], async () => (await import('./commands/directory.js')).registerDirectoryCommands],
  [['queue'], async () => (await import('./commands/queue.js')).registerQueueCommands],
  [['quarantine'], async () => (await import('./commands/quarantine.js')).registerQuarantineCommands],
  [['message'], async () => (await import('./commands/message.js')).registerMessageCommands],
  [['spoof'], async () => (await import('./commands/spoof.js')).registerSpoofCommands],
  [['maintenance'], async () => (await import('./commands/maintenance.js')).registerMaintenanceCommands],
  [['delivery'], async () => (await import('./commands/delivery.js')).registerDeliveryCommands],
  [['dkim'], async () => (await import('./commands/dkim.js')).registerDkimCommands],
  [['tlsrpt'], async () => (await import('./commands/tlsrpt.js')).registerTlsRptCommand],
  [['dmarc'], async () => (await import('./commands/dmarc.js')).registerDmarcCommands],
  [['scrub', 'gc', 'backup', 'restore'], async () => (await import('./commands/integrity.js')).registerIntegrityCommands],
  [['audit-log'], async () => (await import('./commands/audit-log.js')).registerAuditLogCommands],
  [['probe'], async () => (await import('./commands/probe.js')).registerProbeCommands],
  [['report'], async () => (await import('./commands/report.js')).registerReportCommand],
  [['av'], async () => (await import('./commands/av.js')).registerAvCommands],
  [['dlp'], async () => (await import('./commands/dlp.js')).registerDlpCommands],
  [['cert'], async () => (await import('./commands/cert.js')).registerCertCommands],
  [['pki'], async () => (await import('./commands/pki.js')).registerPkiCommands],
  [['console'], async () => (await import('./commands/console.js')).registerConsoleCommands],
  [['audit'], async () => (await import('./commands/posture-audit.js')).registerPostureAuditCommand],
  [['dns'], async () => (await import('./commands/dns.js')).registerDnsCommand],
];

/** The command named on the command line: the first argument that is not a global option or its value. */
function commandName(argv: readonly string[]): string | null {
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-c' || a === '--config') i++;
    else if (!a.startsWith('-')) return a;
  }
  return null;
}

const name = commandName(process.argv);
const one = MODULES.find(([names]) => name !== null && names.includes(name));
for (const [, load] of one ? [one] : MODULES) (await load())(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) process.exit(e.exitCode);
  if (e instanceof UsageError || isPosternError(e)) {
    process.stderr.write(`postern: ${e.message}\n`);
    process.exit(2);
  }
  throw e;
}
