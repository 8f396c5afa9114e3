import path from 'node:path';
import type { Config } from '../config/index.js';
import { EventOutbox } from '../store/event-outbox.js';
import { recordStart, recordStop, startHeartbeat } from './lifecycle.js';
import { listenPort } from '../config/index.js';
import { systemClock, type Clock } from '../core/clock.js';
import { Directory } from '../directory/directory.js';
import { directoryOptions } from '../directory/options.js';
import { startBackgroundGc, startBackgroundScrub, watchDamage } from '../integrity/index.js';
import { LocalDelivery } from '../delivery/local.js';
import { AtRest, atRestSettings } from '../mailbox/at-rest.js';
import type { Logger } from '../metrics/logger.js';
import { MemoryBudget } from '../net/memory-budget.js';
import { DEFAULT_LOGIN_THROTTLE, LoginThrottle } from '../net/throttle.js';
import { loadTlsOptions } from '../net/tls.js';
import { Spool } from '../queue/spool.js';
import { NoticeSender } from '../queue/notice.js';
import { MailboxNotifier } from '../mailbox/notify.js';
import { SEARCH_PART_DERIVER } from '../mailbox/search-part.js';
import { createImapListener, DEFAULT_IMAP_LIMITS } from '../imap/index.js';
import { createPop3Listener, DEFAULT_POP3_LIMITS } from '../pop3/index.js';
import { createManageSieveListener, DEFAULT_MANAGESIEVE_LIMITS } from '../managesieve/index.js';
import { checkSieve, SIEVE_CAPABILITIES } from '../codec/sieve/index.js';
import { storeVacationMemory } from '../delivery/sieve-source.js';
import { createSmtpListener, type SmtpListenerKind } from '../smtp/index.js';
import type { Store } from '../store/index.js';
import { openConfiguredStore } from './context.js';
import { createOutbound, createTlsReportSender } from './outbound.js';
import { TlsReportTimer } from '../delivery/outbound/index.js';
import { buildPolicy } from './policy.js';
import { PolicyScanner } from '../delivery/scanner.js';
import { CachingResolver, WireResolver } from '../net/dns/index.js';
import { PosternMetrics } from '../metrics/prometheus.js';
import { measureEvents } from '../metrics/measure.js';
import { MESSAGE_EVENT_KINDS } from '../config/metrics.js';
import { DsnSender } from '../delivery/dsn-sender.js';
import { directoryBounceRouter } from '../delivery/outbound/index.js';
import { startAlerts } from '../alerts/index.js';
import { probeTarget, startProbe } from '../probe/index.js';
import { loadAdminFiles, startAdminListener } from '../admin/index.js';
import { mtaStsSettings } from '../crypto/mta-sts-policy.js';
import { pkiPaths } from './pki-files.js';

export interface BoundListener {
  name: string;
  address: string;
  port: number;
  tls: 'starttls' | 'implicit';
}

export interface RunningServer {
  readonly store: Store;
  /** Every event this process records, as Prometheus series (served by the HTTPS listener). */
  readonly metrics: PosternMetrics;
  readonly listeners: readonly BoundListener[];
  close(): Promise<void>;
}

/**
 * The composition root of the server process: opens the store, builds the
 * directory, spool and delivery agents, and binds every enabled listener.
 * Nothing else in postern constructs these objects.
 */
/**
 * How long a scan holds its entry: the configured lease, but never less than
 * the after-queue stages' budgets together (plus slack), so a slow but
 * working scan is not taken over and run twice.
 */
export function scanLeaseMs(config: Config): number {
  const p = config.policy;
  const budgets = [p.malware.enabled ? p.malware.budget_ms : 0, p.dlp.enabled ? p.dlp.budget_ms : 0, p.smime.enabled ? p.smime.budget_ms : 0, p.dmarc_reports.enabled ? p.dmarc_reports.budget_ms : 0];
  return Math.max(p.scan_lease * 1000, budgets.reduce((a, b) => a + b, 0) + 10_000);
}

/** Where the configuration file is: the admin listener publishes the CA and CRL of the pki/ folder beside it. */
export interface StartPaths {
  readonly configPath?: string;
}

export async function startServer(config: Config, log: Logger, clock: Clock = systemClock, paths: StartPaths = {}): Promise<RunningServer> {
  // A probe that cannot run (no password file, IMAP off) refuses the start, as any config error does.
  const probeAt = config.probe.enabled ? probeTarget(config) : null;
  const ad = config.admin;
  // A wrong token or CA file refuses the start before it is recorded as one.
  const adminFiles = ad.enabled ? loadAdminFiles({ ...(ad.metrics_token_file ? { tokenFile: ad.metrics_token_file } : {}), ...(ad.client_ca ? { clientCa: ad.client_ca } : {}) }) : null;
  const store = await openConfiguredStore(config);
  const metrics = new PosternMetrics();
  if (config.metrics.enabled) measureEvents(store.feed, metrics, log.child({ part: 'events' }));
  if (!config.metrics.message_events) store.feed.mute(MESSAGE_EVENT_KINDS);
  const directory = new Directory(store.meta.directory, directoryOptions(config));
  await checkPostmaster(directory, config, log);
  const node = `${config.server.hostname}:${path.resolve(config.server.data_dir)}`;
  // A store that cannot write now (a full disk) gets these events once it can again.
  // Per-message events are gathered for 50 ms and written in one transaction: one sync to disk, not one per message.
  const faults = new EventOutbox(store.meta.events, clock, { retryMs: 1000, batchMs: 50, onError: (err) => log.debug({ err }, 'event held until the store takes writes') });
  try {
    await recordStart(store.meta.events, node, clock, log, config.maintenance);
  } catch (e) {
    await store.close();
    throw e;
  }
  // A server reads and writes mail all day: its blob threads start now and stay.
  store.blobs.keepWarm?.([SEARCH_PART_DERIVER]);
  // ... and its metadata checkpoints run beside the event loop, not inside its commits.
  store.meta.checkpointInBackground?.();
  const spool = new Spool(store.blobs, store.meta.queue, clock, faults);
  const notifier = new MailboxNotifier();
  const q = config.queue;
  const local = new LocalDelivery(store.meta.queue, store.meta.mailboxes, clock, log.child({ part: 'local-delivery' }), {
    batch: 64,
    // A local delivery is one store transaction: a short lease means mail that
    // was in hand when a node died is delivered soon after it restarts.
    leaseMs: 30_000,
    pollMs: 1000,
    // Up to 128 recipients under delivery; a new one is leased as soon as one is done.
    parallel: 2,
    retryMinMs: q.retry_min * 1000,
    retryMaxMs: q.retry_max * 1000,
    maxLifetimeMs: q.max_lifetime * 1000,
    // Return-Path and Delivered-To in every delivered copy (RFC 5321 4.4).
    deliveryFields: true,
  }, store.meta.directory, notifier, store.blobs, store.meta.events);
  // Only entries due now: one waiting for its scan is delivered when the scanner releases it.
  spool.onEnqueued((_id, waits) => {
    if (waits === 'deliver') local.kick();
  });
  // NOTIFY=SUCCESS on mail delivered here: the "delivered" notice goes back the way a bounce would.
  local.notifySuccess(new DsnSender({ spool, blobs: store.blobs, routeBounce: directoryBounceRouter(directory), clock, reportingMta: config.server.hostname }));
  // Each account's active Sieve script (uploaded over ManageSieve) runs at local delivery.
  local.useSieve({
    scripts: store.meta.sieve,
    vacation: storeVacationMemory(store.meta.sieve),
    spool,
    route: async (address) => {
      const exp = await directory.expandRecipient(address);
      if (!exp) return [{ address, transport: 'remote', accountId: null }];
      return [...exp.local.map((a) => ({ address: a.address, transport: 'local' as const, accountId: a.id })), ...exp.remote.map((r) => ({ address: r, transport: 'remote' as const, accountId: null }))];
    },
    hostname: config.server.hostname,
    events: store.meta.events,
  });
  const outbound = config.delivery.enabled ? createOutbound(config, store, spool, directory, clock, log.child({ part: 'outbound' })) : null;
  if (outbound) {
    spool.onEnqueued((_id, waits) => {
      if (waits === 'deliver') outbound.kick();
    });
  }
  // TLS-RPT: yesterday's reports go to each recipient domain's rua once a day ([delivery] tlsrpt_mail).
  const tlsReports = config.delivery.enabled && config.delivery.tlsrpt_mail
    ? new TlsReportTimer(createTlsReportSender(config, store, spool, directory, clock, log.child({ part: 'tlsrpt' })), clock, log.child({ part: 'tlsrpt' }))
    : null;

  // Sender authentication asks the configured resolver (the one outbound delivery trusts), through a cache.
  const d = config.delivery;
  const policyResolver = new CachingResolver(new WireResolver({ ...(d.resolver ? { server: d.resolver } : {}), timeoutMs: d.resolver_timeout * 1000 }));
  // What a policy stage asks to tell (e.g. DLP: "your message was held"), as local mail from postmaster.
  const notices = new NoticeSender({ spool, directory, hostname: config.server.hostname, clock, log: log.child({ part: 'notice' }) });
  let policy: Awaited<ReturnType<typeof buildPolicy>>;
  try {
    policy = await buildPolicy(config, store, policyResolver, clock, log.child({ part: 'policy' }), faults, notices.notify);
  } catch (e) {
    await store.close();
    throw e;
  }
  // [encryption_at_rest]: covered recipients' copies are encrypted in the worker pool before they are stored.
  const ear = config.encryption_at_rest;
  if (ear.enabled) {
    const atRest = new AtRest(atRestSettings(ear), {
      certificates: store.meta.certificates,
      blobs: store.blobs,
      directory: store.meta.directory,
      encrypt: (raw, certs, cipher, budgetMs) => policy.pool.run<Uint8Array>('smime.encrypt', { raw, certs, cipher }, { budgetMs }),
    });
    local.encryptAtRest(atRest);
    // The queue copy of mail to a covered account is removed once the encrypted copy is stored: a file, not a row.
    spool.keepRemovableWhen(async (recipients) => {
      for (const r of recipients) if (r.transport === 'local' && (await atRest.covered(r.address))) return true;
      return false;
    });
  }
  const scanner = new PolicyScanner(store.meta.queue, store.blobs, policy.pipeline, clock, log.child({ part: 'policy-scan' }), {
    batch: Math.max(2, config.policy.worker_threads * 2),
    leaseMs: scanLeaseMs(config),
    pollMs: 1000,
    // Up to 4 scans per pool thread under way: a new entry is leased as soon as one is done.
    parallel: 2,
    // A scan that failed closed (an engine down) is retried like a delivery, at most a minute apart at first.
    retryMinMs: Math.min(60, q.retry_min) * 1000,
    retryMaxMs: 15 * 60_000,
  });
  spool.onEnqueued((_id, waits) => {
    if (waits === 'scan') scanner.kick();
  });
  // Entries that wait for the scan are stored with it leased to this scanner and handed straight to it.
  spool.handScansTo(scanner);
  // Local recipients are leased as their scan result is stored and handed straight to local delivery.
  // (So a release wakes only outbound: local delivery was woken by the hand-over.)
  scanner.handOffTo(local);
  scanner.onReleased((transports) => {
    if (transports.has('remote')) outbound?.kick();
  });

  const a = config.auth;
  // One throttle for every listener: guessing a password counts the same on every port.
  const authThrottle = new LoginThrottle(
    {
      ...DEFAULT_LOGIN_THROTTLE,
      maxSourceFailures: a.max_failures,
      windowMs: a.window * 1000,
      lockoutMs: a.lockout * 1000,
      delayMinMs: a.delay_min * 1000,
      delayMaxMs: a.delay_max * 1000,
      knownSourcesPerAccount: a.known_sources,
    },
    clock,
  );
  const deps = {
    hostname: config.server.hostname,
    directory,
    spool,
    clock,
    log: log.child({ part: 'smtp' }),
    tls: loadTlsOptions({ cert: config.tls.cert, key: config.tls.key, minVersion: config.tls.min_version }),
    limits: {
      maxMessageSize: config.smtp.max_message_size,
      maxRecipients: config.smtp.max_recipients,
      maxConnections: config.smtp.max_connections,
      maxConnectionsPerClient: config.smtp.max_connections_per_client,
      socketTimeoutMs: config.smtp.socket_timeout * 1000,
      bareNewline: config.smtp.bare_newline,
      ...slotGuards(config.smtp),
      minTransferRate: config.smtp.min_transfer_rate,
      greetPauseMs: config.smtp.greet_pause_ms,
    },
    authThrottle,
    // One budget for every listener (IMAP and POP3 get it through this object too).
    memoryBudget: new MemoryBudget(config.limits.memory_budget * 1024 * 1024),
    policy: policy.pipeline,
    events: faults,
    // A recipient whose mailbox is full is refused at RCPT (452 4.2.2).
    mailboxes: store.meta.mailboxes,
  };

  // Alerts: tail the events table and send mail and signed webhooks ([alerts]).
  let alerts: ReturnType<typeof startAlerts> | null = null;
  try {
    if (config.alerts.enabled) {
      alerts = startAlerts(config, { events: store.meta.events, queue: store.meta.queue, spool, directory, sink: faults, clock, log: log.child({ part: 'alerts' }) });
    }
  } catch (e) {
    await policy.close();
    await store.close();
    throw e;
  }

  const opened: { close(): Promise<void> }[] = [];
  const bound: BoundListener[] = [];
  try {
    const smtpListeners: [SmtpListenerKind, Config['smtp']['mx']][] = [
      ['mx', config.smtp.mx],
      ['submission', config.smtp.submission],
      ['submissions', config.smtp.submissions],
    ];
    for (const [kind, l] of smtpListeners) {
      if (!l.enabled) continue;
      const listener = createSmtpListener(kind, deps);
      opened.push(listener);
      const port = await listener.listen(listenPort(config, l.port), l.address);
      bound.push({ name: `smtp ${kind}`, address: l.address, port, tls: kind === 'submissions' ? 'implicit' : 'starttls' });
    }
    if (config.pop3.enabled) {
      const p = config.pop3;
      // One throttle for SMTP and POP3: guessing a password counts the same on every port.
      const limits = {
        ...DEFAULT_POP3_LIMITS,
        maxConnections: p.max_connections,
        maxConnectionsPerClient: p.max_connections_per_client,
        idleTimeoutMs: p.idle_timeout * 1000,
        ...slotGuards(p),
      };
      const pop3Deps = { ...deps, mailboxes: store.meta.mailboxes, blobs: store.blobs, notifier, log: log.child({ part: 'pop3' }), limits };
      for (const [mode, port] of [['stls', p.port], ['tls', p.tls_port]] as const) {
        const listener = createPop3Listener(mode, pop3Deps);
        opened.push(listener);
        const boundPort = await listener.listen(listenPort(config, port), p.address);
        bound.push({ name: mode === 'tls' ? 'pop3s' : 'pop3', address: p.address, port: boundPort, tls: mode === 'tls' ? 'implicit' : 'starttls' });
      }
    }
    if (config.managesieve.enabled) {
      const m = config.managesieve;
      const listener = createManageSieveListener({
        hostname: config.server.hostname,
        directory,
        sieve: store.meta.sieve,
        clock,
        log: log.child({ part: 'managesieve' }),
        tls: deps.tls,
        authThrottle,
        events: faults,
        limits: { ...DEFAULT_MANAGESIEVE_LIMITS, maxConnections: m.max_connections, maxConnectionsPerClient: m.max_connections_per_client, idleTimeoutMs: m.idle_timeout * 1000, ...slotGuards(m) },
        // A script is stored only when local delivery could run it.
        extensions: SIEVE_CAPABILITIES,
        validate: (text) => {
          const r = checkSieve(text);
          return r.ok ? null : `line ${r.line}: ${r.error}`;
        },
      });
      opened.push(listener);
      const boundPort = await listener.listen(listenPort(config, m.port), m.address);
      bound.push({ name: 'managesieve', address: m.address, port: boundPort, tls: 'starttls' });
    }
    if (config.imap.enabled) {
      const i = config.imap;
      const limits = {
        ...DEFAULT_IMAP_LIMITS,
        maxLiteralSize: config.smtp.max_message_size,
        maxConnections: i.max_connections,
        maxConnectionsPerClient: i.max_connections_per_client,
        idleTimeoutMs: i.idle_timeout * 1000,
        ...slotGuards(i),
        preAuthTimeoutMs: i.login_timeout * 1000,
        minTransferRate: i.min_transfer_rate,
      };
      const imapDeps = { ...deps, mailboxes: store.meta.mailboxes, urlauthKeys: store.meta.urlauthKeys, blobs: store.blobs, notifier, log: log.child({ part: 'imap' }), limits };
      for (const [mode, port] of [['starttls', i.port], ['tls', i.tls_port]] as const) {
        const listener = createImapListener(mode, imapDeps);
        opened.push(listener);
        const boundPort = await listener.listen(listenPort(config, port), i.address);
        bound.push({ name: mode === 'tls' ? 'imaps' : 'imap', address: i.address, port: boundPort, tls: mode === 'tls' ? 'implicit' : 'starttls' });
      }
    }
    if (adminFiles) {
      const admin = await startAdminListener(
        {
          address: ad.address,
          port: listenPort(config, ad.port),
          ...(ad.redirect_port !== undefined ? { redirectPort: listenPort(config, ad.redirect_port) } : {}),
          ...(ad.metrics_token_file ? { tokenFile: ad.metrics_token_file } : {}),
          ...(ad.client_ca ? { clientCa: ad.client_ca } : {}),
          tls: deps.tls,
          hostname: config.server.hostname,
          mtaSts: config.mta_sts.enabled ? mtaStsSettings(config) : null,
          ...(paths.configPath ? { pkiDir: pkiPaths(paths.configPath).dir } : {}),
        },
        {
          metrics, meta: store.meta, node, listeners: () => bound, clock, log: log.child({ part: 'admin' }), schedule: config.maintenance,
          isLocalDomain: (domain) => directory.isLocalDomain(domain),
          console: {
            store,
            authenticate: (address, password) => directory.authenticate(address, password),
            throttle: authThrottle,
            releaseRoles: config.policy.release_roles,
            allowPkiAndMailAdmin: config.auth.allow_pki_and_mail_admin === true,
            slaTargetPct: config.report.sla_target,
            schedule: config.maintenance,
          },
        },
        adminFiles,
      );
      opened.push(admin);
      bound.push({ name: 'https admin', address: ad.address, port: admin.port, tls: 'implicit' });
      if (admin.redirectPort !== null) log.info({ address: ad.address, port: admin.redirectPort }, 'admin: plain HTTP redirects to https');
    }
  } catch (e) {
    await Promise.allSettled(opened.map((l) => l.close()));
    await alerts?.stop();
    await policy.close();
    await store.close();
    throw e;
  }
  const heartbeat = startHeartbeat(store.meta.events, node, clock, log, config.server.heartbeat_interval * 1000);
  scanner.start();
  local.start();
  outbound?.start();
  watchDamage(store, clock, log.child({ part: 'scrub' }));
  const scrubber = startBackgroundScrub(store, {
    intervalHours: config.integrity.scrub_interval,
    rateMBps: config.integrity.scrub_rate,
    log: log.child({ part: 'scrub' }),
    clock,
  });
  const collector = startBackgroundGc(store, {
    intervalHours: config.integrity.gc_interval,
    eventsRetentionDays: config.integrity.events_retention_days,
    log: log.child({ part: 'gc' }),
    clock,
  });
  // Temp files of writes that died with an earlier process; in the background, so listening starts at once.
  void store.blobs.removeStaleTemp(clock.now()).then(
    (r) => r.files > 0 && log.info(r, 'removed temp files of failed blob writes'),
    (e: unknown) => log.warn({ err: e }, 'could not clean temp files of failed blob writes'),
  );
  for (const b of bound) log.info({ listener: b.name, address: b.address, port: b.port }, 'listening');
  const probe = probeAt && startProbe({
    target: probeAt, intervalMs: config.probe.interval * 1000, events: store.meta.events, subject: config.server.hostname,
    clock, log: log.child({ part: 'probe' }), registry: metrics.registry, schedule: config.maintenance,
  });

  tlsReports?.start(); // started last, so a failed start leaves no timer behind
  let closing: Promise<void> | null = null;
  return {
    store,
    metrics,
    listeners: bound,
    close() {
      closing ??= (async () => {
        heartbeat.stop();
        // First: a round cut short by our own shutdown is no outage.
        await probe?.stop();
        await tlsReports?.stop();
        await alerts?.stop(); // alerts: its cursor is in the store, so events not yet read alert at the next start
        await Promise.allSettled(opened.map((l) => l.close()));
        await scanner.stop();
        await notices.idle();
        await policy.close();
        await local.stop();
        await outbound?.stop();
        await scrubber.stop();
        await collector.stop();
        await faults.flush();
        faults.stop();
        await recordStop(store.meta.events, node, clock).catch((err: unknown) => log.warn({ err }, 'could not record the stop'));
        await store.close();
      })();
      return closing;
    },
  };
}

/**
 * The start check of the required addresses: postmaster@ every local domain
 * must reach someone (RFC 5321 4.5.1). Not a refusal to start (a new
 * installation has no accounts yet), but said loudly.
 */
async function checkPostmaster(directory: Directory, config: Config, log: Logger): Promise<void> {
  try {
    if (await directory.postmasterTarget()) return;
    const why = config.directory.postmaster
      ? `[directory] postmaster = "${config.directory.postmaster}" is not a local account or alias`
      : 'there is no enabled account with the mailadmin role';
    log.warn({ key: 'directory.postmaster' }, `postmaster@, abuse@ and the report addresses reach nobody: ${why}; they are refused until one exists (postern user add <address> --role mailadmin)`);
  } catch (err) {
    log.warn({ err }, 'could not check where postmaster mail goes');
  }
}

/** The slow-client guards every listener section shares, from config seconds and percent. */
function slotGuards(c: { max_connections: number; max_pending_per_client: number; reserved_percent: number; login_timeout: number; command_timeout: number }) {
  return {
    maxPendingPerClient: c.max_pending_per_client,
    reservedConnections: Math.floor((c.max_connections * c.reserved_percent) / 100),
    loginTimeoutMs: c.login_timeout * 1000,
    commandTimeoutMs: c.command_timeout * 1000,
  };
}
