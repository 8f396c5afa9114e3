/**
 * Test support: a listener over a real store in a temporary folder, and a raw
 * IMAP client that returns exact response lines (literals inlined).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { systemClock, type Clock } from '../../core/clock.js';
import { generateSelfSigned, type SelfSigned } from '../../crypto/selfsigned.js';
import { hashPassword } from '../../crypto/password.js';
import { Directory } from '../../directory/directory.js';
import { MailboxNotifier } from '../../mailbox/notify.js';
import { provisionMailbox } from '../../mailbox/provision.js';
import { silentLogger, type Logger } from '../../metrics/logger.js';
import { DEFAULT_LOGIN_THROTTLE, LoginThrottle } from '../../net/throttle.js';
import { FsBlobStore } from '../../store/backends/fs/blobs.js';
import { SqliteMetaStore } from '../../store/backends/sqlite/index.js';
import type { Account } from '../../store/types.js';
import { createImapListener } from '../listener.js';
import type { ImapDeps, ImapLimits, ImapListener, ImapMode } from '../types.js';

export const PASSWORD = 'correct horse battery staple';
export const USER = 'alice@example.test';

let certificate: Promise<SelfSigned> | null = null;
const cert = (): Promise<SelfSigned> => (certificate ??= generateSelfSigned({ hostname: 'localhost' }));

export interface Harness {
  readonly deps: ImapDeps;
  readonly meta: SqliteMetaStore;
  readonly blobs: FsBlobStore;
  readonly account: Account;
  readonly ports: Record<ImapMode, number>;
  readonly listeners: Record<ImapMode, ImapListener>;
  /** Puts a message into a folder as local delivery would (and tells the notifier). */
  deliver(folder: string, message: string | Buffer, flags?: string[]): Promise<number>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  limits?: Partial<ImapLimits>;
  quotaBytes?: number | null;
  clock?: Clock;
  /** Failed logins from one client address before it is locked out. */
  maxFailures?: number;
  /** The server's logger (silent unless given). */
  log?: Logger;
}

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'postern-imap-'));
  const meta = SqliteMetaStore.open(path.join(dir, 'meta.sqlite'));
  const blobs = await FsBlobStore.open(path.join(dir, 'blobs'));
  await meta.directory.addDomain('example.test', 0);
  const account = await meta.directory.addAccount(
    { address: USER, passwordHash: await hashPassword(PASSWORD), quotaBytes: opts.quotaBytes ?? null },
    0,
  );
  await provisionMailbox(meta.mailboxes, account.id, 0);
  const { certPem, keyPem } = await cert();
  const clock = opts.clock ?? systemClock;
  // Short delays keep the suites quick; the login throttle's own tests use realistic ones.
  const authThrottle = new LoginThrottle(
    { ...DEFAULT_LOGIN_THROTTLE, maxSourceFailures: opts.maxFailures ?? 5, windowMs: 60_000, lockoutMs: 60_000, delayMinMs: 10, delayMaxMs: 100 },
    clock,
  );
  const notifier = new MailboxNotifier();
  const deps: ImapDeps = {
    hostname: 'imap.example.test',
    directory: new Directory(meta.directory),
    mailboxes: meta.mailboxes,
    urlauthKeys: meta.urlauthKeys,
    blobs,
    notifier,
    clock,
    log: opts.log ?? silentLogger(),
    tls: { cert: certPem, key: keyPem },
    limits: {
      maxConnections: 50,
      maxConnectionsPerClient: 20,
      maxLiteralSize: 1024 * 1024,
      maxLineLength: 8192,
      idleTimeoutMs: 30 * 60_000,
      preAuthTimeoutMs: 60_000,
      maxPendingPerClient: 20,
      reservedConnections: 0,
      commandTimeoutMs: 60_000,
      minTransferRate: 1024,
      ...opts.limits,
    },
    authThrottle,
  };
  const listeners = { starttls: createImapListener('starttls', deps), tls: createImapListener('tls', deps) };
  const ports = { starttls: await listeners.starttls.listen(0, '127.0.0.1'), tls: await listeners.tls.listen(0, '127.0.0.1') };
  return {
    deps,
    meta,
    blobs,
    account,
    ports,
    listeners,
    async deliver(folder, message, flags = []) {
      const f = (await meta.mailboxes.getFolder(account.id, folder))!;
      const data = typeof message === 'string' ? Buffer.from(message.replace(/\r?\n/g, '\r\n')) : message;
      const blob = await blobs.put(data);
      const m = await meta.mailboxes.append(f.id, { blobId: blob.id, size: blob.size, internalDate: Date.UTC(2024, 0, 15, 12), flags });
      notifier.changed(f.id);
      return m.uid;
    },
    async close() {
      await Promise.all([listeners.starttls.close(), listeners.tls.close()]);
      await meta.close();
      await blobs.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A raw client: write command text, read response lines with literals inlined. */
export class RawClient {
  private buf = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  private ended = false;

  private constructor(private socket: net.Socket | tls.TLSSocket) {
    this.listen(socket);
  }

  private listen(s: net.Socket | tls.TLSSocket): void {
    s.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.wake();
    });
    s.on('close', () => {
      this.ended = true;
      this.wake();
    });
    s.on('error', () => undefined);
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  static async tls(port: number): Promise<RawClient> {
    const s = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false });
    await new Promise<void>((res, rej) => {
      s.once('secureConnect', () => res());
      s.once('error', rej);
    });
    return new RawClient(s);
  }

  static async plain(port: number): Promise<RawClient> {
    const s = net.connect({ port, host: '127.0.0.1' });
    await new Promise<void>((res, rej) => {
      s.once('connect', () => res());
      s.once('error', rej);
    });
    return new RawClient(s);
  }

  get closed(): boolean {
    return this.ended;
  }

  private async more(): Promise<boolean> {
    if (this.ended) return false;
    await new Promise<void>((res) => this.waiters.push(res));
    return true;
  }

  /** One response line; a literal {n} inside it is read and inlined. Null at end of stream. */
  async line(): Promise<string | null> {
    let out = '';
    for (;;) {
      const i = this.buf.indexOf('\r\n');
      if (i < 0) {
        if (!(await this.more())) return null;
        continue;
      }
      const text = this.buf.subarray(0, i).toString('latin1');
      this.buf = this.buf.subarray(i + 2);
      const lit = /~?\{(\d+)\}$/.exec(text);
      if (!lit) return out + text;
      const n = Number(lit[1]);
      while (this.buf.length < n) if (!(await this.more())) return null;
      out += text + '\r\n' + this.buf.subarray(0, n).toString('latin1');
      this.buf = this.buf.subarray(n);
    }
  }

  write(text: string | Buffer): void {
    this.socket.write(text);
  }

  /** Sends "tag text" and returns every line up to and including the tagged response. */
  async command(tag: string, text: string): Promise<string[]> {
    this.write(`${tag} ${text}\r\n`);
    return this.until(tag);
  }

  async until(tag: string): Promise<string[]> {
    const out: string[] = [];
    for (;;) {
      const l = await this.line();
      if (l === null) return out;
      out.push(l);
      if (l.startsWith(`${tag} `)) return out;
    }
  }

  async login(tag = 'L1'): Promise<string[]> {
    return this.command(tag, `LOGIN ${USER} "${PASSWORD}"`);
  }

  /** Upgrades the connection after the server said OK to STARTTLS. */
  async upgrade(): Promise<void> {
    const old = this.socket;
    old.removeAllListeners('data');
    const s = tls.connect({ socket: old as net.Socket, rejectUnauthorized: false });
    await new Promise<void>((res, rej) => {
      s.once('secureConnect', () => res());
      s.once('error', rej);
    });
    this.socket = s;
    this.listen(s);
  }

  close(): void {
    this.socket.destroy();
  }
}
