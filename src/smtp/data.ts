/**
 * DATA: collects the message (bounded by the size limit), applies the content
 * rules, prepends the Received header and hands the message to the spool. The
 * 250 reply is sent only once spool.accept has resolved, i.e. the bytes and
 * the queue entry are durable.
 */
import type { SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import type { HeaderField } from '../codec/mime/index.js';
import { newQueueId } from '../core/ids.js';
import type { ErrorCode } from '../core/errors.js';
import type { Logger } from '../metrics/logger.js';
import type { NewRecipient } from '../store/types.js';
import { isSubmission, type ListenerContext } from './context.js';
import { checkHeaderSection, tlsRequiredNoAsked, unownedAuthors } from './headers.js';
import { applyNewlinePolicy, firstNul } from './newlines.js';
import { formatReceived } from './received.js';
import { smtpError, type LocalReply } from './replies.js';
import type { SessionState } from './session.js';

type Done = (err?: Error | null, message?: string) => void;

export function makeOnData(ctx: ListenerContext) {
  const max = ctx.deps.limits.maxMessageSize;
  return (stream: SMTPServerDataStream, session: SMTPServerSession, callback: Done): void => {
    const state = ctx.sessions.get(session.id);
    const chunks: Buffer[] = [];
    let size = 0;
    let oversized = false;
    let aborted = false;
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        // Keep reading to the end of DATA (the client is still sending), keep nothing.
        oversized = true;
        chunks.length = 0;
      } else chunks.push(chunk);
    });
    stream.once('error', () => {
      aborted = true; // the client went away mid-message: nothing to accept, nobody to answer
      callback(smtpError('STORE_UNAVAILABLE'));
    });
    stream.once('end', () => {
      if (aborted) return;
      if (!state) return callback(smtpError('STORE_UNAVAILABLE'));
      // The id is assigned now so that a refusal is logged under it too.
      const queueId = newQueueId(ctx.deps.clock.now());
      const log = state.log.child({ queueId });
      if (oversized) {
        log.info({ size, limit: max, verdict: 'TOO_BIG' }, 'message refused');
        return callback(smtpError('TOO_BIG'));
      }
      // Every path answers: a throw while finishing is a 451 for this message (the
      // client keeps it and retries), never an unhandled rejection that stops the process.
      finish(ctx, session, state, { queueId, log }, Buffer.concat(chunks, size))
        .then(
          ([err, message]) => callback(err, message),
          (err: unknown) => {
            log.error({ err }, 'message could not be finished');
            callback(smtpError('STORE_UNAVAILABLE'));
          },
        )
        .catch((err: unknown) => log.error({ err }, 'reply failed'));
    });
  };
}

/** Checks the message; returns the refusal, or the bytes to queue and their header fields. */
function inspect(ctx: ListenerContext, state: SessionState, raw: Buffer): [ErrorCode | LocalReply, string] | { data: Buffer; fields: HeaderField[] } {
  if (firstNul(raw) >= 0) return ['NUL_IN_DATA', 'nul'];
  const nl = applyNewlinePolicy(raw, ctx.deps.limits.bareNewline);
  if (!nl.ok) return ['BARE_NEWLINE', nl.reason];
  const data = nl.data;
  if (data.length > ctx.deps.limits.maxMessageSize) return ['TOO_BIG', 'normalized'];
  const header = checkHeaderSection(data);
  if (!header.ok) return ['BAD_HEADERS', header.reason];
  if (isSubmission(ctx.kind)) {
    const bad = unownedAuthors(header.fields, state.sendable);
    if (bad === 'missing') return ['FROM_MISSING', 'from'];
    if (bad.length > 0) return ['FROM_NOT_OWNED', 'from'];
  }
  return { data, fields: header.fields };
}

async function finish(
  ctx: ListenerContext,
  session: SMTPServerSession,
  state: SessionState,
  { queueId, log }: { queueId: string; log: Logger },
  raw: Buffer,
): Promise<[Error | null, string?]> {
  const verdict = inspect(ctx, state, raw);
  if (Array.isArray(verdict)) {
    log.info({ size: raw.length, sender: state.sender, verdict: verdict[0], why: verdict[1] }, 'message refused');
    return [smtpError(verdict[0])];
  }
  const rcpts = session.envelope.rcptTo.map((r) => r.address);
  const recipients = dedupe(rcpts.flatMap((r) => state.recipients.get(r.toLowerCase()) ?? []));
  if (recipients.length === 0) {
    log.warn({ verdict: 'NO_RECIPIENTS' }, 'message refused');
    return [smtpError('NO_RECIPIENTS')];
  }

  const { clock, hostname, spool } = ctx.deps;
  const now = clock.now();
  const protocol = (session.openingCommand === 'EHLO' ? 'ESMTP' : 'SMTP') + (session.secure ? 'S' : '') + (state.account ? 'A' : '');
  const received = formatReceived({
    helo: session.hostNameAppearsAs || '',
    reverseName: null, // reverse DNS is not looked up here
    ip: session.remoteAddress,
    hostname,
    protocol,
    queueId,
    tls: state.tls,
    recipients: rcpts,
    date: now,
  });
  const data = Buffer.concat([Buffer.from(received, 'latin1'), verdict.data]);
  // RFC 8689: with REQUIRETLS on MAIL the TLS-Required header field is ignored.
  const requireTls = session.envelope.requireTLS === true;
  const tlsRequiredNo = !requireTls && tlsRequiredNoAsked(verdict.fields);
  try {
    await spool.accept({
      queueId,
      data,
      sender: state.sender,
      recipients,
      source: isSubmission(ctx.kind) ? 'submission' : 'mx',
      clientAddress: session.remoteAddress,
      authUser: state.account?.address ?? null,
      meta: {
        listener: ctx.kind,
        helo: session.hostNameAppearsAs || null,
        tls: state.tls,
        requireTls,
        ...(tlsRequiredNo ? { tlsRequiredNo: true } : {}),
        body: session.envelope.bodyType ?? '7bit',
      },
    });
  } catch (err) {
    log.error({ err }, 'message could not be queued');
    return [smtpError('STORE_UNAVAILABLE')];
  }
  state.messages++;
  log.info(
    {
      sender: state.sender,
      rcpts: recipients.length,
      size: data.length,
      tls: state.tls?.protocol ?? null,
      requireTls,
      tlsRequiredNo,
      user: state.account?.address ?? null,
    },
    'message accepted',
  );
  return [null, `2.0.0 Ok: queued as ${queueId}`];
}

/** One queue recipient per mailbox: two RCPTs (or aliases) reaching the same account deliver once. */
function dedupe(list: NewRecipient[]): NewRecipient[] {
  const seen = new Map<string, NewRecipient>();
  for (const r of list) {
    const key = r.transport === 'local' ? `l:${r.accountId}` : `r:${r.address}`;
    if (!seen.has(key)) seen.set(key, r);
  }
  return [...seen.values()];
}
