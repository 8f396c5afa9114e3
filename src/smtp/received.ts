/**
 * The trace header postern prepends to every message it accepts (RFC 5321
 * section 4.4). Pure: every fact is passed in, nothing is looked up.
 */
export interface ReceivedInfo {
  /** The HELO/EHLO argument as the client sent it. */
  helo: string;
  /** Reverse DNS name of the client, or null when not looked up. */
  reverseName: string | null;
  ip: string;
  hostname: string;
  /** RFC 3848 protocol: ESMTP, ESMTPS, ESMTPSA (or SMTP... after HELO). */
  protocol: string;
  queueId: string;
  tls: { protocol: string; cipher: string } | null;
  /** The "for" clause is written only for a single recipient. */
  recipients: readonly string[];
  date: number;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const two = (n: number): string => String(n).padStart(2, '0');

/** RFC 5322 date-time in UTC: "Tue, 05 Mar 2024 09:07:03 +0000". */
export function rfc5322Date(ms: number): string {
  const d = new Date(ms);
  return (
    `${DAYS[d.getUTCDay()]}, ${two(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ` +
    `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`
  );
}

/**
 * Client-chosen text goes into the header, so keep only characters that cannot
 * end a comment, start a new clause or break the line: a HELO of
 * "x) by evil; Mon" must not read as someone else's trace.
 */
export function traceToken(s: string, max = 255): string {
  const clean = s.replace(/[^A-Za-z0-9.\-_:[\]@+]/g, '_').slice(0, max);
  return clean.length > 0 ? clean : 'unknown';
}

/** An address keeps its RFC 5322 atext; anything else (quotes, spaces, angle brackets) is masked. */
export function traceAddress(s: string): string {
  return s.replace(/[^A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.@[\]:]/g, '_').slice(0, 254) || 'unknown';
}

export function formatReceived(r: ReceivedInfo): string {
  const lines = [
    `Received: from ${traceToken(r.helo)} (${r.reverseName ? traceToken(r.reverseName) : 'unknown'} [${traceToken(r.ip)}])`,
    `\tby ${traceToken(r.hostname)} (postern) with ${traceToken(r.protocol)} id ${traceToken(r.queueId)}`,
  ];
  if (r.tls) lines.push(`\t(using ${traceToken(r.tls.protocol)} with cipher ${traceToken(r.tls.cipher)})`);
  const date = rfc5322Date(r.date);
  const only = r.recipients.length === 1 ? r.recipients[0] : undefined;
  if (only !== undefined) lines.push(`\tfor <${traceAddress(only)}>; ${date}`);
  else lines[lines.length - 1] += `; ${date}`;
  return lines.join('\r\n') + '\r\n';
}
