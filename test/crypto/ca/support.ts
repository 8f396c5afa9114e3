/**
 * Helpers for the CA tests: a temp directory per test file and the openssl
 * CLI (OpenSSL 3) as the independent judge of what the CA produces.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openssl, opensslStatus } from '../../support/smime-pki.js';

export { openssl, opensslStatus };

export interface TempDir {
  dir: string;
  /** Writes the bytes or text to a file in the directory and returns its path. */
  put(name: string, data: Uint8Array | string): string;
  path(name: string): string;
  cleanup(): void;
}

export function tempDir(): TempDir {
  const dir = mkdtempSync(join(tmpdir(), 'postern-ca-'));
  return {
    dir,
    put: (name, data) => {
      const p = join(dir, name);
      writeFileSync(p, data);
      return p;
    },
    path: (name) => join(dir, name),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** `openssl verify` of a leaf against the CA, with extra flags; returns the exit status and all output. */
export function verifyLeaf(t: TempDir, caPem: string, leafPem: string, extra: readonly string[] = []): { status: number; out: string } {
  const r = opensslStatus(['verify', ...extra, '-CAfile', t.put('ca.pem', caPem), t.put('leaf.pem', leafPem)]);
  return { status: r.status, out: r.stdout.toString() + r.stderr };
}

/** Runs openssl and returns status, stdout and stderr whatever the outcome (some commands report on stderr). */
export function run(args: readonly string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync('openssl', args, { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  return { status: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}
