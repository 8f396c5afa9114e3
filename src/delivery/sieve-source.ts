/**
 * What local delivery needs to run Sieve filters: where the active script of
 * an account comes from, and where vacation replies are remembered. The
 * server wires both to the store; tests hand in the in-memory ones below.
 */

export interface SieveScripts {
  /** The account's active script, or null when it has none (then mail goes to INBOX as always). */
  active(accountId: number): Promise<{ name: string; text: string } | null>;
}

export interface VacationMemory {
  /**
   * Whether a vacation reply under `handle` already went to `sender` within
   * the last `days` days; when it did not, records one now (so the next call
   * in the period answers true).
   */
  seen(accountId: number, handle: string, sender: string, days: number, now: number): Promise<boolean>;
}

/** Scripts held in memory, keyed by account id. */
export class MemorySieveScripts implements SieveScripts {
  readonly scripts = new Map<number, { name: string; text: string }>();
  active(accountId: number): Promise<{ name: string; text: string } | null> {
    return Promise.resolve(this.scripts.get(accountId) ?? null);
  }
}

/** Vacation replies remembered in memory (lost on restart: at most one extra reply per sender then). */
export class MemoryVacationMemory implements VacationMemory {
  private readonly sent = new Map<string, number>();
  seen(accountId: number, handle: string, sender: string, days: number, now: number): Promise<boolean> {
    const key = JSON.stringify([accountId, handle, sender.toLowerCase()]);
    const at = this.sent.get(key);
    if (at !== undefined && now - at < days * 86_400_000) return Promise.resolve(true);
    this.sent.set(key, now);
    return Promise.resolve(false);
  }
}

/** The store's vacation memory (the `sieve` role): survives restarts and is shared by every node. */
export function storeVacationMemory(repo: { vacationSeen(accountId: number, key: string, notBefore: number): Promise<boolean>; vacationRemember(accountId: number, key: string, at: number): Promise<void> }): VacationMemory {
  return {
    async seen(accountId, handle, sender, days, now) {
      const key = JSON.stringify([handle, sender.toLowerCase()]);
      if (await repo.vacationSeen(accountId, key, now - days * 86_400_000)) return true;
      await repo.vacationRemember(accountId, key, now);
      return false;
    },
  };
}
