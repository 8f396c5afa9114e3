#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { isPosternError } from '../core/errors.js';
import { registerDirectoryCommands } from './commands/directory.js';
import { registerQueueCommands } from './commands/queue.js';
import { registerStartCommand } from './commands/start.js';
import { registerInitCommand } from './commands/init.js';
import { registerIntegrityCommands } from './commands/integrity.js';
import { registerDkimCommands } from './commands/dkim.js';
import { registerTlsRptCommand } from './commands/tlsrpt.js';
import { registerQuarantineCommands } from './commands/quarantine.js';
import { registerMessageCommands } from './commands/message.js';
import { registerSpoofCommands } from './commands/spoof.js';
import { registerMaintenanceCommands } from './commands/maintenance.js';
import { registerDeliveryCommands } from './commands/delivery.js';
import { registerDmarcCommands } from './commands/dmarc.js';
import { registerAuditLogCommands } from './commands/audit-log.js';
import { registerProbeCommands } from './commands/probe.js';
import { registerReportCommand } from './commands/report.js';
import { registerAvCommands } from './commands/av.js';
import { registerDlpCommands } from './commands/dlp.js';
import { registerCertCommands } from './commands/cert.js';
import { registerPkiCommands } from './commands/pki.js';
import { registerConsoleCommands } from './commands/console.js';
import { registerPostureAuditCommand } from './commands/posture-audit.js';
import { registerDnsCommand } from './commands/dns.js';
import { UsageError } from './context.js';

const program = new Command('postern')
  .description('postern: a mail server that keeps mail confidential, intact and available')
  .option('-c, --config <file>', 'configuration file (default: $POSTERN_CONFIG or ./postern.toml)')
  .showHelpAfterError()
  .exitOverride();

registerInitCommand(program);
registerStartCommand(program);
registerDirectoryCommands(program);
registerQueueCommands(program);
registerQuarantineCommands(program);
registerMessageCommands(program);
registerSpoofCommands(program);
registerMaintenanceCommands(program);
registerDeliveryCommands(program);
registerDkimCommands(program);
registerTlsRptCommand(program);
registerDmarcCommands(program);
registerIntegrityCommands(program);
registerAuditLogCommands(program);
registerProbeCommands(program);
registerReportCommand(program);
registerAvCommands(program);
registerDlpCommands(program);
registerCertCommands(program);
registerPkiCommands(program);
registerConsoleCommands(program);
registerPostureAuditCommand(program);
registerDnsCommand(program);

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
