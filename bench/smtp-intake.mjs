// SMTP intake speed of a real postern process: `postern init` (every default,
// the in-line policy pipeline included) plus one account, `postern start`, then
// Postfix's load generator (/usr/sbin/smtp-source, package postfix) against the
// mx listener on loopback, 4 KiB messages:
//   new      20 sessions, a new connection per message
//   reuse    20 sessions, one connection each (-d)
//   single   1 session, a new connection per message (ms per message)
//   single-reuse  1 session, one connection
//   starttls 20 sessions, a new connection and STARTTLS per message (a small
//            client in this script, since smtp-source has no TLS; it shares the CPU)
// Each scenario runs --runs times; the median is reported. Every run is bounded
// by its message count and --seconds. Besides rates, the server's CPU time per
// message is reported (Linux /proc): its main thread (the event loop every
// connection shares) and the whole process (policy worker threads and libuv's
// pool included), counted until the server is idle again after the run (the
// after-queue scan and delivery of the run's mail included), so a run does not
// pay for the previous one's backlog. On a shared machine CPU time per message
// moves far less than the rates do. The server's resolver is a loopback server
// that answers NXDOMAIN (bench/harness/dns.mjs; BENCH_PORTS applies to it).
//
//   npm run build && node bench/smtp-intake.mjs [--messages 4000] [--runs 3] [--only new,reuse] [--seconds 300]
//   [--prof DIR]  run the server under node --cpu-prof (profiles written to DIR on exit)
//   [--keep-store] leave the server's folder in place (for back-to-back A/B runs; delete them after the last)
//   [--threads]   per run: CPU per message of each kind of server thread, and its I/O per message
//   [--dist DIR]  run another build (a copy of dist/ from before a change)
//   [--port-offset N]  listeners on 25+N etc.; ManageSieve and admin on 190+N and 443+N (default 32000)
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { benchConfig, launchFlags, opt, serverCpu, serverIo, settle, sh, threadBreakdown, threadSeconds, waitForPort } from './process-probe.mjs';
import { startNxdomain } from './harness/dns.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
// Another build (e.g. a copy of dist/ from before a change) for a before/after comparison.
const cli = path.resolve(opt('dist', path.join(root, 'dist')), 'cli/main.js');
const MESSAGES = Number(opt('messages', 4000));
const RUNS = Number(opt('runs', 3));
const SECONDS = Number(opt('seconds', 300));
const ONLY = opt('only', 'new,reuse,single,single-reuse,starttls').split(',');
const PROF = opt('prof', '');
const THREADS = process.argv.includes('--threads');
const KEEP = process.argv.includes('--keep-store');
const OFFSET = Number(opt('port-offset', 32000));
const MX = 25 + OFFSET;
const RCPT = 'rcpt@bench.test';
const SOURCE = '/usr/sbin/smtp-source';

async function startServer(dir) {
  const args = [...launchFlags(cli), ...(PROF ? ['--cpu-prof', `--cpu-prof-dir=${PROF}`] : []), cli, '-c', path.join(dir, 'postern.toml'), 'start'];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'ignore'] });
  await waitForPort(MX);
  return child;
}

/** Runs smtp-source; resolves with the elapsed seconds. */
async function source(sessions, messages, reuse) {
  const args = ['-s', String(sessions), '-m', String(messages), '-l', '4096', '-f', 'sender@example.net', '-t', RCPT, ...(reuse ? ['-d'] : []), `127.0.0.1:${MX}`];
  const t = process.hrtime.bigint();
  await sh(SOURCE, args, undefined, SECONDS * 1000);
  return Number(process.hrtime.bigint() - t) / 1e9;
}

/** One message over a new connection with STARTTLS; rejects on any unexpected reply. */
function tlsMessage(body) {
  return new Promise((resolve, reject) => {
    let sock = net.connect(MX, '127.0.0.1');
    const timer = setTimeout(() => (sock.destroy(), reject(new Error('timeout'))), 30_000);
    let buf = '';
    const steps = [
      [220, () => sock.write('EHLO bench.example.net\r\n')],
      [250, () => sock.write('STARTTLS\r\n')],
      [220, () => upgrade()],
      [250, () => sock.write(`MAIL FROM:<sender@example.net>\r\nRCPT TO:<${RCPT}>\r\nDATA\r\n`)],
      [250, () => undefined],
      [250, () => undefined],
      [354, () => sock.write(body)],
      [250, () => sock.write('QUIT\r\n')],
      [221, () => (clearTimeout(timer), sock.end(), resolve())],
    ];
    const onData = (b) => {
      buf += b.toString('latin1');
      for (let nl = buf.indexOf('\r\n'); nl >= 0; nl = buf.indexOf('\r\n')) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        if (line[3] === '-') continue;
        const [code, next] = steps.shift();
        if (Number(line.slice(0, 3)) !== code) return (clearTimeout(timer), sock.destroy(), reject(new Error(`expected ${code}, got ${line}`)));
        next();
      }
    };
    const upgrade = () => {
      sock.removeListener('data', onData);
      sock = tls.connect({ socket: sock, rejectUnauthorized: false, servername: 'mail.bench.test' }, () => sock.write('EHLO bench.example.net\r\n'));
      sock.on('data', onData).on('error', (e) => (clearTimeout(timer), reject(e)));
    };
    sock.on('data', onData).on('error', (e) => (clearTimeout(timer), reject(e)));
  });
}

async function starttls(sessions, messages) {
  const line = 'The quick brown fox jumps over the lazy dog 0123456789.\r\n';
  const body = `From: <sender@example.net>\r\nTo: <${RCPT}>\r\nSubject: bench\r\n\r\n${line.repeat(70)}.\r\n`;
  let left = messages;
  const t = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: sessions }, async () => {
      while (left-- > 0) await tlsMessage(body);
    }),
  );
  return Number(process.hrtime.bigint() - t) / 1e9;
}

/** CPU seconds of the server so far: its main thread, and the whole process (Linux /proc). */
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const SCENARIOS = {
  new: () => source(20, MESSAGES, false).then((s) => [MESSAGES, s]),
  reuse: () => source(20, MESSAGES, true).then((s) => [MESSAGES, s]),
  single: () => source(1, Math.min(MESSAGES, 500), false).then((s) => [Math.min(MESSAGES, 500), s]),
  'single-reuse': () => source(1, Math.min(MESSAGES, 2000), true).then((s) => [Math.min(MESSAGES, 2000), s]),
  starttls: () => starttls(20, Math.min(MESSAGES, 2000)).then((s) => [Math.min(MESSAGES, 2000), s]),
};

const dir = await mkdtemp(path.join(os.tmpdir(), 'postern-intake-'));
let server;
try {
  await sh(process.execPath, [cli, 'init', '--domain', 'bench.test', '--dir', dir, '--port-offset', String(OFFSET)]);
  const conf = path.join(dir, 'postern.toml');
  const dns = await startNxdomain();
  await writeFile(conf, benchConfig(await readFile(conf, 'utf8'), dns.address));
  await sh(process.execPath, [cli, '-c', conf, 'user', 'add', RCPT, '--role', 'mailadmin'], 'bench-Secret-1\nbench-Secret-1\n');
  server = await startServer(dir);
  await source(2, 20, false); // warm-up: modules, worker threads, first folders
  await settle(server.pid);
  console.log(`postern ${JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')).version}, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  for (const name of ONLY) {
    const rates = [];
    const per = [];
    const mainCpu = [];
    const allCpu = [];
    const threads = [];
    const drains = [];
    const untilDelivered = [];
    for (let r = 0; r < RUNS; r++) {
      const before = serverCpu(server.pid);
      const threads0 = threadSeconds(server.pid);
      const io0 = serverIo(server.pid);
      const [n, secs] = await SCENARIOS[name]();
      const ended = performance.now();
      await settle(server.pid);
      // The settle check itself takes one quiet 500 ms window.
      const drain = Math.max(0, (performance.now() - ended - 500) / 1000);
      drains.push(drain);
      untilDelivered.push(n / (secs + drain));
      const after = serverCpu(server.pid);
      const io = serverIo(server.pid);
      const perMsg = (k) => (io[k] - io0[k]) / n;
      threads.push(
        `${threadBreakdown(threads0, threadSeconds(server.pid), n, true)}; per msg: write calls ${perMsg('syscw').toFixed(1)}, ` +
          `${(perMsg('wchar') / 1024).toFixed(1)} KiB written, ${(perMsg('written') / 1024).toFixed(1)} KiB to disk, read calls ${perMsg('syscr').toFixed(1)}`,
      );
      rates.push(n / secs);
      per.push((secs * 1000) / n);
      mainCpu.push(((after.main - before.main) * 1000) / n);
      allCpu.push(((after.all - before.all) * 1000) / n);
    }
    const cpu = `cpu/msg main ${median(mainCpu).toFixed(2)} ms, process ${median(allCpu).toFixed(2)} ms`;
    console.log(`${name.padEnd(13)} ${median(rates).toFixed(0).padStart(6)} msg/s  ${median(per).toFixed(2).padStart(7)} ms/msg  ${cpu}  runs: ${rates.map((x) => x.toFixed(0)).join(' ')}`);
    console.log(
      `${''.padEnd(13)} ${median(untilDelivered).toFixed(0).padStart(6)} msg/s until the server is idle (scanned, delivered; busy ${drains.map((d) => d.toFixed(1)).join(' ')} s after the client's end)`,
    );
    if (THREADS) for (const t of threads) console.log(`  threads (cpu ms/msg): ${t}`);
  }
  console.log(`load after ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
} finally {
  if (server) {
    const exited = new Promise((r) => server.once('exit', r));
    server.kill('SIGINT');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
  }
  // Kept on request: deleting a store frees thousands of inodes, and on ext4 the next run's
  // file creation pays for recently freed ones (see the README), which skews A/B runs made one after another.
  if (KEEP) console.log(`store kept: ${dir}`);
  else await rm(dir, { recursive: true, force: true });
}
