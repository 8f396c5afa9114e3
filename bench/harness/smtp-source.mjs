// Runs Postfix's smtp-source and reads what it reports.
import { performance } from 'node:perf_hooks';
import { run } from './procs.mjs';

export const SMTP_SOURCE = '/usr/sbin/smtp-source';

/**
 * What smtp-source printed: with -c it counts messages on stdout (numbers
 * separated by CR or newlines, the last one is the total); warnings and fatal
 * errors (a refused connection, a reply other than 2xx/3xx) go to stderr.
 */
export function parseSmtpSource(stdout, stderr) {
  const counts = String(stdout).match(/\d+/g) ?? [];
  const errors = String(stderr)
    .split(/\r?\n/)
    .filter((l) => /\b(warning|fatal|error):/.test(l));
  const last = counts.length ? Number(counts[counts.length - 1]) : 0;
  return { sent: last, errors: errors.length, firstError: errors[0] ?? null };
}

/**
 * One smtp-source run: `sessions` parallel sessions, `messages` messages of
 * `size` bytes, a new connection per message unless reuse (-d). Bounded by
 * timeoutMs (then killed, and the result says so).
 */
export async function smtpSource({ port, sessions, messages, size = 4096, reuse = false, from, to, timeoutMs = 300_000 }) {
  const args = ['-c', '-s', String(sessions), '-m', String(messages), '-l', String(size), '-f', from, '-t', to, '-M', 'client.bench.test'];
  if (reuse) args.unshift('-d');
  args.push(`127.0.0.1:${port}`);
  const t0 = performance.now();
  const r = await run(SMTP_SOURCE, args, { timeoutMs });
  const seconds = (performance.now() - t0) / 1000;
  const parsed = parseSmtpSource(r.stdout, r.stderr);
  const ok = r.status === 0 && parsed.errors === 0;
  return { ...parsed, seconds, ok, status: r.status ?? r.signal, rate: messages / seconds, msPerMessage: (seconds * 1000) / messages };
}
