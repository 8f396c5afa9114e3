/**
 * An in-process POP3 server for end-to-end tests: a store in a temp folder,
 * a domain with accounts and provisioned mailboxes, a fresh self-signed
 * certificate (written to a CA file for clients), and both listeners (STLS
 * and implicit TLS) on 127.0.0.1 with free ports.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { systemClock } from '../../src/core/clock.js';
import { generateSelfSigned } from '../../src/crypto/selfsigned.js';
import { hashPassword } from '../../src/crypto/password.js';
import { Directory } from '../../src/directory/directory.js';
import { MailboxNotifier } from '../../src/mailbox/notify.js';
import { inboxOf, provisionMailbox } from '../../src/mailbox/provision.js';
import { silentLogger } from '../../src/metrics/logger.js';
import { DEFAULT_LOGIN_THROTTLE, LoginThrottle, type LoginThrottleOptions } from '../../src/net/throttle.js';
import { createPop3Listener, DEFAULT_POP3_LIMITS, type Pop3Deps, type Pop3Limits, type Pop3Listener } from '../../src/pop3/index.js';
import type { FsBlobStore } from '../../src/store/backends/fs/blobs.js';
import type { SplitBlobStore } from '../../src/store/split-blobs.js';
import { openStore, type MailMessage, type Store } from '../../src/store/index.js';

export const DOMAIN = 'example.test';
export const HOST = '127.0.0.1';

export interface TestUser {
  address: string;
  password: string;
  accountId: number;
  inboxId: number;
}

export interface Pop3Fixture {
  dir: string;
  store: Store;
  caFile: string;
  ports: { stls: number; tls: number };
  users: TestUser[];
  notifier: MailboxNotifier;
  /** Appends a message to the user's INBOX and returns it. */
  deliver(user: TestUser, bytes: Buffer): Promise<MailMessage>;
  /** The user's INBOX as stored: [uid, bytes] in UID order. */
  inbox(user: TestUser): Promise<{ uid: number; bytes: Buffer }[]>;
  /** Where the blob of a message lives on disk (to damage it). */
  blobPath(blobId: string): string;
  /** Closes both listeners (as a server shutdown does); the store stays open. */
  stopListeners(): Promise<void>;
  close(): Promise<void>;
}

export interface FixtureOptions {
  users?: number;
  limits?: Partial<Pop3Limits>;
  throttle?: Partial<LoginThrottleOptions>;
}

export async function startPop3Fixture(opts: FixtureOptions = {}): Promise<Pop3Fixture> {
  const dir = mkdtempSync(path.join(tmpdir(), 'postern-pop3-'));
  const listeners: Pop3Listener[] = [];
  const store = await openStore({ backend: 'sqlite', dataDir: path.join(dir, 'data') });
  try {
    const now = Date.now();
    await store.meta.directory.addDomain(DOMAIN, now);
    const users: TestUser[] = [];
    for (let i = 0; i < (opts.users ?? 2); i++) {
      const address = `user${i}@${DOMAIN}`;
      const password = `correct horse battery ${i}`;
      const account = await store.meta.directory.addAccount({ address, passwordHash: await hashPassword(password) }, now);
      await provisionMailbox(store.meta.mailboxes, account.id, now);
      const inbox = await inboxOf(store.meta.mailboxes, account.id, now);
      users.push({ address, password, accountId: account.id, inboxId: inbox.id });
    }
    const cert = await generateSelfSigned({ hostname: `mail.${DOMAIN}`, altNames: ['localhost'] });
    const caFile = path.join(dir, 'ca.pem');
    writeFileSync(caFile, cert.certPem);

    // Short per-account delays keep the suites quick.
    const t: LoginThrottleOptions = { ...DEFAULT_LOGIN_THROTTLE, maxSourceFailures: 5, delayMinMs: 10, delayMaxMs: 200, ...opts.throttle };
    const notifier = new MailboxNotifier();
    const deps: Pop3Deps = {
      hostname: `mail.${DOMAIN}`,
      directory: new Directory(store.meta.directory),
      mailboxes: store.meta.mailboxes,
      blobs: store.blobs,
      notifier,
      clock: systemClock,
      log: silentLogger(),
      tls: { cert: cert.certPem, key: cert.keyPem, minVersion: 'TLSv1.2' },
      limits: { ...DEFAULT_POP3_LIMITS, ...opts.limits },
      authThrottle: new LoginThrottle(t, systemClock),
    };
    const stls = createPop3Listener('stls', deps);
    listeners.push(stls);
    const tls = createPop3Listener('tls', deps);
    listeners.push(tls);
    const ports = { stls: await stls.listen(0, HOST), tls: await tls.listen(0, HOST) };

    return {
      dir,
      store,
      caFile,
      ports,
      users,
      notifier,
      async deliver(user, bytes) {
        const ref = await store.blobs.put(bytes);
        return store.meta.mailboxes.append(user.inboxId, { blobId: ref.id, size: ref.size, internalDate: Date.now() });
      },
      async inbox(user) {
        const out: { uid: number; bytes: Buffer }[] = [];
        for (const m of await store.meta.mailboxes.listMessages(user.inboxId)) out.push({ uid: m.uid, bytes: Buffer.from(await store.blobs.get(m.blobId)) });
        return out;
      },
      blobPath: (blobId) => ((store.blobs as SplitBlobStore).files as FsBlobStore).pathOf(blobId),
      async stopListeners() {
        await Promise.all(listeners.map((l) => l.close()));
      },
      async close() {
        await Promise.allSettled(listeners.map((l) => l.close()));
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await Promise.allSettled(listeners.map((l) => l.close()));
    await store.close();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

/** A message with the awkward parts: lines starting with ".", a lone ".", 8-bit bytes, CRLF throughout. */
export function sampleMessage(n: number, extra = ''): Buffer {
  const head = Buffer.from(
    `From: Sender <sender@${DOMAIN}>\r\nTo: user0@${DOMAIN}\r\nSubject: message ${n}\r\nMessage-ID: <m${n}@${DOMAIN}>\r\n` +
      'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\n',
    'latin1',
  );
  const body = Buffer.concat([
    Buffer.from(`Line one of message ${n}.\r\n.leading dot\r\n..two dots\r\n.\r\n`, 'latin1'),
    Buffer.from([0x43, 0x61, 0x66, 0xe9, 0x20, 0xff, 0x80, 0xa0, 0x0d, 0x0a]), // "Café" + high bytes
    Buffer.from(`${extra}last line\r\n`, 'latin1'),
  ]);
  return Buffer.concat([head, body]);
}
