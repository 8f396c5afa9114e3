/**
 * `\Recent` (IMAP4rev1, RFC 3501 2.3.2): a message is recent to exactly one
 * session, the first that selects its folder (or is told of it while
 * selected) after it arrived. The claim is a high-water mark of UIDs per
 * folder, since UIDs only grow: a UID above the mark is unclaimed.
 *
 * The marks live in process memory, like the change notifications: after a
 * restart the first session to select a folder sees its messages as recent
 * once, as with a fresh Dovecot index. EXAMINE and STATUS count unclaimed
 * messages without claiming them.
 */
export class RecentClaims {
  private readonly marks = new Map<number, number>();

  /** The folder's mark: every UID at or below it has been claimed (0: none). */
  markOf(folderId: number): number {
    return this.marks.get(folderId) ?? 0;
  }

  /**
   * Claims every UID up to `last` (a UID the folder holds) not claimed yet,
   * for the caller's session, and returns the mark before: the caller now
   * holds as recent its UIDs above that and up to `last`.
   */
  claimTo(folderId: number, last: number): number {
    const mark = this.markOf(folderId);
    if (last > mark) this.marks.set(folderId, last);
    return mark;
  }

  /** The UIDs (ascending) nobody has claimed yet, left unclaimed. */
  unclaimed(folderId: number, uids: readonly number[]): number[] {
    const mark = this.markOf(folderId);
    let i = uids.length;
    while (i > 0 && uids[i - 1]! > mark) i--;
    return uids.slice(i);
  }

  /** False when no UID below uidNext can be unclaimed (the folder need not be listed to count them). */
  mayHaveUnclaimed(folderId: number, uidNext: number): boolean {
    return (this.marks.get(folderId) ?? 0) < uidNext - 1;
  }

  /** A deleted folder's mark (its id is never reused, but the memory is given back). */
  forget(folderId: number): void {
    this.marks.delete(folderId);
  }
}
