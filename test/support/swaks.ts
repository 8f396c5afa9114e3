/** Runs swaks against a listener and extracts the server's replies from its transcript. */
import { run } from './procs.js';

export interface SwaksResult {
  code: number | null;
  /** Server lines ("<-" and "<~" in swaks' transcript), without the arrow. */
  replies: string[];
  transcript: string;
}

export async function swaks(args: string[]): Promise<SwaksResult> {
  const r = await run('swaks', ['--server', '127.0.0.1', '--helo', 'swaks.example.test', ...args], { timeoutMs: 45_000 });
  const transcript = r.stdout + r.stderr;
  const replies = transcript
    .split('\n')
    .filter((l) => /^\s*<[-~*]{1,2}\s/.test(l))
    .map((l) => l.replace(/^\s*<[-~*]{1,2}\s+/, '').trimEnd());
  return { code: r.code, replies, transcript };
}
