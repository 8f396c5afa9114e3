// IMAP APPEND alone, as Python's imaplib sends it (literal and CRLF in two
// writes), against a fresh empty store: messages per second, and the
// server's CPU per message (each round also lists it per server thread:
// main is the event loop; blob writer threads are the ones near 1 ms). Builds are run alternately, so an A/B of two
// builds shares the machine's load.
//
//   node bench/imap-append.mjs [distA distB ...]
//
// Each argument is a compiled postern (default ../dist); every round starts
// a server child per build on a fresh store in a temp folder and appends
// BENCH_APPEND (1000) messages of about 0.6 KiB: the same bytes each time,
// as bench/imap.mjs sends them (stored once), or each its own with
// BENCH_DISTINCT=1 (a blob written per message). Small messages are rows
// of the database, as a server keeps them by default; BENCH_INLINE_KB=0
// makes each a file. BENCH_ROUNDS (5) rounds;
// the median per build is printed. BENCH_PORT (0: any free port) is the
// port the server listens on; BENCH_CPU_PROF=<dir> runs the server under
// node --cpu-prof. Everything listens on 127.0.0.1 and is stopped by pid.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes, scryptSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stop as stopChild } from './harness/procs.mjs';
import { launchFlags, threadBreakdown, threadSeconds } from './process-probe.mjs';

const APPEND = Number(process.env.BENCH_APPEND ?? 1000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const PORT = Number(process.env.BENCH_PORT ?? 0);
const USER = 'bench@bench.test';
const PASSWORD = 'bench-password-1';

function cheapHash(password) {
  const salt = randomBytes(16);
  const hash = scryptSync(Buffer.from(password), salt, 32, { N: 1024, r: 8, p: 1 });
  const b64 = (b) => b.toString('base64').replace(/=+$/, '');
  return `$scrypt$ln=10,r=8,p=1$${b64(salt)}$${b64(hash)}`;
}

async function serve(dist, dir) {
  const at = (p) => new URL(p, `file://${path.resolve(dist)}/`).href;
  const { openStore } = await import(at('store/index.js'));
  const { createImapListener } = await import(at('imap/index.js'));
  const { Directory } = await import(at('directory/directory.js'));
  const { MailboxNotifier } = await import(at('mailbox/notify.js'));
  const { provisionMailbox } = await import(at('mailbox/provision.js'));
  const { systemClock } = await import(at('core/clock.js'));
  const { silentLogger } = await import(at('metrics/logger.js'));
  const { DEFAULT_LOGIN_THROTTLE, LoginThrottle } = await import(at('net/throttle.js'));
  const { generateSelfSigned } = await import(at('crypto/selfsigned.js'));
  // As a server stores them by default ([store] inline_blob_kb = 32): small messages are rows. BENCH_INLINE_KB=0: files.
  const store = await openStore({ backend: 'sqlite', dataDir: path.join(dir, 'data'), inlineBlobBytes: Number(process.env.BENCH_INLINE_KB ?? 32) * 1024 });
  // As \`postern start\` does: metadata checkpoints beside the event loop (a build without it checkpoints in commits).
  store.meta.checkpointInBackground?.();
  const now = Date.now();
  await store.meta.directory.addDomain('bench.test', now);
  const account = await store.meta.directory.addAccount({ address: USER, passwordHash: cheapHash(PASSWORD) }, now);
  await provisionMailbox(store.meta.mailboxes, account.id, now);
  const { certPem, keyPem } = await generateSelfSigned({ hostname: 'mail.bench.test', altNames: ['localhost'] });
  const listener = createImapListener('tls', {
    hostname: 'mail.bench.test',
    directory: new Directory(store.meta.directory),
    mailboxes: store.meta.mailboxes,
    blobs: store.blobs,
    notifier: new MailboxNotifier(),
    clock: systemClock,
    log: silentLogger(),
    tls: { cert: certPem, key: keyPem, minVersion: 'TLSv1.2' },
    limits: {
      maxConnections: 10,
      maxConnectionsPerClient: 10,
      maxLiteralSize: 64 * 1024 * 1024,
      maxLineLength: 64 * 1024,
      idleTimeoutMs: 60_000,
      preAuthTimeoutMs: 60_000,
      maxPendingPerClient: 10,
      reservedConnections: 0,
      commandTimeoutMs: 60_000,
      minTransferRate: 1024,
    },
    authThrottle: new LoginThrottle({ ...DEFAULT_LOGIN_THROTTLE, maxSourceFailures: 1000, windowMs: 60_000, lockoutMs: 1, delayMinMs: 0 }, systemClock),
  });
  const port = await listener.listen(PORT, '127.0.0.1');
  process.stdout.write(`PORT ${port}\n`);
  process.on('SIGTERM', () => {
    void listener
      .close()
      .then(() => store.close())
      .finally(() => process.exit(0));
  });
}

const CLIENT = String.raw`
import imaplib, ssl, sys, time, resource
port, user, password, n, distinct = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5] == '1'
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
m = imaplib.IMAP4_SSL('127.0.0.1', port, ssl_context=ctx, timeout=60)
m.login(user, password)
m.create('AppendBench')
msg = b'From: a@remote.test\r\nTo: ' + user.encode() + b'\r\nSubject: append\r\n\r\n' + b'line of text\r\n' * 40
t0 = time.perf_counter()
for i in range(n):
    typ, _ = m.append('AppendBench', None, None, msg + str(i).encode() + b'\r\n' if distinct else msg)
    if typ != 'OK': raise SystemExit('APPEND failed')
print(n / (time.perf_counter() - t0))
m.logout()
`;

/** utime+stime of a process in seconds, from /proc. */
function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

function start(dist, dir) {
  const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(process.env.BENCH_CPU_PROF)}`] : [];
  const child = spawn(process.execPath, [...launchFlags(path.join(dist, 'cli/main.js')), ...prof, new URL(import.meta.url).pathname, 'serve', dist, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server not ready:\n${text}`)), 60_000);
    child.stdout.setEncoding('utf8').on('data', (d) => {
      text += d;
      const m = /PORT (\d+)/.exec(text);
      if (m) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[1]) });
      }
    });
    child.stderr.setEncoding('utf8').on('data', (d) => (text += d));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${text}`));
    });
  });
}

async function once(dist, root) {
  const dir = mkdtempSync(path.join(root, 'run-'));
  mkdirSync(path.join(dir, 'data'), { mode: 0o700 });
  const { child, port } = await start(dist, dir);
  try {
    const cpu0 = cpuSeconds(child.pid);
    const threads0 = threadSeconds(child.pid);
    const r = spawnSync('python3', ['-c', CLIENT, String(port), USER, PASSWORD, String(APPEND), process.env.BENCH_DISTINCT ? '1' : '0'], { encoding: 'utf8', timeout: 300_000 });
    if (r.status !== 0) throw new Error(`imaplib APPEND failed: ${r.stderr}`);
    const cpuMs = ((cpuSeconds(child.pid) - cpu0) * 1000) / APPEND;
    return { rate: Number(r.stdout.trim()), cpuMs, threads: threadBreakdown(threads0, threadSeconds(child.pid), APPEND) };
  } finally {
    // The store stays until the end: files deleted within the last seconds make ext4
    // (without a journal) skip their inodes on each create, which charged later rounds.
    await stopChild(child, 20_000);
  }
}

async function main() {
  const dists = process.argv.length > 2 ? process.argv.slice(2) : [new URL('../dist', import.meta.url).pathname];
  const root = mkdtempSync(path.join(tmpdir(), 'postern-bench-append-'));
  const results = dists.map(() => []);
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, dist] of dists.entries()) {
        const r = await once(dist, root);
        results[i].push(r);
        console.error(`round ${round + 1} ${dist}: ${r.rate.toFixed(0)} msg/s, ${r.cpuMs.toFixed(2)} ms CPU/msg (${r.threads})`);
      }
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  for (const [i, dist] of dists.entries()) {
    const rates = results[i].map((r) => r.rate);
    console.log(`${dist}: median ${median(rates).toFixed(0)} msg/s (${rates.map((x) => x.toFixed(0)).join(', ')}), CPU ${median(results[i].map((r) => r.cpuMs)).toFixed(2)} ms/msg`);
  }
}

if (process.argv[2] === 'serve') await serve(process.argv[3], process.argv[4]);
else await main();
