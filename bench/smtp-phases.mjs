// Where one SMTP session's time goes: a real postern process (`postern init`,
// every default, the in-line policy pipeline included, plus one account),
// then one client on loopback that sends each command alone (no pipelining)
// and timestamps every reply: connect to 220 greeting, EHLO, MAIL, RCPT,
// DATA 354, the message (4 KiB) to its 250, QUIT to 221. Two modes:
//   new    a new connection per message (greeting, EHLO and QUIT every time)
//   reuse  one connection, MAIL..250 per message (RSET-free, as smtp-source -d)
// Prints the median and 90th percentile of each phase in ms, and the server's
// CPU time per message (main thread and whole process, Linux /proc). Bounded by
// --messages per mode and --seconds per mode; loopback only (the server's
// resolver is a loopback server that answers NXDOMAIN, bench/harness/dns.mjs).
//
//   npm run build && node bench/smtp-phases.mjs [--messages 300] [--runs 2] [--only new,reuse] [--seconds 120]
//   [--prof DIR]  run the server under node --cpu-prof (profiles written to DIR on exit)
//   [--dist DIR]  run another build (a copy of dist/ from before a change)
//   [--port-offset N]  mx on 25+N; ManageSieve and admin are moved to 190+N and 443+N (default 44000)
//   [--listener submission]  submission on 587+N instead of mx: STARTTLS and AUTH PLAIN after
//                 the greeting (timed as starttls and auth), the account writing to itself
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import tls from 'node:tls';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchConfig, launchFlags, opt, serverCpu, settle, sh, waitForPort } from './process-probe.mjs';
import { startNxdomain } from './harness/dns.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const cli = path.resolve(opt('dist', path.join(root, 'dist')), 'cli/main.js');
const MESSAGES = Number(opt('messages', 300));
const RUNS = Number(opt('runs', 2));
const SECONDS = Number(opt('seconds', 120));
const ONLY = opt('only', 'new,reuse').split(',');
const PROF = opt('prof', '');
const OFFSET = Number(opt('port-offset', 44000));
const SUBMISSION = opt('listener', 'mx') === 'submission';
const PORT = (SUBMISSION ? 587 : 25) + OFFSET;
const RCPT = 'rcpt@bench.test';
const PASSWORD = 'bench-Secret-1';
const SENDER = SUBMISSION ? RCPT : 'sender@example.net';
const line = 'The quick brown fox jumps over the lazy dog 0123456789.\r\n';
const BODY = `From: <${SENDER}>\r\nTo: <${RCPT}>\r\nSubject: bench\r\n\r\n${line.repeat(70)}.\r\n`;

/** A client that reads whole replies (multi-line ones joined) and times each one. */
class Client {
  constructor(sock) {
    this.sock = sock;
    this.buf = '';
    this.waiting = null;
    this.replies = [];
    sock.on('data', (b) => {
      this.buf += b.toString('latin1');
      for (let nl = this.buf.indexOf('\r\n'); nl >= 0; nl = this.buf.indexOf('\r\n')) {
        const l = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 2);
        if (l[3] === '-') continue;
        this.replies.push(l);
        this.flush();
      }
    });
    sock.on('error', (e) => this.fail(e));
    sock.on('close', () => this.fail(new Error('connection closed')));
  }
  flush() {
    if (this.waiting && this.replies.length) {
      const w = this.waiting;
      this.waiting = null;
      w.resolve(this.replies.shift());
    }
  }
  fail(e) {
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = null;
      w.reject(e);
    }
  }
  /** Sends text (if any), waits for the reply, checks its code; resolves with ms taken. */
  async step(text, code) {
    const t = process.hrtime.bigint();
    const reply = new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.flush();
    });
    if (text) this.sock.write(text);
    const l = await reply;
    if (Number(l.slice(0, 3)) !== code) throw new Error(`expected ${code}, got ${l}`);
    return Number(process.hrtime.bigint() - t) / 1e6;
  }
}

function connect() {
  return new Promise((resolve, reject) => {
    const s = net.connect(PORT, '127.0.0.1', () => resolve(s)).on('error', reject);
  });
}

async function transaction(c, t) {
  t.mail.push(await c.step(`MAIL FROM:<${SENDER}>\r\n`, 250));
  t.rcpt.push(await c.step(`RCPT TO:<${RCPT}>\r\n`, 250));
  t.data.push(await c.step('DATA\r\n', 354));
  t.eod.push(await c.step(BODY, 250));
}

const PHASES = ['connect', 'greeting', 'ehlo', 'starttls', 'auth', 'mail', 'rcpt', 'data', 'eod', 'quit', 'total'];

async function runMode(mode, count = MESSAGES) {
  const t = Object.fromEntries(PHASES.map((p) => [p, []]));
  const deadline = Date.now() + SECONDS * 1000;
  const hello = async () => {
    const t0 = process.hrtime.bigint();
    const sock = await connect();
    sock.setNoDelay(true);
    t.connect.push(Number(process.hrtime.bigint() - t0) / 1e6);
    let c = new Client(sock);
    t.greeting.push(await c.step('', 220));
    t.ehlo.push(await c.step('EHLO bench.example.net\r\n', 250));
    if (!SUBMISSION) return c;
    // STARTTLS to the second EHLO's reply, then the login (the bench's self-signed certificate is not checked).
    const t1 = process.hrtime.bigint();
    await c.step('STARTTLS\r\n', 220);
    const secure = await new Promise((resolve, reject) => {
      const s = tls.connect({ socket: sock, rejectUnauthorized: false }, () => resolve(s)).on('error', reject);
    });
    c = new Client(secure);
    await c.step('EHLO bench.example.net\r\n', 250);
    t.starttls.push(Number(process.hrtime.bigint() - t1) / 1e6);
    const token = Buffer.from(`\0${RCPT}\0${PASSWORD}`).toString('base64');
    t.auth.push(await c.step(`AUTH PLAIN ${token}\r\n`, 235));
    return c;
  };
  const bye = async (c) => {
    t.quit.push(await c.step('QUIT\r\n', 221));
    c.sock.end();
  };
  let c = mode === 'reuse' ? await hello() : null;
  for (let i = 0; i < count && Date.now() < deadline; i++) {
    const t0 = process.hrtime.bigint();
    if (mode === 'new') c = await hello();
    await transaction(c, t);
    if (mode === 'new') await bye(c);
    t.total.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  if (mode === 'reuse') await bye(c);
  return t;
}

/** CPU seconds of the server so far: its main thread, and the whole process (Linux /proc). */
const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * q))];

const dir = await mkdtemp(path.join(os.tmpdir(), 'postern-phases-'));
let server;
try {
  await sh(process.execPath, [cli, 'init', '--domain', 'bench.test', '--dir', dir, '--port-offset', String(OFFSET)]);
  const conf = path.join(dir, 'postern.toml');
  const dns = await startNxdomain();
  await writeFile(conf, benchConfig(await readFile(conf, 'utf8'), dns.address));
  await sh(process.execPath, [cli, '-c', conf, 'user', 'add', RCPT, '--role', 'mailadmin'], `${PASSWORD}\n${PASSWORD}\n`);
  server = spawn(process.execPath, [...launchFlags(cli), ...(PROF ? ['--cpu-prof', `--cpu-prof-dir=${PROF}`] : []), cli, '-c', conf, 'start'], { stdio: ['ignore', 'ignore', 'ignore'] });
  await waitForPort(PORT);
  await runMode('new', 20); // warm-up: modules, worker threads, first folders
  await settle(server.pid);
  console.log(`postern ${JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')).version} (${cli}), load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  for (const mode of ONLY) {
    for (let r = 0; r < RUNS; r++) {
      const before = serverCpu(server.pid);
      const t = await runMode(mode);
      await settle(server.pid);
      const after = serverCpu(server.pid);
      const n = t.total.length;
      const cols = PHASES.filter((p) => t[p].length).map((p) => `${p} ${quantile(t[p], 0.5).toFixed(2)}/${quantile(t[p], 0.9).toFixed(2)}`);
      console.log(`${mode.padEnd(5)} run ${r + 1} n=${n} median/p90 ms: ${cols.join('  ')}`);
      console.log(`      cpu/msg main ${(((after.main - before.main) * 1000) / n).toFixed(2)} ms, process ${(((after.all - before.all) * 1000) / n).toFixed(2)} ms`);
    }
  }
} finally {
  if (server) {
    const exited = new Promise((r) => server.once('exit', r));
    server.kill('SIGINT');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
  }
  await rm(dir, { recursive: true, force: true });
}
