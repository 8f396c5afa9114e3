/**
 * A throw-away SoftHSM2 for the token tests: its own softhsm2.conf and token
 * directory in a temp folder, named by SOFTHSM2_CONF in this process's
 * environment (the library reads it at C_Initialize, and the CLI processes a
 * test spawns inherit it). Tokens are made with Debian's softhsm2-util.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Debian's softhsm2 package installs the module here (a link into the multiarch directory). */
export const SOFTHSM_MODULE = '/usr/lib/softhsm/libsofthsm2.so';

export interface SoftHsm {
  dir: string;
  conf: string;
  /** A new token with a user PIN and an SO PIN. */
  initToken(label: string, pin: string, soPin?: string): void;
  /** pkcs11-tool (OpenSC) against the module, with this SoftHSM's configuration. */
  pkcs11Tool(args: readonly string[]): { status: number; out: string };
  cleanup(): void;
}

export function softHsm(): SoftHsm {
  if (!existsSync(SOFTHSM_MODULE)) throw new Error(`${SOFTHSM_MODULE} is missing: install Debian's softhsm2 (scripts/test-env.sh does)`);
  const dir = mkdtempSync(join(tmpdir(), 'postern-softhsm-'));
  mkdirSync(join(dir, 'tokens'), { mode: 0o700 });
  const conf = join(dir, 'softhsm2.conf');
  writeFileSync(conf, `directories.tokendir = ${join(dir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`);
  const previous = process.env.SOFTHSM2_CONF;
  process.env.SOFTHSM2_CONF = conf;
  const env = { ...process.env, SOFTHSM2_CONF: conf };
  return {
    dir,
    conf,
    initToken(label, pin, soPin = 'so-pin-5678') {
      const r = spawnSync('softhsm2-util', ['--init-token', '--free', '--label', label, '--pin', pin, '--so-pin', soPin], { env, encoding: 'utf8', timeout: 60_000 });
      if (r.status !== 0) throw new Error(`softhsm2-util --init-token failed: ${r.stdout}${r.stderr}`);
    },
    pkcs11Tool(args) {
      const r = spawnSync('pkcs11-tool', ['--module', SOFTHSM_MODULE, ...args], { env, encoding: 'utf8', timeout: 60_000 });
      return { status: r.status ?? 1, out: `${r.stdout}${r.stderr}` };
    },
    cleanup() {
      if (previous === undefined) delete process.env.SOFTHSM2_CONF;
      else process.env.SOFTHSM2_CONF = previous;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
