/**
 * The organisation CA's files for `postern pki`: pki/ca.pem and where the CA
 * key is, beside the configuration file. The key is either a file,
 * pki/ca.key.pem, written only as encrypted PKCS#8 (AES-256-CBC under a
 * passphrase the officer types), mode 0600, or in a PKCS#11 token, named by
 * pki/ca.token.json ({ module, token, keyLabel }: no secret; the officer
 * types the token PIN). Never both, and files are never overwritten.
 */
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { createInterface } from 'node:readline';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import {
  CaError, type CaKeyAlgorithm, type CreatedCa, type Signer, createCa, discardTokenKey, generateTokenKey, openToken, softwareSigner, tokenSigner,
} from '../crypto/ca/index.js';
import { readPassword } from './password-input.js';
import { UsageError } from './context.js';

export interface PkiPaths {
  dir: string;
  cert: string;
  key: string;
  /** Names the token holding the CA key, when it is in one. */
  token: string;
  crl: string;
}

/** pki/ beside the configuration file, like data/ and tls/ of `postern init`. */
export function pkiPaths(configPath: string): PkiPaths {
  const dir = join(dirname(resolve(configPath)), 'pki');
  return { dir, cert: join(dir, 'ca.pem'), key: join(dir, 'ca.key.pem'), token: join(dir, 'ca.token.json'), crl: join(dir, 'crl.pem') };
}

/** Debian's softhsm2 puts its PKCS#11 module here; a hardware token's vendor names its own. */
export const DEFAULT_PKCS11_MODULE = '/usr/lib/softhsm/libsofthsm2.so';
export const DEFAULT_KEY_LABEL = 'postern-ca';

/** What pki/ca.token.json holds: where the key is, never a PIN. */
export interface TokenRef {
  module: string;
  token: string;
  keyLabel: string;
}

export type CaKeyLocation = 'file' | 'token';

const exists = (path: string): Promise<boolean> => fsp.stat(path).then(() => true, () => false);

/** Where the CA key is: a token when pki/ca.token.json exists, else the key file. Both at once is refused. */
export async function caKeyLocation(paths: PkiPaths): Promise<CaKeyLocation> {
  const [file, token] = await Promise.all([exists(paths.key), exists(paths.token)]);
  if (file && token) throw new UsageError(`both ${paths.key} and ${paths.token} exist: the CA key must be in one place; remove the one that is not the CA's`);
  return token ? 'token' : 'file';
}

/** The prompt for the secret that opens the CA key. */
export const caKeyPrompt = (where: CaKeyLocation): string => (where === 'token' ? 'token PIN: ' : 'CA key passphrase: ');

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

export interface LoadedCa {
  certificatePem: string;
  signer: Signer;
  where: CaKeyLocation;
  /** Ends the token session (a no-op for a key file). */
  close(): void;
}

const tokenFailure = (e: unknown): never => {
  if (e instanceof CaError) throw new UsageError(`CA key: ${e.message}`);
  throw e;
};

/** pki/ca.token.json, checked: an absolute module path and two labels. */
export async function readTokenRef(path: string): Promise<TokenRef> {
  const text = (await readSmall(path, 'CA token reference', 16 * 1024)).toString('utf8');
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new UsageError(`${path} is not JSON`);
  }
  const r = v as Partial<Record<keyof TokenRef, unknown>>;
  const str = (x: unknown, max: number): x is string => typeof x === 'string' && x.length > 0 && x.length <= max;
  if (!v || typeof v !== 'object' || !str(r.module, 4096) || !isAbsolute(r.module) || !str(r.token, 64) || !str(r.keyLabel, 64)) {
    throw new UsageError(`${path} must hold { "module": absolute path, "token": label, "keyLabel": label }`);
  }
  return { module: r.module, token: r.token, keyLabel: r.keyLabel };
}

/**
 * The CA certificate (PEM) and a Signer for its key: from the token named by
 * pki/ca.token.json with the PIN, or from the encrypted key file with the
 * passphrase. Close it when done.
 */
export async function loadCa(paths: PkiPaths, where: CaKeyLocation, secret: string): Promise<LoadedCa> {
  const certificatePem = (await readSmall(paths.cert, 'CA certificate')).toString('latin1');
  if (where === 'token') {
    const ref = await readTokenRef(paths.token);
    const session = await openToken({ module: ref.module, tokenLabel: ref.token, pin: secret }).catch(tokenFailure);
    try {
      return { certificatePem, signer: tokenSigner(session, { label: ref.keyLabel }), where, close: () => session.close() };
    } catch (e) {
      session.close();
      return tokenFailure(e);
    }
  }
  const keyPem = await readSmall(paths.key, 'CA key');
  if (!keyPem.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----')) throw new UsageError(`${paths.key} is not an encrypted PKCS#8 key; refusing to use it`);
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: keyPem, format: 'pem', passphrase: secret });
  } catch {
    throw new UsageError(`${paths.key}: wrong CA key passphrase`);
  }
  return { certificatePem, signer: softwareSigner(key), where, close: () => undefined };
}

export interface TokenCaOptions {
  subject: string;
  keyAlgorithm: CaKeyAlgorithm;
  validityDays: number;
}

/**
 * A new CA whose key pair is generated in the token and signs its own
 * certificate there; writes pki/ca.token.json and pki/ca.pem. When anything
 * fails after the key was made, the key is removed again and no file is left,
 * so a retry starts clean.
 */
export async function initTokenCa(paths: PkiPaths, ref: TokenRef, pin: string, opts: TokenCaOptions): Promise<CreatedCa> {
  const session = await openToken({ module: ref.module, tokenLabel: ref.token, pin }).catch(tokenFailure);
  try {
    const made = await generateTokenKey(session, { label: ref.keyLabel, algorithm: opts.keyAlgorithm }).catch(tokenFailure);
    const written: string[] = [];
    try {
      const ca = await createCa({ subject: opts.subject, keyAlgorithm: opts.keyAlgorithm, validityDays: opts.validityDays, signer: tokenSigner(session, { label: ref.keyLabel }) });
      new X509Certificate(ca.certificate); // what is written must parse
      await fsp.mkdir(paths.dir, { recursive: true, mode: 0o755 });
      await writeNew(paths.token, `${JSON.stringify(ref, null, 2)}\n`, 0o644);
      written.push(paths.token);
      await writeNew(paths.cert, ca.certificatePem, 0o644);
      return ca;
    } catch (e) {
      for (const f of written) await fsp.rm(f, { force: true });
      try {
        discardTokenKey(session, made.id);
      } catch (d) {
        const why = e instanceof Error ? e.message : String(e);
        throw new UsageError(`${why}; the new key "${ref.keyLabel}" stays on the token (removing it failed: ${(d as Error).message})`);
      }
      return tokenFailure(e);
    }
  } finally {
    session.close();
  }
}
