import type { Command } from 'commander';
import { normalizeDomain } from '../../core/address.js';
import { Directory, passwordCredentials } from '../../directory/directory.js';
import { checkAddress, checkGroupName, checkRoles, checkRoleSeparation as separation } from '../../directory/admin.js';
import { createAccount } from '../../mailbox/provision.js';
import type { Config } from '../../config/index.js';
import { ROLES, type Role } from '../../store/types.js';
import { resolveConfigPath, UsageError, withStore } from '../context.js';
import { audited } from '../audit.js';
import { checkPasswordStrength, readPassword } from '../password-input.js';

const cfg = (cmd: Command): string => resolveConfigPath((cmd.optsWithGlobals() as { config?: string }).config);

function addressArg(a: string): string {
  const r = checkAddress(a);
  if ('error' in r) throw new UsageError(r.error);
  return r.address;
}

function rolesArg(list: string[] | undefined): Role[] {
  const r = checkRoles(list ?? [], ROLES);
  if ('error' in r) throw new UsageError(r.error);
  return r.roles;
}

/** Separation of duties (see directory/admin.ts): refused, or allowed by the config with a warning. */
function checkRoleSeparation(config: Config, address: string, roles: readonly Role[]): void {
  const r = separation(config.auth.allow_pki_and_mail_admin === true, address, roles);
  if (r && 'error' in r) throw new UsageError(r.error);
  if (r) console.error(`warning: ${r.warning}`);
}

async function newPassword(): Promise<string> {
  const p = await readPassword('New password: ');
  const weak = checkPasswordStrength(p);
  if (weak) throw new UsageError(weak);
  return p;
}

export function registerDirectoryCommands(program: Command): void {
  const domain = program.command('domain').description('local mail domains');
  domain
    .command('add <name>')
    .description('accept mail for a domain')
    .action(async (name: string, _o, cmd: Command) => {
      const d = normalizeDomain(name);
      if (!d) throw new UsageError(`not a valid domain name: ${JSON.stringify(name)}`);
      await withStore(cfg(cmd), async (s) => {
        await s.meta.directory.addDomain(d, Date.now());
        await audited(s, 'domain.add', d);
      });
      console.log(`domain ${d} added`);
    });
  domain
    .command('list')
    .description('list local domains')
    .action(async (_o, cmd: Command) => {
      const ds = await withStore(cfg(cmd), (s) => s.meta.directory.listDomains());
      for (const d of ds) console.log(d.name);
    });

  const user = program.command('user').description('mail accounts (passwords are read from stdin or a prompt, never argv)');
  user
    .command('add <address>')
    .description('create an account and its default folders')
    .option('--name <display name>', 'display name', '')
    .option('--role <role...>', `roles: ${ROLES.join(', ')}`)
    .option('--quota <bytes>', 'mailbox quota in bytes')
    .action(async (address: string, o: { name: string; role?: string[]; quota?: string }, cmd: Command) => {
      const a = addressArg(address);
      const roles = rolesArg(o.role);
      const quota = o.quota === undefined ? null : Number(o.quota);
      if (quota !== null && (!Number.isSafeInteger(quota) || quota < 0)) throw new UsageError('--quota takes a whole number of bytes');
      const credentials = await passwordCredentials(await newPassword());
      await withStore(cfg(cmd), async (s, config) => {
        checkRoleSeparation(config, a, roles);
        await createAccount(s.meta, { address: a, displayName: o.name, ...credentials, roles, quotaBytes: quota }, Date.now());
        await audited(s, 'user.add', a, { roles, quotaBytes: quota, displayName: o.name });
      });
      console.log(`account ${a} created (roles: ${roles.join(', ')})`);
    });
  user
    .command('list')
    .description('list accounts')
    .action(async (_o, cmd: Command) => {
      const as = await withStore(cfg(cmd), (s) => s.meta.directory.listAccounts());
      for (const a of as) console.log(`${a.address}\t${a.disabled ? 'disabled' : 'active'}\t${a.roles.join(',')}\t${a.displayName}`);
    });
  user
    .command('passwd <address>')
    .description('set a new password')
    .action(async (address: string, _o, cmd: Command) => {
      const a = addressArg(address);
      const password = await newPassword();
      await withStore(cfg(cmd), async (s) => {
        // The same rules and hashing as the console's own-account page.
        await new Directory(s.meta.directory).setPassword(a, password);
        await audited(s, 'user.passwd', a); // never the password or its hash
      });
      console.log(`password of ${a} changed`);
    });
  for (const [name, disabled] of [
    ['disable', true],
    ['enable', false],
  ] as const) {
    user
      .command(`${name} <address>`)
      .description(disabled ? 'refuse logins and mail for an account' : 're-enable an account')
      .action(async (address: string, _o, cmd: Command) => {
        const a = addressArg(address);
        await withStore(cfg(cmd), async (s) => {
          await s.meta.directory.setDisabled(a, disabled);
          await audited(s, `user.${name}`, a);
        });
        console.log(`account ${a} ${name}d`);
      });
  }
  user
    .command('roles <address> <role...>')
    .description('replace the roles of an account')
    .action(async (address: string, roles: string[], _o, cmd: Command) => {
      const a = addressArg(address);
      const rs = rolesArg(roles);
      await withStore(cfg(cmd), async (s, config) => {
        checkRoleSeparation(config, a, rs);
        const before = (await s.meta.directory.getAccount(a))?.roles ?? null;
        await s.meta.directory.setRoles(a, rs);
        await audited(s, 'user.roles', a, { from: before, to: rs });
      });
      console.log(`roles of ${a}: ${rs.join(', ')}`);
    });

  const alias = program.command('alias').description('addresses that forward to accounts or other addresses');
  alias
    .command('add <address> <target>')
    .action(async (address: string, target: string, _o, cmd: Command) => {
      const a = addressArg(address);
      const t = addressArg(target);
      await withStore(cfg(cmd), async (s) => {
        await s.meta.directory.addAlias(a, t);
        await audited(s, 'alias.add', a, { target: t });
      });
      console.log(`alias ${a} -> ${t}`);
    });
  alias.command('list').action(async (_o, cmd: Command) => {
    for (const a of await withStore(cfg(cmd), (s) => s.meta.directory.listAliases())) console.log(`${a.address}\t${a.target}`);
  });

  const group = program.command('group').description('groups (departments), used to attribute mail');
  group
    .command('add <name>')
    .option('--description <text>', 'what the group is', '')
    .action(async (name: string, o: { description: string }, cmd: Command) => {
      const bad = checkGroupName(name);
      if (bad) throw new UsageError(bad);
      await withStore(cfg(cmd), async (s) => {
        await s.meta.directory.addGroup(name, o.description);
        await audited(s, 'group.add', name, { description: o.description });
      });
      console.log(`group ${name} added`);
    });
  group.command('list').action(async (_o, cmd: Command) => {
    for (const g of await withStore(cfg(cmd), (s) => s.meta.directory.listGroups())) console.log(`${g.name}\t${g.description}`);
  });
  group
    .command('members <name>')
    .description('list members, or change them with --add / --remove')
    .option('--add <address...>', 'add members')
    .option('--remove <address...>', 'remove members')
    .action(async (name: string, o: { add?: string[]; remove?: string[] }, cmd: Command) => {
      const members = await withStore(cfg(cmd), async (s) => {
        for (const a of o.add ?? []) await s.meta.directory.addGroupMember(name, addressArg(a));
        for (const a of o.remove ?? []) await s.meta.directory.removeGroupMember(name, addressArg(a));
        if (o.add?.length || o.remove?.length) await audited(s, 'group.members', name, { add: (o.add ?? []).map(addressArg), remove: (o.remove ?? []).map(addressArg) });
        return s.meta.directory.listGroupMembers(name);
      });
      for (const m of members) console.log(m);
    });
}
