import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { auditConfigChange } from '../config-audit.js';
import { randomBytes } from 'node:crypto';
import { createServerLogger } from '../../metrics/logger.js';
import { passwordCredentials } from '../../directory/directory.js';
import { provisionMailbox } from '../../mailbox/provision.js';
import { listenerPorts, type Config } from '../../config/index.js';
import { readConfig, resolveConfigPath, UsageError, openConfiguredStore } from '../context.js';
import { runInit } from '../init.js';
import { startServer, type BoundListener } from '../start.js';
import type { Store } from '../../store/index.js';
import { systemClock } from '../../core/clock.js';
import { installProcessGuard } from '../process-guard.js';

const DEV_DOMAIN = 'example.test';
const DEV_USER = `demo@${DEV_DOMAIN}`;

interface StartOptions {
  dev?: boolean;
  dir: string;
  portOffset?: string;
}

function withOffset(config: Config, offset: string | undefined): Config {
  if (offset === undefined) return config;
  const n = Number(offset);
  if (!Number.isInteger(n) || n < 0 || n > 50_000) throw new UsageError('--port-offset takes a whole number from 0 to 50000');
  const next = { ...config, server: { ...config.server, port_offset: n } };
  // The config was validated with its own offset: check the ports again with this one.
  for (const l of listenerPorts(next)) {
    if (l.port + n > 65_535) throw new UsageError(`--port-offset ${n} moves ${l.key.join('.')} (${l.port}) above 65535`);
  }
  return next;
}

/** First run of --dev: a complete installation in one folder, and a demo user whose password is shown once. */
async function prepareDev(dir: string): Promise<{ configPath: string; password: string | null }> {
  const configPath = path.join(dir, 'postern.toml');
  if (existsSync(configPath)) return { configPath, password: null };
  await runInit({ domain: DEV_DOMAIN, dir, hostname: 'localhost', portOffset: 10_000, listenAddress: '127.0.0.1' });
  const config = readConfig(configPath);
  const store = await openConfiguredStore(config);
  const password = randomBytes(12).toString('base64url');
  try {
    await store.meta.directory.addDomain(DEV_DOMAIN, Date.now()).catch(() => undefined);
    const acct = await store.meta.directory.addAccount(
      { address: DEV_USER, displayName: 'Demo User', ...(await passwordCredentials(password)), roles: ['user', 'mailadmin'] },
      Date.now(),
    );
    await provisionMailbox(store.meta.mailboxes, acct.id, Date.now());
  } finally {
    await store.close();
  }
  return { configPath, password };
}

/**
 * The account the banner's examples use: the first enabled account of the
 * installation (the demo account under --dev), else a placeholder at the first
 * local domain, so no example names an account that does not exist.
 */
export async function exampleAccount(store: Store): Promise<{ address: string; exists: boolean }> {
  const accounts = (await store.meta.directory.listAccounts()).filter((a) => !a.disabled).sort((a, b) => a.id - b.id);
  const first = accounts[0];
  if (first) return { address: first.address, exists: true };
  const domain = (await store.meta.directory.listDomains())[0]?.name ?? 'example.org';
  return { address: `you@${domain}`, exists: false };
}

/** What `postern start` prints once it listens: the listeners, and a first message to send with swaks or Python. */
export function welcomeText(listeners: readonly BoundListener[], certPath: string, password: string | null, example: { address: string; exists: boolean }): string {
  const sub = listeners.find((l) => l.name === 'smtp submission');
  const user = example.address;
  const lines = ['', 'postern is running.', ''];
  for (const l of listeners) lines.push(`  ${l.name.padEnd(18)} ${l.address}:${l.port}  (${l.tls === 'implicit' ? 'implicit TLS' : 'STARTTLS'})`);
  lines.push('', `  TLS certificate: ${certPath} (self-signed; trust it in your client)`);
  if (password) {
    lines.push(`  demo account:    ${DEV_USER}`, `  demo password:   ${password}   (shown once; change it with: postern user passwd ${DEV_USER})`);
  }
  if (!example.exists) lines.push('', `  No account yet: add one with  postern user add ${user} --role mailadmin`);
  if (sub) {
    lines.push(
      '',
      `  Send a first message${example.exists ? ` as ${user}` : ` (once ${user} exists)`}:`,
      `    swaks --server 127.0.0.1 --port ${sub.port} --tls --tls-ca-path ${certPath} \\`,
      `      --auth PLAIN --auth-user ${user} --auth-password '<password>' --from ${user} --to ${user}`,
      '  or with Python:',
      `    /usr/bin/python3 -c "import smtplib,ssl; c=ssl.create_default_context(cafile='${certPath}'); s=smtplib.SMTP('localhost',${sub.port}); s.starttls(context=c); s.login('${user}','<password>'); s.sendmail('${user}',['${user}'],'From: ${user}\\r\\nTo: ${user}\\r\\nSubject: hi\\r\\n\\r\\nhello\\r\\n'); s.quit()"`,
    );
  }
  lines.push('', '  Stop with Ctrl-C.', '');
  return lines.join('\n') + '\n';
}

export function registerStartCommand(program: Command): void {
  program
    .command('start')
    .description('run the mail server')
    .option('--dev', 'run a self-contained demo installation (created on first run) in --dir, on ports + 10000')
    .option('--dir <folder>', 'folder of the --dev installation', 'postern-dev')
    .option('--port-offset <n>', 'add n to every listener port (e.g. 10000 to run as an ordinary user)')
    .action(async (o: StartOptions, cmd: Command) => {
      let configPath = resolveConfigPath((cmd.optsWithGlobals() as { config?: string }).config);
      let password: string | null = null;
      if (o.dev) ({ configPath, password } = await prepareDev(path.resolve(o.dir)));
      const config = withOffset(readConfig(configPath), o.portOffset);
      // Buffered, written off the event loop (see createServerLogger); flushed before every exit below.
      const logs = createServerLogger(config.log.level);
      const log = logs.log;
      const server = await startServer(config, log, systemClock, { configPath });
      // An edited config is an administrative change: it goes into the audit log.
      await auditConfigChange(server.store, configPath, readFileSync(configPath)).catch((err: unknown) => log.warn({ err }, 'could not record the config in the audit log'));
      installProcessGuard(
        log,
        (kind, data) => server.store.meta.events.record(kind, 'process', data, Date.now()),
        (code) => {
          logs.flushSync();
          process.exit(code);
        },
      );
      const example = await exampleAccount(server.store).catch(() => ({ address: 'you@example.org', exists: false }));
      // What start found worth a warning is in the log before the banner says postern is running.
      await logs.flush();
      process.stderr.write(welcomeText(server.listeners, config.tls.cert, password, example));
      const stop = (sig: string) => {
        log.info({ signal: sig }, 'shutting down');
        const exit = (code: number) => () => logs.flush().then(() => process.exit(code));
        server.close().then(exit(0), exit(1));
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    });
}
