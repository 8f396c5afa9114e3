/** Runs test/pop3/clients/poplib_session.py with Debian's Python (/usr/bin/python3). */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HOST } from './harness.js';

const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'clients', 'poplib_session.py');
export const PYTHON = '/usr/bin/python3';

export type PyOp = [string, ...(string | number)[]];
export type PyResult = { ok: unknown } | { error: string };

export interface PySession {
  mode: 'ssl' | 'stls' | 'plain';
  port: number;
  ca: string;
  user?: string;
  password?: string;
}

export async function poplibSession(s: PySession, ops: PyOp[]): Promise<{ welcome: string; results: PyResult[] }> {
  const env = { PATH: '/usr/bin:/bin', POP3_HOST: HOST, POP3_PORT: String(s.port), POP3_MODE: s.mode, POP3_CA: s.ca, POP3_USER: s.user ?? '', POP3_PASS: s.password ?? '' };
  const child = spawn(PYTHON, [SCRIPT], { env, stdio: ['pipe', 'pipe', 'pipe'], timeout: 60_000 });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (d: Buffer) => out.push(d));
  child.stderr.on('data', (d: Buffer) => err.push(d));
  child.stdin.end(JSON.stringify(ops));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`poplib session failed (${code}): ${Buffer.concat(err).toString()}`);
  return JSON.parse(Buffer.concat(out).toString('utf8')) as { welcome: string; results: PyResult[] };
}

/** The value of a successful op; throws with the server's error otherwise. */
export function ok<T = unknown>(r: PyResult | undefined): T {
  if (!r || !('ok' in r)) throw new Error(`expected success, got ${JSON.stringify(r)}`);
  return r.ok as T;
}

export const b64 = (s: unknown): Buffer => Buffer.from(String(s), 'base64');
