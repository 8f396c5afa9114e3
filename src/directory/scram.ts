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

/** The mechanisms to advertise: -PLUS only when the connection has channel-binding data (inside TLS). */
export function scramMechanisms(bindings: Partial<Record<ChannelBindingType, Buffer>>): ScramMechanism[] {
  return Object.keys(bindings).length > 0 ? ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256'] : ['SCRAM-SHA-256'];
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
