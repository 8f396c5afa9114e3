// Helpers the single-server SMTP scripts (smtp-intake.mjs, smtp-phases.mjs)
// share: command-line options, running a command, waiting for a port on
// loopback, and a server process's CPU time from Linux /proc.
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import net from 'node:net';

/**
 * The Node flags postern's launcher line (`#!/usr/bin/env -S node FLAGS` at
 * the top of cli/main.js) gives the server, so a benchmark starts the build it
 * measures as `postern start` runs; a build without such a line gets none.
 */
export function launchFlags(cli) {
  const first = readFileSync(cli, 'utf8').slice(0, 200).split('\n', 1)[0];
  const m = /^#!\/usr\/bin\/env -S node(?: (.*))?$/.exec(first);
  return m?.[1] ? m[1].trim().split(/\s+/) : [];
}

/**
 * A `postern init` config for a bench run: ManageSieve and admin moved from
 * 4190/8443 (+ offset) to 190/443 (+ offset), so every listener stays within
 * offset..offset+999, and the resolver pointed at the harness's loopback
 * NXDOMAIN server, so sender authentication never leaves the machine.
 */
export function benchConfig(text, resolver) {
  return text
    .replace(/^port = 4190$/m, 'port = 190')
    .replace(/^port = 8443$/m, 'port = 443')
    .replace(/^resolver = .*$/m, `resolver = "${resolver}"`);
}

/** The value after `--name` on the command line, or `fallback`. */
export function opt(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

/** Runs a command (bounded by `timeoutMs`); its stdout, or an error with its stderr. */
export function sh(file, args, input, timeoutMs = 60_000) {
  return new Promise((resolve, reject) => {
    const p = execFile(file, args, { timeout: timeoutMs, maxBuffer: 1 << 24 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${file} ${args.join(' ')}: ${err.message}\n${stderr}`)) : resolve(stdout),
    );
    if (input !== undefined) p.stdin.end(input);
  });
}

/** Resolves once 127.0.0.1:port accepts a connection (at most 30 s). */
export async function waitForPort(port) {
  for (let i = 0; i < 300; i++) {
    const ok = await new Promise((r) => {
      const s = net.connect(port, '127.0.0.1', () => (s.destroy(), r(true))).on('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`port ${port} never opened`);
}

/** CPU seconds of a process: its main thread, and all its threads. */
export function serverCpu(pid) {
  const main = Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ')[0]) / 1e9;
  // Fields after the command name: utime and stime are the 12th and 13th, in clock ticks (100 per second on Linux).
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { main, all: (Number(f[11]) + Number(f[12])) / 100 };
}

/** Write and read syscalls and bytes of a process so far (Linux /proc/PID/io). */
export function serverIo(pid) {
  const f = Object.fromEntries(readFileSync(`/proc/${pid}/io`, 'utf8').trim().split('\n').map((l) => l.split(': ')).map(([k, v]) => [k, Number(v)]));
  return { syscw: f.syscw, wchar: f.wchar, syscr: f.syscr, written: f.write_bytes };
}

/** Waits (at most 120 s) until the server's main thread used under 2 % of a 500 ms window: its backlog is done. */
export async function settle(pid) {
  for (let i = 0; i < 240; i++) {
    const a = serverCpu(pid).main;
    await new Promise((r) => setTimeout(r, 500));
    if (serverCpu(pid).main - a < 0.01) return;
  }
}

/** utime+stime in seconds of each live thread of a process, by thread id (named main, or name/tid). */
export function threadSeconds(pid) {
  const out = new Map();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(tid, { name: tid === String(pid) ? 'main' : `${name}/${tid}`, s: (Number(f[11]) + Number(f[12])) / 100 });
    } catch {
      // The thread ended meanwhile.
    }
  }
  return out;
}

/**
 * Per thread, the CPU ms per message between two threadSeconds snapshots
 * (threads that ended are missed); `byName` sums threads of one name.
 */
export function threadBreakdown(before, after, n, byName = false) {
  const by = new Map();
  for (const [tid, t] of after) {
    const ms = ((t.s - (before.get(tid)?.s ?? 0)) * 1000) / n;
    const name = byName ? t.name.replace(/\/\d+$/, '') : t.name;
    if (ms >= 0.01) by.set(name, (by.get(name) ?? 0) + ms);
  }
  return [...by].map(([n, ms]) => `${n} ${ms.toFixed(2)}`).join(', ');
}
