/**
 * Who may read /metrics and /api/v1: the holder of the bearer token (compared
 * in constant time, through SHA-256 so lengths do not leak either) or of a
 * client certificate that verifies against [admin] client_ca. With neither
 * configured nobody may, and the routes answer 403.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { TLSSocket } from 'node:tls';
import { PosternError } from '../core/errors.js';

export const MIN_TOKEN_LENGTH = 32;

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** The first line of the token file; a config error naming the key when it is missing or too short. */
export function loadToken(file: string): { digest: Buffer; groupOrWorldReadable: boolean } {
  let text: string;
  let mode: number;
  try {
    text = readFileSync(file, 'utf8');
    mode = statSync(file).mode;
  } catch (e) {
    throw new PosternError('CONFIG_INVALID', `admin.metrics_token_file: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  const token = (text.split(/\r?\n/, 1)[0] ?? '').trim();
  if (token.length < MIN_TOKEN_LENGTH) {
    throw new PosternError('CONFIG_INVALID', `admin.metrics_token_file: the token in ${file} has ${token.length} characters, at least ${MIN_TOKEN_LENGTH} are needed`);
  }
  if (!/^[\x21-\x7e]+$/.test(token)) throw new PosternError('CONFIG_INVALID', `admin.metrics_token_file: the token in ${file} must be printable ASCII without spaces`);
  return { digest: digest(token), groupOrWorldReadable: (mode & 0o077) !== 0 };
}

export interface AccessRules {
  /** SHA-256 of the token; null when no token is configured. */
  readonly tokenDigest: Buffer | null;
  /** True when client certificates are requested and checked against client_ca. */
  readonly clientCa: boolean;
}

export type AccessDecision = 'allowed' | 'unauthorized' | 'forbidden';

export function decideAccess(rules: AccessRules, authorization: string | undefined, socket: unknown): AccessDecision {
  if (!rules.tokenDigest && !rules.clientCa) return 'forbidden';
  if (rules.tokenDigest && authorization) {
    const m = /^Bearer ([\x21-\x7e]{1,512})$/i.exec(authorization);
    if (m && timingSafeEqual(digest(m[1]!), rules.tokenDigest)) return 'allowed';
  }
  if (rules.clientCa && verifiedClient(socket)) return 'allowed';
  return 'unauthorized';
}

/** A TLS peer whose certificate chain verified against the configured CA. */
function verifiedClient(socket: unknown): boolean {
  const s = socket as Partial<TLSSocket> | undefined;
  if (!s || s.authorized !== true || typeof s.getPeerCertificate !== 'function') return false;
  const cert = s.getPeerCertificate();
  return !!cert && Object.keys(cert).length > 0;
}
