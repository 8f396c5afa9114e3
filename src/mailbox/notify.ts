/**
 * In-process change notifications per folder: local delivery and every IMAP or
 * POP3 session that changes a folder call `changed`, and sessions that have
 * the folder open (IDLE included) hear about it and ask the store for
 * `changesSince(modseq)`. Several nodes on one PostgreSQL store will need a
 * shared channel behind the same interface.
 */
import { IndexSnapshots } from './index-snapshots.js';
import { RecentClaims } from './recent.js';

export type FolderListener = (folderId: number) => void;

export class MailboxNotifier {
  private readonly byFolder = new Map<number, Set<FolderListener>>();
  /** Which session holds which messages as \Recent: per process, like the notifications. */
  readonly recent = new RecentClaims();
  /** The index of large folders as last selected, per process: a new SELECT starts from it. */
  readonly snapshots = new IndexSnapshots();

  subscribe(folderId: number, fn: FolderListener): () => void {
    let set = this.byFolder.get(folderId);
    if (!set) this.byFolder.set(folderId, (set = new Set()));
    set.add(fn);
    return () => {
      set.delete(fn);
      if (set.size === 0) this.byFolder.delete(folderId);
    };
  }

  changed(folderId: number): void {
    const set = this.byFolder.get(folderId);
    if (!set) return;
    // Listeners run after the current turn: a notifier never re-enters the writer.
    for (const fn of [...set]) queueMicrotask(() => fn(folderId));
  }

  listenerCount(): number {
    let n = 0;
    for (const s of this.byFolder.values()) n += s.size;
    return n;
  }
}
