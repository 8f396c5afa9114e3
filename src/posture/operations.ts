/**
 * Operations and people: the last full scrub and verified backup within
 * [posture] ages, alerts going somewhere, separation of the mailadmin and
 * pkiofficer roles, administrators and their second factors, the audit
 * log's hash chain, and encryption at rest for the groups that must have it.
 */
import type { CheckResult, Grade } from './types.js';
import type { PostureContext } from './context.js';
import { integrityMetrics } from '../integrity/metrics.js';
import { verifyAuditLog } from '../integrity/audit-log.js';
import type { Account, Role } from '../store/index.js';

const HOUR = 3_600_000;
const ADMIN_ROLES: readonly Role[] = ['mailadmin', 'auditor', 'pkiofficer'];
const SHOWN = 5;

const some = (xs: readonly string[]): string => `${xs.slice(0, SHOWN).join(', ')}${xs.length > SHOWN ? ` and ${xs.length - SHOWN} more` : ''}`;
const result = (id: string, area: string, grade: Grade, reason: string, fix = ''): CheckResult => ({ id, area, grade, reason, fix: grade === 'pass' ? '' : fix });

export async function integrityChecks(ctx: PostureContext): Promise<CheckResult[]> {
  const m = await integrityMetrics(ctx.store.meta);
  const p = ctx.config.posture;
  const out: CheckResult[] = [];
  const hours = (at: number): number => Math.floor((ctx.now - at) / HOUR);

  const SCRUB = `Run "postern scrub" now, and keep [integrity] scrub_interval at most ${p.max_scrub_age} hours.`;
  if (!m.lastFullScrub) out.push(result('integrity.scrub', 'integrity', 'warn', 'no full scrub has completed yet: silent damage to stored mail would go unnoticed', SCRUB));
  else {
    const h = hours(m.lastFullScrub.at);
    const clean = m.lastFullScrub.clean ? 'clean' : 'found damage';
    out.push(result('integrity.scrub', 'integrity', h > p.max_scrub_age ? 'fail' : 'pass', `the last full scrub was ${h} hours ago (${clean}); [posture] max_scrub_age = ${p.max_scrub_age}`, SCRUB));
  }
  if (ctx.config.integrity.scrub_interval === 0) out.push(result('integrity.scrub-schedule', 'integrity', 'warn', '[integrity] scrub_interval = 0: the background scrubber is off', 'Set [integrity] scrub_interval (hours), e.g. 24.'));

  const BACKUP = `Take a backup and verify it ("postern backup", "postern backup verify") at least every ${p.max_backup_age} hours.`;
  if (!m.lastVerifiedBackup) out.push(result('integrity.backup', 'integrity', 'warn', 'no verified backup exists yet', BACKUP));
  else {
    const h = hours(m.lastVerifiedBackup.at);
    out.push(result('integrity.backup', 'integrity', h > p.max_backup_age ? 'fail' : 'pass', `the last verified backup was ${h} hours ago (${m.lastVerifiedBackup.location}); [posture] max_backup_age = ${p.max_backup_age}`, BACKUP));
  }
  if (m.damagedBlobs > 0) out.push(result('integrity.damage', 'integrity', 'fail', `${m.damagedBlobs} stored blob(s) are damaged (${m.damagedMessages} message(s))`, 'Run "postern scrub --status" and restore the messages from a verified backup.'));

  const a = ctx.config.alerts;
  const to = [...a.mail_to, ...(a.webhook_url ? ['a webhook'] : [])];
  if (!a.enabled) out.push(result('alerts.destination', 'alerts', 'warn', 'alerts are off: damage, failed backups, engines down and failed audits reach nobody', 'Set [alerts] enabled = true with mail_to and/or webhook_url.'));
  else out.push(result('alerts.destination', 'alerts', 'pass', `alerts go to ${some(to)}`));
  return out;
}

export async function roleChecks(ctx: PostureContext): Promise<CheckResult[]> {
  const meta = ctx.store.meta;
  const accounts = (await meta.directory.listAccounts()).filter((a) => !a.disabled);
  const admins = accounts.filter((a) => a.roles.some((r) => ADMIN_ROLES.includes(r)));
  const out: CheckResult[] = [];

  const both = admins.filter((a) => a.roles.includes('mailadmin') && a.roles.includes('pkiofficer')).map((a) => a.address);
  if (both.length) {
    const allowed = ctx.config.auth.allow_pki_and_mail_admin === true ? ' ([auth] allow_pki_and_mail_admin = true allowed it)' : '';
    out.push(result('roles.separation', 'roles', 'fail', `${some(both)} hold both mailadmin and pkiofficer: whoever runs the mail also holds the CA${allowed}`, 'Give the pkiofficer role to another person ("postern user roles"), then remove [auth] allow_pki_and_mail_admin.'));
  } else out.push(result('roles.separation', 'roles', 'pass', 'no account holds both mailadmin and pkiofficer'));

  const count = (r: Role) => admins.filter((a) => a.roles.includes(r)).length;
  const summary = `${admins.length} administrator(s): ${count('mailadmin')} mailadmin, ${count('auditor')} auditor, ${count('pkiofficer')} pkiofficer`;
  if (count('mailadmin') === 0) out.push(result('roles.administrators', 'roles', 'warn', `${summary}; nobody can use the console to administer mail`, 'Give one account the mailadmin role ("postern user roles ADDRESS mailadmin").'));
  else if (count('auditor') === 0) out.push(result('roles.administrators', 'roles', 'warn', `${summary}; nobody independent reviews the audit log or releases quarantined mail`, 'Give a second person the auditor role.'));
  else out.push(result('roles.administrators', 'roles', 'pass', summary));

  const noFactor: Account[] = [];
  for (const a of admins) {
    const [keys, totp] = await Promise.all([meta.factors.listCredentials(a.address), meta.factors.getTotp(a.address)]);
    if (keys.length === 0 && totp === null) noFactor.push(a);
  }
  if (noFactor.length)
    out.push(result('roles.second-factor', 'roles', 'warn', `${noFactor.length} of ${admins.length} administrator(s) have no second factor: ${some(noFactor.map((a) => a.address))}`, 'Each administrator logs in to the console once and enrolls a security key or TOTP (/console/enroll).'));
  else if (admins.length) out.push(result('roles.second-factor', 'roles', 'pass', `all ${admins.length} administrator(s) have a second factor`));

  const log = await verifyAuditLog(ctx.store);
  if (log.ok) out.push(result('audit-log.chain', 'audit-log', 'pass', `the hash chain holds over ${log.records} record(s) and ${log.checkpoints} checkpoint(s)`));
  else out.push(result('audit-log.chain', 'audit-log', 'fail', `the audit log was altered: record ${log.firstBad?.seq}: ${log.firstBad?.reason}`, 'Treat it as an incident: compare with the last signed checkpoint and a backup ("postern audit-log verify --public-key").'));
  return out;
}

export async function atRestChecks(ctx: PostureContext): Promise<CheckResult[]> {
  const ear = ctx.config.encryption_at_rest;
  const required = ctx.config.posture.require_at_rest_groups;
  const dir = ctx.store.meta.directory;
  const out: CheckResult[] = [];
  const covered = (address: string, groups: readonly string[]): boolean =>
    ear.enabled && (ear.accounts.includes(address) || ear.domains.includes(address.slice(address.lastIndexOf('@') + 1)) || groups.some((g) => ear.groups.includes(g)));
  if (required.length === 0) {
    if (ear.enabled) out.push(result('at-rest.coverage', 'at-rest', 'pass', `encryption at rest covers ${[...ear.domains, ...ear.accounts, ...ear.groups.map((g) => `group ${g}`)].join(', ')}; no group is required to have it ([posture] require_at_rest_groups)`));
    else out.push(result('at-rest.coverage', 'at-rest', 'warn', 'no mail is encrypted at rest: the server, its administrators and its backups can read every stored message', 'List the groups whose mail must be unreadable on the server in [posture] require_at_rest_groups and cover them in [encryption_at_rest].'));
    return out;
  }
  const known = new Set((await dir.listGroups()).map((g) => g.name));
  for (const g of required) {
    const id = `at-rest.${g}`;
    if (!known.has(g)) {
      out.push(result(id, 'at-rest', 'fail', `group ${g} (in [posture] require_at_rest_groups) does not exist`, `Create it ("postern group add ${g}") or remove it from the list.`));
      continue;
    }
    const members = await dir.listGroupMembers(g);
    const bare: string[] = [];
    for (const m of members) if (!covered(m, await dir.groupsOf(m))) bare.push(m);
    if (bare.length) out.push(result(id, 'at-rest', 'fail', `${bare.length} of ${members.length} member(s) of ${g} are not encrypted at rest: ${some(bare)}`, `Set [encryption_at_rest] enabled = true and add "${g}" to its groups.`));
    else out.push(result(id, 'at-rest', 'pass', `all ${members.length} member(s) of ${g} are encrypted at rest`));
  }
  return out;
}
