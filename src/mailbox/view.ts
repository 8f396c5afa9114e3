/**
 * What one session knows of a selected folder: message sequence numbers ⇄
 * UIDs with each message's flags and modseq, as last told to the client.
 * Other writers' changes come in through apply() (from changesSince); messages
 * they expunged stay in place, marked, until the protocol may announce them
 * (takeExpunged), so sequence numbers never shift under a client mid-command.
 *
 * Sized for 100,000 messages: parallel arrays, binary search for UID → seq,
 * one compaction pass per batch of expunges, and flag lists interned so
 * messages with the same flags share one frozen array.
 */
import type { FolderChanges, MessageIndex } from '../store/types.js';

export type FlagList = readonly string[];

/** One message, as tests and small callers describe it (see indexOf). */
export interface ViewEntry {
  readonly uid: number;
  readonly flags: readonly string[];
  readonly modseq: number;
}

/** The columns a view is built from, out of one object per message. */
export function indexOf(entries: Iterable<ViewEntry>): MessageIndex {
  const uids: number[] = [];
  const flags: string[] = [];
  const modseqs: number[] = [];
  for (const e of entries) {
    uids.push(e.uid);
    flags.push(e.flags.join(' '));
    modseqs.push(e.modseq);
  }
  return { uids, flags, modseqs };
}

const NO_MESSAGES: MessageIndex = { uids: [], flags: [], modseqs: [] };

/** What apply() found, for the untagged responses the client is owed. */
export interface ViewUpdate {
  /** New messages appended at the end (send EXISTS). */
  readonly added: number;
  /** UIDs whose flags or modseq changed (send FETCH FLAGS). */
  readonly changed: readonly number[];
  /** UIDs newly marked expunged (announce when permitted). */
  readonly expunged: readonly number[];
}

const EMPTY: FlagList = Object.freeze([]);

/** Shares one frozen array per distinct flag set. */
class FlagInterner {
  private readonly sets = new Map<string, FlagList>([['', EMPTY]]);
  /** Flags as the store keeps them (space-separated, any order) → their interned list. */
  private readonly stored = new Map<string, FlagList>([['', EMPTY]]);
  /** Keywords of all interned sets, kept as sets are added: asked for after every change. */
  private readonly kw = new Set<string>();

  intern(flags: readonly string[]): FlagList {
    if (flags.length === 0) return EMPTY;
    const sorted = flags.length === 1 ? flags : [...flags].sort();
    const key = sorted.join(' ');
    let set = this.sets.get(key);
    if (!set) {
      set = Object.freeze([...sorted]);
      this.add(key, set);
    }
    return set;
  }

  /** The list for flags as the store keeps them: most messages share a few combinations, each split once. */
  internStored(flags: string): FlagList {
    let list = this.stored.get(flags);
    if (!list) this.stored.set(flags, (list = this.intern(flags.split(' ').filter(Boolean))));
    return list;
  }

  /** Takes an already interned (frozen, sorted) list as it is. */
  adopt(list: FlagList): void {
    if (list.length > 0) this.add(list.join(' '), list);
  }

  private add(key: string, list: FlagList): void {
    this.sets.set(key, list);
    for (const f of list) if (!f.startsWith('\\')) this.kw.add(f);
  }

  /** How many keywords keywords() would list, without copying them. */
  get keywordCount(): number {
    return this.kw.size;
  }

  /** Every keyword (flag not starting with "\") in any interned set. */
  keywords(): Set<string> {
    return new Set(this.kw);
  }
}

export class MailboxView {
  private uids: number[] = [];
  private flagLists: FlagList[] = [];
  private modseqs: number[] = [];
  /**
   * The three arrays are this view's own; false while they are shared with
   * the view it was copied from (or a copy of it): the first change copies
   * them (`own`). A SELECT of a large folder starts from a snapshot's arrays
   * and most sessions never change a message, and copying 100,000 entries
   * three times cost a SELECT more than a millisecond.
   */
  private owned = true;
  /** Expunged in the store, not yet announced to the client. */
  private readonly gone = new Set<number>();
  private interner = new FlagInterner();
  /**
   * UIDs this session holds as \Recent (IMAP4rev1), as ascending, disjoint
   * inclusive ranges [first, last]: a claim is always a run of the view's
   * newest messages, so a session holds one range or a few (not a UID each:
   * the first SELECT of a large folder claims every message). Only UIDs the
   * view holds count; shown in flags, never stored.
   */
  private recent: Array<[number, number]> = [];
  /** A flag list with \Recent added, per interned list. */
  private readonly withRecent = new Map<FlagList, FlagList>();
  /** The store modseq this view reflects (the folder's HIGHESTMODSEQ when it was last synced). */
  highestModseq: number;

  constructor(
    readonly folderId: number,
    readonly uidValidity: number,
    index: MessageIndex,
    highestModseq: number,
  ) {
    this.highestModseq = highestModseq;
    const { uids, flags, modseqs } = index;
    let last = 0;
    for (let i = 0; i < uids.length; i++) {
      const uid = uids[i]!;
      if (uid <= last) continue; // defensive: the store lists ascending, unique UIDs
      last = uid;
      this.uids.push(uid);
      this.flagLists.push(this.interner.internStored(flags[i] ?? ''));
      this.modseqs.push(modseqs[i] ?? 0);
    }
  }

  /**
   * A copy of the messages, flags and modseqs at this view's modseq, with
   * nothing of the session (expunges not yet announced, \Recent): what the
   * next SELECT of the folder starts from. Copying arrays is far cheaper than
   * listing a large folder again.
   */
  copy(): MailboxView {
    const v = new MailboxView(this.folderId, this.uidValidity, NO_MESSAGES, this.highestModseq);
    const keep = this.gone.size === 0 ? null : (i: number): boolean => !this.gone.has(this.uids[i]!);
    if (keep) {
      for (let i = 0; i < this.uids.length; i++) {
        if (!keep(i)) continue;
        v.uids.push(this.uids[i]!);
        v.flagLists.push(this.flagLists[i]!);
        v.modseqs.push(this.modseqs[i]!);
      }
    } else {
      // Shared until either side changes a message.
      v.uids = this.uids;
      v.flagLists = this.flagLists;
      v.modseqs = this.modseqs;
      v.owned = false;
      this.owned = false;
    }
    v.pruneKeywords();
    return v;
  }

  /** Makes the arrays this view's own before it changes them (see `owned`). */
  private own(): void {
    if (this.owned) return;
    this.uids = this.uids.slice();
    this.flagLists = this.flagLists.slice();
    this.modseqs = this.modseqs.slice();
    this.owned = true;
  }

  /** Forgets flag lists no message has any more, so keywords nobody uses drop out of FLAGS. */
  pruneKeywords(): void {
    this.interner = new FlagInterner();
    this.withRecent.clear();
    const seen = new Set<FlagList>();
    // Neighbours mostly share their (interned) list: a set lookup per message cost a SELECT
    // of 100,000 messages a millisecond or more.
    let last: FlagList | null = null;
    for (const list of this.flagLists) {
      if (list === last) continue;
      last = list;
      if (seen.has(list)) continue;
      seen.add(list);
      this.interner.adopt(list);
    }
  }

  /** Messages the client knows of (EXISTS), expunged-but-unannounced ones included. */
  get exists(): number {
    return this.uids.length;
  }

  /** The highest UID in the view, 0 when empty. */
  get maxUid(): number {
    return this.uids.length > 0 ? this.uids[this.uids.length - 1]! : 0;
  }

  uidAt(seq: number): number {
    return this.uids[seq - 1] ?? 0;
  }

  /** The message's flags, \Recent included when this session holds it as recent. */
  flagsAt(seq: number): FlagList {
    const flags = this.flagLists[seq - 1] ?? EMPTY;
    if (this.recent.length === 0 || !this.isRecent(this.uids[seq - 1]!)) return flags;
    let out = this.withRecent.get(flags);
    if (!out) this.withRecent.set(flags, (out = this.interner.intern([...flags, '\\Recent'])));
    return out;
  }

  private isRecent(uid: number): boolean {
    const r = this.recent;
    let lo = 0;
    let hi = r.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (r[mid]![1] < uid) lo = mid + 1;
      else hi = mid;
    }
    return lo < r.length && r[lo]![0] <= uid;
  }

  /** Marks the messages with UIDs first..last (those the view holds) as recent to this session. */
  markRecent(first: number, last: number): void {
    if (first > last) return;
    // Ranges that overlap or touch the new one are merged into it (UIDs between two ranges may be
    // another session's recent messages: ranges that only come close stay apart).
    const kept: Array<[number, number]> = [];
    let lo = first;
    let hi = last;
    for (const [a, b] of this.recent) {
      if (b + 1 < lo || a > hi + 1) kept.push([a, b]);
      else {
        lo = Math.min(lo, a);
        hi = Math.max(hi, b);
      }
    }
    kept.push([lo, hi]);
    kept.sort((x, y) => x[0] - y[0]);
    this.recent = kept;
  }

  /** Messages recent to this session (the RECENT response). */
  get recentCount(): number {
    let n = 0;
    for (const [a, b] of this.recent) n += this.lowerBound(b + 1) - this.lowerBound(a);
    return n;
  }

  modseqAt(seq: number): number {
    return this.modseqs[seq - 1] ?? 0;
  }

  /** Sequence number of a UID, 0 when the view does not hold it. */
  seqOf(uid: number): number {
    const i = this.lowerBound(uid);
    return this.uids[i] === uid ? i + 1 : 0;
  }

  /** Index of the first UID >= uid. */
  lowerBound(uid: number): number {
    let lo = 0;
    let hi = this.uids.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.uids[mid]! < uid) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** True when the message was expunged by another writer and not yet announced. */
  isExpunged(uid: number): boolean {
    return this.gone.size > 0 && this.gone.has(uid);
  }

  get pendingExpunges(): number {
    return this.gone.size;
  }

  /** Sequence numbers (ascending) of UIDs within [lo, hi]. */
  seqRangeForUids(lo: number, hi: number): [number, number] | null {
    const a = this.lowerBound(lo);
    const b = this.lowerBound(hi + 1);
    return a < b ? [a + 1, b] : null;
  }

  /** Keywords in use in this folder, for the FLAGS response. */
  keywords(): Set<string> {
    return this.interner.keywords();
  }

  /** The number of keywords(); within a session it only grows, so a change means a new keyword. */
  get keywordCount(): number {
    return this.interner.keywordCount;
  }

  /** First message without \Seen (IMAP4rev1 UNSEEN response code), 0 when none. */
  firstUnseen(): number {
    for (let i = 0; i < this.flagLists.length; i++) if (!this.flagLists[i]!.includes('\\Seen')) return i + 1;
    return 0;
  }

  /** Records flags this session itself stored; returns whether the UID is held. */
  setFlags(uid: number, flags: readonly string[], modseq: number): boolean {
    const seq = this.seqOf(uid);
    if (seq === 0 || this.isExpunged(uid)) return false;
    this.own();
    this.flagLists[seq - 1] = this.interner.intern(flags);
    if (modseq > this.modseqs[seq - 1]!) this.modseqs[seq - 1] = modseq;
    return true;
  }

  /** Adds messages this session appended or another writer delivered (UIDs above maxUid only). */
  private append(uid: number, flags: readonly string[], modseq: number): boolean {
    if (uid <= this.maxUid) return false;
    this.own();
    this.uids.push(uid);
    this.flagLists.push(this.interner.intern(flags));
    this.modseqs.push(modseq);
    return true;
  }

  /**
   * Folds in what changed in the store since highestModseq. Changes the view
   * already holds (same or older modseq) are ignored, so a change may be
   * applied twice harmlessly.
   */
  apply(changes: FolderChanges): ViewUpdate {
    let added = 0;
    const changed: number[] = [];
    const expunged: number[] = [];
    for (const m of changes.changed) {
      const seq = this.seqOf(m.uid);
      if (seq === 0) {
        if (this.append(m.uid, m.flags, m.modseq)) added++;
        continue;
      }
      if (this.isExpunged(m.uid) || m.modseq <= this.modseqs[seq - 1]!) continue;
      this.own();
      this.flagLists[seq - 1] = this.interner.intern(m.flags);
      this.modseqs[seq - 1] = m.modseq;
      changed.push(m.uid);
    }
    for (const uid of changes.expunged) {
      if (this.seqOf(uid) === 0 || this.gone.has(uid)) continue;
      this.gone.add(uid);
      expunged.push(uid);
    }
    if (changes.highestModseq > this.highestModseq) this.highestModseq = changes.highestModseq;
    return { added, changed, expunged };
  }

  /** Marks UIDs as expunged (this session's own EXPUNGE or MOVE); unknown UIDs are ignored. */
  markExpunged(uids: Iterable<number>): void {
    for (const uid of uids) if (this.seqOf(uid) !== 0) this.gone.add(uid);
  }

  /**
   * Removes every expunged message and returns them in the order to announce:
   * `seqs` descending (each EXPUNGE leaves the numbers below it unchanged) and
   * `uids` ascending (for VANISHED).
   */
  takeExpunged(): { seqs: number[]; uids: number[] } {
    if (this.gone.size === 0) return { seqs: [], uids: [] };
    this.own();
    const seqs: number[] = [];
    const uids: number[] = [];
    let w = 0;
    for (let r = 0; r < this.uids.length; r++) {
      const uid = this.uids[r]!;
      if (this.gone.has(uid)) {
        seqs.push(r + 1);
        uids.push(uid);
        continue;
      }
      this.uids[w] = uid;
      this.flagLists[w] = this.flagLists[r]!;
      this.modseqs[w] = this.modseqs[r]!;
      w++;
    }
    this.uids.length = w;
    this.flagLists.length = w;
    this.modseqs.length = w;
    this.gone.clear();
    seqs.reverse();
    return { seqs, uids };
  }
}
