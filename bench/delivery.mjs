// Local delivery against a real `postern start` process, over loopback.
//
// Throughput mode (default): N messages of 4 KiB to one local account over
// plain SMTP to mx, from C connections that each send many messages (connection
// reuse, PIPELINING for MAIL/RCPT/DATA). Reports intake msg/s (all 250s) and
// end-to-end msg/s (until the last one is in the mailbox, seen by IMAP STATUS).
//
// Latency mode (--rate R): a fixed rate of R msg/s for --seconds S, while an
// IMAP client sits in IDLE on the INBOX. The k-th message accepted (its 250)
// is matched with the moment the client first hears `* k EXISTS`; reports
// p50/p95/p99/max of that delay in ms.
//
//   npm run build && node bench/delivery.mjs [--messages 4000] [--conns 8]
//   node bench/delivery.mjs --rate 100 --seconds 20 [--conns N]
//   Add --prof DIR to run the server under node --cpu-prof (profiles in DIR).
import { spawn, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setImmediate } from 'node:timers';
import tls from 'node:tls';
import { launchFlags } from './process-probe.mjs';

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = process.argv[i + 1];
  return typeof fallback === 'number' ? Number(v) : v;
}
const MESSAGES = arg('messages', 4000);
const CONNS = arg('conns', 8);
const RATE = arg('rate', 0);
const SECONDS = arg('seconds', 20);
const PROF = arg('prof', '');
const SIZE = 4096;
const DEADLINE_MS = 300_000;
const MAIN = path.resolve('dist/cli/main.js');
const DOMAIN = 'bench.test';
const RCPT = `rcpt@${DOMAIN}`;
const PASSWORD = 'bench-Secret-1';
const SENDER = 'someone@elsewhere.example';

function message(n) {
  const head = `From: ${SENDER}\r\nTo: ${RCPT}\r\nSubject: bench ${n}\r\nMessage-ID: <${n}.${process.pid}@bench>\r\n\r\n`;
  const line = 'The quick brown fox jumps over the lazy dog 0123456789.\r\n';
  return head + line.repeat(Math.max(1, Math.round((SIZE - head.length) / line.length)));
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

/** A resolver that knows no names: every query gets NXDOMAIN, so sender checks stay on this machine. */
function nxdomainResolver() {
  const sock = dgram.createSocket('udp4');
  sock.on('message', (q, rinfo) => {
    if (q.length < 12) return;
    const r = Buffer.from(q);
    r[2] = 0x80 | (q[2] & 0x79) | 0x04; // QR, opcode and RD kept, AA
    r[3] = 0x80 | 3; // RA, NXDOMAIN
    r.writeUInt16BE(0, 6);
    r.writeUInt16BE(0, 8);
    r.writeUInt16BE(0, 10);
    sock.send(r, rinfo.port, rinfo.address);
  });
  return new Promise((resolve) => sock.bind(0, '127.0.0.1', () => resolve(sock)));
}

async function install(resolverPort) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'postern-delivery-'));
  const init = spawnSync(process.execPath, [MAIN, 'init', '--domain', DOMAIN, '--dir', dir, '--hostname', `mail.${DOMAIN}`], { encoding: 'utf8', timeout: 60_000 });
  if (init.status !== 0) throw new Error(`init: ${init.stderr}`);
  const p = { mx: await freePort(), sub: await freePort(), subs: await freePort(), imap: await freePort(), imaps: await freePort(), admin: await freePort() };
  const config = path.join(dir, 'bench.toml');
  writeFileSync(
    config,
    `[server]\nhostname = "mail.${DOMAIN}"\ndata_dir = "data"\n[tls]\ncert = "tls/cert.pem"\nkey = "tls/key.pem"\n` +
      `[smtp.mx]\naddress = "127.0.0.1"\nport = ${p.mx}\n[smtp.submission]\naddress = "127.0.0.1"\nport = ${p.sub}\n` +
      `[smtp.submissions]\naddress = "127.0.0.1"\nport = ${p.subs}\n[imap]\naddress = "127.0.0.1"\nport = ${p.imap}\ntls_port = ${p.imaps}\n` +
      `[pop3]\nenabled = false\n[managesieve]\nenabled = false\n[admin]\naddress = "127.0.0.1"\nport = ${p.admin}\n` +
      `[log]\nlevel = "warn"\n[delivery]\nresolver = "127.0.0.1:${resolverPort}"\n`,
  );
  const cli = (args, input = '') => spawnSync(process.execPath, [MAIN, '-c', config, ...args], { input, encoding: 'utf8', timeout: 60_000 });
  const add = cli(['user', 'add', RCPT], `${PASSWORD}\n`);
  if (add.status !== 0) throw new Error(`user add: ${add.stderr}`);
  return { dir, config, ports: p };
}

function startServer(inst) {
  const flags = PROF ? ['--cpu-prof', '--cpu-prof-dir', PROF] : [];
  const proc = spawn(process.execPath, [...launchFlags(MAIN), ...flags, MAIN, '-c', inst.config, 'start'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no start:\n${err}`)), 60_000);
    proc.stderr.on('data', (d) => {
      err += d;
      if (err.includes('postern is running')) {
        clearTimeout(t);
        resolve(proc);
      }
    });
    proc.once('exit', (c) => reject(new Error(`exited ${c}:\n${err}`)));
  });
}

/** A line reader over a socket with a per-wait timeout. */
function lines(sock) {
  let buf = '';
  const queue = [];
  const waiters = [];
  sock.setEncoding('latin1');
  sock.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\r\n')) >= 0) {
      const l = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const w = waiters.shift();
      if (w) w.resolve(l);
      else queue.push(l);
    }
  });
  sock.on('error', (e) => waiters.splice(0).forEach((w) => w.reject(e)));
  return {
    next(ms = 30_000) {
      if (queue.length) return Promise.resolve(queue.shift());
      return new Promise((resolve, reject) => {
        const w = { resolve: (l) => (clearTimeout(t), resolve(l)), reject };
        const t = setTimeout(() => reject(new Error('read timeout')), ms);
        waiters.push(w);
      });
    },
    /** Calls fn on every line from now on (the IDLE listener). */
    onLine(fn) {
      queue.splice(0).forEach(fn);
      waiters.length = 0;
      sock.removeAllListeners('data');
      sock.on('data', (d) => {
        buf += d;
        let i;
        while ((i = buf.indexOf('\r\n')) >= 0) {
          fn(buf.slice(0, i));
          buf = buf.slice(i + 2);
        }
      });
    },
  };
}

async function reply(r) {
  for (let i = 0; i < 100; i++) {
    const l = await r.next();
    if (l[3] !== '-') return l;
  }
  throw new Error('reply too long');
}

async function smtpConn(port) {
  const sock = net.connect(port, '127.0.0.1');
  sock.setTimeout(60_000, () => sock.destroy(new Error('smtp timeout')));
  const r = lines(sock);
  if (!(await reply(r)).startsWith('220')) throw new Error('no greeting');
  sock.write('EHLO bench.client\r\n');
  if (!(await reply(r)).startsWith('250')) throw new Error('EHLO refused');
  return {
    async send(n) {
      sock.write(`MAIL FROM:<${SENDER}>\r\nRCPT TO:<${RCPT}>\r\nDATA\r\n`);
      for (const want of ['250', '250', '354']) {
        const l = await reply(r);
        if (!l.startsWith(want)) throw new Error(`expected ${want}, got ${l}`);
      }
      sock.write(message(n) + '.\r\n');
      const l = await reply(r);
      if (!l.startsWith('250')) throw new Error(`DATA refused: ${l}`);
      return performance.now();
    },
    close() {
      sock.end('QUIT\r\n');
    },
  };
}

async function imapConn(port) {
  const sock = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false });
  sock.setTimeout(DEADLINE_MS, () => sock.destroy(new Error('imap timeout')));
  const r = lines(sock);
  await r.next();
  let tag = 0;
  const cmd = async (c) => {
    const t = `a${++tag}`;
    sock.write(`${t} ${c}\r\n`);
    const out = [];
    for (let i = 0; i < 10_000; i++) {
      const l = await r.next();
      out.push(l);
      if (l.startsWith(`${t} `)) {
        if (!l.startsWith(`${t} OK`)) throw new Error(`${c}: ${l}`);
        return out;
      }
    }
    throw new Error('too many lines');
  };
  await cmd(`LOGIN ${RCPT} ${PASSWORD}`);
  return { sock, r, cmd };
}

async function count(imap) {
  const out = await imap.cmd('STATUS INBOX (MESSAGES)');
  const m = out.join('\n').match(/MESSAGES (\d+)/);
  return m ? Number(m[1]) : -1;
}

function pct(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function throughput(inst) {
  const imap = await imapConn(inst.ports.imaps);
  const conns = await Promise.all(Array.from({ length: CONNS }, () => smtpConn(inst.ports.mx)));
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    conns.map(async (c) => {
      while (next < MESSAGES) await c.send(next++);
    }),
  );
  const tIntake = performance.now();
  let n = 0;
  for (let i = 0; i < DEADLINE_MS / 20 && n < MESSAGES; i++) {
    n = await count(imap);
    if (n < MESSAGES) await new Promise((r) => setTimeout(r, 20));
  }
  const tDone = performance.now();
  conns.forEach((c) => c.close());
  imap.sock.end();
  const s = (ms) => ms / 1000;
  console.log(
    JSON.stringify({
      mode: 'throughput',
      messages: MESSAGES,
      conns: CONNS,
      delivered: n,
      intakeMsgPerS: Math.round(MESSAGES / s(tIntake - t0)),
      e2eMsgPerS: Math.round(n / s(tDone - t0)),
      drainAfterIntakeS: Number(s(tDone - tIntake).toFixed(2)),
    }),
  );
}

async function latency(inst) {
  const imap = await imapConn(inst.ports.imaps);
  await imap.cmd('SELECT INBOX');
  const seen = [];
  imap.sock.write('i IDLE\r\n');
  if (!(await imap.r.next()).startsWith('+')) throw new Error('IDLE refused');
  imap.r.onLine((l) => {
    const m = l.match(/^\* (\d+) EXISTS/);
    if (m) {
      const k = Number(m[1]);
      const t = performance.now();
      while (seen.length < k) seen.push(t);
    }
  });
  const total = RATE * SECONDS;
  const accepted = [];
  // Enough connections that one slow 250 does not hold back the schedule (--conns overrides).
  // At most 16 by default: mx refuses more connections than that from one client.
  const n = process.argv.includes('--conns') ? CONNS : Math.min(16, Math.max(4, Math.ceil(RATE / 25)));
  const conns = await Promise.all(Array.from({ length: n }, () => smtpConn(inst.ports.mx)));
  const free = [...conns];
  const start = performance.now();
  let late = 0;
  const inflight = [];
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    for (let j = 0; j < 1000 && free.length === 0; j++) await new Promise((r) => setImmediate(r));
    if (free.length === 0) {
      late++;
      await Promise.race(inflight);
    }
    const c = free.pop();
    const p = c.send(i).then((t) => {
      accepted.push(t);
      free.push(c);
    });
    inflight.push(p);
    p.finally(() => inflight.splice(inflight.indexOf(p), 1));
  }
  await Promise.all(inflight);
  const sent = performance.now();
  for (let i = 0; i < DEADLINE_MS / 20 && seen.length < total; i++) await new Promise((r) => setTimeout(r, 20));
  imap.sock.write('DONE\r\n');
  conns.forEach((c) => c.close());
  imap.sock.end();
  accepted.sort((a, b) => a - b);
  const delays = accepted.slice(0, seen.length).map((t, k) => seen[k] - t).sort((a, b) => a - b);
  const f = (x) => Number(x.toFixed(1));
  console.log(
    JSON.stringify({
      mode: 'latency',
      rate: RATE,
      conns: conns.length,
      achievedRate: Math.round(total / ((sent - start) / 1000)),
      messages: total,
      seen: seen.length,
      schedulerLate: late,
      p50: f(pct(delays, 50)),
      p95: f(pct(delays, 95)),
      p99: f(pct(delays, 99)),
      max: f(delays[delays.length - 1]),
    }),
  );
}

const dns = await nxdomainResolver();
const inst = await install(dns.address().port);
const server = await startServer(inst);
try {
  if (RATE > 0) await latency(inst);
  else await throughput(inst);
} finally {
  await new Promise((resolve) => {
    const t = setTimeout(() => (server.kill('SIGKILL'), resolve()), 30_000);
    server.once('exit', () => (clearTimeout(t), resolve()));
    server.kill('SIGTERM');
  });
  dns.close();
  rmSync(inst.dir, { recursive: true, force: true });
}
