import os from 'node:os';
import type { Store } from '../store/types.js';
import { recordAudit } from '../integrity/audit-log.js';

/** Who acts from the command line when no account logs in: the operating-system user. */
export function cliActor(): string {
  let name = 'unknown';
  try {
    name = os.userInfo().username;
  } catch {
    name = process.env.USER ?? 'unknown';
  }
  return `cli:${name}`;
}

/**
 * Appends one administrative action to the audit log. `data` must never hold
 * a password, a password hash or a key: only what was changed and how.
 */
export async function audited(store: Store, action: string, subject: string, data: Record<string, unknown> = {}, actor: string = cliActor()): Promise<void> {
  await recordAudit(store, { actor, action, subject, data }, Date.now());
}
