/**
 * Maildrop locks (RFC 1939 section 8, RFC 2449 IN-USE): one POP3 session per
 * account at a time inside this process, whichever listener it came in on.
 * Locks are kept per store, so two stores in one process (tests) never meet.
 */
export class MaildropLocks {
  private static readonly byStore = new WeakMap<object, MaildropLocks>();
  private readonly held = new Set<number>();

  /** The lock table for one store, identified by any object unique to it (its MailboxRepo). */
  static forStore(store: object): MaildropLocks {
    let locks = MaildropLocks.byStore.get(store);
    if (!locks) MaildropLocks.byStore.set(store, (locks = new MaildropLocks()));
    return locks;
  }

  /** Takes the account's lock; returns its release function, or null when another session holds it. */
  tryAcquire(accountId: number): (() => void) | null {
    if (this.held.has(accountId)) return null;
    this.held.add(accountId);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.held.delete(accountId);
    };
  }

  isHeld(accountId: number): boolean {
    return this.held.has(accountId);
  }
}
