/**
 * The rules in force, re-read when the file (or its fingerprint folder)
 * changes: read again no more than once a minute, on the message path but
 * without making a message wait (the check runs beside it). A bad new version
 * keeps the old rules and says why once, so a typo never switches DLP off.
 */
import type { RulesSpec } from '../types.js';
import { loadRules } from './load.js';

export interface WatchedRulesOptions {
  readonly path: string;
  readonly now: () => number;
  /** Called when a changed file is refused (the old rules stay) or a new one is taken. */
  readonly onError: (message: string) => void;
  readonly onReload?: (rules: RulesSpec) => void;
  readonly checkEveryMs?: number;
}

export class WatchedRules {
  private checkedAt: number;
  private refused = '';
  private checking: Promise<void> | null = null;

  private constructor(
    private rules: RulesSpec,
    private readonly o: WatchedRulesOptions,
  ) {
    this.checkedAt = o.now();
  }

  /** Loads the file now; a bad file throws RulesError (start stops with its message). */
  static async open(o: WatchedRulesOptions): Promise<WatchedRules> {
    return new WatchedRules(await loadRules(o.path), o);
  }

  /** The rules in force; starts a check for a new version when the last one is old enough. */
  current(): RulesSpec {
    if (this.o.now() - this.checkedAt >= (this.o.checkEveryMs ?? 60_000)) this.check().catch(() => undefined);
    return this.rules;
  }

  /** Looks for a new version now (also what current() starts); never throws. */
  check(): Promise<void> {
    this.checkedAt = this.o.now();
    this.checking ??= this.reload().finally(() => (this.checking = null));
    return this.checking;
  }

  // Re-reading is cheap (a small file and a folder, once a minute) and sees edits a stat could miss.
  private async reload(): Promise<void> {
    try {
      const next = await loadRules(this.o.path);
      this.refused = '';
      if (next.key !== this.rules.key) {
        this.rules = next;
        this.o.onReload?.(next);
      }
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      // Said once per bad version, not every minute.
      if (message !== this.refused) this.o.onError(message);
      this.refused = message;
    }
  }
}
