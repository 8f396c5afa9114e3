/**
 * The rules for changing the directory, shared by `postern user|group|alias`
 * and the console so both refuse the same things with the same words: known
 * roles only, separation of duties between mailadmin and pkiofficer, password
 * length, group names. Each check returns why it refuses, or null.
 */
import { normalizeAddress } from '../core/address.js';
import type { Role } from '../store/types.js';

/** A valid address in its normal form, or why not. */
export function checkAddress(a: string): { address: string } | { error: string } {
  const n = normalizeAddress(a);
  return n ? { address: n } : { error: `not a valid mail address: ${JSON.stringify(a)}` };
}

/** The roles named (none: user), or why not; `known` is the store's ROLES (a layer below may not be imported here for a value). */
export function checkRoles(list: readonly string[], known: readonly Role[]): { roles: Role[] } | { error: string } {
  const roles = list.length ? [...new Set(list)] : ['user'];
  for (const r of roles) if (!known.includes(r as Role)) return { error: `unknown role ${r}; roles are ${known.join(', ')}` };
  return { roles: roles as Role[] };
}

/**
 * Separation of duties: whoever runs the mail (mailadmin) must not also hold
 * the CA (pkiofficer), or one person could issue a certificate for any
 * address and read what is encrypted to it. [auth] allow_pki_and_mail_admin
 * lifts the rule, and then every such grant carries a warning.
 */
export function checkRoleSeparation(allowBoth: boolean, address: string, roles: readonly Role[]): { error: string } | { warning: string } | null {
  if (!(roles.includes('mailadmin') && roles.includes('pkiofficer'))) return null;
  if (!allowBoth) {
    return { error: `${address} may not hold both mailadmin and pkiofficer (separation of duties); set [auth] allow_pki_and_mail_admin = true to allow it` };
  }
  return { warning: `${address} holds both mailadmin and pkiofficer ([auth] allow_pki_and_mail_admin = true)` };
}

// The password rule is password-rules.ts, shared with Directory.setPassword.
export { checkPasswordStrength } from './password-rules.js';

const GROUP_NAME_RE = /^[\w.-]{1,64}$/;

export function checkGroupName(name: string): string | null {
  return GROUP_NAME_RE.test(name) ? null : 'group names are 1-64 letters, digits, ".", "_" or "-"';
}

/** The longest group description kept. */
export const MAX_DESCRIPTION = 200;
