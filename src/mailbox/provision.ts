import type { Account, DirectoryRepo, Folder, MailboxRepo, NewAccount } from '../store/types.js';

/** Folders every new account gets, with their RFC 6154 special-use attribute. */
export const DEFAULT_FOLDERS: readonly { name: string; specialUse: string | null }[] = [
  { name: 'INBOX', specialUse: null },
  { name: 'Sent', specialUse: '\\Sent' },
  { name: 'Drafts', specialUse: '\\Drafts' },
  { name: 'Trash', specialUse: '\\Trash' },
  { name: 'Junk', specialUse: '\\Junk' },
  { name: 'Archive', specialUse: '\\Archive' },
];

/** A folder postern makes on its own, subscribed so clients that show only subscriptions see it. */
export async function createSubscribed(repo: MailboxRepo, accountId: number, name: string, specialUse: string | null, now: number): Promise<Folder> {
  const folder = await repo.createFolder(accountId, name, specialUse, now);
  await repo.setSubscription(accountId, name, true);
  return folder;
}

/** Creates the default folders that are missing (subscribed); safe to run again. */
export async function provisionMailbox(repo: MailboxRepo, accountId: number, now: number): Promise<void> {
  for (const f of DEFAULT_FOLDERS) {
    if (!(await repo.getFolder(accountId, f.name))) await createSubscribed(repo, accountId, f.name, f.specialUse, now);
  }
}

/** A new account with its default folders: what `postern user add` and the console's "add account" both do. */
export async function createAccount(meta: { readonly directory: DirectoryRepo; readonly mailboxes: MailboxRepo }, a: NewAccount, now: number): Promise<Account> {
  const acct = await meta.directory.addAccount(a, now);
  await provisionMailbox(meta.mailboxes, acct.id, now);
  return acct;
}

/** The account's INBOX, created on first use if an older account lacks it. */
export async function inboxOf(repo: MailboxRepo, accountId: number, now: number): Promise<Folder> {
  return (await repo.getFolder(accountId, 'INBOX')) ?? (await createSubscribed(repo, accountId, 'INBOX', null, now));
}

/** The account's \Junk folder (the user may have renamed it), else "Junk", created on first use. */
export async function junkOf(repo: MailboxRepo, accountId: number, now: number): Promise<Folder> {
  const all = await repo.listFolders(accountId);
  return all.find((f) => f.specialUse === '\\Junk') ?? all.find((f) => f.name === 'Junk') ?? (await createSubscribed(repo, accountId, 'Junk', '\\Junk', now));
}
