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
import { WeightedLru } from '../core/weighted-lru.js';
import type { Folder, MailboxRepo } from '../store/types.js';
import { MailboxView } from './view.js';

/** Folders with fewer messages are listed afresh: cheap enough, and not worth the memory. */
export const SNAPSHOT_MIN_MESSAGES = 2000;
/** Messages held in all snapshots together (each costs a few dozen bytes). */
export const SNAPSHOT_MAX_MESSAGES = 1_000_000;

export class IndexSnapshots {
  /** Weighed by messages; the folder used longest ago goes first. */
  private readonly byFolder: WeightedLru<number, MailboxView>;

  constructor(
    maxMessages = SNAPSHOT_MAX_MESSAGES,
    private readonly minMessages = SNAPSHOT_MIN_MESSAGES,
  ) {
    this.byFolder = new WeightedLru(maxMessages, (v) => v.exists);
  }

  /** Messages held in all snapshots. */
  get size(): number {
    return this.byFolder.total;
  }

  private take(folderId: number, uidValidity: number): MailboxView | null {
    const v = this.byFolder.use(folderId);
    if (!v) return null;
    if (v.uidValidity !== uidValidity) {
      this.byFolder.delete(folderId);
      return null;
    }
    return v;
  }

  private put(view: MailboxView): void {
    this.forget(view.folderId);
    if (view.exists < this.minMessages || view.exists > this.byFolder.limit) return;
    const copy = view.copy();
    this.byFolder.set(copy.folderId, copy);
  }

  /** Drops the folder's snapshot (the folder was deleted, or could not be brought up to date). */
  forget(folderId: number): void {
    this.byFolder.delete(folderId);
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
