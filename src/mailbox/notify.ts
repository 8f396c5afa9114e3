/**
 * In-process change notifications per folder: local delivery and every IMAP or
 * POP3 session that changes a folder call `changed`, and sessions that have
 * the folder open (IDLE included) hear about it and ask the store for
 * `changesSince(modseq)`. Account-level events (a folder created, deleted or
 * renamed, a subscription changed) go to the account's listeners (IMAP
 * NOTIFY). Both are in-process: several nodes on one PostgreSQL store do not
 * share them yet and will need a shared channel behind the same interface.
 */
import { IndexSnapshots } from './index-snapshots.js';
import { RecentClaims } from './recent.js';

export type FolderListener = (folderId: number) => void;

/** A change to an account's folder list or subscriptions. */
export type AccountEvent =
  | { readonly kind: 'created' | 'deleted'; readonly name: string }
  | { readonly kind: 'renamed'; readonly from: string; readonly to: string }
  | { readonly kind: 'subscription'; readonly name: string; readonly subscribed: boolean };

/** `origin` is whatever the caller passed as the source (an IMAP session), so a listener can skip its own changes. */
export type AccountListener = (event: AccountEvent, origin: unknown) => void;

/** Adds a listener under a key; the returned function removes it (and the key once empty). */
function listen<F>(byKey: Map<number, Set<F>>, key: number, fn: F): () => void {
  let set = byKey.get(key);
  if (!set) byKey.set(key, (set = new Set()));
  set.add(fn);
  return () => {
    set.delete(fn);
    if (set.size === 0) byKey.delete(key);
  };
}

export class MailboxNotifier {
  private readonly byFolder = new Map<number, Set<FolderListener>>();
  private readonly byAccount = new Map<number, Set<AccountListener>>();
  /** Which session holds which messages as \Recent: per process, like the notifications. */
  readonly recent = new RecentClaims();
  /** The index of large folders as last selected, per process: a new SELECT starts from it. */
  readonly snapshots = new IndexSnapshots();

  subscribe(folderId: number, fn: FolderListener): () => void {
    return listen(this.byFolder, folderId, fn);
  }

  changed(folderId: number): void {
    const set = this.byFolder.get(folderId);
    if (!set) return;
    // Listeners run after the current turn: a notifier never re-enters the writer.
    for (const fn of [...set]) queueMicrotask(() => fn(folderId));
  }

  subscribeAccount(accountId: number, fn: AccountListener): () => void {
    return listen(this.byAccount, accountId, fn);
  }

  accountChanged(accountId: number, event: AccountEvent, origin: unknown = null): void {
    const set = this.byAccount.get(accountId);
    if (!set) return;
    for (const fn of [...set]) queueMicrotask(() => fn(event, origin));
  }

  listenerCount(): number {
    let n = 0;
    for (const s of this.byFolder.values()) n += s.size;
    for (const s of this.byAccount.values()) n += s.size;
    return n;
  }
}
