/**
 * SCRAM-SHA-256(-PLUS) logins over the directory: the protocol servers hand in
 * the client's messages and the connection's channel-binding data and get the
 * server's messages back. The account and its keys are read at the first
 * message; a name without keys (unknown, disabled, or a password set before
 * SCRAM keys were kept) gets fake keys that look the same and never verify,
 * so the exchange does not reveal which accounts exist.
 */
import { normalizeAddress } from '../core/address.js';
import { ScramExchange, fakeScramKeys, parseScramKeys, type ChannelBindingType } from '../crypto/scram.js';
import type { Account, DirectoryRepo } from '../store/types.js';

export const SCRAM_MECHANISMS = ['SCRAM-SHA-256', 'SCRAM-SHA-256-PLUS'] as const;
export type ScramMechanism = (typeof SCRAM_MECHANISMS)[number];

export function isScramMechanism(m: string): m is ScramMechanism {
  return (SCRAM_MECHANISMS as readonly string[]).includes(m);
}

const WITH_PLUS: readonly ScramMechanism[] = ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256'];
const WITHOUT_PLUS: readonly ScramMechanism[] = ['SCRAM-SHA-256'];

/**
 * The mechanisms to advertise: -PLUS only inside TLS, where a server always
 * has its certificate and so tls-server-end-point. Decided from the TLS
 * state alone: computing the bindings hashes the certificate, which cost
 * more than anything else in a greeting; they are computed only when a
 * client runs -PLUS.
 */
export function scramMechanisms(insideTls: boolean): readonly ScramMechanism[] {
  return insideTls ? WITH_PLUS : WITHOUT_PLUS;
}

export type ScramStart =
  | {
      ok: true;
      /** The login name as the throttle keys it (normalised address, or the text). */
      username: string;
      serverFirst: string;
      /** Checks the client-final-message: the account and the server-final-message, or null. Call once. */
      finish(clientFinal: string): Promise<{ account: Account; serverFinal: string } | null>;
    }
  | { ok: false };

/**
 * Starts an exchange from the decoded client-first-message. `secret` makes the
 * fake salt of a name without keys stable for the life of the secret.
 */
export async function scramStart(
  repo: DirectoryRepo,
  secret: Buffer,
  mechanism: ScramMechanism,
  bindings: Partial<Record<ChannelBindingType, Buffer>>,
  clientFirst: string,
): Promise<ScramStart> {
  const ex = new ScramExchange({ plus: mechanism === 'SCRAM-SHA-256-PLUS', bindings });
  const first = ex.clientFirst(clientFirst);
  if (!first.ok) return { ok: false };
  const norm = normalizeAddress(first.username);
  const username = norm ?? first.username.toLowerCase().slice(0, 256);
  const acct = norm ? await repo.getAccount(norm) : null;
  const real = acct && !acct.disabled ? parseScramKeys(acct.scramKeys) : null;
  const keys = real ?? fakeScramKeys(secret, username);
  return {
    ok: true,
    username,
    serverFirst: ex.serverFirst(keys),
    finish: async (clientFinal) => {
      const r = ex.clientFinal(clientFinal, keys);
      return r.ok && real && acct ? { account: acct, serverFinal: r.serverFinal } : null;
    },
  };
}
