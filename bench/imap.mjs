// IMAP server benchmark: a mailbox of 100,000 messages and thousands of IDLE
// connections, measured with a raw TLS client from this process while the
// server runs in a child process (so client and server memory stay apart).
//
//   npx tsc -p tsconfig.build.json && node bench/imap.mjs
//
// Measures: the first LOGIN+SELECT once the server is idle after its start
// (cold: its index of the big mailbox built or read then), LOGIN+SELECT (and
// each apart), UID FETCH 1:* (FLAGS), 10,000 full messages (BODY.PEEK[];
// first after start, and again in the same session), SEARCH HEADER Subject
// "needle" (one match; wall time and the server's CPU, all its threads, from
// /proc), 10,000 ENVELOPEs,
// APPEND by Python's imaplib, and the server's memory (PSS and RSS) per IDLE
// connection, read right after the first LOGIN+SELECT, before the other
// cells (postern's server runs a full garbage collection before each memory
// reading, and a reading is taken once the memory stops shrinking). The
// IDLE connections log in to a second account with a 10-message INBOX, as
// many users each with their own mailbox would; both accounts' passwords are
// hashed at scrypt cost 2^10 so thousands of logins measure IMAP, not the key
// derivation.
//
// Every message of the big mailbox is distinct (its own Subject, Message-ID,
// Date and body, so its own blob): no per-blob cache is flattered by a
// handful of blobs behind many rows. The blobs are written in parallel
// batches of 64 and the metadata in one transaction, once, into a template
// under bench/out/imap-template-<messages>/ (BENCH_REBUILD=1 rebuilds it).
// Each run starts from a fresh copy of it (metadata copied, blob files
// hard-linked: blobs are never changed in place), so every run sees the same
// data and nothing a server derived in an earlier run. SEARCH is reported
// twice: the first one after the server started (what a server builds on
// first use, it builds here) and the median of the later rounds.
//
// If Debian's dovecot-imapd is installed (/usr/sbin/dovecot), the same client
// measures a private Dovecot on loopback with its own config in a temp
// folder, for numbers side by side.
//
// Environment: BENCH_MESSAGES (100000), BENCH_FETCH (10000), BENCH_IDLE
// (5000), BENCH_DOVECOT_IDLE (as BENCH_IDLE; each Dovecot IMAP connection is
// a process of its own, about 0.6 MiB PSS), BENCH_SERVERS (postern,dovecot),
// BENCH_ROUNDS (3), BENCH_KEEP=1 keeps the temp folder, BENCH_REBUILD=1
// rebuilds the stored template, BENCH_APPEND (300) messages APPENDed by
// Python's imaplib (literal and CRLF in separate writes, as imaplib sends
// them; 0 skips), BENCH_CPU_PROF=<dir> runs the postern server under
// node --cpu-prof and writes its profile there, BENCH_DIST (../dist) the
// compiled postern to measure (another build, for a before/after),
// BENCH_PORT (0: any free port) the port postern listens on, Dovecot the next,
// BENCH_READ_CACHE_MB (64, as `postern init` sets [store] read_cache_mb) postern's read cache,
// BENCH_CACHE (cold): `cold` drops each server's files (mail, indexes,
// metadata) from the OS page cache before each cell that reads them first
// (the cold LOGIN+SELECT, the first body FETCH, the first SEARCH), so both
// servers start those cells from the disk; `warm` reads them all into it
// instead, so those cells measure the servers' own work; `as-is` leaves the
// page cache alone. Why: a machine may reclaim file pages that sat unused for a while
// (a VM returning memory to its host does; the one these figures come from
// pages out whatever went untouched for about a minute), and then a cell
// measures when each server's files were last touched (Dovecot's are written
// just before it is measured, postern's template long before) rather than
// the server.
// BENCH_BLOBS (inline): `inline` stores the template's messages as postern
// stores mail by default ([store] inline_blob_kb = 32: each of these small
// messages a row in the metadata database); `files` stores each as a blob
// file (inline_blob_kb = 0, and mail for accounts [encryption_at_rest] covers). The
// server's own setting (APPEND) stays the default either way.
// Everything listens on 127.0.0.1 only; every loop is bounded; everything
// started here is stopped by its pid at the end.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes, scryptSync } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import { stop as stopChild } from './harness/procs.mjs';
import { launchFlags } from './process-probe.mjs';
import { statusMessage } from './status-message.mjs';

const DIST = process.env.BENCH_DIST ? new URL(`file://${path.resolve(process.env.BENCH_DIST)}/`) : new URL('../dist/', import.meta.url);
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 100_000);
const FETCH = Math.min(MESSAGES, Number(process.env.BENCH_FETCH ?? 10_000));
const IDLE = Number(process.env.BENCH_IDLE ?? 5000);
const DOVECOT_IDLE = Number(process.env.BENCH_DOVECOT_IDLE ?? IDLE);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const READ_CACHE_MB = Number(process.env.BENCH_READ_CACHE_MB ?? 64);
const SERVERS = (process.env.BENCH_SERVERS ?? 'postern,dovecot').split(',');
/** First of two fixed ports (postern, Dovecot); 0: any free ones. */
const PORT_BASE = Number(process.env.BENCH_PORT ?? 0);
const CACHE = process.env.BENCH_CACHE ?? 'cold';
const BLOBS = process.env.BENCH_BLOBS ?? 'inline';
if (!['inline', 'files'].includes(BLOBS)) throw new Error(`BENCH_BLOBS must be inline or files, not ${BLOBS}`);
if (!['cold', 'warm', 'as-is'].includes(CACHE)) throw new Error(`BENCH_CACHE must be cold, warm or as-is, not ${CACHE}`);
const DOMAIN = 'bench.test';
const BENCH_USER = `bench@${DOMAIN}`;
const IDLE_USER = `idler@${DOMAIN}`;
const PASSWORD = 'bench-password-1';
const NEEDLE_AT = Math.max(1, Math.floor(MESSAGES * 0.777));
/** Bump when message() or the stored layout changes: an old template is then rebuilt. */
const TEMPLATE_FORMAT = 3;
const TEMPLATE = new URL(`out/imap-template-${MESSAGES}${BLOBS === 'inline' ? '-inline' : ''}/`, import.meta.url).pathname;

// ---------------------------------------------------------------- the server child

async function serve(dir) {
  const { openStore } = await import(new URL('store/index.js', DIST).href);
  const { createImapListener } = await import(new URL('imap/index.js', DIST).href);
  const { Directory } = await import(new URL('directory/directory.js', DIST).href);
  const { MailboxNotifier } = await import(new URL('mailbox/notify.js', DIST).href);
  const { systemClock } = await import(new URL('core/clock.js', DIST).href);
  const { silentLogger } = await import(new URL('metrics/logger.js', DIST).href);
  const { DEFAULT_LOGIN_THROTTLE, LoginThrottle } = await import(new URL('net/throttle.js', DIST).href);
  // The read cache as `postern init` configures it ([store] read_cache_mb = 64; BENCH_READ_CACHE_MB changes it).
  // Small messages kept as rows, as `postern start` keeps them by default ([store] inline_blob_kb = 32):
  // the APPENDed ones go where a server puts them, whatever BENCH_BLOBS made of the template.
  const store = await openStore({ backend: 'sqlite', dataDir: path.join(dir, 'data'), readCacheBytes: READ_CACHE_MB * 1024 * 1024, inlineBlobBytes: 32 * 1024 });
  // As `postern start` does: the blob threads start now and stay, the search-part deriver loaded (a build without it starts them on first use).
  const { SEARCH_PART_DERIVER } = await import(new URL('mailbox/search-part.js', DIST).href);
  store.blobs.keepWarm?.([SEARCH_PART_DERIVER]);
  store.meta.checkpointInBackground?.();
  const lax = { maxSourceFailures: 1_000_000, windowMs: 60_000, lockoutMs: 1 };
  const listener = createImapListener('tls', {
    hostname: 'mail.' + DOMAIN,
    directory: new Directory(store.meta.directory),
    mailboxes: store.meta.mailboxes,
    blobs: store.blobs,
    notifier: new MailboxNotifier(),
    clock: systemClock,
    log: silentLogger(),
    tls: { cert: readFileSync(path.join(dir, 'cert.pem')), key: readFileSync(path.join(dir, 'key.pem')), minVersion: 'TLSv1.2' },
    limits: {
      maxConnections: IDLE + 1000,
      maxConnectionsPerClient: IDLE + 1000,
      maxLiteralSize: 64 * 1024 * 1024,
      maxLineLength: 64 * 1024,
      idleTimeoutMs: 30 * 60_000,
      preAuthTimeoutMs: 120_000,
      maxPendingPerClient: IDLE + 1000,
      reservedConnections: 0,
      commandTimeoutMs: 60_000,
      minTransferRate: 1024,
    },
    authThrottle: new LoginThrottle({ ...DEFAULT_LOGIN_THROTTLE, ...lax, delayMinMs: 0 }, systemClock),
  });
  const port = await listener.listen(PORT_BASE, '127.0.0.1');
  process.stdout.write(`PORT ${port}\n`);
  // The bench asks for a full collection before each memory reading, so earlier rounds' garbage is not counted.
  process.on('SIGUSR2', () => globalThis.gc?.());
  process.on('SIGTERM', () => {
    void listener
      .close()
      .then(() => store.close())
      .finally(() => process.exit(0));
  });
}

// ---------------------------------------------------------------- data

/** Message i of the big mailbox; only message NEEDLE_AT has "needle" in its Subject. */
function message(i, needle = false) {
  return statusMessage(i, BENCH_USER, needle ? 'needle in the haystack' : undefined);
}

const benchMessage = (i) => message(i, i === NEEDLE_AT);

/** A PHC scrypt string at cost 2^10: thousands of logins measure IMAP, not the key derivation. */
function cheapHash(password) {
  const salt = randomBytes(16);
  const hash = scryptSync(Buffer.from(password.normalize('NFC')), salt, 32, { N: 1024, r: 8, p: 1 });
  const b64 = (b) => b.toString('base64').replace(/=+$/, '');
  return `$scrypt$ln=10,r=8,p=1$${b64(salt)}$${b64(hash)}`;
}

/**
 * Builds the stored mailbox once under bench/out (the blobs alone take minutes
 * to write durably), then gives each run its own copy: the metadata file
 * copied, the blob files hard-linked (the blob store only ever replaces a file
 * by renaming a new one over it, so the template is never changed).
 */
async function preparePostern(dir, certPem, keyPem) {
  writeFileSync(path.join(dir, 'cert.pem'), certPem);
  writeFileSync(path.join(dir, 'key.pem'), keyPem, { mode: 0o600 });
  const marker = path.join(TEMPLATE, 'ready.json');
  const want = JSON.stringify({ format: TEMPLATE_FORMAT, messages: MESSAGES });
  if (process.env.BENCH_REBUILD || !existsSync(marker) || readFileSync(marker, 'utf8') !== want) {
    rmSync(TEMPLATE, { recursive: true, force: true });
    mkdirSync(TEMPLATE, { recursive: true });
    await buildTemplate(path.join(TEMPLATE, 'data'));
    writeFileSync(marker, want);
  } else {
    console.error(`  reusing the stored template ${TEMPLATE}`);
  }
  const data = path.join(dir, 'data');
  mkdirSync(data, { mode: 0o700 });
  copyFileSync(path.join(TEMPLATE, 'data', 'meta.sqlite'), path.join(data, 'meta.sqlite'));
  const cp = spawnSync('cp', ['-al', path.join(TEMPLATE, 'data', 'blobs'), path.join(data, 'blobs')], { encoding: 'utf8' });
  if (cp.status !== 0) throw new Error(`cp -al failed: ${cp.stderr}`);
}

async function buildTemplate(dataDir) {
  const { openStore } = await import(new URL('store/index.js', DIST).href);
  const { provisionMailbox } = await import(new URL('mailbox/provision.js', DIST).href);
  const { appendInTx } = await import(new URL('store/backends/sqlite/mailboxes.js', DIST).href);
  const store = await openStore({ backend: 'sqlite', dataDir, inlineBlobBytes: BLOBS === 'inline' ? 32 * 1024 : 0 });
  try {
    const now = Date.now();
    await store.meta.directory.addDomain(DOMAIN, now);
    const bench = await store.meta.directory.addAccount({ address: BENCH_USER, passwordHash: cheapHash(PASSWORD) }, now);
    const idler = await store.meta.directory.addAccount({ address: IDLE_USER, passwordHash: cheapHash(PASSWORD) }, now);
    await provisionMailbox(store.meta.mailboxes, bench.id, now);
    await provisionMailbox(store.meta.mailboxes, idler.id, now);
    // Durable blob writes, 64 at a time: the disk's queue stays full without holding every message in memory.
    const put = async (count, make) => {
      const refs = [];
      const t0 = performance.now();
      for (let i = 1; i <= count; i += 64) {
        const batch = [];
        for (let j = i; j < i + 64 && j <= count; j++) batch.push(make(j));
        for (const r of await Promise.all(batch.map(async (m) => ({ ...(await store.blobs.put(m)), size: m.length })))) refs.push(r);
        if (i % 10_000 < 64 && i > 1) console.error(`  ${i - 1} blobs written (${fmt(ms(t0) / 1000)} s)`);
      }
      return refs;
    };
    const refs = await put(MESSAGES, benchMessage);
    const idleRefs = await put(10, (i) => message(i));
    const inbox = await store.meta.mailboxes.getFolder(bench.id, 'INBOX');
    const idleInbox = await store.meta.mailboxes.getFolder(idler.id, 'INBOX');
    // One transaction through the SQLite backend's own append step: 100,000 rows in seconds.
    const db = store.meta.db;
    db.transaction(() => {
      refs.forEach((ref, k) => {
        const i = k + 1;
        appendInTx(db, inbox.id, { blobId: ref.id, size: ref.size, internalDate: now - (MESSAGES - i) * 1000, flags: i % 3 ? ['\\Seen'] : [] });
      });
      for (const ref of idleRefs) appendInTx(db, idleInbox.id, { blobId: ref.id, size: ref.size, internalDate: now, flags: [] });
    })();
  } finally {
    await store.close();
  }
}

// ---------------------------------------------------------------- a raw TLS IMAP client

class Conn {
  constructor(sock) {
    this.sock = sock;
    this.buf = Buffer.alloc(0);
    this.literal = 0;
    this.waiting = null; // { tag, resolve, reject, lines, literalBytes }
    this.greeting = null;
    this.closed = false;
    sock.on('data', (d) => this.onData(d));
    sock.on('error', (e) => this.fail(e));
    sock.on('close', () => {
      this.closed = true;
      this.fail(new Error('connection closed'));
    });
  }

  static open(port, ca) {
    return new Promise((resolve, reject) => {
      const s = tls.connect({ port, host: '127.0.0.1', ca, servername: 'localhost' }, () => {
        const c = new Conn(s);
        c.waiting = { tag: '*greeting*', resolve: () => resolve(c), reject, lines: 0, literalBytes: 0 };
      });
      s.once('error', reject);
    });
  }

  fail(e) {
    const w = this.waiting;
    this.waiting = null;
    w?.reject(e);
  }

  onData(d) {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    let at = 0;
    for (;;) {
      if (this.literal > 0) {
        const take = Math.min(this.literal, this.buf.length - at);
        this.literal -= take;
        at += take;
        if (this.waiting) this.waiting.literalBytes += take;
        if (this.literal > 0) break;
        continue;
      }
      const eol = this.buf.indexOf('\r\n', at);
      if (eol < 0) break;
      const line = this.buf.toString('latin1', at, eol);
      at = eol + 2;
      const lit = /\{(\d+)\}$/.exec(line);
      if (lit) this.literal = Number(lit[1]);
      const w = this.waiting;
      if (!w) continue;
      w.lines++;
      if (w.onLine) w.onLine(line);
      if (w.tag === '*greeting*' || line.startsWith(w.tag + ' ') || (w.tag === '+' && line.startsWith('+'))) {
        this.waiting = null;
        w.last = line;
        w.resolve(w);
      }
    }
    this.buf = at >= this.buf.length ? Buffer.alloc(0) : this.buf.subarray(at);
  }

  /** Sends a command; resolves with { last, lines, literalBytes } at its tagged reply (or at "+" when until is '+'). */
  send(tag, text, { until, onLine } = {}) {
    return new Promise((resolve, reject) => {
      this.waiting = { tag: until ?? tag, resolve, reject, lines: 0, literalBytes: 0, onLine };
      this.sock.write(`${tag} ${text}\r\n`);
    });
  }

  async ok(tag, text, opts) {
    const r = await this.send(tag, text, opts);
    if (!(opts?.until === '+' ? /^\+/ : new RegExp(`^${tag} OK`)).test(r.last)) throw new Error(`${tag} ${text.slice(0, 60)}: ${r.last}`);
    return r;
  }

  close() {
    this.sock.destroy();
  }
}

// ---------------------------------------------------------------- measurements

const ms = (t0) => performance.now() - t0;
const fmt = (x) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function loginSelect(port, ca, user, mailbox = 'INBOX') {
  const c = await Conn.open(port, ca);
  const t0 = performance.now();
  await c.ok('a1', `LOGIN "${user}" "${PASSWORD}"`);
  const loginMs = ms(t0);
  const t1 = performance.now();
  const sel = await c.ok('a2', `SELECT ${mailbox}`, { onLine: () => undefined });
  return { c, sel, loginMs, selectMs: ms(t1) };
}

const APPEND = Number(process.env.BENCH_APPEND ?? 300);

/**
 * Messages per second APPENDed by Python's imaplib, which sends the literal
 * and its closing CRLF in two writes: a server that leaves Nagle's algorithm
 * on, or answers in pieces, stalls each APPEND on a delayed ACK. Each
 * message is distinct: the same bytes again would let a content-addressed
 * store skip the write (and its cached headers) that real mail always costs.
 */
function appendRate(port) {
  const script = String.raw`
import imaplib, ssl, sys, time
port, user, password, n = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
m = imaplib.IMAP4_SSL('127.0.0.1', port, ssl_context=ctx, timeout=60)
m.login(user, password)
m.create('AppendBench')
body = b'line of text\r\n' * 40
# Every message differs (Message-ID, Subject), as real mail does: no store may share one copy.
msgs = [b'From: a@remote.test\r\nTo: ' + user.encode() + b'\r\nSubject: append %d\r\nMessage-ID: <%d.%d@remote.test>\r\n\r\n' % (i, i, t) + body for t in [int(time.time() * 1000)] for i in range(n)]
t0 = time.perf_counter()
for msg in msgs:
    typ, _ = m.append('AppendBench', None, None, msg)
    if typ != 'OK': raise SystemExit('APPEND failed')
print(n / (time.perf_counter() - t0))
m.logout()
`;
  const r = spawnSync('python3', ['-c', script, String(port), BENCH_USER, PASSWORD, String(APPEND)], { encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) throw new Error(`imaplib APPEND failed: ${r.stderr}`);
  return Number(r.stdout.trim());
}

/**
 * Waits until the server has finished starting: its processes and threads
 * used at most one 10 ms clock tick of CPU over the last 300 ms (waits 10 s
 * at most). A server that starts threads or processes after it listens would
 * otherwise have them compete with the first command (postern's four blob
 * threads load their modules then), and the cold cell would time the start,
 * not the index being built.
 */
async function settle(pids) {
  const until = performance.now() + 10_000;
  let last = cpuMs(pids());
  while (performance.now() < until) {
    await new Promise((r) => setTimeout(r, 300));
    const now = cpuMs(pids());
    if (now - last < 15) return;
    last = now;
  }
}

/**
 * Sets every file under `dir` to the page cache state BENCH_CACHE asks for:
 * `cold` writes them back and drops them (POSIX_FADV_DONTNEED on each;
 * Python's os module has the call, Node has none), `warm` reads each whole
 * into the cache. Directory entries and inodes stay cached either way.
 * Returns the files set; throws when a sample (read with util-linux's
 * fincore, where installed) shows the wrong state, rather than measure
 * something else.
 */
function setCache(dir) {
  if (CACHE === 'as-is') return 0;
  const script = `
import os, stat, sys
warm = sys.argv[2] == 'warm'
os.sync()
n = 0
sample = []
for base, dirs, files in os.walk(sys.argv[1]):
    for f in files:
        p = os.path.join(base, f)
        try:
            # Regular files only: a server's sockets and FIFOs live here too (opening a FIFO would block).
            if not stat.S_ISREG(os.lstat(p).st_mode):
                continue
            fd = os.open(p, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            continue
        try:
            if warm:
                while os.read(fd, 1 << 20):
                    pass
            else:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            n += 1
            if n % 1000 == 1 and len(sample) < 100 and os.path.getsize(p) > 0:
                sample.append(p)
        finally:
            os.close(fd)
print(n)
print('\\n'.join(sample))
`;
  const r = spawnSync('python3', ['-c', script, dir, CACHE], { encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) throw new Error(`setting ${dir} ${CACHE} in the page cache failed: ${r.stderr}`);
  const [count, ...sample] = r.stdout.trim().split('\n');
  const fc = sample.length > 0 ? spawnSync('fincore', ['--bytes', '--noheadings', '--raw', '--output', 'RES', ...sample], { encoding: 'utf8' }) : null;
  if (fc && fc.status === 0) {
    const res = fc.stdout.trim().split('\n').map((l) => Number(l || 0));
    const wrong = CACHE === 'cold' ? res.filter((b) => b > 0).length : res.filter((b) => b === 0).length;
    if (wrong > 0) throw new Error(`setting ${dir} ${CACHE} in the page cache did not work: ${wrong} of ${sample.length} sampled files are not ${CACHE}`);
  }
  return Number(count);
}

/**
 * `collect` (postern: a full GC in the server) runs before each memory
 * reading; `dataDir` holds every file the server reads (dropped from the page
 * cache before the cells that read them first, BENCH_CACHE).
 */
async function measure(name, port, ca, pids, dataDir, collect = () => undefined) {
  const out = { name };
  const set = setCache(dataDir);
  if (CACHE !== 'as-is') console.error(`  ${name}: ${set} files made ${CACHE} in the page cache before each first read`);
  await settle(pids);
  // Cold: the first SELECT of the big mailbox (Dovecot builds its index here), once the server has started.
  let t0 = performance.now();
  let { c } = await loginSelect(port, ca, BENCH_USER);
  out.coldLoginSelectMs = ms(t0);
  c.close();
  // Memory per IDLE connection before the other cells, so neither their garbage nor what a
  // server keeps from them (postern's read cache, Dovecot's caches) moves the readings.
  out.idle = await idleMemory(port, ca, pids, name === 'dovecot' ? DOVECOT_IDLE : IDLE, collect);

  const times = { loginSelect: [], login: [], select: [], flags: [], fetch: [], fetchAgain: [], search: [], searchCpu: [], envelope: [] };
  let fetchBytes = 0;
  let flagsLines = 0;
  let needleHits = '';
  for (let round = 0; round < ROUNDS; round++) {
    t0 = performance.now();
    const ls = await loginSelect(port, ca, BENCH_USER);
    c = ls.c;
    times.loginSelect.push(ms(t0));
    times.login.push(ls.loginMs);
    times.select.push(ls.selectMs);

    t0 = performance.now();
    const f = await c.ok('b1', 'UID FETCH 1:* (FLAGS)');
    times.flags.push(ms(t0));
    flagsLines = f.lines - 1;

    if (round === 0) setCache(dataDir);
    t0 = performance.now();
    const b = await c.ok('b2', `FETCH 1:${FETCH} (BODY.PEEK[])`);
    times.fetch.push(ms(t0));
    fetchBytes = b.literalBytes;

    // The same bodies again: what the server (and the OS) kept from the first time.
    t0 = performance.now();
    await c.ok('b2a', `FETCH 1:${FETCH} (BODY.PEEK[])`);
    times.fetchAgain.push(ms(t0));

    if (round === 0) setCache(dataDir);
    t0 = performance.now();
    const cpu0 = cpuMs(pids());
    let hit = '';
    await c.ok('b3', 'SEARCH HEADER Subject "needle"', { onLine: (l) => l.startsWith('* SEARCH') && (hit = l) });
    times.search.push(ms(t0));
    times.searchCpu.push(cpuMs(pids()) - cpu0);
    needleHits = hit;

    t0 = performance.now();
    await c.ok('b4', `FETCH 1:${FETCH} (ENVELOPE)`);
    times.envelope.push(ms(t0));
    await c.ok('b5', 'LOGOUT').catch(() => undefined);
    c.close();
  }
  out.loginSelectMs = median(times.loginSelect);
  out.loginMs = median(times.login);
  out.selectMs = median(times.select);
  out.fetchBodiesFirstMs = times.fetch[0];
  out.fetchBodiesAgainMs = median(times.fetchAgain);
  out.fetchFlagsMs = median(times.flags);
  out.fetchFlagsLines = flagsLines;
  out.fetchBodiesMs = median(times.fetch);
  out.fetchBodiesMiB = fetchBytes / 1024 / 1024;
  out.pageCache = CACHE;
  if (name === 'postern') out.blobs = BLOBS === 'inline' ? 'in the database (inline_blob_kb = 32)' : 'one file each';
  // The first SEARCH pays for whatever the server builds on first use; the later rounds show the steady state.
  out.searchFirstMs = times.search[0];
  out.searchMs = median(times.search.length > 1 ? times.search.slice(1) : times.search);
  // Server CPU (all its threads), which a loaded machine disturbs less than wall time.
  out.searchFirstCpuMs = times.searchCpu[0];
  out.searchCpuMs = median(times.searchCpu.length > 1 ? times.searchCpu.slice(1) : times.searchCpu);
  out.searchResult = needleHits;
  out.envelopeMs = median(times.envelope);
  out.appendPerSecond = APPEND > 0 ? appendRate(port) : NaN;
  return out;
}

/**
 * The server's memory once it stops shrinking: a collection (postern), half a
 * second, a reading, until two readings differ by under 1 MiB (at most 10 s).
 * Freed memory goes back to the system some time after a collection, and a
 * reading taken meanwhile would count garbage from the earlier cells.
 */
async function settledMemory(pids, collect) {
  let last = null;
  for (let i = 0; i < 20; i++) {
    collect();
    await new Promise((r) => setTimeout(r, 500));
    const now = memoryKiB(pids());
    if (last && Math.abs(now.pss - last.pss) < 1024) return now;
    last = now;
  }
  return last;
}

/** Opens n connections that log in, select a small INBOX and IDLE; reports the server's memory per connection. */
async function idleMemory(port, ca, pids, n, collect) {
  const BATCH = 100;
  const WARM = 10;
  const conns = [];
  const open = async (count) => {
    const batch = await Promise.all(
      Array.from({ length: count }, async () => {
        const { c } = await loginSelect(port, ca, IDLE_USER);
        await c.ok('i1', 'IDLE', { until: '+' });
        return c;
      }),
    );
    conns.push(...batch);
  };
  try {
    // A first batch, kept open and not counted: the code paths of LOGIN, SELECT and IDLE
    // compiled (postern's JIT) and the first processes started (Dovecot) before the reading.
    await open(WARM);
    const before = await settledMemory(pids, collect);
    const t0 = performance.now();
    for (let i = 0; i < n; i += BATCH) await open(Math.min(BATCH, n - i));
    const openMs = ms(t0);
    const after = await settledMemory(pids, collect);
    const alive = conns.filter((c) => !c.closed).length - WARM;
    return {
      connections: n,
      alive,
      processes: pids().length,
      openSeconds: openMs / 1000,
      beforeMiB: before.pss / 1024,
      afterMiB: after.pss / 1024,
      perConnectionKiB: (after.pss - before.pss) / n,
      rssBeforeMiB: before.rss / 1024,
      rssAfterMiB: after.rss / 1024,
      rssPerConnectionKiB: (after.rss - before.rss) / n,
    };
  } finally {
    for (const c of conns) c.close();
  }
}

/**
 * Memory of the server's processes in KiB: PSS (shared pages divided among
 * the processes that share them, so a forking server is not overcounted) and
 * plain RSS, each summed over the processes.
 */
function memoryKiB(pids) {
  let pss = 0;
  let rss = 0;
  for (const pid of pids) {
    try {
      pss += Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
      rss += Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // the process ended between listing and reading
    }
  }
  return { pss, rss };
}

/** CPU time (user + system, all threads) the processes have used, in ms (10 ms steps). */
function cpuMs(pids) {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // gone meanwhile
    }
  }
  return ticks * 10;
}

/** pid and all its descendants, from /proc. */
function treeOf(root) {
  const children = new Map();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(e));
    } catch {
      // gone
    }
  }
  const out = [];
  const stack = [root];
  while (stack.length && out.length < 100_000) {
    const p = stack.pop();
    out.push(p);
    stack.push(...(children.get(p) ?? []));
  }
  return out;
}

// ---------------------------------------------------------------- processes

function startChild(cmd, args, opts, ready, timeoutMs = 120_000) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  let text = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${cmd} not ready in ${timeoutMs} ms:\n${text}`)), timeoutMs);
    const on = (d) => {
      text += d;
      const v = ready(text);
      if (v) {
        clearTimeout(timer);
        resolve({ child, value: v });
      }
    };
    child.stdout.setEncoding('utf8').on('data', on);
    child.stderr.setEncoding('utf8').on('data', (d) => (text += d));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${cmd} exited with ${code}:\n${text}`));
    });
  });
}

function freePort() {
  if (PORT_BASE > 0) return Promise.resolve(PORT_BASE + 1);
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

async function waitPort(port, timeoutMs = 30_000) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const ok = await new Promise((r) => {
      const s = net.connect({ port, host: '127.0.0.1' }, () => (s.destroy(), r(true)));
      s.once('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`port ${port} did not open`);
}

// ---------------------------------------------------------------- Dovecot

async function prepareDovecot(dir, certPem, keyPem) {
  const port = await freePort();
  for (const d of ['run', 'state', 'home']) mkdirSync(path.join(dir, d), { recursive: true });
  writeFileSync(path.join(dir, 'cert.pem'), certPem);
  writeFileSync(path.join(dir, 'key.pem'), keyPem, { mode: 0o600 });
  writeFileSync(path.join(dir, 'users'), [BENCH_USER, IDLE_USER].map((u) => `${u}:{PLAIN}${PASSWORD}::::::\n`).join(''));
  const limit = DOVECOT_IDLE + 200;
  writeFileSync(
    path.join(dir, 'dovecot.conf'),
    `base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <${dir}/cert.pem
ssl_key = <${dir}/key.pem
auth_mechanisms = plain
first_valid_uid = 1
default_client_limit = ${limit * 2}
default_process_limit = ${limit}
default_vsz_limit = 1G
mail_location = maildir:~/Maildir
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${dir}/users
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=${dir}/home/%n
}
protocol imap {
  mail_max_userip_connections = ${limit}
}
service imap-login {
  inet_listener imap {
    port = 0
  }
  inet_listener imaps {
    port = ${port}
    ssl = yes
  }
  service_count = 0
  process_min_avail = 2
  client_limit = ${limit}
}
service imap {
  process_limit = ${limit}
}
service anvil {
  client_limit = ${limit * 3}
}
`,
  );
  // The same messages as postern's, as Maildir files with the same flags.
  const lf = (b) => Buffer.from(b.toString('latin1').replace(/\r\n/g, '\n'), 'latin1');
  for (const [user, count] of [
    ['bench', MESSAGES],
    ['idler', 10],
  ]) {
    const md = path.join(dir, 'home', user, 'Maildir');
    for (const sub of ['cur', 'new', 'tmp']) mkdirSync(path.join(md, sub), { recursive: true });
    const base = Math.floor(Date.now() / 1000) - count;
    for (let i = 1; i <= count; i++) {
      const m = user === 'bench' ? benchMessage(i) : message(i);
      const seen = user === 'bench' && i % 3 ? 'S' : '';
      const bytes = lf(m);
      writeFileSync(path.join(md, 'cur', `${base + i}.M${i}P1.bench,S=${bytes.length}:2,${seen}`), bytes);
    }
  }
  spawnSync('chown', ['-R', 'nobody:nogroup', path.join(dir, 'home')]);
  return port;
}

// ---------------------------------------------------------------- main

function table(rows) {
  const line = (label, f) => `| ${label} | ${rows.map(f).join(' | ')} |`;
  const out = [
    `| (median of ${ROUNDS}) | ${rows.map((r) => r.name).join(' | ')} |`,
    `|---|${rows.map(() => '---').join('|')}|`,
    line('files in the page cache before each first read (BENCH_CACHE)', (r) => r.pageCache),
    line('where postern keeps the messages (BENCH_BLOBS)', (r) => r.blobs ?? ''),
    line('first LOGIN+SELECT, cold (ms)', (r) => fmt(r.coldLoginSelectMs)),
    line('LOGIN+SELECT (ms)', (r) => fmt(r.loginSelectMs)),
    line('LOGIN (ms)', (r) => fmt(r.loginMs)),
    line(`SELECT INBOX, ${MESSAGES} msgs (ms)`, (r) => fmt(r.selectMs)),
    line(`UID FETCH 1:* (FLAGS), ${MESSAGES} msgs (ms)`, (r) => `${fmt(r.fetchFlagsMs)} (${r.fetchFlagsLines} lines)`),
    line(`FETCH 1:${FETCH} (BODY.PEEK[]) (ms)`, (r) => `${fmt(r.fetchBodiesMs)} (${r.fetchBodiesMiB.toFixed(1)} MiB)`),
    line(`FETCH 1:${FETCH} (BODY.PEEK[]), first after start (ms)`, (r) => fmt(r.fetchBodiesFirstMs)),
    line(`FETCH 1:${FETCH} (BODY.PEEK[]) again, same session (ms)`, (r) => fmt(r.fetchBodiesAgainMs)),
    line('SEARCH HEADER Subject "needle", first after start (ms)', (r) => fmt(r.searchFirstMs)),
    line(`SEARCH HEADER Subject "needle", later rounds (ms)`, (r) => `${fmt(r.searchMs)} (${r.searchResult})`),
    line('SEARCH server CPU, first / later (ms)', (r) => `${fmt(r.searchFirstCpuMs)} / ${fmt(r.searchCpuMs)}`),
    line(`FETCH 1:${FETCH} (ENVELOPE) (ms)`, (r) => fmt(r.envelopeMs)),
    line(`APPEND by imaplib, ${APPEND} msgs (msg/s)`, (r) => (Number.isNaN(r.appendPerSecond) ? '-' : fmt(r.appendPerSecond))),
    line('IDLE connections held', (r) => `${r.idle.alive}/${r.idle.connections}, opened in ${r.idle.openSeconds.toFixed(1)} s`),
    line('server processes while IDLE', (r) => String(r.idle.processes)),
    line('server PSS before → after (MiB)', (r) => `${r.idle.beforeMiB.toFixed(0)} → ${r.idle.afterMiB.toFixed(0)}`),
    line('PSS per IDLE connection (KiB)', (r) => fmt(r.idle.perConnectionKiB)),
    line('server RSS before → after (MiB, summed)', (r) => `${r.idle.rssBeforeMiB.toFixed(0)} → ${r.idle.rssAfterMiB.toFixed(0)}`),
    line('RSS per IDLE connection (KiB)', (r) => fmt(r.idle.rssPerConnectionKiB)),
  ];
  return out.join('\n');
}

async function main() {
  if (SERVERS.includes('postern') && !existsSync(new URL('imap/index.js', DIST))) throw new Error('dist/imap/index.js is missing: run npx tsc -p tsconfig.build.json first');
  const { generateSelfSigned } = await import(new URL('crypto/selfsigned.js', DIST).href);
  const { certPem, keyPem } = await generateSelfSigned({ hostname: 'mail.' + DOMAIN, altNames: ['localhost'] });
  const root = mkdtempSync(path.join(tmpdir(), 'postern-bench-imap-'));
  const rows = [];
  try {
    // In the order BENCH_SERVERS gives (the same client measures each in turn).
    for (const name of SERVERS) {
      if (name === 'postern') await benchPostern(root, certPem, keyPem, rows);
      else if (name === 'dovecot' && existsSync('/usr/sbin/dovecot')) await benchDovecot(root, certPem, keyPem, rows);
      else console.error(`${name}: skipped (not installed, or unknown)`);
    }
    console.log(table(rows));
    console.log('\n' + JSON.stringify(rows, null, 1));
  } finally {
    if (process.env.BENCH_KEEP) console.error(`kept ${root}`);
    else rmSync(root, { recursive: true, force: true });
  }
}

async function benchPostern(root, certPem, keyPem, rows) {
  console.error(`preparing postern: ${MESSAGES} messages ...`);
  const pdir = path.join(root, 'postern');
  mkdirSync(pdir);
  const t0 = performance.now();
  await preparePostern(pdir, certPem, keyPem);
  console.error(`  stored in ${fmt(ms(t0) / 1000)} s`);
  // The server needs a descriptor per connection: raise its soft limit (within the hard one) before exec.
  const fds = IDLE + 1000;
  const server = await startChild(
    'sh',
    [
      '-c',
      `ulimit -n ${fds} 2>/dev/null || ulimit -n hard; exec "$0" "$@"`,
      process.execPath,
      ...launchFlags(new URL('cli/main.js', DIST).pathname),
      '--expose-gc',
      ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(process.env.BENCH_CPU_PROF)}`] : []),
      new URL(import.meta.url).pathname,
      'serve',
      pdir,
    ],
    {},
    (t) => /PORT (\d+)/.exec(t)?.[1],
  );
  try {
    const port = Number(server.value);
    console.error(`postern listening on 127.0.0.1:${port} (pid ${server.child.pid}); measuring ...`);
    rows.push(await measure('postern', port, certPem, () => [server.child.pid], pdir, () => process.kill(server.child.pid, 'SIGUSR2')));
  } finally {
    await stopChild(server.child, 20_000);
  }
}

async function benchDovecot(root, certPem, keyPem, rows) {
  console.error(`preparing dovecot: ${MESSAGES} Maildir files ...`);
  const ddir = path.join(root, 'dovecot');
  mkdirSync(ddir);
  // Dovecot's mail processes run as nobody and must reach their home folders.
  chmodSync(root, 0o755);
  chmodSync(ddir, 0o755);
  const t0 = performance.now();
  const port = await prepareDovecot(ddir, certPem, keyPem);
  console.error(`  written in ${fmt(ms(t0) / 1000)} s`);
  const dv = spawn('/usr/sbin/dovecot', ['-F', '-c', path.join(ddir, 'dovecot.conf')], { stdio: 'ignore' });
  try {
    await waitPort(port);
    const version = spawnSync('/usr/sbin/dovecot', ['--version'], { encoding: 'utf8' }).stdout.trim();
    console.error(`dovecot ${version} listening on 127.0.0.1:${port} (pid ${dv.pid}); measuring ...`);
    const row = await measure('dovecot', port, certPem, () => treeOf(dv.pid), ddir);
    rows.push({ ...row, name: `dovecot ${version.split(' ')[0]}` });
  } finally {
    await stopChild(dv, 20_000);
  }
}

// Dispatch last, so every constant above is initialised: the same file is the server child.
if (process.argv[2] === 'serve') {
  await serve(process.argv[3]);
} else {
  await main();
}
