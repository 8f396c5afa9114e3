/**
 * The message index of large folders as the last SELECT saw it, kept per
 * process so that the next SELECT of the folder copies it and asks the store
 * only for what changed since (changesSince, as a selected session does)
 * instead of listing every message again, much as Dovecot keeps its index
 * file. The store stays the authority: a snapshot is only ever a starting
 * point that changesSince brings up to date, so a snapshot that missed an
 * in-process notification (another process wrote) is still right.
 *
 * Bounded by the messages held in all snapshots together; the folder used
 * longest ago goes first.
 */
import { isPosternError } from '../core/errors.js';
import type { Folder, MailboxRepo } from '../store/types.js';
import { MailboxView } from './view.js';

/** Folders with fewer messages are listed afresh: cheap enough, and not worth the memory. */
export const SNAPSHOT_MIN_MESSAGES = 2000;
/** Messages held in all snapshots together (each costs a few dozen bytes). */
export const SNAPSHOT_MAX_MESSAGES = 1_000_000;

export class IndexSnapshots {
  /** Map order is use order: the first entry is the one used longest ago. */
  private readonly byFolder = new Map<number, MailboxView>();
  private held = 0;

  constructor(
    private readonly maxMessages = SNAPSHOT_MAX_MESSAGES,
    private readonly minMessages = SNAPSHOT_MIN_MESSAGES,
  ) {}

  /** Messages held in all snapshots. */
  get size(): number {
    return this.held;
  }

  private take(folderId: number, uidValidity: number): MailboxView | null {
    const v = this.byFolder.get(folderId);
    if (!v) return null;
    this.byFolder.delete(folderId);
    if (v.uidValidity !== uidValidity) {
      this.held -= v.exists;
      return null;
    }
    this.byFolder.set(folderId, v); // the most recently used now
    return v;
  }

  private put(view: MailboxView): void {
    this.forget(view.folderId);
    if (view.exists < this.minMessages || view.exists > this.maxMessages) return;
    const copy = view.copy();
    this.byFolder.set(copy.folderId, copy);
    this.held += copy.exists;
    for (const [id, v] of this.byFolder) {
      if (this.held <= this.maxMessages) break;
      this.byFolder.delete(id);
      this.held -= v.exists;
    }
  }

  /** Drops the folder's snapshot (the folder was deleted, or could not be brought up to date). */
  forget(folderId: number): void {
    const v = this.byFolder.get(folderId);
    if (!v) return;
    this.byFolder.delete(folderId);
    this.held -= v.exists;
  }

  /**
   * A view of the folder for a new SELECT: its snapshot brought up to date
   * with the store's changes since, or the store's full list. `folder` must
   * have been read from the store just now (its modseq labels a full list).
   */
  async open(repo: MailboxRepo, folder: Folder): Promise<MailboxView> {
    const base = this.take(folder.id, folder.uidValidity);
    if (base) {
      try {
        const view = base.copy();
        view.apply(await repo.changesSince(folder.id, base.highestModseq));
        view.takeExpunged(); // gone before this session knew them: never announced
        if (view.highestModseq !== base.highestModseq) {
          view.pruneKeywords();
          this.put(view);
        }
        return view;
      } catch (e) {
        this.forget(folder.id);
        if (!isPosternError(e, 'NOT_FOUND')) throw e;
      }
    }
    // Folder first, then the list: a change in between is seen twice, never missed.
    const view = new MailboxView(folder.id, folder.uidValidity, await repo.listIndex(folder.id), folder.highestModseq);
    this.put(view);
    return view;
  }
}
