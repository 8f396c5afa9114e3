/**
 * `postern console`: the second factor of administrators for the HTTPS
 * console. `enroll` prints a one-time code (valid 15 minutes, stored only as
 * SHA-256) that lets an administrator without a registered factor register
 * a security key or TOTP after their password; without it a stolen password
 * alone cannot enroll a key. `factors` lists what an account has registered,
 * `reset` removes it all (lost key). Every change is audited.
 */
import type { Command } from 'commander';
import { normalizeAddress } from '../../core/address.js';
import { ENROLLMENT_CODE_TTL_MS, enrollmentCodeDigest, isAdmin, newEnrollmentCode } from '../../admin/console/codes.js';
import type { Store } from '../../store/types.js';
import { resolveConfigPath, UsageError, withStore } from '../context.js';
import { audited } from '../audit.js';

const cfg = (cmd: Command): string => resolveConfigPath((cmd.optsWithGlobals() as { config?: string }).config);

async function adminAccount(s: Store, raw: string): Promise<string> {
  const address = normalizeAddress(raw);
  if (!address) throw new UsageError(`${JSON.stringify(raw)} is not an address`);
  const account = await s.meta.directory.getAccount(address);
  if (!account) throw new UsageError(`${address}: no such account`);
  if (account.disabled) throw new UsageError(`${address}: the account is disabled`);
  if (!isAdmin(account.roles)) throw new UsageError(`${address} has no administrator role (mailadmin, auditor, pkiofficer): it logs in with its password alone`);
  return address;
}

export function registerConsoleCommands(program: Command): void {
  const c = program.command('console').description('second factors of administrators for the HTTPS console');

  c.command('enroll <address>')
    .description('print a one-time code (15 minutes) with which the account registers a security key or TOTP')
    .action(async (raw: string, _o: unknown, cmd: Command) => {
      const code = newEnrollmentCode();
      const expiresAt = await withStore(cfg(cmd), async (s) => {
        const address = await adminAccount(s, raw);
        const now = Date.now();
        const until = now + ENROLLMENT_CODE_TTL_MS;
        await s.meta.factors.addEnrollmentCode(address, enrollmentCodeDigest(code), until, now);
        await audited(s, 'console.enroll', address, { expiresAt: new Date(until).toISOString() });
        return until;
      });
      console.log(`enrollment code for ${normalizeAddress(raw)}: ${code}`);
      console.log(`valid until ${new Date(expiresAt).toISOString()}, once; an older unused code no longer works`);
    });

  c.command('factors <address>')
    .description('the security keys and TOTP registered to an account')
    .action(async (raw: string, _o: unknown, cmd: Command) => {
      const address = normalizeAddress(raw);
      if (!address) throw new UsageError(`${JSON.stringify(raw)} is not an address`);
      const [keys, totp] = await withStore(cfg(cmd), async (s) => Promise.all([s.meta.factors.listCredentials(address), s.meta.factors.getTotp(address)]));
      for (const k of keys) {
        console.log(`key ${k.id.slice(0, 16)}…\tadded ${new Date(k.createdAt).toISOString()}\tlast used ${k.lastUsedAt === null ? '-' : new Date(k.lastUsedAt).toISOString()}`);
      }
      if (totp) console.log(`totp\tadded ${new Date(totp.createdAt).toISOString()}`);
      if (keys.length === 0 && !totp) console.log(`${address} has no second factor`);
    });

  c.command('reset <address>')
    .description('remove every security key and the TOTP secret of an account (it must enroll again, with a new code)')
    .action(async (raw: string, _o: unknown, cmd: Command) => {
      const address = normalizeAddress(raw);
      if (!address) throw new UsageError(`${JSON.stringify(raw)} is not an address`);
      const n = await withStore(cfg(cmd), async (s) => {
        let removed = 0;
        for (const k of await s.meta.factors.listCredentials(address)) if (await s.meta.factors.removeCredential(k.id)) removed++;
        if (await s.meta.factors.removeTotp(address)) removed++;
        await audited(s, 'console.factors_reset', address, { removed });
        return removed;
      });
      console.log(`${address}: ${n} factor(s) removed`);
    });
}
