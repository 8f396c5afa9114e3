/**
 * Runs raw-peer.py (Debian's /usr/bin/python3) as a hostile SMTP peer and
 * collects the lines it prints (PORT, STALLED, DELIVERED, FLOOD, CLOSED).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface RawPeer {
  port: number;
  lines: string[];
  /** Resolves with the first line matching, or rejects after `timeoutMs`. */
  waitFor(re: RegExp, timeoutMs: number): Promise<string>;
  close(): Promise<void>;
}

export async function startRawPeer(): Promise<RawPeer> {
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'raw-peer.py');
  const child: ChildProcess = spawn('/usr/bin/python3', [script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  let rest = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    rest += d;
    let i;
    while ((i = rest.indexOf('\n')) !== -1) {
      lines.push(rest.slice(0, i));
      rest = rest.slice(i + 1);
    }
    for (const w of [...waiters]) w();
  });
  const waitFor = (re: RegExp, timeoutMs: number) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const hit = lines.find((l) => re.test(l));
        if (!hit) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(hit);
      };
      const timer = setTimeout(() => (waiters.delete(check), reject(new Error(`raw peer: no ${re} within ${timeoutMs} ms; saw ${JSON.stringify(lines)}`))), timeoutMs);
      waiters.add(check);
      check();
    });
  const port = Number((await waitFor(/^PORT \d+$/, 10_000)).slice(5));
  return {
    port,
    lines,
    waitFor,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  };
}
