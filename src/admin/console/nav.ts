/** The links each role sees: only pages it may open. */
import type { NavItem } from './html.js';
import type { Session } from './sessions.js';

export function navFor(s: Session): NavItem[] {
  if (s.stage !== 'full') return [];
  const has = (r: string) => s.roles.some((x) => x === r);
  const out: NavItem[] = [];
  if (has('mailadmin') || has('auditor') || has('pkiofficer')) out.push({ href: '/console/overview', label: 'Overview' });
  if (has('mailadmin') || has('auditor')) out.push({ href: '/console/queue', label: 'Queue' });
  if (has('mailadmin') || has('auditor')) out.push({ href: '/console/maintenance', label: 'Maintenance' });
  if (has('mailadmin')) out.push({ href: '/console/directory', label: 'Directory' });
  if (has('mailadmin') || has('auditor') || has('user')) out.push({ href: '/console/quarantine', label: 'Quarantine' });
  if (has('auditor')) out.push({ href: '/console/audit', label: 'Audit log' });
  if (has('mailadmin') || has('auditor')) out.push({ href: '/console/security/integrity', label: 'Security' });
  out.push({ href: '/console/account', label: 'My account' });
  return out;
}

/** Where a logged-in account lands. */
export function homeOf(s: Session): string {
  return navFor(s)[0]?.href ?? '/console/quarantine';
}
