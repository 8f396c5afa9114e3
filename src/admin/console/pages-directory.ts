/**
 * The directory for mailadmin: accounts (add with an initial password,
 * disable, enable, set roles), groups (add, members) and aliases (add), with
 * the rules and code of `postern user|group|alias` (`directory/admin.ts`,
 * `mailbox/provision.ts` `createAccount`). Every change is audited with the
 * logged-in account; passwords are hashed at once and never logged nor
 * audited. Disabling, enabling or changing the roles of an account ends its
 * console sessions on this node.
 */
import type { Hono } from 'hono';
import { passwordCredentials } from '../../directory/directory.js';
import { checkAddress, checkGroupName, checkPasswordStrength, checkRoles, checkRoleSeparation, MAX_DESCRIPTION } from '../../directory/admin.js';
import { createAccount } from '../../mailbox/provision.js';
import { ROLES, type Account, type Role } from '../../store/types.js';
import { badInput, refuse, storeRefusal } from './acting.js';
import { audit, field, htmlError, requireRole, type ConsoleDeps, type ConsoleEnv, type Ctx } from './context.js';
import { escapeHtml as e, form, page } from './html.js';
import { navFor } from './nav.js';
import type { Session, SessionStore } from './sessions.js';

const HOME = '/console/directory';
/** Rows shown per list; the command line lists everything. */
const MAX_ROWS = 1000;

/** The roles ticked in a form: one checkbox per role, named role-<role>. */
const rolesTicked = (c: Ctx): string[] => ROLES.filter((r) => field(c, `role-${r}`) !== '');
const roleBoxes = (checked: readonly Role[], idPrefix: string): string =>
  ROLES.map((r) => `<label class="inline"><input type="checkbox" name="role-${r}" id="${e(`${idPrefix}-${r}`)}" value="1"${checked.includes(r) ? ' checked' : ''}> ${r}</label>`).join(' ');

function accountRow(s: Session, a: Account, i: number): string {
  const hidden = `<input type="hidden" name="address" value="${e(a.address)}">`;
  const toggle = a.disabled ? 'enable' : 'disable';
  return [
    `<tr><td>${e(a.address)}</td><td>${e(a.displayName)}</td><td>${a.disabled ? 'disabled' : 'active'}</td>`,
    `<td>${form(s, `${HOME}/accounts/roles`, `${hidden}${roleBoxes(a.roles, `roles-${i}`)} <button type="submit">Set roles</button>`, 'class="inline"')}</td>`,
    `<td>${form(s, `${HOME}/accounts/${toggle}`, `${hidden}<button type="submit">${toggle === 'enable' ? 'Enable' : 'Disable'}</button>`, 'class="inline"')}</td></tr>`,
  ].join('');
}

export function mountDirectoryPages(app: Hono<ConsoleEnv>, d: ConsoleDeps, sessions: SessionStore): void {
  const dir = d.store.meta.directory;
  const admin = (c: Ctx, what: string) => requireRole(c, d, ['mailadmin'], what);
  /** An address field, or the 400 answer. */
  const addressField = (c: Ctx, name: string): string | Response => {
    const r = checkAddress(field(c, name).trim());
    return 'error' in r ? badInput(c, r.error) : r.address;
  };

  app.get(HOME, async (c) => {
    const s = await admin(c, 'The directory');
    if (s instanceof Response) return s;
    const [accounts, groups, aliases] = await Promise.all([dir.listAccounts(), dir.listGroups(), dir.listAliases()]);
    const members = await Promise.all(groups.slice(0, MAX_ROWS).map((g) => dir.listGroupMembers(g.name)));
    const more = (n: number) => (n > MAX_ROWS ? `<p class="muted">The first ${MAX_ROWS} of ${n}; the command line lists all.</p>` : '');
    const body = [
      '<h2>Accounts</h2>',
      `<table id="accounts"><tr><th>Address</th><th>Name</th><th>State</th><th>Roles</th><th></th></tr>${accounts.slice(0, MAX_ROWS).map((a, i) => accountRow(s, a, i)).join('')}</table>`,
      more(accounts.length),
      '<h3>Add an account</h3>',
      form(
        s,
        `${HOME}/accounts`,
        `<label>Address <input type="text" name="address" required></label><label>Name <input type="text" name="name"></label><label>Initial password (12 characters or more) <input type="password" name="password" autocomplete="new-password" required></label><label>Quota in bytes (optional) <input type="text" name="quota" inputmode="numeric"></label><p>${roleBoxes(['user'], 'new-role')}</p><button type="submit" id="account-add">Add account</button>`,
      ),
      '<h2>Groups</h2>',
      `<table id="groups"><tr><th>Group</th><th>Description</th><th>Members</th><th></th></tr>${groups
        .slice(0, MAX_ROWS)
        .map(
          (g, i) =>
            `<tr><td>${e(g.name)}</td><td>${e(g.description)}</td><td>${e(members[i]!.join(', '))}</td><td>${form(
              s,
              `${HOME}/groups/members`,
              `<input type="hidden" name="group" value="${e(g.name)}"><input type="text" name="address" aria-label="member address"> <button type="submit" name="op" value="add">Add member</button> <button type="submit" name="op" value="remove">Remove member</button>`,
              'class="inline"',
            )}</td></tr>`,
        )
        .join('')}</table>`,
      more(groups.length),
      form(s, `${HOME}/groups`, `<label>New group <input type="text" name="name" required></label><label>Description <input type="text" name="description" maxlength="${MAX_DESCRIPTION}"></label><button type="submit" id="group-add">Add group</button>`),
      '<h2>Aliases</h2>',
      `<table id="aliases"><tr><th>Alias</th><th>Target</th></tr>${aliases
        .slice(0, MAX_ROWS)
        .map((a) => `<tr><td>${e(a.address)}</td><td>${e(a.target)}</td></tr>`)
        .join('')}</table>`,
      more(aliases.length),
      form(s, `${HOME}/aliases`, `<label>Alias <input type="text" name="address" required></label><label>Target <input type="text" name="target" required></label><button type="submit" id="alias-add">Add alias</button>`),
    ].join('');
    return c.html(page('Directory', s, body, navFor(s)));
  });

  app.post(`${HOME}/accounts`, async (c) => {
    const s = await admin(c, 'Adding an account');
    if (s instanceof Response) return s;
    const address = addressField(c, 'address');
    if (address instanceof Response) return address;
    const roles = checkRoles(rolesTicked(c), ROLES);
    if ('error' in roles) return badInput(c, roles.error);
    const q = field(c, 'quota').trim();
    const quota = q === '' ? null : /^\d{1,15}$/.test(q) ? Number(q) : NaN;
    if (Number.isNaN(quota)) return badInput(c, 'the quota is a whole number of bytes');
    const password = field(c, 'password');
    const weak = checkPasswordStrength(password);
    if (weak) return badInput(c, weak);
    const displayName = field(c, 'name').trim().slice(0, 200);
    const separation = checkRoleSeparation(d.allowPkiAndMailAdmin === true, address, roles.roles);
    if (separation && 'error' in separation) return refuse(c, d, s.address!, 'user.add', address, separation.error, { roles: roles.roles });
    const credentials = await passwordCredentials(password);
    try {
      await createAccount(d.store.meta, { address, displayName, ...credentials, roles: roles.roles, quotaBytes: quota }, d.clock.now());
    } catch (err) {
      return storeRefusal(c, err);
    }
    if (separation) d.log.warn({ address, actor: s.address }, separation.warning);
    // Never the password or its hash: only what was set.
    await audit(d, s.address!, 'user.add', address, { roles: roles.roles, quotaBytes: quota, displayName, ...(separation ? { warning: separation.warning } : {}) });
    return c.redirect(HOME, 303);
  });

  for (const [name, disabled] of [
    ['disable', true],
    ['enable', false],
  ] as const) {
    app.post(`${HOME}/accounts/${name}`, async (c) => {
      const s = await admin(c, `To ${name} an account`);
      if (s instanceof Response) return s;
      const address = addressField(c, 'address');
      if (address instanceof Response) return address;
      try {
        await dir.setDisabled(address, disabled);
      } catch (err) {
        return storeRefusal(c, err);
      }
      // Disabled, or enabled again: either way a session from before starts over with a login.
      const ended = sessions.endAccount(address);
      await audit(d, s.address!, `user.${name}`, address, { sessionsEnded: ended });
      return c.redirect(HOME, 303);
    });
  }

  app.post(`${HOME}/accounts/roles`, async (c) => {
    const s = await admin(c, 'Setting roles');
    if (s instanceof Response) return s;
    const address = addressField(c, 'address');
    if (address instanceof Response) return address;
    const ticked = rolesTicked(c);
    // The command line takes at least one role; an empty form is a mistake, not "user".
    if (ticked.length === 0) return badInput(c, 'tick at least one role');
    const roles = checkRoles(ticked, ROLES);
    if ('error' in roles) return badInput(c, roles.error);
    const before = await dir.getAccount(address);
    if (!before) return htmlError(c, 404, 'Not found', `no account ${address}`);
    const separation = checkRoleSeparation(d.allowPkiAndMailAdmin === true, address, roles.roles);
    if (separation && 'error' in separation) return refuse(c, d, s.address!, 'user.roles', address, separation.error, { from: before.roles, to: roles.roles });
    try {
      await dir.setRoles(address, roles.roles);
    } catch (err) {
      return storeRefusal(c, err);
    }
    if (separation) d.log.warn({ address, actor: s.address }, separation.warning);
    // A session carries the roles of its login: the account logs in again to get the new ones (the actor too, if it is their own).
    const ended = sessions.endAccount(address);
    await audit(d, s.address!, 'user.roles', address, { from: before.roles, to: roles.roles, sessionsEnded: ended, ...(separation ? { warning: separation.warning } : {}) });
    return c.redirect(address === s.address ? '/console/login' : HOME, 303);
  });

  app.post(`${HOME}/groups`, async (c) => {
    const s = await admin(c, 'Adding a group');
    if (s instanceof Response) return s;
    const name = field(c, 'name').trim();
    const bad = checkGroupName(name);
    if (bad) return badInput(c, bad);
    const description = field(c, 'description').trim().slice(0, MAX_DESCRIPTION);
    try {
      await dir.addGroup(name, description);
    } catch (err) {
      return storeRefusal(c, err);
    }
    await audit(d, s.address!, 'group.add', name, { description });
    return c.redirect(HOME, 303);
  });

  app.post(`${HOME}/groups/members`, async (c) => {
    const s = await admin(c, 'Changing group members');
    if (s instanceof Response) return s;
    const group = field(c, 'group');
    const bad = checkGroupName(group);
    if (bad) return badInput(c, bad);
    const op = field(c, 'op');
    if (op !== 'add' && op !== 'remove') return badInput(c, 'op must be add or remove');
    const address = addressField(c, 'address');
    if (address instanceof Response) return address;
    try {
      if (op === 'add') await dir.addGroupMember(group, address);
      else await dir.removeGroupMember(group, address);
    } catch (err) {
      return storeRefusal(c, err);
    }
    await audit(d, s.address!, 'group.members', group, { add: op === 'add' ? [address] : [], remove: op === 'remove' ? [address] : [] });
    return c.redirect(HOME, 303);
  });

  app.post(`${HOME}/aliases`, async (c) => {
    const s = await admin(c, 'Adding an alias');
    if (s instanceof Response) return s;
    const address = addressField(c, 'address');
    if (address instanceof Response) return address;
    const target = addressField(c, 'target');
    if (target instanceof Response) return target;
    await dir.addAlias(address, target);
    await audit(d, s.address!, 'alias.add', address, { target });
    return c.redirect(HOME, 303);
  });
}
