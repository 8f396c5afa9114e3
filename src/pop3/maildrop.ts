/**
 * The maildrop of one POP3 session: a snapshot of the account's INBOX taken
 * at login, numbered 1..n in UID order (RFC 1939 message numbers never change
 * during a session), with the deletion marks that QUIT turns into an expunge.
 */
import type { MailMessage } from '../store/types.js';

export interface MaildropMessage {
  readonly uid: number;
  readonly blobId: string;
  readonly size: number;
}

export class Maildrop {
  private readonly messages: readonly MaildropMessage[];
  private readonly marked = new Set<number>();

  constructor(
    readonly folderId: number,
    readonly uidValidity: number,
    messages: readonly Pick<MailMessage, 'uid' | 'blobId' | 'size'>[],
  ) {
    this.messages = [...messages].sort((a, b) => a.uid - b.uid).map(({ uid, blobId, size }) => ({ uid, blobId, size }));
  }

  /** The message with this number, or null when it does not exist or is marked deleted. */
  get(n: number): MaildropMessage | null {
    if (!Number.isInteger(n) || n < 1 || n > this.messages.length || this.marked.has(n)) return null;
    return this.messages[n - 1] ?? null;
  }

  /** Messages not marked deleted, with their numbers. */
  listing(): [number, MaildropMessage][] {
    const out: [number, MaildropMessage][] = [];
    this.messages.forEach((m, i) => {
      if (!this.marked.has(i + 1)) out.push([i + 1, m]);
    });
    return out;
  }

  /** STAT: count and total size of the messages not marked deleted. */
  stat(): { count: number; size: number } {
    let count = 0;
    let size = 0;
    for (const [, m] of this.listing()) {
      count++;
      size += m.size;
    }
    return { count, size };
  }

  /** UIDL: stable across sessions while the folder keeps its UIDVALIDITY; 0x21-0x7E only (RFC 1939). */
  uniqueId(m: MaildropMessage): string {
    return `${this.uidValidity}.${m.uid}`;
  }

  /** Marks a message deleted; false when it does not exist or is already marked. */
  delete(n: number): boolean {
    if (!this.get(n)) return false;
    this.marked.add(n);
    return true;
  }

  /** RSET: unmarks everything. */
  reset(): void {
    this.marked.clear();
  }

  /** UIDs to expunge on QUIT, ascending. */
  deletedUids(): number[] {
    return [...this.marked].map((n) => this.messages[n - 1]!.uid).sort((a, b) => a - b);
  }
}
