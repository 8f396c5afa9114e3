/**
 * NOTIFY (RFC 5465) for one session: which mailboxes it watches, what is
 * owed to the client, and when it goes out. Events from the notifier are
 * queued and sent by one job behind whatever the connection is doing, so a
 * notification never lands inside another command's responses; STATUS for a
 * mailbox is sent at most once per job and only when its figures changed.
 * A client that lets more than `maxPending` notifications pile up (it does
 * not read, or keeps the session busy) gets NOTIFICATIONOVERFLOW and no more
 * notifications, as if it had said NOTIFY NONE.
 */
import { formatUidSet, listResponse, ok, parseSequenceSet, statusDataResponse, type StatusItem } from '../codec/imap/index.js';
import type { AccountEvent } from '../mailbox/notify.js';
import { fetch } from './commands/fetch.js';
import { DELIMITER } from './names.js';
import { folderStatsAt } from './notify-stats.js';
import { eventsFor, hasMessageEvents, type EventSet, type NotifySpec } from './notify-spec.js';
import type { ImapSession } from './session.js';

export interface NotifyLimits {
  /** Mailboxes one session may watch; NOTIFY SET over it gets NO [LIMIT]. */
  readonly maxMailboxes: number;
  /** Notifications waiting to be sent before the session overflows. */
  readonly maxPending: number;
}

export const DEFAULT_NOTIFY_LIMITS: NotifyLimits = { maxMailboxes: 1000, maxPending: 1000 };

interface Watched {
  name: string;
  events: EventSet;
  stop: () => void;
  /** The figures last sent (or found at NOTIFY SET), to send STATUS only when they change. */
  last: string | null;
}

export class SessionNotify {
  private spec: NotifySpec | null = null;
  private readonly watched = new Map<number, Watched>();
  private stopAccount: (() => void) | null = null;
  private readonly dirty = new Set<number>();
  private lines: Buffer[] = [];
  private selectedDirty = false;
  private rewatch = false;
  /** The subscription list as last read (SUBSCRIBED filters only), kept up to date by subscription events. */
  private subscribed = new Set<string>();
  private scheduled = false;
  /** New messages in the selected folder still owed MessageNew's FETCH. */
  private newUids: number[] = [];
  private fetching = false;

  constructor(private readonly s: ImapSession) {}

  private get limits(): NotifyLimits {
    return { ...DEFAULT_NOTIFY_LIMITS, ...this.s.deps.notify };
  }

  get maxMailboxes(): number {
    return this.limits.maxMailboxes;
  }

  /** NOTIFY asked for the selected mailbox: its changes are sent without waiting for a command. */
  get selectedSpec(): NotifySpec['selected'] {
    return this.spec?.selected ?? null;
  }

  /** Starts notifying; false (and nothing set) when the filters match more mailboxes than allowed. */
  async set(spec: NotifySpec, sendStatus: boolean): Promise<boolean> {
    this.none();
    this.spec = spec;
    const accountId = this.s.account!.id;
    // Always listened to: a new or renamed folder may fall under a filter and need watching.
    this.stopAccount = this.s.deps.notifier.subscribeAccount(accountId, (ev, origin) => this.accountEvent(ev, origin));
    if (!(await this.watch(false))) {
      this.none();
      return false;
    }
    for (const [id, w] of this.watched) {
      if (this.s.selected?.id === id) continue;
      const status = await this.status(id, w);
      if (!status) continue;
      w.last = status.key;
      if (sendStatus) this.s.send(status.response);
    }
    return true;
  }

  /** NOTIFY NONE, a new NOTIFY SET, an overflow or the end of the session. */
  none(): void {
    this.spec = null;
    this.stopAccount?.();
    this.stopAccount = null;
    for (const w of this.watched.values()) w.stop();
    this.watched.clear();
    this.dirty.clear();
    this.lines = [];
    this.selectedDirty = false;
    this.rewatch = false;
    this.newUids = [];
    this.subscribed = new Set();
  }

  /** The selected folder changed and NOTIFY covers it. */
  selectedChanged(): void {
    this.selectedDirty = true;
    this.schedule();
  }

  /** Brings the watched folders in line with the filters; false when too many match (only checked when asked). */
  private async watch(cap: boolean): Promise<boolean> {
    const spec = this.spec!;
    const repo = this.s.deps.mailboxes;
    const accountId = this.s.account!.id;
    const subscribed = spec.usesSubscriptions ? new Set(await repo.listSubscriptions(accountId)) : new Set<string>();
    if (this.spec !== spec) return true; // NOTIFY changed while the store answered
    this.subscribed = subscribed;
    const want = new Map<number, { name: string; events: EventSet }>();
    for (const f of await repo.listFolders(accountId)) {
      const events = eventsFor(spec, f.name, subscribed);
      if (!events || !hasMessageEvents(events)) continue;
      if (want.size >= this.limits.maxMailboxes) {
        if (!cap) return false;
        this.s.log.info({ limit: this.limits.maxMailboxes }, 'NOTIFY: more mailboxes match than may be watched');
        break;
      }
      want.set(f.id, { name: f.name, events });
    }
    if (this.spec !== spec) return true;
    for (const [id, w] of this.watched) {
      if (want.has(id)) continue;
      w.stop();
      this.watched.delete(id);
      this.dirty.delete(id);
    }
    for (const [id, { name, events }] of want) {
      const w = this.watched.get(id);
      if (w) {
        w.name = name;
        w.events = events;
      } else {
        const stop = this.s.deps.notifier.subscribe(id, () => this.folderChanged(id));
        this.watched.set(id, { name, events, stop, last: null });
      }
    }
    return true;
  }

  private folderChanged(id: number): void {
    if (!this.spec || this.s.selected?.id === id) return; // the selected folder has its own updates
    this.dirty.add(id);
    this.schedule();
  }

  private accountEvent(ev: AccountEvent, origin: unknown): void {
    if (!this.spec) return;
    this.rewatch = true;
    // The session's own CREATE, DELETE, RENAME or SUBSCRIBE was answered already.
    if (origin !== this.s) {
      const line = this.listLine(ev);
      if (line) this.lines.push(line);
    }
    if (ev.kind === 'subscription') {
      if (ev.subscribed) this.subscribed.add(ev.name);
      else this.subscribed.delete(ev.name);
    }
    this.schedule();
  }

  /** The LIST response for an event, when a filter asks for its kind of event on that name. */
  private listLine(ev: AccountEvent): Buffer | null {
    const spec = this.spec!;
    const kind = ev.kind === 'subscription' ? 'SubscriptionChange' : 'MailboxName';
    // Under SUBSCRIBED a subscription change always concerns a subscribed name (before or after);
    // a folder change counts when its name is subscribed (DELETE and RENAME leave the list alone).
    const asked = (name: string): boolean => {
      if (spec.selected && this.s.selected?.name === name) return spec.selected.events.has(kind);
      return eventsFor(spec, name, kind === 'SubscriptionChange' ? new Set([name]) : this.subscribed)?.has(kind) ?? false;
    };
    const e = this.s.encode;
    switch (ev.kind) {
      case 'created':
        return asked(ev.name) ? listResponse({ attributes: [], delimiter: DELIMITER, name: ev.name }, e) : null;
      case 'deleted':
        return asked(ev.name) ? listResponse({ attributes: ['\\NonExistent'], delimiter: DELIMITER, name: ev.name }, e) : null;
      case 'renamed':
        return asked(ev.from) || asked(ev.to) ? listResponse({ attributes: [], delimiter: DELIMITER, name: ev.to, oldName: ev.from }, e) : null;
      case 'subscription':
        return asked(ev.name) ? listResponse({ attributes: ev.subscribed ? ['\\Subscribed'] : [], delimiter: DELIMITER, name: ev.name }, e) : null;
    }
  }

  private get pending(): number {
    return this.dirty.size + this.lines.length;
  }

  private schedule(): void {
    if (this.pending > this.limits.maxPending) return this.overflow();
    if (this.scheduled) return;
    this.scheduled = true;
    // After this turn: changes made together go out together, one STATUS per folder.
    setImmediate(() => {
      this.s.port
        .exclusive(() => this.flush())
        .catch((err: unknown) => {
          this.s.log.warn({ err }, 'NOTIFY update failed');
          this.s.port.close();
        });
    });
  }

  private overflow(): void {
    this.s.log.info({ pending: this.pending }, 'NOTIFY overflow: client too far behind');
    this.none();
    this.s.port
      .exclusive(async () => {
        if (this.s.port.closing) return;
        this.s.send(ok(null, 'Too many notifications pending; NOTIFY is off, resynchronise and NOTIFY SET again', 'NOTIFICATIONOVERFLOW'));
        await this.s.port.out.flush();
      })
      .catch(() => this.s.port.close());
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    const s = this.s;
    if (!this.spec || s.port.closing || s.state === 'notauth') return;
    if (this.rewatch) {
      this.rewatch = false;
      await this.watch(true);
    }
    const lines = this.lines;
    this.lines = [];
    if (lines.length > 0) s.send(lines);
    for (const id of [...this.dirty]) {
      this.dirty.delete(id);
      const w = this.watched.get(id);
      if (!w || s.selected?.id === id) continue;
      const status = await this.status(id, w);
      if (!status || status.key === w.last) continue;
      w.last = status.key;
      s.send(status.response);
    }
    const sel = this.spec?.selected;
    if (this.selectedDirty && sel && s.selected) {
      this.selectedDirty = false;
      // SELECTED-DELAYED keeps expunges for a command that may carry them (and IDLE).
      if (!(await s.updates(!sel.delayed || s.idleTag !== null))) return;
    }
    await s.port.out.flush();
  }

  /** STATUS of a watched folder, with the figures that decide whether it changed; null when it is gone. */
  private async status(id: number, w: Watched): Promise<{ key: string; response: Buffer } | null> {
    const folder = await this.s.deps.mailboxes.getFolderById(id);
    if (!folder) return null;
    const stats = await folderStatsAt(this.s.deps.notifier, this.s.deps.mailboxes, folder);
    const values: Array<[StatusItem, number]> = [
      ['MESSAGES', stats.messages],
      ['UIDNEXT', folder.uidNext],
      ['UIDVALIDITY', folder.uidValidity],
      ['UNSEEN', stats.unseen],
    ];
    // FlagChange is news by modseq (RFC 5465 5.3): its STATUS carries it even before CONDSTORE is enabled.
    if (this.s.condstore || w.events.has('FlagChange')) values.push(['HIGHESTMODSEQ', folder.highestModseq]);
    // Only what the events asked for is news: arrivals move UIDNEXT, expunges
    // move MESSAGES against UIDNEXT (an arrival moves both), flags move UNSEEN
    // and the modseq. A new UIDVALIDITY is always news.
    const key = [`UIDVALIDITY=${folder.uidValidity}`];
    if (w.events.has('MessageNew')) key.push(`UIDNEXT=${folder.uidNext}`);
    if (w.events.has('MessageExpunge')) key.push(`GONE=${folder.uidNext - stats.messages}`);
    if (w.events.has('FlagChange')) key.push(`UNSEEN=${stats.unseen}`, `MODSEQ=${folder.highestModseq}`);
    return { key: key.join(' '), response: statusDataResponse(folder.name, values, this.s.encode) };
  }

  /** New messages in the selected folder (UIDs above `lastUid`) are owed MessageNew's FETCH when it asked for attributes. */
  noteNew(lastUid: number): void {
    const sel = this.s.selected;
    if (!sel || !this.spec?.selected?.fetch) return;
    const v = sel.view;
    const uids: number[] = [];
    for (let seq = v.exists; seq >= 1 && v.uidAt(seq) > lastUid; seq--) uids.push(v.uidAt(seq));
    this.newUids.push(...uids.reverse());
  }

  /**
   * Sends the FETCH responses owed for new messages, through FETCH itself
   * (it syncs first, so mail arriving meanwhile is queued and sent in the
   * same loop); false when the selected folder is gone.
   */
  async fetchNew(): Promise<boolean> {
    const items = this.spec?.selected?.fetch;
    if (this.fetching || !items) return true;
    this.fetching = true;
    try {
      while (this.newUids.length > 0 && this.s.selected) {
        const uids = this.newUids.splice(0, 1000);
        const set = parseSequenceSet(formatUidSet(uids));
        if (!set) break;
        const r = await fetch(this.s, { tag: '*', name: 'FETCH', uid: true, set, macro: null, items, changedSince: null, vanished: false });
        if (r === null) return false;
      }
    } finally {
      this.fetching = false;
    }
    this.newUids = [];
    return true;
  }
}
