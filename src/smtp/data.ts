/**
 * DATA: collects the message (bounded by the size limit and the process-wide
 * memory budget), applies the content rules, prepends the Received header and
 * hands the message to the spool. The 250 reply is sent only once
 * spool.accept has resolved, i.e. the bytes and the queue entry are durable.
 * Every transfer ends in exactly one reply and gives its budget back, however
 * it ends: an unexpected throw is a logged 451, never a crash.
 */
import { randomUUID } from 'node:crypto';
import type { SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import type { HeaderField } from '../codec/mime/index.js';
import { newQueueId } from '../core/ids.js';
import { isStorageFull, type ErrorCode } from '../core/errors.js';
import type { Logger } from '../metrics/logger.js';
import type { BudgetHold } from '../net/memory-budget.js';
import type { EnqueueRoute, NewRecipient } from '../store/types.js';
import type { Verdict } from '../core/verdict.js';
import { directionOf, type QueueMeta } from '../policy/pipeline/index.js';
import { isSubmission, type ListenerContext } from './context.js';
import { checkHeaderSection, tlsRequiredNoAsked, unownedAuthors } from './headers.js';
import { applyNewlinePolicy, firstNul } from './newlines.js';
import { formatReceived, rfc5322Date } from './received.js';
import { policyReply, smtpError, type LocalReply } from './replies.js';
import type { SessionState } from './session.js';
import { dsnFromEnvelope } from '../queue/dsn-meta.js';

type Done = (err?: Error | null, message?: string) => void;
type Outcome = [Error | null, string?];

export function makeOnData(ctx: ListenerContext) {
  const max = ctx.deps.limits.maxMessageSize;
  return (stream: SMTPServerDataStream, session: SMTPServerSession, callback: Done): void => {
    const state = ctx.sessions.get(session.id);
    const log = state?.log ?? ctx.deps.log;
    // Exactly one reply per message, whichever way the transfer or its handling ends.
    let replied = false;
    const reply = (err: Error | null, message?: string): void => {
      if (replied) return;
      replied = true;
      callback(err, message);
    };
    // Bytes are counted against the process-wide budget as they arrive; the
    // session keeps the hold so that a client leaving mid-message gives it back.
    const hold = ctx.deps.memoryBudget.holder();
    if (state) {
      state.dataHold?.releaseAll();
      state.dataHold = hold;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let refusal: 'TOO_BIG' | 'MEMORY_BUDGET' | null = null;
    let aborted = false;
    const drop = (): void => {
      chunks.length = 0;
      hold.releaseAll();
    };
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (refusal) return; // read to the end of DATA (the client is still sending), keep nothing
      if (size <= max && hold.reserve(chunk.length)) {
        chunks.push(chunk);
        return;
      }
      refusal = size > max ? 'TOO_BIG' : 'MEMORY_BUDGET';
      drop();
    });
    stream.once('error', () => {
      aborted = true; // the client went away mid-message: nothing to accept, nobody to answer
      drop();
      reply(smtpError('STORE_UNAVAILABLE'));
    });
    stream.once('end', () => {
      if (aborted) return;
      const failed = (err: unknown): void => {
        log.error({ err }, 'message handling failed');
        reply(smtpError('STORE_UNAVAILABLE'));
      };
      try {
        if (!state) {
          drop();
          return reply(smtpError('STORE_UNAVAILABLE'));
        }
        // The id is assigned now so that a refusal is logged under it too.
        const queueId = newQueueId(ctx.deps.clock.now());
        const qlog = state.log.child({ queueId });
        if (refusal) {
          drop();
          qlog.info({ size, limit: refusal === 'TOO_BIG' ? max : ctx.deps.memoryBudget.total, verdict: refusal }, 'message refused');
          return reply(smtpError(refusal));
        }
        finish(ctx, session, state, { queueId, log: qlog }, { chunks, size, hold })
          .then(([err, message]) => reply(err, message), failed)
          .finally(drop)
          .catch((err: unknown) => log.error({ err }, 'message reply failed'));
      } catch (err) {
        drop();
        failed(err);
      }
    });
  };
}

interface Received {
  readonly chunks: Buffer[];
  readonly size: number;
  readonly hold: BudgetHold;
}

/**
 * One buffer of `parts` counted against the hold, or null when the budget
 * cannot take it. `free` bytes the caller stops referencing are given back.
 */
function budgeted(hold: BudgetHold, parts: readonly Buffer[], length: number, free: number): Buffer | null {
  if (!hold.reserve(length)) return null;
  const out = Buffer.concat(parts, length);
  hold.release(free);
  return out;
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
    if (bad === 'too-long') return ['BAD_HEADERS', 'author-too-long'];
    if (bad.length > 0) return ['FROM_NOT_OWNED', 'from'];
  }
  return { data, fields: header.fields };
}

async function finish(
  ctx: ListenerContext,
  session: SMTPServerSession,
  state: SessionState,
  { queueId, log }: { queueId: string; log: Logger },
  { chunks, size, hold }: Received,
): Promise<Outcome> {
  const { clock, hostname, spool } = ctx.deps;
  const now = clock.now();
  const rcpts = session.envelope.rcptTo.map((r) => r.address);
  // RFC 6531 3.7.3: UTF8SMTP, UTF8SMTPS, UTF8SMTPA, UTF8SMTPSA for a transaction with SMTPUTF8.
  const base = session.envelope.smtpUtf8 === true ? 'UTF8SMTP' : session.openingCommand === 'EHLO' ? 'ESMTP' : 'SMTP';
  const protocol = base + (session.secure ? 'S' : '') + (state.account ? 'A' : '');
  const received = Buffer.from(
    formatReceived({
      helo: session.hostNameAppearsAs || '',
      reverseName: null, // reverse DNS is not looked up here
      ip: session.remoteAddress,
      hostname,
      protocol,
      queueId,
      tls: state.tls,
      recipients: rcpts,
      date: now,
    }),
    'latin1',
  );
  // The stored message is built once, Received header first; the content rules
  // read the client's bytes as a view into it. Only a bare-LF rewrite copies again.
  let data = budgeted(hold, [received, ...chunks], received.length + size, size);
  chunks.length = 0;
  if (!data) return refused(log, size, state, ['MEMORY_BUDGET', 'memory']);
  const raw = data.subarray(received.length);
  const verdict = inspect(ctx, state, raw);
  if (Array.isArray(verdict)) {
    // An authenticated user writing as someone else: refused, and counted as internal forgery.
    if (verdict[0] === 'FROM_NOT_OWNED') countForgery(ctx, queueId, 'from-not-owned');
    return refused(log, size, state, verdict);
  }
  if (verdict.data.buffer !== raw.buffer || verdict.data.byteOffset !== raw.byteOffset) {
    data = budgeted(hold, [received, verdict.data], received.length + verdict.data.length, data.length);
    if (!data) return refused(log, size, state, ['MEMORY_BUDGET', 'memory']);
  }
  // RFC 6409 8.2, 8.3: submission completes a message without Date or Message-ID, before any
  // stage (DKIM signs at delivery, encryption comes later still) sees it.
  const missing = isSubmission(ctx.kind) ? missingOriginFields(verdict.fields, now, hostname) : '';
  if (missing) {
    const added = Buffer.from(missing, 'latin1');
    const body = data.subarray(received.length);
    data = budgeted(hold, [received, added, body], data.length + added.length, data.length);
    if (!data) return refused(log, size, state, ['MEMORY_BUDGET', 'memory']);
  }
  const recipients = dedupe(rcpts.flatMap((r) => state.recipients.get(r.toLowerCase()) ?? []));
  if (recipients.length === 0) {
    log.warn({ verdict: 'NO_RECIPIENTS' }, 'message refused');
    return [smtpError('NO_RECIPIENTS')];
  }
  let route: EnqueueRoute = 'deliver';
  let verdicts: readonly Verdict[] = [];
  let stageMeta: QueueMeta = {};
  const policy = ctx.deps.policy;
  if (policy) {
    const decision = await policy.inline({
      queueId,
      raw: data,
      envelope: {
        sender: state.sender,
        recipients: rcpts,
        helo: session.hostNameAppearsAs || null,
        clientAddress: session.remoteAddress,
        listener: ctx.kind,
        authUser: state.account?.address ?? null,
        tls: session.secure,
      },
      direction: directionOf(ctx.kind, recipients.some((r) => r.transport === 'remote')),
    });
    if (decision.kind === 'refuse') {
      log.info({ size, sender: state.sender, verdict: 'POLICY', code: decision.code, stages: decision.verdicts.map((v) => `${v.stage}=${v.action}`) }, 'message refused');
      return [policyReply(decision.code, decision.text)];
    }
    if (decision.data !== data) {
      // The rewritten message (headers, banner) is one more copy held until the spool has it.
      if (!hold.reserve(decision.data.length)) return refused(log, size, state, ['MEMORY_BUDGET', 'memory']);
      data = Buffer.from(decision.data.buffer, decision.data.byteOffset, decision.data.length);
    }
    route = decision.route;
    verdicts = decision.verdicts;
    stageMeta = decision.meta;
  }
  // The blob store encodes the message into its own container (one more copy) while it writes.
  if (!hold.reserve(data.length)) return refused(log, size, state, ['MEMORY_BUDGET', 'memory']);
  // RFC 8689: with REQUIRETLS on MAIL the TLS-Required header field is ignored.
  const requireTls = session.envelope.requireTLS === true;
  const tlsRequiredNo = !requireTls && tlsRequiredNoAsked(verdict.fields);
  // RFC 3461: what the sender asked of notifications, per final recipient.
  const dsn = dsnFromEnvelope(
    (session.envelope as { dsn?: { ret?: string | null; envid?: string | null } }).dsn,
    session.envelope.rcptTo.map((r) => ({ finals: (state.recipients.get(r.address.toLowerCase()) ?? []).map((x) => x.address), args: (r.args || {}) as Record<string, unknown> })),
  );
  try {
    await spool.accept({
      queueId,
      data,
      sender: state.sender,
      recipients,
      source: isSubmission(ctx.kind) ? 'submission' : 'mx',
      clientAddress: session.remoteAddress,
      authUser: state.account?.address ?? null,
      verdicts,
      route,
      meta: {
        // What the stages recorded (e.g. a TLS floor) first: the session's own keys below always win.
        ...stageMeta,
        listener: ctx.kind,
        // RCPT TO as given, before aliases: after-queue stages route by it (e.g. the DMARC report address).
        rcptTo: rcpts.slice(0, 100),
        helo: session.hostNameAppearsAs || null,
        tls: state.tls,
        requireTls,
        ...(tlsRequiredNo ? { tlsRequiredNo: true } : {}),
        body: session.envelope.bodyType ?? '7bit',
        ...(dsn ? { dsn } : {}),
        // RFC 6531: the client asked for SMTPUTF8; relaying on needs a peer that offers it (queue/intl-meta.ts).
        ...(session.envelope.smtpUtf8 === true ? { smtputf8: true } : {}),
      },
    });
  } catch (err) {
    const full = isStorageFull(err);
    log.error({ err, verdict: full ? 'STORAGE_FULL' : 'STORE_UNAVAILABLE' }, 'message could not be queued');
    return [smtpError(full ? 'STORAGE_FULL' : 'STORE_UNAVAILABLE')];
  }
  state.messages++;
  // The message is durable: now its notices tell of something that happened.
  policy?.notify(queueId, verdicts);
  ctx.deps.events?.record('smtp.message', queueId, { listener: ctx.kind, tls: state.tls?.protocol ?? 'none' });
  log.info(
    {
      sender: state.sender,
      rcpts: recipients.length,
      size: data.length,
      tls: state.tls?.protocol ?? null,
      requireTls,
      tlsRequiredNo,
      user: state.account?.address ?? null,
      ...(policy ? { route: typeof route === 'object' ? 'quarantine' : route, policy: verdicts.map((v) => `${v.stage}=${v.action}`) } : {}),
    },
    'message accepted',
  );
  return [null, `2.0.0 Ok: queued as ${queueId}`];
}

/** The internal-forgery detector's event for what submission refuses outright. */
export function countForgery(ctx: ListenerContext, subject: string, result: string): void {
  ctx.deps.events?.record('spoof.detected', subject, { detector: 'internal-forgery', origin: 'inside', result, action: 'reject', stage: 'submission' });
}

function refused(log: Logger, size: number, state: SessionState, [verdict, why]: [ErrorCode | LocalReply, string]): Outcome {
  log.info({ size, sender: state.sender, verdict, why }, 'message refused');
  return [smtpError(verdict)];
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

/** The Date and Message-ID fields a submitted message lacks (RFC 5322 3.6), as header lines; '' when it has both. */
function missingOriginFields(fields: readonly HeaderField[], now: number, hostname: string): string {
  const has = (name: string) => fields.some((f) => f.name.toLowerCase() === name);
  let out = '';
  if (!has('date')) out += `Date: ${rfc5322Date(now)}\r\n`;
  if (!has('message-id')) out += `Message-ID: <${randomUUID()}@${hostname}>\r\n`;
  return out;
}
