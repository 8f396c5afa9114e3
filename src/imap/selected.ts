/**
 * The selected folder of one session: its view, the notifier subscription,
 * and the untagged updates (EXPUNGE or VANISHED, EXISTS, FETCH FLAGS) the
 * client is owed. Changes are fetched from the store only after the notifier
 * said the folder changed, so an idle session costs nothing.
 */
import {
  existsResponse,
  expungeResponse,
  fetchResponse,
  flagsResponse,
  flagsValue,
  modseqValue,
  ok,
  recentResponse,
  vanishedResponse,
  type FetchResponseItem,
} from '../codec/imap/index.js';
import { isPosternError } from '../core/errors.js';
import type { MailboxNotifier } from '../mailbox/notify.js';
import type { RecentClaims } from '../mailbox/recent.js';
import type { MailboxView } from '../mailbox/view.js';
import type { ContextUpdates, SearchContext } from './context.js';
import { KEYWORD_LIMITS, type Folder, type MailboxRepo } from '../store/types.js';

export const SYSTEM_FLAGS = ['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft'];

export interface UpdateOptions {
  /** EXPUNGE may be sent now (not while answering FETCH, STORE or SEARCH). */
  readonly expunge: boolean;
  readonly qresync: boolean;
  readonly condstore: boolean;
  /** ADDTO and REMOVEFROM of the searches kept up to date (RFC 5267). */
  readonly contexts?: ContextUpdates | null;
}

export class SelectedMailbox {
  /** The notifier reported a change not yet fetched. */
  dirty = false;
  name: string;
  private announceExists = false;
  private readonly changed = new Set<number>();
  private keywordCount: number;
  private keywordsDirty = false;
  private readonly unsubscribe: () => void;
  private readonly recent: RecentClaims | null;
  /** Searches kept up to date (RETURN (UPDATE)), by tag; they end with the selection. */
  readonly contexts = new Map<string, SearchContext>();
  /** Counts changes to the view, so updating searches run again only after one. */
  private revision = 0;
  private contextsSeen = '';

  /** `trackRecent`: the session speaks IMAP4rev1, which has \Recent (IMAP4rev2 dropped it). */
  constructor(
    readonly folder: Folder,
    readonly view: MailboxView,
    readonly readOnly: boolean,
    notifier: MailboxNotifier,
    onChange: () => void,
    trackRecent = false,
  ) {
    this.name = folder.name;
    this.keywordCount = view.keywordCount;
    this.recent = trackRecent ? notifier.recent : null;
    // Usually every message was claimed by an earlier session: no need to list 100,000 UIDs to find none.
    if (this.recent?.mayHaveUnclaimed(folder.id, view.maxUid + 1)) this.takeRecent(1);
    this.unsubscribe = notifier.subscribe(folder.id, () => {
      this.dirty = true;
      onChange();
    });
  }

  static async open(
    repo: MailboxRepo,
    folder: Folder,
    readOnly: boolean,
    notifier: MailboxNotifier,
    onChange: () => void,
    trackRecent = false,
  ): Promise<SelectedMailbox> {
    const fresh = (await repo.getFolderById(folder.id)) ?? folder;
    const view = await notifier.snapshots.open(repo, fresh);
    return new SelectedMailbox(fresh, view, readOnly, notifier, onChange, trackRecent);
  }

  /**
   * Messages from sequence number `from` on become recent to this session if
   * no other claimed them; EXAMINE looks without claiming. They are the
   * view's newest, so what is unclaimed among them is a run of UIDs.
   */
  private takeRecent(from: number): void {
    if (!this.recent || from > this.view.exists) return;
    const last = this.view.maxUid;
    const mark = this.readOnly ? this.recent.markOf(this.id) : this.recent.claimTo(this.id, last);
    this.view.markRecent(Math.max(this.view.uidAt(from), mark + 1), last);
  }

  /** Messages recent to this session, or null when the session does not speak of \Recent. */
  get recentCount(): number | null {
    return this.recent ? this.view.recentCount : null;
  }

  get id(): number {
    return this.folder.id;
  }

  /** The UIDNEXT to report: never at or below a UID the client has seen. */
  uidNext(storeUidNext: number): number {
    return Math.max(storeUidNext, this.view.maxUid + 1);
  }

  /** Folds in changes from the store; 'gone' when the folder was deleted. */
  async sync(repo: MailboxRepo, force = false): Promise<'ok' | 'gone'> {
    if (!this.dirty && !force) return 'ok';
    this.dirty = false;
    let changes;
    try {
      changes = await repo.changesSince(this.folder.id, this.view.highestModseq);
    } catch (e) {
      if (isPosternError(e, 'NOT_FOUND')) return 'gone';
      throw e;
    }
    const before = this.view.exists;
    const u = this.view.apply(changes);
    if (u.added > 0) {
      this.announceExists = true;
      this.takeRecent(before + 1);
    }
    for (const uid of u.changed) this.changed.add(uid);
    if (u.added > 0 || u.changed.length > 0) this.keywordsDirty = true;
    if (u.added > 0 || u.changed.length > 0 || u.expunged.length > 0) this.revision++;
    return 'ok';
  }

  /** Flags this session stored itself: already answered, but a new keyword means a new FLAGS response. */
  storedFlags(uid: number): void {
    this.changed.delete(uid);
    this.keywordsDirty = true;
    this.revision++;
  }

  private get contextStamp(): string {
    return `${this.revision}/${this.view.exists}/${this.view.pendingExpunges}`;
  }

  /** The view changed since the updating searches last ran. */
  contextsStale(): boolean {
    return this.contextStamp !== this.contextsSeen;
  }

  /** The updating searches match the view as it is now. */
  contextsFresh(): void {
    this.contextsSeen = this.contextStamp;
  }

  /** The untagged responses owed, in a safe order: expunges, then EXISTS, then flag changes. */
  takeUpdates(o: UpdateOptions): Buffer[] {
    const out: Buffer[] = [...(o.contexts?.removals ?? [])];
    if (o.expunge && this.view.pendingExpunges > 0) {
      const { seqs, uids } = this.view.takeExpunged();
      for (const uid of uids) this.changed.delete(uid);
      if (o.qresync) out.push(vanishedResponse(uids, false));
      else for (const s of seqs) out.push(expungeResponse(s));
    }
    if (this.announceExists) {
      out.push(existsResponse(this.view.exists));
      if (this.recent) out.push(recentResponse(this.view.recentCount));
      this.announceExists = false;
    }
    if (o.contexts) out.push(...o.contexts.additions());
    out.push(...this.keywordUpdates());
    if (this.changed.size > 0) {
      const uids = [...this.changed].sort((a, b) => a - b);
      this.changed.clear();
      for (const uid of uids) {
        const seq = this.view.seqOf(uid);
        if (seq === 0 || this.view.isExpunged(uid)) continue;
        out.push(...fetchResponse(seq, this.flagItems(seq, o.condstore)));
      }
    }
    return out;
  }

  /**
   * FLAGS and PERMANENTFLAGS when the keywords in use changed: owed before
   * any FETCH response that shows a new keyword (RFC 9051 7.3.5).
   */
  keywordUpdates(): Buffer[] {
    if (!this.keywordsDirty) return [];
    this.keywordsDirty = false;
    if (this.view.keywordCount === this.keywordCount) return [];
    const keywords = this.view.keywords();
    this.keywordCount = keywords.size;
    const out = [flagsResponse([...SYSTEM_FLAGS, ...keywords])];
    if (!this.readOnly) out.push(ok(null, 'Flags permitted', { code: 'PERMANENTFLAGS', flags: this.permanentFlags(keywords) }));
    return out;
  }

  /** UID, FLAGS and (with CONDSTORE) MODSEQ of one message. */
  flagItems(seq: number, condstore: boolean): FetchResponseItem[] {
    const items: FetchResponseItem[] = [
      ['UID', this.view.uidAt(seq)],
      ['FLAGS', flagsValue(this.view.flagsAt(seq))],
    ];
    if (condstore) items.push(['MODSEQ', modseqValue(this.view.modseqAt(seq))]);
    return items;
  }

  /** UIDs of the messages flagged \Deleted (and not already expunged), optionally within a filter. */
  deletedUids(within?: (uid: number) => boolean): number[] {
    const out: number[] = [];
    const v = this.view;
    for (let seq = 1; seq <= v.exists; seq++) {
      const uid = v.uidAt(seq);
      if (v.flagsAt(seq).includes('\\Deleted') && !v.isExpunged(uid) && (!within || within(uid))) out.push(uid);
    }
    return out;
  }

  /** With as many keywords in use as a mailbox may have, \\* is left out: no new keyword can be created (RFC 9051 7.1). */
  permanentFlags(keywords: ReadonlySet<string> = this.view.keywords()): string[] {
    if (this.readOnly) return [];
    return keywords.size >= KEYWORD_LIMITS.perMailbox ? [...SYSTEM_FLAGS, ...keywords] : [...SYSTEM_FLAGS, ...keywords, '\\*'];
  }

  close(): void {
    this.unsubscribe();
  }
}
