/**
 * MAIL FROM and RCPT TO. mx accepts any well-formed sender and only local
 * recipients (it never relays); submission accepts only the authenticated
 * account's own addresses as sender and any recipient.
 */
import type { SMTPServerAddress, SMTPServerSession } from 'smtp-server';
import { domainOf, normalizeAddress } from '../core/address.js';
import type { Account, MailboxRepo, NewRecipient } from '../store/types.js';
import { isSubmission, type ListenerContext } from './context.js';
import { smtpError, type LocalReply } from './replies.js';
import type { ErrorCode } from '../core/errors.js';

type Done = (err?: Error | null) => void;
type Verdict = ErrorCode | LocalReply | null;

export function makeOnMailFrom(ctx: ListenerContext) {
  return (address: SMTPServerAddress, session: SMTPServerSession, callback: Done): void => {
    const state = ctx.sessions.get(session.id);
    if (!state) return callback(smtpError('STORE_UNAVAILABLE'));
    state.recipients = new Map();
    state.sender = '';
    const raw = address.address;
    const sender = raw === '' ? '' : normalizeAddress(raw);
    let verdict: Verdict = null;
    if (sender === null) verdict = 'BAD_SENDER';
    else if (isSubmission(ctx.kind)) {
      if (!state.account || !session.user) verdict = 'AUTH_REQUIRED';
      else if (sender === '') verdict = 'NULL_SENDER';
      else if (!state.sendable.has(sender)) verdict = 'SENDER_NOT_OWNED';
    }
    if (verdict) {
      if (verdict === 'SENDER_NOT_OWNED') {
        ctx.deps.events?.record('spoof.detected', session.id, { detector: 'internal-forgery', origin: 'inside', result: 'sender-not-owned', action: 'reject', stage: 'submission' });
      }
      state.log.info({ sender: raw.slice(0, 256), verdict }, 'sender refused');
      return callback(smtpError(verdict));
    }
    state.sender = sender ?? '';
    // A transaction started: the session is past its greeting phase (mx has no login).
    ctx.sessions.established(session.id, false);
    callback();
  };
}

export function makeOnRcptTo(ctx: ListenerContext) {
  const { directory, hostname, limits, mailboxes } = ctx.deps;

  // RFC 5321 4.1.1.3: the domainless postmaster must be accepted. It is the
  // postmaster of the server's own name, or else of the first local domain that has one.
  const postmaster = async (): Promise<string> => {
    const domains = [hostname, ...(await directory.repo.listDomains()).map((d) => d.name)];
    for (const d of domains) if (await directory.expandRecipient(`postmaster@${d}`)) return `postmaster@${d}`;
    return `postmaster@${domains[1] ?? hostname}`;
  };

  /** Where one RCPT leads, or why it is refused. */
  /** Whether every account is at its quota, or would pass it with the size MAIL FROM declared. */
  const allFull = async (accounts: readonly Account[], declaredSize: number): Promise<boolean> => {
    if (accounts.some((a) => a.quotaBytes === null)) return false;
    for (const a of accounts) if (!(await isFull(mailboxes, a, declaredSize))) return false;
    return true;
  };

  const resolve = async (raw: string, declaredSize: number): Promise<NewRecipient[] | ErrorCode | LocalReply> => {
    const addr = raw.toLowerCase() === 'postmaster' ? await postmaster() : raw;
    const rcpt = normalizeAddress(addr);
    if (!rcpt) return 'BAD_RECIPIENT';
    const local = await directory.isLocalDomain(domainOf(rcpt));
    if (!local && !isSubmission(ctx.kind)) return 'RELAY_DENIED';
    const exp = await directory.expandRecipient(rcpt);
    if (!exp) return local ? 'NO_SUCH_USER' : [{ address: rcpt, transport: 'remote', accountId: null }];
    if (exp.local.length === 0 && exp.remote.length === 0) return 'DISABLED_ACCOUNT';
    // Full mailboxes are refused now, while the sender still holds the message (RFC 5321 4.5.3.1.10),
    // not accepted and left to bounce. An alias is refused only when every mailbox it reaches is full.
    if (exp.remote.length === 0 && (await allFull(exp.local, declaredSize))) return 'MAILBOX_FULL';
    return [
      ...exp.local.map((a): NewRecipient => ({ address: a.address, transport: 'local', accountId: a.id })),
      ...exp.remote.map((r): NewRecipient => ({ address: r, transport: 'remote', accountId: null })),
    ];
  };

  return (address: SMTPServerAddress, session: SMTPServerSession, callback: Done): void => {
    const state = ctx.sessions.get(session.id);
    if (!state) return callback(smtpError('STORE_UNAVAILABLE'));
    if (isSubmission(ctx.kind) && !state.account) return callback(smtpError('AUTH_REQUIRED'));
    const key = address.address.toLowerCase();
    // A repeated recipient replaces the earlier one and does not count twice.
    if (!state.recipients.has(key) && state.recipients.size >= limits.maxRecipients) return callback(smtpError('TOO_MANY_RCPTS'));
    resolve(address.address, declaredSizeOf(session)).then(
      (r) => {
        if (Array.isArray(r)) {
          state.recipients.set(key, r);
          return callback();
        }
        state.log.info({ rcpt: address.address.slice(0, 256), verdict: r }, 'recipient refused');
        callback(smtpError(r));
      },
      (err: unknown) => {
        state.log.error({ err }, 'recipient lookup failed');
        callback(smtpError('STORE_UNAVAILABLE'));
      },
    );
  };
}

/** The SIZE= of MAIL FROM (RFC 1870), 0 when absent; smtp-server has checked it is a number. */
function declaredSizeOf(session: SMTPServerSession): number {
  const from = session.envelope.mailFrom;
  const args = (from ? from.args : {}) as Record<string, unknown>;
  const size = Number(args.SIZE ?? 0);
  return Number.isSafeInteger(size) && size > 0 ? size : 0;
}

/** At or over its quota now, or over it once a message of `incoming` bytes is added. No quota (or no mailbox repository): never. */
async function isFull(mailboxes: MailboxRepo | undefined, account: Account, incoming: number): Promise<boolean> {
  if (account.quotaBytes === null || !mailboxes) return false;
  const used = await mailboxes.usage(account.id);
  return used >= account.quotaBytes || used + incoming > account.quotaBytes;
}
