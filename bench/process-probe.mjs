// Helpers the single-server SMTP scripts (smtp-intake.mjs, smtp-phases.mjs)
// share: command-line options, running a command, waiting for a port on
// loopback, and a server process's CPU time from Linux /proc.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';

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

/** Waits (at most 120 s) until the server's main thread used under 2 % of a 500 ms window: its backlog is done. */
export async function settle(pid) {
  for (let i = 0; i < 240; i++) {
    const a = serverCpu(pid).main;
    await new Promise((r) => setTimeout(r, 500));
    if (serverCpu(pid).main - a < 0.01) return;
  }
}
