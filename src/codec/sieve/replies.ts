/**
 * The mail Sieve actions send: vacation replies (RFC 5230, RFC 3834) and
 * refusals for reject/ereject (RFC 5429, an MDN with a "deleted" disposition).
 * Only builds bytes; whether to send is `vacationAllowed`'s answer.
 */
import { SieveMessage } from './message.js';

const oneLine = (s: string): string => s.replace(/[\r\n]+/g, ' ');
/** Only printable ASCII in an address written into a field. */
const safeAddr = (a: string): string => a.replace(/[^\x21-\x7e]/g, '');
const date = (ms: number): string => new Date(ms).toUTCString().replace(/GMT$/, '+0000');

/** Local parts that never get a vacation reply (RFC 3834 5, RFC 5230 4.6). */
const ROBOTS = ['mailer-daemon', 'postmaster', 'listserv', 'majordomo', 'owner-', '-request', 'bounce', 'noreply', 'no-reply'];

/**
 * Why no vacation reply goes to this sender, or null when one may: the null
 * sender, ourselves, automatic mail (Auto-Submitted other than "no"),
 * mailing lists (List-Id, List-Unsubscribe and friends, Precedence
 * bulk/list/junk), robot addresses, and mail not addressed to us.
 */
export function vacationRefusal(raw: Buffer, sender: string, own: readonly string[]): string | null {
  if (sender === '') return 'null sender';
  const lower = sender.toLowerCase();
  const mine = own.map((a) => a.toLowerCase());
  if (mine.includes(lower)) return 'sender is the recipient';
  const at = lower.lastIndexOf('@');
  const local = at < 0 ? lower : lower.slice(0, at);
  if (ROBOTS.some((r) => (r.startsWith('-') ? local.endsWith(r) : r.endsWith('-') ? local.startsWith(r) : local === r))) return 'sender is a robot';
  const m = new SieveMessage(raw);
  const auto = m.header('auto-submitted')[0];
  if (auto !== undefined && auto.trim().toLowerCase().split(';')[0]!.trim() !== 'no') return 'automatic mail';
  for (const f of ['list-id', 'list-unsubscribe', 'list-post', 'list-help', 'list-owner', 'x-list']) if (m.header(f).length > 0) return 'mailing list';
  const prec = (m.header('precedence')[0] ?? '').trim().toLowerCase();
  if (prec === 'bulk' || prec === 'list' || prec === 'junk') return 'mailing list';
  // RFC 5230 4.5: reply only when one of our addresses is in To, Cc, Bcc (and friends)
  const addressed = ['to', 'cc', 'bcc', 'resent-to', 'resent-cc', 'resent-bcc'].flatMap((h) => m.addresses(h)).map((a) => a.toLowerCase());
  if (!addressed.some((a) => mine.includes(a))) return 'not addressed to the recipient';
  return null;
}

export interface VacationReply {
  readonly reason: string;
  readonly subject: string | null;
  readonly from: string | null;
  readonly mime: boolean;
}

/** The vacation reply to `raw`, from `from` (the account's address unless :from) to `to`. */
export function vacationMail(raw: Buffer, v: VacationReply, o: { from: string; to: string; now: number; messageId: string }): Buffer {
  const m = new SieveMessage(raw);
  const origSubject = m.header('subject')[0] ?? '';
  const subject = v.subject ?? `Auto: ${origSubject}`.trim();
  const msgId = (m.rawHeader('message-id')[0] ?? '').trim();
  const refs = (m.rawHeader('references')[0] ?? '').trim();
  const head = [
    `From: ${v.from ? oneLine(v.from) : `<${safeAddr(o.from)}>`}`,
    `To: <${safeAddr(o.to)}>`,
    `Subject: ${oneLine(subject)}`,
    `Date: ${date(o.now)}`,
    `Message-ID: <${o.messageId}>`,
    'Auto-Submitted: auto-replied',
    'X-Auto-Response-Suppress: All',
    ...(msgId ? [`In-Reply-To: ${oneLine(msgId)}`, `References: ${oneLine(`${refs} ${msgId}`.trim()).slice(0, 900)}`] : []),
    'MIME-Version: 1.0',
  ];
  // With :mime the reason is a MIME entity of its own (headers and body).
  const body = v.mime ? v.reason.replace(/\r?\n/g, '\r\n') : `Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n${v.reason.replace(/\r?\n/g, '\r\n')}`;
  return Buffer.from(`${head.join('\r\n')}\r\n${body}`, 'utf8');
}

/** The RFC 5429 refusal: an MDN (RFC 8098) with disposition "deleted", the reason, and the original header. */
export function rejectMail(raw: Buffer, reason: string, o: { from: string; to: string; recipient: string; now: number; messageId: string; host: string }): Buffer {
  const m = new SieveMessage(raw);
  const boundary = `=_postern_${o.messageId.replace(/[^A-Za-z0-9]/g, '')}`;
  const msgId = (m.rawHeader('message-id')[0] ?? '').trim();
  const end = raw.indexOf('\r\n\r\n');
  const header = (end < 0 ? raw : raw.subarray(0, end + 2)).subarray(0, 64 * 1024).toString('latin1');
  const parts = [
    `From: Mail Delivery System <${safeAddr(o.from)}>`,
    `To: <${safeAddr(o.to)}>`,
    `Subject: Refused: ${oneLine(m.header('subject')[0] ?? '')}`.slice(0, 900),
    `Date: ${date(o.now)}`,
    `Message-ID: <${o.messageId}>`,
    'Auto-Submitted: auto-replied',
    ...(msgId ? [`In-Reply-To: ${oneLine(msgId)}`] : []),
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=disposition-notification; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    `Your message to ${safeAddr(o.recipient)} was refused by the recipient's mail filter:`,
    '',
    reason.replace(/\r?\n/g, '\r\n'),
    '',
    `--${boundary}`,
    'Content-Type: message/disposition-notification',
    '',
    `Reporting-UA: ${oneLine(o.host)}; postern`,
    `Final-Recipient: rfc822; ${safeAddr(o.recipient)}`,
    ...(msgId ? [`Original-Message-ID: ${oneLine(msgId)}`] : []),
    'Disposition: automatic-action/MDN-sent-automatically; deleted',
    '',
    `--${boundary}`,
    'Content-Type: text/rfc822-headers',
    '',
    header.replace(/\r\n$/, ''),
    '',
    `--${boundary}--`,
    '',
  ];
  return Buffer.from(parts.join('\r\n'), 'utf8');
}
