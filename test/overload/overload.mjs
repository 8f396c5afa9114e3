// The overload run shared by test/overload/overload.test.ts (small) and
// bench/overload.mjs (full size): the built `postern` as a real process, many
// MX sessions from many loopback addresses (127.1.x.y) that each dribble a
// message, many idle IMAP connections (127.2.x.y), and meanwhile legitimate
// clients on 127.0.0.1 that send (MX and submission) and read (Python's
// imaplib). It samples postern's RSS from /proc and counts every reply.
// Plain JavaScript so the bench runs it after `npm run build` without a
// TypeScript loader.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setInterval, clearInterval } from 'node:timers';
import nodemailer from 'nodemailer';
import { createSocket } from 'node:dgram';
import * as dnsPacket from 'dns-packet';

const MAIN = path.resolve('dist/cli/main.js');
const DOMAIN = 'load.test';
const LEGIT = { address: `legit@${DOMAIN}`, password: 'legit overload password' };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(a.port));
    });
  });
}

/** The n-th loopback source address of a block: 127.<block>.x.y, never .0. */
export function loopback(block, n) {
  const a = n + 1;
  return `127.${block}.${(a >> 8) & 255}.${a & 255 || 1}`;
}

/** /proc/<pid>/status fields in KiB (VmRSS, VmHWM). */
export function memoryOf(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? 0);
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
  } catch {
    return { rss: 0, hwm: 0 };
  }
}

function cli(config, args, input = '') {
  const r = spawnSync(process.execPath, [MAIN, '-c', config, ...args], { input, encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`postern ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/**
 * A DNS server on loopback that knows no names: every lookup is NXDOMAIN, so
 * sender authentication of the flood never leaves the machine.
 */
async function nxdomainServer() {
  const udp = createSocket('udp4');
  await new Promise((resolve, reject) => {
    udp.once('error', reject);
    udp.bind(0, '127.0.0.1', resolve);
  });
  udp.on('message', (msg, rinfo) => {
    try {
      const q = dnsPacket.decode(msg);
      const out = dnsPacket.encode({ id: q.id, type: 'response', flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | 3, questions: q.questions, answers: [] });
      udp.send(out, rinfo.port, rinfo.address);
    } catch {
      // not a DNS query: no answer
    }
  });
  udp.unref();
  return `127.0.0.1:${udp.address().port}`;
}

async function install(limits) {
  const resolver = await nxdomainServer();
  const dir = mkdtempSync(path.join(tmpdir(), 'postern-overload-'));
  const init = spawnSync(process.execPath, [MAIN, 'init', '--domain', DOMAIN, '--dir', dir, '--hostname', `mail.${DOMAIN}`], { encoding: 'utf8', timeout: 60_000 });
  if (init.status !== 0) throw new Error(`postern init: ${init.stderr}`);
  const p = {};
  // Each listener its own port: the kernel may hand the same free port out twice in a row.
  const taken = new Set();
  for (const k of ['mx', 'submission', 'submissions', 'imap', 'imaps', 'pop3', 'pop3s']) {
    let port = await freePort();
    while (taken.has(port)) port = await freePort();
    taken.add(port);
    p[k] = port;
  }
  const config = path.join(dir, 'overload.toml');
  // Every limit explicit: the defaults are not what this run is about.
  writeFileSync(
    config,
    `[server]
hostname = "mail.${DOMAIN}"
data_dir = "data"
[tls]
cert = "tls/cert.pem"
key = "tls/key.pem"
[smtp]
max_connections = ${limits.smtpMax}
max_connections_per_client = ${limits.smtpPerClient}
socket_timeout = 60
[smtp.mx]
address = "127.0.0.1"
port = ${p.mx}
[smtp.submission]
address = "127.0.0.1"
port = ${p.submission}
[smtp.submissions]
address = "127.0.0.1"
port = ${p.submissions}
[imap]
address = "127.0.0.1"
port = ${p.imap}
tls_port = ${p.imaps}
max_connections = ${limits.imapMax}
max_connections_per_client = ${limits.imapPerClient}
[pop3]
enabled = false
[admin]
enabled = false
[delivery]
enabled = false
resolver = "${resolver}"
[integrity]
scrub_interval = 0
[log]
level = "error"
`,
  );
  cli(config, ['user', 'add', LEGIT.address], `${LEGIT.password}\n`);
  cli(config, ['user', 'add', `flood@${DOMAIN}`], 'flood overload password\n');
  return { dir, config, ports: p, caFile: path.join(dir, 'tls', 'cert.pem') };
}

function startPostern(config) {
  const proc = spawn(process.execPath, [MAIN, '-c', config, 'start'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`postern did not start:\n${err}`)), 60_000);
    proc.stderr.on('data', (d) => {
      err = (err + d.toString()).slice(-20_000);
      if (err.includes('postern is running')) {
        clearTimeout(t);
        resolve({ proc, stderr: () => err });
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`postern exited with ${code}:\n${err}`));
    });
  });
}

/** Runs at most `limit` of the tasks at once. */
async function limited(tasks, limit) {
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) await tasks[next++]();
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
}

/**
 * One MX session from `localAddress`: greeting, EHLO, MAIL, RCPT, DATA, the
 * message dribbled over `dribbleMs`, the final dot, QUIT. Every reply code
 * is counted in `tally`; a failure to connect or a connection lost counts as
 * a connection error. Ends by `deadline` whatever the server does.
 */
function smtpSession(port, localAddress, dribbleMs, tally, deadlineMs) {
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port, localAddress });
    let buf = '';
    let step = 0;
    let finished = false;
    const body = `From: <flood@outside.test>\r\nTo: <flood@${DOMAIN}>\r\nSubject: flood\r\n\r\n${'flood line 0123456789 abcdefghijklmnopqrstuvwxyz\r\n'.repeat(60)}`;
    const guard = setTimeout(() => end('timeout'), deadlineMs);
    const timers = [];
    function end(outcome) {
      if (finished) return;
      finished = true;
      clearTimeout(guard);
      for (const t of timers) clearTimeout(t);
      tally.sessions[outcome] = (tally.sessions[outcome] ?? 0) + 1;
      sock.destroy();
      resolve(outcome);
    }
    const send = (s) => sock.write(s);
    sock.on('error', (e) => {
      if (!finished) tally.connErrors[e.code ?? 'error'] = (tally.connErrors[e.code ?? 'error'] ?? 0) + 1;
      end(step === 0 ? 'refused' : 'conn-lost');
    });
    sock.on('close', () => end(step >= 7 ? 'done' : step === 0 ? 'closed-before-greeting' : 'closed'));
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      for (;;) {
        const nl = buf.indexOf('\r\n');
        if (nl < 0) return;
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        if (/^\d{3}-/.test(line)) continue; // continuation of a multi-line reply
        const code = Number(line.slice(0, 3));
        const cls = code >= 200 && code < 300 ? '2xx' : code >= 300 && code < 400 ? '3xx' : code >= 400 && code < 500 ? '4xx' : code >= 500 && code < 600 ? '5xx' : 'other';
        tally.replies[cls]++;
        if (cls === '5xx' && tally.samples5xx.length < 20) tally.samples5xx.push(`step ${step}: ${line}`);
        if (cls === '4xx' && tally.samples4xx.length < 5 && !tally.samples4xx.includes(line)) tally.samples4xx.push(line);
        if (cls !== '2xx' && cls !== '3xx') {
          send('QUIT\r\n');
          return end(code === 421 ? 'refused-421' : `reply-${cls}`);
        }
        step++;
        if (step === 1) send(`EHLO flood-${localAddress}.outside.test\r\n`);
        else if (step === 2) send('MAIL FROM:<flood@outside.test>\r\n');
        else if (step === 3) send(`RCPT TO:<flood@${DOMAIN}>\r\n`);
        else if (step === 4) send('DATA\r\n');
        else if (step === 5) {
          // Slowly, as a client on a bad link would: the session stays open for dribbleMs.
          const parts = 8;
          const size = Math.ceil(body.length / parts);
          for (let i = 0; i < parts; i++) timers.push(setTimeout(() => !finished && send(body.slice(i * size, (i + 1) * size)), (dribbleMs * i) / parts));
          timers.push(setTimeout(() => !finished && send('\r\n.\r\n'), dribbleMs));
        } else if (step === 6) {
          tally.accepted++;
          send('QUIT\r\n');
        } else if (step >= 7) return end('done');
      }
    });
  });
}

/** An idle IMAP connection: waits for the greeting, then says nothing until released. */
function idleImap(port, localAddress, tally, release) {
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port, localAddress });
    let greeted = false;
    let done = false;
    const finish = (outcome) => {
      if (done) return;
      done = true;
      tally[outcome] = (tally[outcome] ?? 0) + 1;
      resolve(outcome);
    };
    sock.setTimeout(30_000, () => {
      finish('no-greeting');
      sock.destroy();
    });
    sock.on('data', (d) => {
      const s = d.toString('latin1');
      if (!greeted && s.startsWith('* OK')) {
        greeted = true;
        sock.setTimeout(0);
        tally.open++;
        finish('greeted');
      } else if (s.startsWith('* BYE')) {
        finish('bye');
        sock.destroy();
      }
    });
    sock.on('error', (e) => {
      tally.errors[e.code ?? 'error'] = (tally.errors[e.code ?? 'error'] ?? 0) + 1;
      finish('error');
    });
    sock.on('close', () => {
      if (greeted && !release.done) {
        tally.closedEarly++;
        tally.firstClosedAt ??= Date.now();
      }
      finish('closed');
    });
    release.sockets.push(sock);
  });
}

/**
 * How long the server takes to greet a new client on the submission port
 * (its own listener, not the flooded one): a probe of its event loop as a
 * user sees it. One probe every `everyMs` until `until`.
 */
async function greetingProbe(port, until, everyMs, out) {
  for (let i = 0; i < 100_000 && Date.now() < until; i++) {
    const t0 = Date.now();
    const ms = await new Promise((resolve) => {
      const sock = connect({ host: '127.0.0.1', port });
      const guard = setTimeout(() => done(-1), 30_000);
      function done(v) {
        clearTimeout(guard);
        sock.destroy();
        resolve(v);
      }
      sock.on('data', (d) => done(d.toString('latin1').startsWith('220') ? Date.now() - t0 : -1));
      sock.on('error', () => done(-1));
    });
    if (ms < 0) out.failed++;
    else out.ms.push(ms);
    await sleep(Math.max(0, everyMs - (Date.now() - t0)));
  }
}

// Mail over the MX comes from outside: a local sender there is own-domain forgery, and held.
const MX_SENDER = 'partner@outside.test';

/** Sends one message, retrying on 4xx and connection errors (as an MTA would); returns attempts and latency. */
async function legitSend(transport, n, tally, deadline, from = LEGIT.address) {
  const raw = `From: <${from}>\r\nTo: <${LEGIT.address}>\r\nSubject: legit ${n}\r\nMessage-ID: <legit-${n}@${DOMAIN}>\r\n\r\nhello ${n}\r\n`;
  for (let attempt = 1; Date.now() < deadline && attempt <= 200; attempt++) {
    const t0 = Date.now();
    try {
      await transport.sendMail({ envelope: { from, to: [LEGIT.address] }, raw });
      tally.ok++;
      tally.latencies.push(Date.now() - t0);
      if (attempt === 1) tally.firstTry++;
      return true;
    } catch (e) {
      const code = e.responseCode;
      if (typeof code === 'number' && code >= 500) {
        tally.fatal.push(`${code} ${e.message}`);
        return false;
      }
      tally.retries++;
      await sleep(250);
    }
  }
  return false;
}

const IMAP_READ = String.raw`
import imaplib, json, os, ssl, sys
P = json.loads(os.environ['P'])
ctx = ssl.create_default_context(cafile=P['ca'])
m = imaplib.IMAP4('127.0.0.1', P['port'], timeout=30)
m.starttls(ssl_context=ctx)
m.login(P['user'], P['password'])
typ, data = m.select('INBOX', readonly=True)
typ, data = m.search(None, 'SUBJECT', 'legit')
ids = data[0].split()
typ, data = m.fetch(ids[-1], '(BODY.PEEK[])') if ids else ('OK', [])
m.logout()
print(json.dumps({'found': len(ids)}))
`;

/** Python's imaplib logs in from 127.0.0.1 and counts the legitimate messages; retried until it works or the deadline. */
async function legitRead(port, caFile, deadline, want) {
  let last = '';
  let found = 0;
  for (let attempt = 1; Date.now() < deadline && attempt <= 300; attempt++) {
    // Asynchronously: this process also runs every flood client.
    const r = await new Promise((resolve) => {
      const p = spawn('/usr/bin/python3', ['-c', IMAP_READ], {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', P: JSON.stringify({ port, ca: caFile, user: LEGIT.address, password: LEGIT.password }) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      const t = setTimeout(() => p.kill('SIGKILL'), 60_000);
      p.stdout.on('data', (d) => (stdout += d.toString()));
      p.stderr.on('data', (d) => (stderr += d.toString()));
      p.on('close', () => {
        clearTimeout(t);
        resolve({ stdout, stderr });
      });
    });
    try {
      found = JSON.parse(r.stdout.trim().split('\n').pop()).found;
      last = '';
    } catch {
      last = r.stderr.slice(-300);
    }
    // Mail waits its turn in the queue behind the flood's: read again until all of it is there.
    if (found >= want) return { found, attempts: attempt, error: null };
    await sleep(1000);
  }
  return { found, attempts: -1, error: last || null };
}

/** A CLI command as a child process, without blocking this process (it runs every flood client). */
function cliAsync(config, args) {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [MAIN, '-c', config, ...args], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    const t = setTimeout(() => p.kill('SIGKILL'), 60_000);
    p.stdout.on('data', (d) => (out += d.toString()));
    p.on('close', (status) => {
      clearTimeout(t);
      resolve({ status, out });
    });
  });
}

/**
 * The whole run. Options: smtpSessions, imapIdle, perAddress (sessions per
 * source address), seconds (how long the flood lasts), dribbleMs, legit
 * (messages per legitimate sender), limits {smtpMax, smtpPerClient, imapMax,
 * imapPerClient}, log (a line printer).
 */
export async function runOverload(o) {
  const log = o.log ?? (() => undefined);
  const inst = await install(o.limits);
  let server = null;
  const release = { done: false, sockets: [] };
  const mem = { before: { rss: 0, hwm: 0 }, peakRss: 0, samples: 0 };
  let sampler = null;
  try {
    server = await startPostern(inst.config);
    const pid = server.proc.pid;
    await sleep(1000);
    mem.before = memoryOf(pid);
    sampler = setInterval(() => {
      const m = memoryOf(pid);
      mem.peakRss = Math.max(mem.peakRss, m.rss);
      mem.samples++;
    }, 250);

    // Idle IMAP first: they sit there for the whole run.
    const imap = { open: 0, closedEarly: 0, firstClosedAt: null, errors: {} };
    const imapPerAddress = o.imapPerAddress ?? 10;
    const t0 = Date.now();
    await limited(
      Array.from({ length: o.imapIdle }, (_, i) => () => idleImap(inst.ports.imap, loopback(2, Math.floor(i / imapPerAddress)), imap, release)),
      500,
    );
    const imapOpenMs = Date.now() - t0;
    const afterImap = memoryOf(pid);
    log(`overload: ${imap.open}/${o.imapIdle} idle IMAP connections open in ${imapOpenMs} ms; postern RSS ${afterImap.rss >> 10} MiB`);

    // The greeting time before any flood, to compare with.
    const quiet = { ms: [], failed: 0 };
    await greetingProbe(inst.ports.submission, Date.now() + 3000, 200, quiet);

    // The SMTP flood: workers run sessions back to back until the deadline.
    const smtp = { replies: { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0, other: 0 }, sessions: {}, connErrors: {}, accepted: 0, samples5xx: [], samples4xx: [] };
    const floodEnd = Date.now() + o.seconds * 1000;
    const perAddress = o.perAddress ?? 5;
    const workers = Array.from({ length: o.smtpSessions }, async (_, i) => {
      const addr = loopback(1, Math.floor(i / perAddress));
      await sleep(Math.floor((i / o.smtpSessions) * 2000)); // ramp up over 2 s
      for (let k = 0; k < 10_000 && Date.now() < floodEnd; k++) {
        const outcome = await smtpSession(inst.ports.mx, addr, o.dribbleMs, smtp, o.dribbleMs + 30_000);
        if (outcome !== 'done') await sleep(200 + (i % 7) * 50); // a refused client waits before it tries again
      }
    });

    const probe = { ms: [], failed: 0 };
    const probing = greetingProbe(inst.ports.submission, floodEnd, 500, probe);

    // Meanwhile, legitimate clients on 127.0.0.1.
    await sleep(3000);
    const legitDeadline = floodEnd - 1000;
    const mx = { ok: 0, firstTry: 0, retries: 0, latencies: [], fatal: [] };
    const sub = { ok: 0, firstTry: 0, retries: 0, latencies: [], fatal: [] };
    const ca = readFileSync(inst.caFile, 'utf8');
    const tMx = nodemailer.createTransport({ host: '127.0.0.1', port: inst.ports.mx, secure: false, ignoreTLS: true, pool: false, connectionTimeout: 20_000, greetingTimeout: 20_000, socketTimeout: 30_000 });
    const tSub = nodemailer.createTransport({
      host: '127.0.0.1', port: inst.ports.submission, secure: false, requireTLS: true, tls: { ca }, auth: { user: LEGIT.address, pass: LEGIT.password },
      pool: false, connectionTimeout: 20_000, greetingTimeout: 20_000, socketTimeout: 30_000,
    });
    const legit = (async () => {
      for (let n = 0; n < o.legit; n++) {
        await legitSend(tMx, `mx-${n}`, mx, legitDeadline, MX_SENDER);
        await legitSend(tSub, `sub-${n}`, sub, legitDeadline);
      }
      const t = Date.now();
      const r = await legitRead(inst.ports.imap, inst.caFile, t + (o.readWaitMs ?? 120_000), mx.ok + sub.ok);
      return { ...r, ms: Date.now() - t, want: mx.ok + sub.ok, completedDuringFlood: Date.now() < floodEnd };
    })();
    await Promise.all([...workers, probing]);
    // How much mail the flood left waiting in the queue when it ended.
    const q = await cliAsync(inst.config, ['queue', 'list', '--json']);
    let backlog = -1;
    try {
      backlog = JSON.parse(q.out).length;
    } catch {
      // reported as -1
    }
    const read = await legit;
    if (sampler) clearInterval(sampler);
    sampler = null;
    const alive = server.proc.exitCode === null && server.proc.signalCode === null;
    const after = memoryOf(pid);
    // After the flood: is the server still serving a plain client promptly?
    const post = { ok: 0, firstTry: 0, retries: 0, latencies: [], fatal: [] };
    if (alive) await legitSend(tMx, 'after', post, Date.now() + 30_000, MX_SENDER);
    const imapStillOpen = release.sockets.filter((x) => !x.destroyed).length;
    return {
      alive,
      exit: alive ? null : { code: server.proc.exitCode, signal: server.proc.signalCode, stderr: server.stderr().slice(-2000) },
      memory: { beforeKiB: mem.before.rss, afterImapKiB: afterImap.rss, peakRssKiB: Math.max(mem.peakRss, after.rss), hwmKiB: after.hwm, endKiB: after.rss },
      imap: {
        ...imap,
        requested: o.imapIdle,
        openMs: imapOpenMs,
        stillOpenAtEnd: imapStillOpen,
        firstClosedAfterMs: imap.firstClosedAt ? imap.firstClosedAt - t0 : null,
      },
      greetingQuiet: { ...spread(quiet.ms), p99: percentile(quiet.ms, 0.99), probes: quiet.ms.length, failed: quiet.failed },
      greeting: { ...spread(probe.ms), p99: percentile(probe.ms, 0.99), probes: probe.ms.length, failed: probe.failed },
      smtp: { ...smtp, workers: o.smtpSessions },
      backlogAtFloodEnd: backlog,
      legit: { mx, sub, read, after: post },
    };
  } finally {
    if (sampler) clearInterval(sampler);
    release.done = true;
    for (const s of release.sockets) s.destroy();
    if (server && server.proc.exitCode === null) {
      server.proc.kill('SIGKILL');
      await new Promise((r) => server.proc.once('exit', r));
    }
    rmSync(inst.dir, { recursive: true, force: true });
  }
}

export function percentile(ms, q) {
  if (ms.length === 0) return null;
  const s = [...ms].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

/** Median and max of a list of milliseconds. */
export function spread(ms) {
  if (ms.length === 0) return { median: null, max: null };
  const s = [...ms].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], max: s[s.length - 1] };
}
