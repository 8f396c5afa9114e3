/**
 * The organisation CA's files for `postern pki`: pki/ca.pem and the CA key
 * pki/ca.key.pem, beside the configuration file. The key is written only as
 * encrypted PKCS#8 (AES-256-CBC under a passphrase the officer types), mode
 * 0600, and files are never overwritten; reading it back needs the passphrase.
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { createInterface } from 'node:readline';
import { dirname, join, resolve } from 'node:path';
import { readPassword } from './password-input.js';
import { UsageError } from './context.js';

export interface PkiPaths {
  dir: string;
  cert: string;
  key: string;
  crl: string;
}

/** pki/ beside the configuration file, like data/ and tls/ of `postern init`. */
export function pkiPaths(configPath: string): PkiPaths {
  const dir = join(dirname(resolve(configPath)), 'pki');
  return { dir, cert: join(dir, 'ca.pem'), key: join(dir, 'ca.key.pem'), crl: join(dir, 'crl.pem') };
}

/**
 * Secrets from stdin, one a line (a pipe), or one prompt each with echo off
 * (a terminal). The first is the acting account's password; which follow
 * depends on the command. Missing lines are empty strings.
 */
export async function readSecrets(prompts: readonly string[]): Promise<string[]> {
  if (process.stdin.isTTY) {
    const out: string[] = [];
    for (const p of prompts) out.push(await readPassword(p));
    return out;
  }
  const lines: string[] = [];
  const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of rl) {
    lines.push(line);
    if (lines.length >= prompts.length) break;
  }
  rl.close();
  return prompts.map((_, i) => lines[i] ?? '');
}

export function encryptKeyPem(key: KeyObject, passphrase: string): string {
  return key.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase }) as string;
}

/** Writes a new file with `mode`; an existing one is an error, never replaced. */
export async function writeNew(path: string, data: string | Uint8Array, mode: number): Promise<void> {
  try {
    await fsp.writeFile(path, data, { flag: 'wx', mode });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new UsageError(`${path} exists; it is not overwritten`);
    throw new UsageError(`${path}: ${(e as Error).message}`);
  }
  await fsp.chmod(path, mode); // the umask must not loosen (or tighten) it
}

async function readSmall(path: string, what: string, max = 256 * 1024): Promise<Buffer> {
  let st;
  try {
    st = await fsp.stat(path);
  } catch {
    throw new UsageError(`${path}: no ${what} (run postern pki init first)`);
  }
  if (!st.isFile() || st.size > max) throw new UsageError(`${path} is not a ${what} file`);
  return fsp.readFile(path);
}

/** The CA certificate (PEM) and its key, opened with the passphrase. */
export async function loadCa(paths: PkiPaths, passphrase: string): Promise<{ certificatePem: string; key: KeyObject }> {
  const certificatePem = (await readSmall(paths.cert, 'CA certificate')).toString('latin1');
  const keyPem = await readSmall(paths.key, 'CA key');
  if (!keyPem.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----')) throw new UsageError(`${paths.key} is not an encrypted PKCS#8 key; refusing to use it`);
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: keyPem, format: 'pem', passphrase });
  } catch {
    throw new UsageError(`${paths.key}: wrong CA key passphrase`);
  }
  return { certificatePem, key };
}
