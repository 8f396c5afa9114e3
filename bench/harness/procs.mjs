// Every process the harness starts is registered here and stopped by its pid:
// at the end of a suite, on an error and on SIGINT/SIGTERM. Nothing is ever
// stopped by name.
import { spawn } from 'node:child_process';
import net from 'node:net';
import { clearInterval, setInterval } from 'node:timers';

const started = new Set();

/**
 * Starts a process and registers it. With `ready`, resolves once ready(text)
 * of its output so far is truthy (or rejects at timeoutMs or when it exits).
 */
export function start(cmd, args, { ready, timeoutMs = 60_000, ...opts } = {}) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  started.add(child);
  child.once('exit', () => started.delete(child));
  let text = '';
  const keep = (d) => {
    text = (text + d).slice(-256 * 1024);
  };
  child.stdout?.setEncoding('utf8').on('data', keep);
  child.stderr?.setEncoding('utf8').on('data', keep);
  const handle = { child, pid: child.pid, output: () => text, stop: () => stop(child) };
  if (!ready) return Promise.resolve(handle);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      clearInterval(poll);
      reject(new Error(`${cmd} not ready in ${timeoutMs} ms:\n${text.slice(-4000)}`));
    }, timeoutMs);
    const poll = setInterval(() => {
      if (ready(text)) {
        clearTimeout(timer);
        clearInterval(poll);
        resolve(handle);
      }
    }, 50);
    child.once('exit', (code, sig) => {
      clearTimeout(timer);
      clearInterval(poll);
      reject(new Error(`${cmd} exited (${code ?? sig}):\n${text.slice(-4000)}`));
    });
  });
}

/** Runs a command to its end (bounded by timeoutMs); resolves with its status and output. */
export function run(cmd, args, { timeoutMs = 600_000, input, ...opts } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], ...opts });
    started.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout = (stdout + d).slice(-1024 * 1024)));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr = (stderr + d).slice(-1024 * 1024)));
    if (input !== undefined) child.stdin.end(input);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      started.delete(child);
      reject(e);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      started.delete(child);
      resolve({ status: code, signal, stdout, stderr });
    });
  });
}

/** SIGTERM, then SIGKILL after graceMs; resolves when the process is gone. */
export function stop(child, graceMs = 15_000) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Cleanups registered by peers (e.g. `postfix stop`), run before the processes are stopped. */
const cleanups = [];
export function onCleanup(fn) {
  cleanups.push(fn);
}

export async function stopAll() {
  for (const fn of cleanups.splice(0).reverse()) await Promise.resolve().then(fn).catch((e) => console.error(`cleanup: ${e.message}`));
  await Promise.all([...started].map((c) => stop(c, 5000)));
}

/**
 * BENCH_PORTS=31000-31999 keeps everything the harness starts in that range
 * (several benchmarks on one machine); without it the system picks.
 */
export function portRange() {
  const v = process.env.BENCH_PORTS;
  if (!v) return null;
  const m = /^(\d{1,5})-(\d{1,5})$/.exec(v);
  if (!m || Number(m[1]) < 1 || Number(m[2]) > 65535 || Number(m[1]) > Number(m[2])) throw new Error(`BENCH_PORTS must be LOW-HIGH (e.g. 31000-31999), not "${v}"`);
  return { low: Number(m[1]), high: Number(m[2]) };
}

let nextInRange = null;

/** Tries `bind(port)` on each port of BENCH_PORTS in turn (or port 0 without it); resolves with what `bind` resolved with. */
export async function bindInRange(bind) {
  const range = portRange();
  if (!range) return bind(0);
  const size = range.high - range.low + 1;
  nextInRange ??= Math.floor(Math.random() * size);
  for (let i = 0; i < size; i++) {
    const port = range.low + (nextInRange++ % size);
    try {
      return await bind(port);
    } catch (e) {
      if (e.code !== 'EADDRINUSE' && e.code !== 'EACCES') throw e;
    }
  }
  throw new Error(`no free port in BENCH_PORTS ${range.low}-${range.high}`);
}

/** A loopback port nothing listens on now (within BENCH_PORTS when set). */
export function freePort() {
  return bindInRange(
    (port) =>
      new Promise((resolve, reject) => {
        const s = net.createServer();
        s.once('error', reject);
        s.listen(port, '127.0.0.1', () => {
          const p = s.address().port;
          s.close(() => resolve(p));
        });
      }),
  );
}

export async function waitPort(port, timeoutMs = 30_000) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const ok = await new Promise((r) => {
      const s = net.connect({ port, host: '127.0.0.1' }, () => (s.destroy(), r(true)));
      s.once('error', () => r(false));
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls fn() until it is truthy; throws after timeoutMs. */
export async function until(fn, { timeoutMs = 120_000, everyMs = 50, what = 'condition' } = {}) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}
