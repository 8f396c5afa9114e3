/**
 * A real postern IMAP server for end-to-end tests: a temp SQLite + file blob
 * store, one domain, users with passwords and provisioned folders, a
 * self-signed certificate written out as the clients' CA file, and both
 * listeners (STARTTLS and implicit TLS) on 127.0.0.1 port 0.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createImapListener, type ImapDeps, type ImapListener } from '../../src/imap/index.js';
import { Directory } from '../../src/directory/directory.js';
import { openStore } from '../../src/store/index.js';
import type { Folder, MailMessage, Store } from '../../src/store/types.js';
import { MailboxNotifier } from '../../src/mailbox/notify.js';
import { provisionMailbox } from '../../src/mailbox/provision.js';
import { systemClock } from '../../src/core/clock.js';
import { silentLogger } from '../../src/metrics/logger.js';
import { DEFAULT_LOGIN_THROTTLE, LoginThrottle, type LoginThrottleOptions } from '../../src/net/throttle.js';
import { generateSelfSigned } from '../../src/crypto/selfsigned.js';
import { hashPassword } from '../../src/crypto/password.js';
import { passwordCredentials } from '../../src/directory/directory.js';

export const DOMAIN = 'example.test';
export const HOSTNAME = 'mail.example.test';

export type Limits = ImapDeps['limits'];

export const DEFAULT_LIMITS: Limits = {
  maxConnections: 200,
  maxConnectionsPerClient: 100,
  maxLiteralSize: 32 * 1024 * 1024,
  maxLineLength: 64 * 1024,
  idleTimeoutMs: 30 * 60_000,
  preAuthTimeoutMs: 60_000,
  maxPendingPerClient: 100,
  reservedConnections: 0,
  commandTimeoutMs: 60_000,
  minTransferRate: 1024,
};

/** Generous so that suites which log in often never trip it; the security suite sets its own. */
const RELAXED_THROTTLE: Partial<LoginThrottleOptions> = { maxSourceFailures: 1000, windowMs: 60_000, lockoutMs: 60_000, delayMinMs: 0 };

export interface HarnessOptions {
  limits?: Partial<Limits>;
  throttle?: Partial<LoginThrottleOptions>;
}

export interface TestUser {
  address: string;
  password: string;
  accountId: number;
}

export interface Stored {
  uid: number;
  bytes: Buffer;
  message: MailMessage;
}

export interface AddOptions {
  flags?: string[];
  /** Internal date, ms since the epoch. */
  date?: number;
}

export interface Harness {
  dir: string;
  store: Store;
  deps: ImapDeps;
  notifier: MailboxNotifier;
  /** The certificate in PEM: the clients' only trust anchor. */
  ca: string;
  caFile: string;
  ports: { starttls: number; tls: number };
  starttls: ImapListener;
  tls: ImapListener;
  /** With SCRAM keys beside the hash, as `postern user add` makes accounts; `legacy: true`: the hash only, as before SCRAM. */
  addUser(local: string, opts?: { password?: string; quotaBytes?: number; legacy?: boolean }): Promise<TestUser>;
  folder(user: TestUser, name: string): Promise<Folder>;
  /** Stores a message straight through the store and tells sessions that have the folder open. */
  addMessage(user: TestUser, folder: string, bytes: Buffer, opts?: AddOptions): Promise<Stored>;
  /** The stored bytes of a message, read back from the blob store. */
  bytesOf(user: TestUser, folder: string, uid: number): Promise<Buffer>;
  close(): Promise<void>;
}

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const dir = mkdtempSync(path.join(tmpdir(), 'postern-imap-'));
  const cleanups: (() => Promise<void> | void)[] = [() => rmSync(dir, { recursive: true, force: true })];
  // Every step runs even if one fails, so a failing close never leaves the temp folder behind.
  const close = async (): Promise<void> => {
    let first: unknown = null;
    for (const fn of cleanups.splice(0).reverse()) {
      try {
        await fn();
      } catch (e) {
        first ??= e;
      }
    }
    if (first) throw first;
  };
  try {
    const store = await openStore({ backend: 'sqlite', dataDir: path.join(dir, 'data') });
    cleanups.push(() => store.close());
    await store.meta.directory.addDomain(DOMAIN, Date.now());

    const { certPem, keyPem } = await generateSelfSigned({ hostname: HOSTNAME, altNames: ['localhost'] });
    const caFile = path.join(dir, 'ca.pem');
    writeFileSync(caFile, certPem);

    const notifier = new MailboxNotifier();
    const throttle = opts.throttle ?? RELAXED_THROTTLE;
    const deps: ImapDeps = {
      hostname: HOSTNAME,
      directory: new Directory(store.meta.directory),
      mailboxes: store.meta.mailboxes,
      urlauthKeys: store.meta.urlauthKeys,
      blobs: store.blobs,
      notifier,
      clock: systemClock,
      log: silentLogger(),
      tls: { cert: certPem, key: keyPem, minVersion: 'TLSv1.2' },
      limits: { ...DEFAULT_LIMITS, ...opts.limits },
      authThrottle: new LoginThrottle({ ...DEFAULT_LOGIN_THROTTLE, ...throttle }, systemClock),
    };

    const starttls = createImapListener('starttls', deps);
    const tls = createImapListener('tls', deps);
    // Listeners close before the store they read from.
    cleanups.push(() => starttls.close());
    cleanups.push(() => tls.close());
    const ports = { starttls: await starttls.listen(0, '127.0.0.1'), tls: await tls.listen(0, '127.0.0.1') };

    const folder = async (user: TestUser, name: string): Promise<Folder> => {
      const f = await store.meta.mailboxes.getFolder(user.accountId, name);
      if (!f) throw new Error(`no folder ${name} for ${user.address}`);
      return f;
    };

    return {
      dir,
      store,
      deps,
      notifier,
      ca: certPem,
      caFile,
      ports,
      starttls,
      tls,
      close,
      folder,
      async addUser(local, o = {}) {
        const address = `${local}@${DOMAIN}`;
        const password = o.password ?? `pw-${local}-Secret1`;
        const acct = await store.meta.directory.addAccount(
          { address, ...(o.legacy ? { passwordHash: await hashPassword(password) } : await passwordCredentials(password)), quotaBytes: o.quotaBytes ?? null },
          Date.now(),
        );
        await provisionMailbox(store.meta.mailboxes, acct.id, Date.now());
        return { address, password, accountId: acct.id };
      },
      async addMessage(user, folderName, bytes, o = {}) {
        const f = await folder(user, folderName);
        const ref = await store.blobs.put(bytes);
        const message = await store.meta.mailboxes.append(f.id, {
          blobId: ref.id,
          size: bytes.length,
          internalDate: o.date ?? Date.now(),
          flags: o.flags ?? [],
        });
        notifier.changed(f.id);
        return { uid: message.uid, bytes, message };
      },
      async bytesOf(user, folderName, uid) {
        const f = await folder(user, folderName);
        const [m] = await store.meta.mailboxes.getMessages(f.id, [uid]);
        if (!m) throw new Error(`no message ${uid} in ${folderName}`);
        return Buffer.from(await store.blobs.get(m.blobId));
      },
    };
  } catch (e) {
    await close();
    throw e;
  }
}

/** LF or lone CR to CRLF, as a client that submits mail (and Python's imaplib APPEND) does. */
export function toCrlf(b: Buffer): Buffer {
  return Buffer.from(b.toString('latin1').replace(/\r\n|\r(?!\n)|\n/g, '\r\n'), 'latin1');
}

/** A small, well-formed message with the given headers and body, CRLF throughout. */
export function makeMessage(h: { from: string; to?: string; subject: string; date: string; extra?: string[] }, body: string): Buffer {
  const lines = [
    `From: ${h.from}`,
    `To: ${h.to ?? `user@${DOMAIN}`}`,
    `Subject: ${h.subject}`,
    `Date: ${h.date}`,
    `Message-ID: <${h.subject.replace(/[^A-Za-z0-9]/g, '')}.${h.date.replace(/[^0-9]/g, '')}@sender.test>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=us-ascii',
    ...(h.extra ?? []),
    '',
    body,
  ];
  return Buffer.from(lines.join('\r\n') + '\r\n', 'latin1');
}
