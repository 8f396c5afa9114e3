import type { Config } from '../config/index.js';
import { listenPort } from '../config/index.js';
import { systemClock, type Clock } from '../core/clock.js';
import { Directory } from '../directory/directory.js';
import { LocalDelivery } from '../delivery/local.js';
import type { Logger } from '../metrics/logger.js';
import { FailureThrottle } from '../net/throttle.js';
import { loadTlsOptions } from '../net/tls.js';
import { Spool } from '../queue/spool.js';
import { MailboxNotifier } from '../mailbox/notify.js';
import { createSmtpListener, type SmtpListener, type SmtpListenerKind } from '../smtp/index.js';
import type { Store } from '../store/index.js';
import { openConfiguredStore } from './context.js';

export interface BoundListener {
  name: string;
  address: string;
  port: number;
  tls: 'starttls' | 'implicit';
}

export interface RunningServer {
  readonly store: Store;
  readonly listeners: readonly BoundListener[];
  close(): Promise<void>;
}

/**
 * The composition root of the server process: opens the store, builds the
 * directory, spool and delivery agents, and binds every enabled listener.
 * Nothing else in postern constructs these objects.
 */
export async function startServer(config: Config, log: Logger, clock: Clock = systemClock): Promise<RunningServer> {
  const store = await openConfiguredStore(config);
  const directory = new Directory(store.meta.directory);
  const spool = new Spool(store.blobs, store.meta.queue, clock);
  const notifier = new MailboxNotifier();
  const q = config.queue;
  const local = new LocalDelivery(store.meta.queue, store.meta.mailboxes, clock, log.child({ part: 'local-delivery' }), {
    batch: 64,
    leaseMs: 5 * 60_000,
    pollMs: 1000,
    retryMinMs: q.retry_min * 1000,
    retryMaxMs: q.retry_max * 1000,
    maxLifetimeMs: q.max_lifetime * 1000,
  }, store.meta.directory, notifier);
  spool.onEnqueued(() => local.kick());

  const a = config.auth;
  const throttle = () => new FailureThrottle({ maxFailures: a.max_failures, windowMs: a.window * 1000, lockoutMs: a.lockout * 1000 }, clock);
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
    },
    authThrottle: { byClient: throttle(), byAccount: throttle() },
  };

  const opened: SmtpListener[] = [];
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
  } catch (e) {
    await Promise.allSettled(opened.map((l) => l.close()));
    await store.close();
    throw e;
  }
  local.start();
  for (const b of bound) log.info({ listener: b.name, address: b.address, port: b.port }, 'listening');

  let closing: Promise<void> | null = null;
  return {
    store,
    listeners: bound,
    close() {
      closing ??= (async () => {
        await Promise.allSettled(opened.map((l) => l.close()));
        await local.stop();
        await store.close();
      })();
      return closing;
    },
  };
}
