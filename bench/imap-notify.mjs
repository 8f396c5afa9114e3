// IMAP NOTIFY (RFC 5465) costs: the server (built, from dist/) and a raw TLS
// client in this process, over a temp SQLite + file blob store.
//
//   npx tsc -p tsconfig.build.json && node bench/imap-notify.mjs
//
// Measures, as medians over BENCH_ROUNDS:
// - `NOTIFY SET STATUS (PERSONAL (MessageNew MessageExpunge FlagChange))`
//   with BENCH_FOLDERS folders (each with one message): the command's time,
//   which includes one STATUS per folder;
// - delivering BENCH_DELIVER messages one after another into a folder that
//   is not selected, with BENCH_SESSIONS sessions watching it through NOTIFY
//   and with none (A/B alternated), and the time from a delivery until every
//   watching session has read its STATUS line.
// Environment: BENCH_FOLDERS (1000), BENCH_SESSIONS (50), BENCH_DELIVER
// (200), BENCH_ROUNDS (5), BENCH_DIST (../dist) another build to measure
// (for a before/after).
// Everything listens on 127.0.0.1 port 0; every wait is bounded; the temp
// folder is removed at the end.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';

const DIST = process.env.BENCH_DIST ? new URL(`file://${path.resolve(process.env.BENCH_DIST)}/`) : new URL('../dist/', import.meta.url);
const load = (p) => import(new URL(p, DIST).href);
const { createImapListener } = await load('imap/listener.js');
const { SqliteMetaStore } = await load('store/backends/sqlite/index.js');
const { FsBlobStore } = await load('store/backends/fs/blobs.js');
const { MailboxNotifier } = await load('mailbox/notify.js');
const { provisionMailbox } = await load('mailbox/provision.js');
const { generateSelfSigned } = await load('crypto/selfsigned.js');
const { hashPassword } = await load('crypto/password.js');
const { Directory } = await load('directory/directory.js');
const { DEFAULT_LOGIN_THROTTLE, LoginThrottle } = await load('net/throttle.js');
const { silentLogger } = await load('metrics/logger.js');
const { systemClock } = await load('core/clock.js');

const FOLDERS = Number(process.env.BENCH_FOLDERS ?? 1000);
const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 50);
const DELIVER = Number(process.env.BENCH_DELIVER ?? 200);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const WAIT_MS = 30_000;
const USER = 'bench@bench.test';
const PASSWORD = 'bench password 1';

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

class Client {
  constructor(socket) {
    this.socket = socket;
    this.buf = '';
    this.waiters = [];
    socket.on('data', (d) => {
      this.buf += d.toString('latin1');
      for (const w of this.waiters.splice(0)) w();
    });
    socket.on('error', () => undefined);
  }
  static connect(port) {
    return new Promise((resolve, reject) => {
      const s = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false }, () => resolve(new Client(s)));
      s.once('error', reject);
      s.setTimeout(WAIT_MS, () => s.destroy(new Error('socket timeout')));
    });
  }
  /** Waits (bounded) until a complete line matches; returns it and drops everything up to it. */
  async until(re) {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const lines = this.buf.split('\r\n');
      for (let i = 0; i < lines.length - 1; i++) {
        if (re.test(lines[i])) {
          this.buf = lines.slice(i + 1).join('\r\n');
          return lines[i];
        }
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${re}`);
      await new Promise((res) => {
        this.waiters.push(res);
        setTimeout(res, 1000).unref();
      });
    }
  }
  async command(tag, text) {
    this.socket.write(`${tag} ${text}\r\n`);
    return this.until(new RegExp(`^${tag} `));
  }
  close() {
    this.socket.destroy();
  }
}

const dir = await mkdtemp(path.join(os.tmpdir(), 'postern-notify-bench-'));
const meta = SqliteMetaStore.open(path.join(dir, 'meta.sqlite'));
const blobs = await FsBlobStore.open(path.join(dir, 'blobs'));
const clients = [];
let listener;
try {
  await meta.directory.addDomain('bench.test', 0);
  const account = await meta.directory.addAccount({ address: USER, passwordHash: await hashPassword(PASSWORD), quotaBytes: null }, 0);
  await provisionMailbox(meta.mailboxes, account.id, 0);
  const { certPem, keyPem } = await generateSelfSigned({ hostname: 'localhost' });
  const notifier = new MailboxNotifier();
  const deps = {
    hostname: 'imap.bench.test',
    directory: new Directory(meta.directory),
    mailboxes: meta.mailboxes,
    blobs,
    notifier,
    clock: systemClock,
    log: silentLogger(),
    tls: { cert: certPem, key: keyPem },
    limits: {
      maxConnections: 1000, maxConnectionsPerClient: 1000, maxLiteralSize: 1 << 20, maxLineLength: 65536, idleTimeoutMs: 1_800_000,
      preAuthTimeoutMs: 60_000, maxPendingPerClient: 1000, reservedConnections: 0, commandTimeoutMs: 60_000, minTransferRate: 1024,
    },
    authThrottle: new LoginThrottle({ ...DEFAULT_LOGIN_THROTTLE, maxSourceFailures: 1000, delayMinMs: 0, delayMaxMs: 0 }, systemClock),
  };
  listener = createImapListener('tls', deps);
  const port = await listener.listen(0, '127.0.0.1');

  const deliver = async (folderId, n) => {
    const blob = await blobs.put(Buffer.from(`Subject: bench ${n}\r\nFrom: a@bench.test\r\n\r\nbody ${n}\r\n`));
    await meta.mailboxes.append(folderId, { blobId: blob.id, size: blob.size, internalDate: Date.now(), flags: [] });
    notifier.changed(folderId);
  };
  const session = async () => {
    const c = await Client.connect(port);
    clients.push(c);
    await c.until(/^\* OK/);
    await c.command('l', `LOGIN ${USER} "${PASSWORD}"`);
    return c;
  };

  // 1. NOTIFY SET STATUS over many folders.
  const existing = (await meta.mailboxes.listFolders(account.id)).length;
  for (let i = existing; i < FOLDERS; i++) {
    const f = await meta.mailboxes.createFolder(account.id, `F${String(i).padStart(4, '0')}`, null, 0);
    await deliver(f.id, i);
  }
  const a = await session();
  const setTimes = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t = performance.now();
    const done = await a.command(`s${r}`, 'NOTIFY SET STATUS (PERSONAL (MessageNew MessageExpunge FlagChange))');
    setTimes.push(performance.now() - t);
    if (!/ OK /.test(done)) throw new Error(done);
  }
  await a.command('n', 'NOTIFY NONE');
  console.log(`NOTIFY SET STATUS, ${FOLDERS} folders: median ${median(setTimes).toFixed(1)} ms (${ROUNDS} rounds)`);

  // 2. Deliveries with and without watching sessions, alternated.
  const target = await meta.mailboxes.getFolder(account.id, 'Archive');
  const watchers = [];
  for (let i = 0; i < SESSIONS; i++) watchers.push(await session());
  let n = 0;
  const withTimes = [];
  const withoutTimes = [];
  const latencies = [];
  for (let r = 0; r < ROUNDS; r++) {
    for (const watching of [false, true]) {
      for (const [i, w] of watchers.entries()) await w.command(`w${r}${i}`, watching ? 'NOTIFY SET (MAILBOXES Archive (MessageNew MessageExpunge))' : 'NOTIFY NONE');
      const t = performance.now();
      for (let k = 0; k < DELIVER; k++) await deliver(target.id, ++n);
      const deliverMs = performance.now() - t;
      if (!watching) {
        withoutTimes.push(deliverMs);
        continue;
      }
      withTimes.push(deliverMs);
      // Then one more, timed until every watcher has read its STATUS.
      await Promise.all(watchers.map((w) => w.command(`z${r}`, 'NOOP')));
      const t2 = performance.now();
      await deliver(target.id, ++n);
      const want = new RegExp(`^\\* STATUS "Archive" \\(MESSAGES ${n} `);
      await Promise.all(watchers.map((w) => w.until(want)));
      latencies.push(performance.now() - t2);
    }
  }
  console.log(`${DELIVER} deliveries into a folder: median ${median(withoutTimes).toFixed(1)} ms with no NOTIFY session, ${median(withTimes).toFixed(1)} ms with ${SESSIONS} sessions watching it (${ROUNDS} rounds each, alternated)`);
  console.log(`one delivery until all ${SESSIONS} watching sessions read its STATUS: median ${median(latencies).toFixed(1)} ms`);
} finally {
  for (const c of clients) c.close();
  await listener?.close();
  await meta.close();
  await blobs.close();
  await rm(dir, { recursive: true, force: true });
}
