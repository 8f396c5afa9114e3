/**
 * Runs an account's Sieve script at local delivery and carries out what it
 * asks: the folders and flags of the copies kept, and the mail it sends
 * (redirects, refusals, vacation replies) through the spool. A script that
 * does not parse, fails at run time or passes a limit never loses mail: the
 * message is kept in the folder it would have gone to without a script, and
 * a `sieve.error` event says why.
 */
import type { Logger } from '../metrics/logger.js';
import type { EventRepo, NewRecipient } from '../store/types.js';
import type { Spool } from '../queue/spool.js';
import { newQueueId } from '../core/ids.js';
import { runSieve, vacationRefusal, vacationMail, rejectMail, type SieveAction } from '../codec/sieve/index.js';
import type { SieveScripts, VacationMemory } from './sieve-source.js';

export const SIEVE_ERROR_EVENT = 'sieve.error';
export const SIEVE_ACTION_EVENT = 'sieve.action';
/** Names each account a message was redirected by; the loop guard reads it. */
export const REDIRECT_FIELD = 'X-Postern-Sieve-Redirect';
/** A message already redirected this many times is not redirected again. */
export const MAX_REDIRECT_HOPS = 3;

export interface SieveDeps {
  scripts: SieveScripts;
  /** Without it vacation replies are not sent (and a `sieve.error` event says so). */
  vacation?: VacationMemory;
  /** Where redirects, refusals and vacation replies are queued. */
  spool: Spool;
  /** How a redirect target is delivered: a local account or a remote address (the directory's routing). */
  route(address: string): Promise<NewRecipient[]>;
  /** This server's host name, for Message-IDs and the refusal's Reporting-UA. */
  hostname: string;
  events?: EventRepo;
}

/** Where one copy of the message goes: `null` folder is the default one (INBOX, or Junk for junk). */
export interface SieveTarget {
  folder: string | null;
  flags: string[];
}

export interface SievePlan {
  /** Empty: the message is discarded (or refused) for this recipient. */
  targets: SieveTarget[];
}

interface Delivery {
  accountId: number;
  /** The account's own address: redirects and refusals are sent from it. */
  address: string;
  sender: string;
  raw: Buffer;
  now: number;
  queueId: string;
}

function headerFieldValues(raw: Buffer, name: string): string[] {
  const end = raw.indexOf('\r\n\r\n');
  const head = raw.subarray(0, end < 0 ? Math.min(raw.length, 512 * 1024) : end).toString('latin1');
  const lower = name.toLowerCase() + ':';
  return head
    .split(/\r?\n(?![ \t])/)
    .filter((l) => l.slice(0, lower.length).toLowerCase() === lower)
    .map((l) => l.slice(lower.length).trim());
}

export class SieveRunner {
  constructor(
    private readonly d: SieveDeps,
    private readonly log: Logger,
  ) {}

  private async event(kind: string, subject: string, data: Record<string, unknown>, now: number): Promise<void> {
    try {
      await this.d.events?.record(kind, subject, data, now);
    } catch (e) {
      this.log.warn({ err: e instanceof Error ? e.message : String(e), kind }, 'sieve event not recorded');
    }
  }

  /**
   * The plan for one recipient, or null when the account has no script.
   * Mail the script sends is queued before this returns, so a failure to
   * queue it throws and the delivery is tried again as a whole.
   */
  /** `load` reads the message only when the account has a script: most deliveries never need the bytes. */
  async plan(d: Omit<Delivery, 'raw'> & { load(): Promise<Buffer> }): Promise<SievePlan | null> {
    const script = await this.d.scripts.active(d.accountId);
    if (!script) return null;
    const { load, ...rest } = d;
    const m: Delivery = { ...rest, raw: await load() };
    const r = runSieve(script.text, m.raw, { from: m.sender, to: m.address }, new Date(m.now));
    if (!r.ok) {
      this.log.warn({ script: script.name, line: r.line, err: r.error }, 'sieve script failed; message kept');
      await this.event(SIEVE_ERROR_EVENT, m.queueId, { accountId: m.accountId, script: script.name, line: r.line, error: r.error }, m.now);
      return { targets: [{ folder: null, flags: [] }] };
    }
    const targets: SieveTarget[] = [];
    for (const a of r.actions) {
      const t = await this.carryOut(a, m, script.name);
      if (t) targets.push(t);
    }
    // The same folder twice is one copy (RFC 5228 4.1), its flags joined.
    const merged = new Map<string | null, SieveTarget>();
    for (const t of targets) {
      const key = t.folder === null || t.folder.toUpperCase() === 'INBOX' ? null : t.folder;
      const have = merged.get(key);
      if (!have) merged.set(key, { folder: key, flags: [...t.flags] });
      else for (const f of t.flags) if (!have.flags.includes(f)) have.flags.push(f);
    }
    return { targets: [...merged.values()] };
  }

  private async carryOut(a: SieveAction, m: Delivery, script: string): Promise<SieveTarget | null> {
    switch (a.type) {
      case 'keep':
        return { folder: null, flags: [...a.flags] };
      case 'fileinto':
        return { folder: a.folder, flags: [...a.flags] };
      case 'discard':
        await this.event(SIEVE_ACTION_EVENT, m.queueId, { accountId: m.accountId, script, action: 'discard' }, m.now);
        return null;
      case 'redirect':
        return (await this.redirect(a.address, m, script)) ? null : { folder: null, flags: [] };
      case 'reject':
        await this.reject(a.reason, m, script);
        return null;
      case 'vacation':
        await this.vacation(a, m, script);
        return null;
    }
  }

  /** Queues the redirect; false (the message is kept instead) when the loop guard stops it. */
  private async redirect(to: string, m: Delivery, script: string): Promise<boolean> {
    const hops = headerFieldValues(m.raw, REDIRECT_FIELD);
    const delivered = headerFieldValues(m.raw, 'Delivered-To').map((v) => v.toLowerCase());
    const self = m.address.toLowerCase();
    if (hops.length >= MAX_REDIRECT_HOPS || hops.some((h) => h.toLowerCase() === self) || delivered.includes(self) || to.toLowerCase() === self) {
      await this.event(SIEVE_ERROR_EVENT, m.queueId, { accountId: m.accountId, script, error: `redirect to ${to} not sent: it would loop` }, m.now);
      return false;
    }
    const recipients = await this.d.route(to);
    if (recipients.length === 0) {
      await this.event(SIEVE_ERROR_EVENT, m.queueId, { accountId: m.accountId, script, error: `redirect to ${to} not sent: no route` }, m.now);
      return false;
    }
    // The envelope sender is the account itself: SPF holds for our domain, and a bounce comes back to the account.
    await this.d.spool.accept({
      queueId: newQueueId(m.now),
      data: Buffer.concat([Buffer.from(`${REDIRECT_FIELD}: ${self.replace(/[^\x21-\x7e]/g, '')}\r\n`), m.raw]),
      sender: m.address,
      recipients,
      source: 'local',
      clientAddress: '127.0.0.1',
      authUser: null,
      meta: { sieve: 'redirect', from: m.queueId },
    });
    await this.event(SIEVE_ACTION_EVENT, m.queueId, { accountId: m.accountId, script, action: 'redirect' }, m.now);
    return true;
  }

  private async reject(reason: string, m: Delivery, script: string): Promise<void> {
    // Never to the null sender (a bounce of a bounce), never to ourselves.
    if (m.sender === '' || m.sender.toLowerCase() === m.address.toLowerCase()) {
      await this.event(SIEVE_ACTION_EVENT, m.queueId, { accountId: m.accountId, script, action: 'reject', sent: false }, m.now);
      return;
    }
    const recipients = await this.d.route(m.sender);
    const queueId = newQueueId(m.now);
    if (recipients.length > 0) {
      await this.d.spool.accept({
        queueId,
        data: rejectMail(m.raw, reason, { from: `MAILER-DAEMON@${this.d.hostname}`, to: m.sender, recipient: m.address, now: m.now, messageId: `${queueId}.reject@${this.d.hostname}`, host: this.d.hostname }),
        sender: '',
        recipients,
        source: 'local',
        clientAddress: '127.0.0.1',
        authUser: null,
        meta: { sieve: 'reject', from: m.queueId },
      });
    }
    await this.event(SIEVE_ACTION_EVENT, m.queueId, { accountId: m.accountId, script, action: 'reject', sent: recipients.length > 0 }, m.now);
  }

  private async vacation(a: Extract<SieveAction, { type: 'vacation' }>, m: Delivery, script: string): Promise<void> {
    const refusal = vacationRefusal(m.raw, m.sender, [m.address, ...a.addresses]);
    if (refusal) {
      this.log.info({ reason: refusal }, 'no vacation reply');
      return;
    }
    if (!this.d.vacation) {
      await this.event(SIEVE_ERROR_EVENT, m.queueId, { accountId: m.accountId, script, error: 'vacation has no memory configured; no reply sent' }, m.now);
      return;
    }
    if (await this.d.vacation.seen(m.accountId, a.handle, m.sender, a.days, m.now)) return;
    const recipients = await this.d.route(m.sender);
    if (recipients.length === 0) return;
    const queueId = newQueueId(m.now);
    await this.d.spool.accept({
      queueId,
      data: vacationMail(m.raw, a, { from: m.address, to: m.sender, now: m.now, messageId: `${queueId}.vacation@${this.d.hostname}` }),
      // RFC 3834 3.3: an automatic reply goes out with the null sender, so it cannot bounce back into a loop.
      sender: '',
      recipients,
      source: 'local',
      clientAddress: '127.0.0.1',
      authUser: null,
      meta: { sieve: 'vacation', from: m.queueId },
    });
    await this.event(SIEVE_ACTION_EVENT, m.queueId, { accountId: m.accountId, script, action: 'vacation' }, m.now);
  }
}
