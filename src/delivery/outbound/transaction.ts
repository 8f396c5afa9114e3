/**
 * One job on an open session: load and sign the message, run the SMTP
 * transaction, and record each recipient's result with its timing.
 */
import type { Job } from './jobs.js';
import type { Connected } from './connect.js';
import type { OutboundDeps } from './agent.js';
import type { OutcomeRecorder } from './outcome.js';
import type { DeliveryTiming } from '../../store/types.js';
import { replyText } from './smtp/reply.js';
import { dsnOf, rcptDsn } from '../../queue/dsn-meta.js';
import { needsSmtputf8 } from '../../queue/intl-meta.js';

/**
 * Returns whether the session can carry another job. `mayCommit` is asked
 * before the final "." (the recipients' leases are still held).
 */
export async function runJob(
  job: Job,
  conn: Connected,
  first: boolean,
  started: number,
  d: OutboundDeps,
  outcome: OutcomeRecorder,
  mayCommit?: () => boolean,
): Promise<boolean> {
  const m = job.message;
  const clock = d.clock;
  const tlsText = conn.opened.tls ? `${conn.opened.tls.protocol ?? 'TLS'} ${conn.opened.tls.cipher ?? ''} verified=${conn.opened.tls.verified}`.replace(/\s+/g, ' ') : 'none';
  const relay = `${conn.host}[${conn.address}]:${conn.port}`;
  const leasedAt = Math.min(...job.leases.map((l) => l.recipient.leasedAt ?? started));
  const timing = (xmitMs: number): DeliveryTiming => ({
    waitMs: Math.max(0, (first ? started : clock.now() - xmitMs) - leasedAt),
    connMs: first ? conn.connMs : 0,
    xmitMs,
    relay,
    tls: tlsText,
  });

  let body: Buffer;
  try {
    const raw = Buffer.from(await d.blobs.get(m.blobId));
    // Mail from the MX that goes out again was forwarded by an alias at the domain it was addressed to.
    const rcptTo = Array.isArray(m.meta.rcptTo) ? m.meta.rcptTo : [];
    const first = typeof rcptTo[0] === 'string' ? rcptTo[0] : '';
    const forwardedBy = m.source === 'mx' && first.includes('@') ? first.slice(first.lastIndexOf('@') + 1).toLowerCase() : null;
    body = d.signer ? (await d.signer.sign({ message: raw, source: m.source, forwardedBy })).message : raw;
  } catch (e) {
    // Unreadable message or unusable DKIM key: wait and retry; never send what we cannot sign as configured.
    const reason = e instanceof Error ? e.message : String(e);
    for (const l of job.leases) await outcome.deferred(l, '4.3.0', `local problem: ${reason}`, timing(0));
    return true;
  }

  // RFC 3461: the sender's notification request travels on when the peer offers DSN.
  const dsnRequest = m.meta.dsn ? dsnOf(m.meta) : null;
  const recipients = job.leases.map((l) => l.recipient.address);
  const t0 = clock.now();
  let replies;
  try {
    replies = await conn.opened.session.send({
      sender: m.sender,
      recipients,
      message: body,
      // RFC 6531: asked for by the client and needed by an address, in the envelope or the header.
      smtputf8: needsSmtputf8(m.meta, m.sender, recipients, body),
      requireTls: job.dest.requireTls,
      eightBit: String(m.meta.body ?? '').toUpperCase() === '8BITMIME' || has8bit(body),
      ...(mayCommit ? { mayCommit } : {}),
      ...(dsnRequest ? { dsn: { ...dsnRequest, rcpt: (a: string) => rcptDsn(dsnRequest, a) } } : {}),
    });
  } catch (e) {
    const reason = `${relay}: lost connection: ${e instanceof Error ? e.message : String(e)}`;
    for (const l of job.leases) await outcome.deferred(l, '4.4.2', reason, timing(clock.now() - t0));
    return false;
  }
  const t = timing(clock.now() - t0);
  let usable = true;
  for (const l of job.leases) {
    const r = replies.find((x) => x.address === l.recipient.address);
    if (!r) continue;
    const text = `${conn.host}[${conn.address}] said: ${replyText(r.reply)}`;
    if (r.reply.code === 421) usable = false;
    if (r.delivered) await outcome.delivered(l, replyText(r.reply), t, { passedOn: conn.opened.session.extensions.has('DSN'), host: conn.host });
    else if (r.reply.code >= 500) await outcome.failed(l, r.reply.enhanced ?? '5.0.0', replyText(r.reply), conn.host, t);
    else await outcome.deferred(l, r.reply.enhanced ?? '4.0.0', text, t, conn.host);
  }
  return usable;
}

function has8bit(b: Buffer): boolean {
  for (const c of b) if (c > 0x7f) return true;
  return false;
}
