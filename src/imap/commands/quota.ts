/** GETQUOTA, GETQUOTAROOT, SETQUOTA (RFC 9208): one root, "", the account's storage in KiB. */
import { no, ok, quotaResponse, quotaRootResponse } from '../../codec/imap/index.js';
import { quotaOf } from '../../mailbox/quota.js';
import { findFolder } from '../names.js';
import type { ImapSession } from '../session.js';
import type { Cmd } from './types.js';

const ROOT = '';

/**
 * Bytes → KiB, rounded up for usage and limit alike: one rounding keeps the
 * order (usage within the limit never reads as above it) and a message of a
 * few bytes still shows as used.
 */
export const kib = (bytes: number): number => Math.ceil(bytes / 1024);

async function sendQuota(s: ImapSession): Promise<boolean> {
  const q = await quotaOf(s.deps.mailboxes, s.account!);
  if (q.limitBytes === null) return false;
  s.send(quotaResponse(ROOT, [{ name: 'STORAGE', usage: kib(q.usedBytes), limit: kib(q.limitBytes) }], s.encode));
  return true;
}

export async function getQuotaRoot(s: ImapSession, cmd: Cmd<'GETQUOTAROOT'>): Promise<Buffer> {
  const folder = await findFolder(s, cmd.mailbox);
  if (!folder) return no(cmd.tag, 'No such mailbox', 'NONEXISTENT');
  const limited = s.account!.quotaBytes !== null;
  s.send(quotaRootResponse(folder.name, limited ? [ROOT] : [], s.encode));
  if (limited) await sendQuota(s);
  return ok(cmd.tag, 'GETQUOTAROOT completed');
}

export async function getQuota(s: ImapSession, cmd: Cmd<'GETQUOTA'>): Promise<Buffer> {
  if (cmd.root !== ROOT || !(await sendQuota(s))) return no(cmd.tag, 'No such quota root', 'NONEXISTENT');
  return ok(cmd.tag, 'GETQUOTA completed');
}

export async function setQuota(_s: ImapSession, cmd: Cmd<'SETQUOTA'>): Promise<Buffer> {
  return no(cmd.tag, 'Quotas are set by the administrator', 'NOPERM');
}
