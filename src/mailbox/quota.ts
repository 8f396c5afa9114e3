import type { Account, MailboxRepo } from '../store/types.js';

export interface QuotaState {
  usedBytes: number;
  limitBytes: number | null;
}

export async function quotaOf(repo: MailboxRepo, account: Account): Promise<QuotaState> {
  return { usedBytes: await repo.usage(account.id), limitBytes: account.quotaBytes };
}

/** True when adding `bytes` keeps the account within its quota (no quota: always true). */
export async function fitsQuota(repo: MailboxRepo, account: Account, bytes: number): Promise<boolean> {
  if (account.quotaBytes === null) return true;
  return (await repo.usage(account.id)) + bytes <= account.quotaBytes;
}
