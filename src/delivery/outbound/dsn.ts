/**
 * Delivery status notifications (RFC 3464, RFC 3462 multipart/report): a
 * human-readable part, a message/delivery-status part with one block per
 * recipient, and the original message's header section as
 * text/rfc822-headers. One generator for every kind: failures (bounces),
 * delays (warnings) and successes (delivered, or relayed to a server without
 * DSN). The body of the original is never returned, whatever RET asked, so a
 * notice cannot leak content to a forged sender.
 */
import { randomBytes } from 'node:crypto';

export interface FailedRecipient {
  readonly address: string;
  /** RFC 3463 status, e.g. "5.1.1". */
  readonly status: string;
  /** What the remote server said ("smtp; 550 5.1.1 No such user") or our own reason. */
  readonly diagnostic: string;
  readonly remoteMta: string | null;
  readonly lastAttemptAt: number;
  /** RFC 3464 2.3.3; default failed. */
  readonly action?: 'failed' | 'delayed' | 'delivered' | 'relayed';
  /** ORCPT as the sender gave it (type and address), for Original-Recipient. */
  readonly orcpt?: { readonly type: string; readonly address: string };
}

export type DsnKind = 'failure' | 'delay' | 'success';

const TEXT: Record<DsnKind, { subject: string; lines: string[]; part: string }> = {
  failure: {
    subject: 'Undelivered Mail Returned to Sender',
    lines: ['Your message could not be delivered to one or more recipients. The mail', 'system gave up; it will not try again.'],
    part: 'Undelivered Message Headers',
  },
  delay: {
    subject: 'Delayed Mail (still being retried)',
    lines: ['Your message has not been delivered yet to the recipients below. This is', 'only a warning: the mail system will keep trying, and you need not send it', 'again.'],
    part: 'Delayed Message Headers',
  },
  success: {
    subject: 'Successful Mail Delivery Report',
    lines: ['Your message was delivered to the recipients below, as you asked to be', 'told (or handed on to a server that cannot report further).'],
    part: 'Delivered Message Headers',
  },
};

export interface DsnInput {
  readonly reportingMta: string;
  readonly queueId: string;
  readonly sender: string;
  readonly arrivalAt: number;
  readonly originalMessage: Uint8Array;
  readonly failed: readonly FailedRecipient[];
  readonly now: number;
  /** Default failure. */
  readonly kind?: DsnKind;
  /** ENVID of the original MAIL (RFC 3464 2.2.1). */
  readonly envid?: string;
}

const MAX_RETURNED_HEADER = 64 * 1024;

export function buildDsn(d: DsnInput): Buffer {
  const boundary = `=_postern_${randomBytes(12).toString('hex')}`;
  const mta = d.reportingMta;
  const text = TEXT[d.kind ?? 'failure'];
  const header = [
    `From: "Mail Delivery System" <MAILER-DAEMON@${mta}>`,
    `To: <${d.sender}>`,
    `Subject: ${text.subject}`,
    `Date: ${rfc5322Date(d.now)}`,
    `Message-ID: <${d.queueId}.${randomBytes(6).toString('hex')}.dsn@${mta}>`,
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status; boundary="${boundary}"`,
  ];
  const human = [
    `This is the mail system at ${mta}.`,
    '',
    ...text.lines,
    '',
    ...d.failed.map((f) => `<${f.address}>: ${oneLine(f.diagnostic)}`),
  ];
  const perMessage = [
    ...(d.envid !== undefined ? [`Original-Envelope-Id: ${oneLine(d.envid)}`] : []),
    `Reporting-MTA: dns; ${mta}`,
    `X-Postern-Queue-ID: ${d.queueId}`, `Arrival-Date: ${rfc5322Date(d.arrivalAt)}`,
  ];
  const perRecipient = d.failed.map((f) =>
    [
      ...(f.orcpt ? [`Original-Recipient: ${oneLine(f.orcpt.type)}; ${xtext(f.orcpt.address)}`] : []),
      `Final-Recipient: rfc822; ${f.address}`,
      `Action: ${f.action ?? 'failed'}`,
      `Status: ${f.status}`,
      ...(f.remoteMta ? [`Remote-MTA: dns; ${f.remoteMta}`] : []),
      `Diagnostic-Code: ${diagnosticCode(f.diagnostic)}`,
      `Last-Attempt-Date: ${rfc5322Date(f.lastAttemptAt)}`,
    ].join('\r\n'),
  );
  const parts = [
    `--${boundary}`,
    'Content-Type: text/plain; charset=us-ascii',
    'Content-Description: Notification',
    '',
    ...human,
    '',
    `--${boundary}`,
    'Content-Type: message/delivery-status',
    'Content-Description: Delivery report',
    '',
    perMessage.join('\r\n'),
    '',
    perRecipient.join('\r\n\r\n'),
    '',
    `--${boundary}`,
    'Content-Type: text/rfc822-headers',
    `Content-Description: ${text.part}`,
    '',
  ];
  const all = `${header.join('\r\n')}\r\n\r\n${parts.join('\r\n')}\r\n`;
  return Buffer.concat([Buffer.from(all, 'utf8'), originalHeader(d.originalMessage), Buffer.from(`\r\n--${boundary}--\r\n`)]);
}

/** The header section of a message, without the blank line, bounded, with CRLF line ends. */
export function originalHeader(message: Uint8Array): Buffer {
  const b = Buffer.from(message.buffer, message.byteOffset, message.byteLength);
  let end = b.indexOf('\r\n\r\n');
  let lf = b.indexOf('\n\n');
  if (end === -1 && lf === -1) end = b.length;
  else if (end === -1 || (lf !== -1 && lf < end)) end = lf;
  else lf = -1;
  const head = b.subarray(0, Math.min(end, MAX_RETURNED_HEADER));
  const s = head.toString('latin1').replace(/\r?\n/g, '\r\n');
  return Buffer.from(s.endsWith('\r\n') ? s : `${s}\r\n`, 'latin1');
}

function diagnosticCode(d: string): string {
  // "smtp; 550 ..." when the text is a server reply, our own reason otherwise.
  return /^[2-5]\d\d[ -]/.test(d) ? `smtp; ${oneLine(d)}` : `x-postern; ${oneLine(d)}`;
}

/** RFC 3464 2.3.1: the original recipient as xtext (printable ASCII, "+" and "=" as +XX). */
function xtext(s: string): string {
  return oneLine(s).replace(/[+=]/g, (c) => `+${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function oneLine(s: string): string {
  return s.replace(/[\r\n]+/g, ' ').replace(/[^\x20-\x7e]/g, '?').slice(0, 900);
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export function rfc5322Date(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]}, ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}
