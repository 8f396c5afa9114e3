/**
 * Notices: short plain-text messages a policy stage asks the pipeline to send
 * once a message's fate is final (e.g. DLP: "your message was held", to the
 * sender and to the sender's group manager). They go through the spool like a
 * DSN — null sender, local source, no policy scan — and only to addresses of
 * our own domains: a notice never leaves the organisation, so a forged
 * sender cannot turn it into backscatter. Failures are logged, never thrown.
 */
import { randomBytes } from 'node:crypto';
import { domainOf, normalizeAddress } from '../core/address.js';
import type { Clock } from '../core/clock.js';
import { newQueueId } from '../core/ids.js';
import type { Notice } from '../core/verdict.js';
import { encodeEncodedWords } from '../codec/mime/encoded-word.js';
import type { Directory } from '../directory/directory.js';
import type { Logger } from '../metrics/logger.js';
import type { NewRecipient } from '../store/types.js';
import type { Spool } from './spool.js';

const MAX_TEXT = 16 * 1024;
const MAX_SUBJECT = 200;
const MAX_PER_MESSAGE = 10;
/** Notices being queued at once; past it new ones are dropped (logged) rather than piling up in memory. */
const MAX_IN_FLIGHT = 256;
/** Messages whose notices are remembered, so a second call for the same message sends nothing twice. */
const REMEMBERED = 1000;

export interface NoticeMessage {
  readonly from: string;
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  /** The message the notice is about (an X-Postern-Notice-For field). */
  readonly about: string;
  readonly now: number;
  readonly hostname: string;
}

/** The notice as an RFC 5322 message: text/plain UTF-8, quoted-printable, CRLF, bounded. */
export function buildNotice(n: NoticeMessage): Buffer {
  const head = [
    `From: "postern" <${n.from}>`,
    `To: <${n.to}>`,
    foldHeader(`Subject: ${encodeEncodedWords(oneLine(n.subject, MAX_SUBJECT) || 'Notice')}`),
    `Date: ${rfc5322Date(n.now)}`,
    `Message-ID: <${n.about.replace(/[^A-Za-z0-9._-]/g, '')}.${randomBytes(6).toString('hex')}.notice@${n.hostname}>`,
    'Auto-Submitted: auto-generated',
    `X-Postern-Notice-For: ${n.about.replace(/[^\x21-\x7e]/g, '').slice(0, 64)}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: quoted-printable',
  ];
  return Buffer.from(`${head.join('\r\n')}\r\n\r\n${quotedPrintable(boundedText(n.text))}\r\n`, 'utf8');
}

export interface NoticeDeps {
  readonly spool: Spool;
  readonly directory: Directory;
  /** The server's host name: postmaster@ its parent domain when that is local. */
  readonly hostname: string;
  readonly clock: Clock;
  readonly log: Logger;
}

export class NoticeSender {
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly sent = new Map<string, Set<string>>();

  constructor(private readonly d: NoticeDeps) {}

  /** PipelineOptions.notify: queues in the background, never throws. */
  readonly notify = (queueId: string, notices: readonly Notice[]): void => {
    if (this.inFlight.size >= MAX_IN_FLIGHT) {
      this.d.log.warn({ queueId, notices: notices.length }, 'notices dropped: too many being queued');
      return;
    }
    const p = this.send(queueId, notices).catch((err: unknown) => this.d.log.error({ err, queueId }, 'notice failed'));
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p)).catch(() => undefined);
  };

  /** Resolves when every notice handed in so far is queued (or has failed). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Queues the notices about `queueId`; returns how many messages were queued. Never throws. */
  async send(queueId: string, notices: readonly Notice[]): Promise<number> {
    const seen = this.remembered(queueId);
    let queued = 0;
    let from: string | null = null;
    for (const n of notices) {
      if (seen.size >= MAX_PER_MESSAGE) {
        this.d.log.warn({ queueId }, 'further notices about this message dropped');
        break;
      }
      const to = normalizeAddress(n.to);
      const key = `${to ?? n.to}\u0000${n.subject}\u0000${n.text}`;
      if (seen.has(key)) continue;
      seen.add(key);
      try {
        const rcpts = to ? await this.localRecipients(queueId, to) : [];
        if (!to) this.d.log.info({ queueId }, 'notice not sent: not an address');
        if (!to || rcpts.length === 0) continue;
        from ??= await this.postmaster();
        const now = this.d.clock.now();
        const data = buildNotice({ from, to, subject: n.subject, text: n.text, about: queueId, now, hostname: this.d.hostname });
        const id = newQueueId(now);
        await this.d.spool.accept({ queueId: id, data, sender: '', recipients: rcpts, source: 'local', clientAddress: '127.0.0.1', authUser: null, meta: { noticeFor: queueId } });
        this.d.log.info({ queueId, notice: id, to }, 'notice queued');
        queued++;
      } catch (err) {
        this.d.log.error({ err, queueId, to }, 'notice could not be queued');
      }
    }
    return queued;
  }

  /** The local accounts `to` reaches; empty (and logged) when it is not ours: no notice leaves the organisation. */
  private async localRecipients(queueId: string, to: string): Promise<NewRecipient[]> {
    if (!(await this.d.directory.isLocalDomain(domainOf(to)))) {
      this.d.log.info({ queueId, domain: domainOf(to) }, 'notice not sent: not a local domain');
      return [];
    }
    const found = await this.d.directory.expandRecipient(to);
    if (found && found.remote.length > 0) this.d.log.info({ queueId, to, dropped: found.remote.length }, 'notice not forwarded to remote alias targets');
    const local = found?.local ?? [];
    if (local.length === 0) this.d.log.info({ queueId, to }, 'notice not sent: no such local mailbox');
    return local.map((a) => ({ address: a.address, transport: 'local' as const, accountId: a.id }));
  }

  /** postmaster@ the host name's parent domain, or the host name, when local; else the first local domain. */
  private async postmaster(): Promise<string> {
    const host = this.d.hostname.toLowerCase().replace(/\.$/, '');
    const parent = host.includes('.') ? host.slice(host.indexOf('.') + 1) : '';
    for (const d of [parent, host]) if (d.includes('.') && (await this.d.directory.isLocalDomain(d))) return `postmaster@${d}`;
    const first = (await this.d.directory.repo.listDomains()).map((x) => x.name).sort()[0];
    return `postmaster@${first ?? host}`;
  }

  private remembered(queueId: string): Set<string> {
    let s = this.sent.get(queueId);
    if (!s) {
      s = new Set();
      this.sent.set(queueId, s);
      // Map order is insertion order: the oldest message is forgotten first.
      if (this.sent.size > REMEMBERED) this.sent.delete(this.sent.keys().next().value as string);
    }
    return s;
  }
}

// eslint-disable-next-line no-control-regex -- removing control characters is the point
const CONTROLS = /[\x00-\x1f\x7f]+/g;
// eslint-disable-next-line no-control-regex -- as above; tab and line ends stay
const TEXT_CONTROLS = /[\x00-\x08\x0b-\x1f\x7f]/g;

function oneLine(s: string, max: number): string {
  return [...s.replace(CONTROLS, ' ').trim()].slice(0, max).join('');
}

/** Text with CRLF line ends and no other controls but tab, at most MAX_TEXT characters (code points kept whole). */
function boundedText(s: string): string {
  const cps = [...s.replace(/\r\n?|\n/g, '\n').replace(TEXT_CONTROLS, '')];
  const cut = cps.length > MAX_TEXT ? `${cps.slice(0, MAX_TEXT).join('')}\n[…]` : cps.join('');
  return cut.replace(/\n/g, '\r\n');
}

/** RFC 2045 quoted-printable of UTF-8 text with CRLF line ends; lines of at most 76 characters. */
export function quotedPrintable(text: string): string {
  return text
    .split('\r\n')
    .map((line) => {
      const bytes = Buffer.from(line, 'utf8');
      const out: string[] = [];
      let cur = '';
      for (let i = 0; i < bytes.length; i++) {
        const b = bytes[i]!;
        const last = i === bytes.length - 1;
        const plain = (b >= 0x21 && b <= 0x7e && b !== 0x3d) || ((b === 0x20 || b === 0x09) && !last);
        const enc = plain ? String.fromCharCode(b) : `=${b.toString(16).toUpperCase().padStart(2, '0')}`;
        if (cur.length + enc.length > 75) {
          out.push(`${cur}=`);
          cur = '';
        }
        cur += enc;
      }
      out.push(cur);
      return out.join('\r\n');
    })
    .join('\r\n');
}

/** A header line folded at spaces to about 78 characters. */
function foldHeader(line: string): string {
  const out: string[] = [];
  let cur = '';
  for (const w of line.split(' ')) {
    if (cur && cur.length + 1 + w.length > 76) {
      out.push(cur);
      cur = ` ${w}`;
    } else cur = cur ? `${cur} ${w}` : w;
  }
  out.push(cur);
  return out.join('\r\n');
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function rfc5322Date(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]}, ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}
