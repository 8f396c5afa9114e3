/**
 * One alert as it goes out: built from an event (or a rate-limit summary)
 * and rendered as a mail (RFC 5322, plain text) and as a webhook body.
 * Event data is shown, never interpreted; every line is bounded and free of
 * CR/LF, so nothing in the data can add a header or break the message.
 */
import { eventSpec } from '../metrics/events.js';
import type { AlertSeverity } from './rules.js';

export interface Alert {
  readonly kind: string;
  readonly severity: AlertSeverity;
  readonly host: string;
  /** What the event is about (a blob id, a node, "spool"); from the event. */
  readonly subject: string;
  readonly at: number;
  readonly data: Readonly<Record<string, unknown>>;
  readonly advice: string;
  /** Set for the one summary sent when a rate-limit window held events back. */
  readonly summary?: { readonly count: number; readonly firstAt: number; readonly lastAt: number };
}

const MAX_LINE = 900; // well below RFC 5322's 998
const MAX_FIELDS = 50;
export const MAX_WEBHOOK_DATA = 16 * 1024;

const oneLine = (s: string): string => {
  const flat = s.replace(/[\r\n\t\0]+/g, ' ');
  return flat.length > MAX_LINE ? `${flat.slice(0, MAX_LINE - 3)}...` : flat;
};

const iso = (ms: number): string => new Date(ms).toISOString();

export function alertTitle(a: Alert): string {
  const what = a.summary ? `${a.summary.count} more ${a.kind} events` : a.kind;
  return oneLine(`[postern ${a.severity}] ${what} on ${a.host}`);
}

function bodyText(a: Alert, windowNote: string): string {
  const lines: string[] = [];
  const spec = eventSpec(a.kind);
  if (a.summary) {
    lines.push(`${a.summary.count} more ${a.kind} events between ${iso(a.summary.firstAt)} and ${iso(a.summary.lastAt)} were counted, not sent one by one (${windowNote}).`);
  } else {
    lines.push(`${a.kind}${spec ? `: ${spec.what}` : ''}.`);
    lines.push('');
    lines.push(`host:     ${a.host}`);
    lines.push(`severity: ${a.severity}`);
    lines.push(`when:     ${iso(a.at)}`);
    lines.push(`subject:  ${a.subject}`);
    const fields = Object.entries(a.data);
    if (fields.length > 0) {
      lines.push('');
      lines.push('data:');
      for (const [k, v] of fields.slice(0, MAX_FIELDS)) lines.push(`  ${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
      if (fields.length > MAX_FIELDS) lines.push(`  (${fields.length - MAX_FIELDS} more fields)`);
    }
  }
  lines.push('');
  lines.push('What to do:');
  lines.push(a.advice);
  lines.push('');
  lines.push(`-- postern on ${a.host}; this mail was generated automatically.`);
  return lines.map(oneLine).join('\r\n') + '\r\n';
}

function rfc5322Date(ms: number): string {
  return new Date(ms).toUTCString().replace(/GMT$/, '+0000');
}

/** The alert mail as stored in the queue: CRLF line ends, 8bit UTF-8 text. */
export function alertMail(a: Alert, o: { from: string; to: readonly string[]; now: number; messageId: string; windowNote: string }): Buffer {
  const head = [
    `From: postern <${o.from}>`,
    `To: ${o.to.join(', ')}`,
    `Subject: ${alertTitle(a)}`,
    `Date: ${rfc5322Date(o.now)}`,
    `Message-ID: <${o.messageId}>`,
    // RFC 3834: no auto-replies, no vacation notices, no bounces loops.
    'Auto-Submitted: auto-generated',
    'X-Auto-Response-Suppress: All',
    `X-Postern-Alert: ${a.severity} ${a.kind}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
  ].map(oneLine);
  return Buffer.from(`${head.join('\r\n')}\r\n\r\n${bodyText(a, o.windowNote)}`, 'utf8');
}

export interface WebhookBody {
  version: 1;
  host: string;
  severity: AlertSeverity;
  kind: string;
  /** What the event is about (from the event). */
  subject: string;
  /** The mail's subject line. */
  title: string;
  at: string;
  data: Record<string, unknown>;
  summary?: { count: number; from: string; to: string };
}

export function webhookBody(a: Alert): string {
  let data: Record<string, unknown> = { ...a.data };
  if (JSON.stringify(data).length > MAX_WEBHOOK_DATA) data = { truncated: true };
  const body: WebhookBody = {
    version: 1,
    host: a.host,
    severity: a.severity,
    kind: a.kind,
    subject: a.subject,
    title: alertTitle(a),
    at: iso(a.at),
    data,
    ...(a.summary ? { summary: { count: a.summary.count, from: iso(a.summary.firstAt), to: iso(a.summary.lastAt) } } : {}),
  };
  return JSON.stringify(body);
}
