/**
 * A whole receiving side in a temp folder: SQLite store, one local domain
 * with users, a Spool, LocalDelivery, and the three SMTP listeners on
 * 127.0.0.1 with ephemeral ports and a fresh self-signed certificate.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { killAll } from './procs.js';
import { closeAllRaw } from './raw.js';
import { systemClock, type Clock } from '../../src/core/clock.js';
import { passwordCredentials } from '../../src/directory/directory.js';
import { generateSelfSigned } from '../../src/crypto/selfsigned.js';
import { LocalDelivery } from '../../src/delivery/local.js';
import { Directory } from '../../src/directory/directory.js';
import { inboxOf, provisionMailbox } from '../../src/mailbox/provision.js';
import { DsnSender } from '../../src/delivery/dsn-sender.js';
import { directoryBounceRouter } from '../../src/delivery/outbound/index.js';
import { createLogger } from '../../src/metrics/logger.js';
import { MemoryBudget } from '../../src/net/memory-budget.js';
import { DEFAULT_LOGIN_THROTTLE, LoginThrottle, type LoginThrottleOptions } from '../../src/net/throttle.js';
import { Spool, type Submission } from '../../src/queue/spool.js';
import type { PolicyPipeline } from '../../src/policy/pipeline/index.js';
import { createSmtpListener, type SmtpLimits, type SmtpListener, type SmtpListenerKind } from '../../src/smtp/index.js';
import { openStore, type MailMessage, type QueueRecipient, type Store } from '../../src/store/index.js';

export const DOMAIN = 'example.test';
export const HOSTNAME = 'mail.example.test';

export interface TestUser {
  address: string;
  password: string;
  id: number;
}

export interface HarnessOptions {
  bareNewline?: 'reject' | 'normalize';
  limits?: Partial<SmtpLimits>;
  /** Failed logins from one client address before it is locked out. */
  maxAuthFailures?: number;
  /** Other login throttle settings (short per-account delays by default). */
  throttle?: Partial<LoginThrottleOptions>;
  /** Run LocalDelivery (default true). */
  deliver?: boolean;
  /** Replaces the system clock (e.g. with one that fails on demand). */
  clock?: Clock;
  /** The process-wide memory budget in bytes (default 64 MiB). */
  memoryBudget?: number;
  /** The policy pipeline the listeners run (none by default). */
  policy?: PolicyPipeline;
  /** Stands in front of Spool.accept, to delay or fail it. */
  wrapAccept?: (accept: (s: Submission) => Promise<void>, s: Submission) => Promise<void>;
}

export interface Harness {
  readonly dir: string;
  readonly caFile: string;
  readonly caPem: string;
  readonly store: Store;
  readonly spool: Spool;
  readonly directory: Directory;
  readonly ports: Record<SmtpListenerKind, number>;
  readonly users: Record<'alice' | 'bob' | 'victim' | 'carol', TestUser>;
  /** Every log line the listeners wrote, parsed. */
  readonly logs: Record<string, unknown>[];
  readonly memoryBudget: MemoryBudget;
  inbox(user: TestUser): Promise<MailMessage[]>;
  /** Waits (bounded) until the user's INBOX holds at least `count` messages. */
  waitForInbox(user: TestUser, count: number): Promise<MailMessage[]>;
  blob(id: string): Promise<Buffer>;
  /** Queue recipients not yet delivered. */
  pending(): Promise<QueueRecipient[]>;
  writeFile(name: string, data: string | Buffer): Promise<string>;
  close(): Promise<void>;
}

const USERS = {
  alice: 'alice-Secret-1',
  bob: 'bob-Secret-2',
  victim: 'victim-Secret-3',
  carol: 'carol-Secret-4',
} as const;

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'postern-smtp-'));
  const store = await openStore({ backend: 'sqlite', dataDir: path.join(dir, 'data') });
  const clock = opts.clock ?? systemClock;
  const now = clock.now();
  const repo = store.meta.directory;
  await repo.addDomain(DOMAIN, now);
  const users = {} as Record<keyof typeof USERS, TestUser>;
  for (const [name, password] of Object.entries(USERS) as [keyof typeof USERS, string][]) {
    const address = `${name}@${DOMAIN}`;
    const acct = await repo.addAccount({ address, ...(await passwordCredentials(password)) }, now);
    await provisionMailbox(store.meta.mailboxes, acct.id, now);
    users[name] = { address, password, id: acct.id };
  }
  await repo.setDisabled(users.carol.address, true);
  await repo.addAlias(`alice.alias@${DOMAIN}`, users.alice.address);
  await repo.addAlias(`sales@${DOMAIN}`, users.alice.address);
  await repo.addAlias(`sales@${DOMAIN}`, users.bob.address);
  await repo.addAlias(`fwd@${DOMAIN}`, 'friend@remote.test');

  const cert = await generateSelfSigned({ hostname: HOSTNAME });
  const caFile = path.join(dir, 'ca.pem');
  await writeFile(caFile, cert.certPem);

  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) logs.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  const log = createLogger('debug', sink);
  const directory = new Directory(repo);
  const spool = new Spool(store.blobs, store.meta.queue, clock);
  const wrap = opts.wrapAccept;
  if (wrap) {
    const accept = spool.accept.bind(spool);
    spool.accept = (sub: Submission) => wrap(accept, sub);
  }
  const delivery = new LocalDelivery(store.meta.queue, store.meta.mailboxes, clock, log.child({ part: 'local' }), {
    batch: 64, leaseMs: 60_000, pollMs: 50, retryMinMs: 1000, retryMaxMs: 5000, maxLifetimeMs: 60_000,
  });
  delivery.notifySuccess(new DsnSender({ spool, blobs: store.blobs, routeBounce: directoryBounceRouter(directory), clock, reportingMta: HOSTNAME }));
  if (opts.deliver !== false) {
    spool.onEnqueued(() => delivery.kick());
    delivery.start();
  }
  const authThrottle = new LoginThrottle(
    { ...DEFAULT_LOGIN_THROTTLE, maxSourceFailures: opts.maxAuthFailures ?? 3, windowMs: 600_000, lockoutMs: 600_000, delayMinMs: 10, delayMaxMs: 200, ...opts.throttle },
    clock,
  );
  const deps = {
    hostname: HOSTNAME,
    directory,
    spool,
    clock,
    log: log.child({ part: 'smtp' }),
    tls: { cert: cert.certPem, key: cert.keyPem, minVersion: 'TLSv1.2' as const },
    limits: {
      maxMessageSize: 1024 * 1024,
      maxRecipients: 10,
      maxConnections: 50,
      maxConnectionsPerClient: 20,
      socketTimeoutMs: 30_000,
      maxPendingPerClient: 20,
      reservedConnections: 0,
      loginTimeoutMs: 60_000,
      commandTimeoutMs: 30_000,
      minTransferRate: 1024,
      bareNewline: opts.bareNewline ?? 'reject',
      ...opts.limits,
    },
    authThrottle,
    memoryBudget: new MemoryBudget(opts.memoryBudget ?? 64 * 1024 * 1024),
    mailboxes: store.meta.mailboxes,
    ...(opts.policy ? { policy: opts.policy } : {}),
  };
  const listeners: SmtpListener[] = [];
  const ports = {} as Record<SmtpListenerKind, number>;
  for (const kind of ['mx', 'submission', 'submissions'] as const) {
    const l = createSmtpListener(kind, deps);
    listeners.push(l);
    ports[kind] = await l.listen(0, '127.0.0.1');
  }

  const inbox = async (u: TestUser) => store.meta.mailboxes.listMessages((await inboxOf(store.meta.mailboxes, u.id, clock.now())).id);
  return {
    dir, caFile, caPem: cert.certPem, store, spool, directory, ports, users, logs, memoryBudget: deps.memoryBudget,
    inbox,
    async waitForInbox(u, count) {
      for (let i = 0; i < 300; i++) {
        const list = await inbox(u);
        if (list.length >= count) return list;
        delivery.kick();
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`INBOX of ${u.address} did not reach ${count} messages`);
    },
    async blob(id) {
      return Buffer.from(await store.blobs.get(id));
    },
    pending: () => store.meta.queue.listPending(10_000),
    async writeFile(name, data) {
      const p = path.join(dir, name);
      await writeFile(p, data);
      return p;
    },
    async close() {
      await Promise.allSettled(listeners.map((l) => l.close()));
      await delivery.stop();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The blob without the Received header this server added (found by its queue id). */
export function stripOwnReceived(blob: Buffer, queueId: string): Buffer {
  const text = blob.toString('latin1');
  if (!text.startsWith('Received: ')) throw new Error('stored message does not start with a Received header');
  // The header ends at the first line break not followed by folding white space.
  let end = 0;
  for (;;) {
    const nl = text.indexOf('\r\n', end);
    if (nl < 0) throw new Error('unterminated Received header');
    end = nl + 2;
    if (text[end] !== ' ' && text[end] !== '\t') break;
  }
  const header = text.slice(0, end);
  if (!header.includes(` id ${queueId}\r\n`) && !header.includes(` id ${queueId};`)) throw new Error(`first Received header is not for ${queueId}: ${header}`);
  return blob.subarray(end);
}

/** The queue id from a "250 2.0.0 Ok: queued as X" reply. */
export function queueIdOf(reply: string): string {
  const m = /queued as ([0-9A-Z]+)/.exec(reply);
  if (!m?.[1]) throw new Error(`no queue id in reply: ${reply}`);
  return m[1];
}

/**
 * The lifecycle every SMTP suite shares: one harness per file, child
 * processes and raw sockets cleaned up after each test, everything closed
 * at the end. `set` receives the harness once it is up.
 */
export function useHarness(opts: HarnessOptions, set: (h: Harness) => void): void {
  let harness: Harness | undefined;
  beforeAll(async () => {
    harness = await startHarness(opts);
    set(harness);
  });
  afterEach(() => {
    killAll();
    closeAllRaw();
  });
  afterAll(async () => {
    killAll();
    closeAllRaw();
    await harness?.close();
  });
}
