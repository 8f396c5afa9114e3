/**
 * STARTTLS, LOGIN and AUTHENTICATE PLAIN, SCRAM-SHA-256 and
 * SCRAM-SHA-256-PLUS (with SASL-IR). Credentials are
 * accepted only inside TLS; the shared login throttle may delay the answer, or
 * turn the attempt away unchecked while the client address is locked out.
 * Three refused logins of any kind close the connection.
 */
import { bad, bye, continuation, isBase64, no, ok } from '../../codec/imap/index.js';
import { normalizeAddress } from '../../core/address.js';
import { inboxOf } from '../../mailbox/provision.js';
import type { ImapSession } from '../session.js';
import type { Cmd } from './types.js';
import { isScramMechanism, type ScramMechanism, type ScramStart } from '../../directory/scram.js';
import type { Account } from '../../store/types.js';

/** An AUTHENTICATE waiting for the client's next line. */
export type PendingAuth =
  | { tag: string; mechanism: 'PLAIN' }
  /** SCRAM: waiting for the client-first, the client-final, or the empty line after the server-final. */
  | { tag: string; mechanism: ScramMechanism; step: 'first' }
  | { tag: string; mechanism: ScramMechanism; step: 'final'; start: Extract<ScramStart, { ok: true }> }
  | { tag: string; mechanism: ScramMechanism; step: 'done'; account: Account };

/** Failures one connection may make before it is closed. */
export const MAX_AUTH_FAILURES_PER_CONNECTION = 3;

/** The throttle key for a login name: the normalised address, or the text itself. */
function loginName(raw: string): string {
  return normalizeAddress(raw) ?? raw.toLowerCase().slice(0, 256);
}

const tlsRequired = (tag: string): Buffer => no(tag, 'Credentials are accepted only over TLS; use STARTTLS', 'PRIVACYREQUIRED');

export async function starttls(s: ImapSession, cmd: Cmd<'STARTTLS'>): Promise<Buffer | null> {
  if (s.port.mode !== 'starttls' || s.port.secure) return bad(cmd.tag, 'TLS is already active');
  s.log.debug('starttls');
  await s.port.startTls(ok(cmd.tag, 'Begin TLS negotiation now'));
  return null;
}

export async function login(s: ImapSession, cmd: Cmd<'LOGIN'>): Promise<Buffer | null> {
  if (!s.port.secure) {
    s.log.warn({ method: 'LOGIN' }, 'login refused: no TLS');
    s.deps.events?.record('auth.plaintext_refused', s.port.clientAddress, { protocol: 'imap' });
    return tlsRequired(cmd.tag);
  }
  return verify(s, cmd.tag, cmd.username, cmd.password, 'LOGIN');
}

export async function authenticate(s: ImapSession, cmd: Cmd<'AUTHENTICATE'>): Promise<Buffer | null> {
  if (!s.port.secure) {
    s.log.warn({ method: cmd.mechanism }, 'authenticate refused: no TLS');
    s.deps.events?.record('auth.plaintext_refused', s.port.clientAddress, { protocol: 'imap' });
    return tlsRequired(cmd.tag);
  }
  const mechanism = cmd.mechanism.toUpperCase();
  if (isScramMechanism(mechanism)) {
    if (cmd.initialResponse !== null) return scramFirst(s, cmd.tag, mechanism, cmd.initialResponse);
    return awaitLine(s, { tag: cmd.tag, mechanism, step: 'first' }, '');
  }
  if (mechanism !== 'PLAIN') return no(cmd.tag, 'Unsupported authentication mechanism', 'CANNOT');
  if (cmd.initialResponse !== null) return plain(s, cmd.tag, cmd.initialResponse);
  return awaitLine(s, { tag: cmd.tag, mechanism: 'PLAIN' }, '');
}

/** Sends a continuation and reads the client's answer as one raw line. */
function awaitLine(s: ImapSession, pending: PendingAuth, challenge: string): null {
  s.pendingAuth = pending;
  s.port.setReaderMode('raw');
  s.send(continuation(challenge));
  return null;
}

/** The client's response to the AUTHENTICATE continuation. */
export async function authenticateLine(s: ImapSession, line: Buffer): Promise<void> {
  const p = s.pendingAuth;
  s.pendingAuth = null;
  if (!p) return;
  const text = line.toString('latin1').trim();
  if (text === '*') return s.send(bad(p.tag, 'Authentication cancelled'));
  if (p.mechanism !== 'PLAIN' && p.step === 'done') {
    // The client has read our server-final-message (and checked it); nothing more is expected.
    if (text !== '' && text !== '=') return s.send(bad(p.tag, 'Expected an empty response'));
    const tagged = await loggedIn(s, p.tag, p.account, p.mechanism);
    return s.send(tagged);
  }
  if (text !== '=' && (text.length === 0 || !isBase64(text))) return s.send(bad(p.tag, 'Response is not base64'));
  let tagged: Buffer | null;
  if (p.mechanism === 'PLAIN') tagged = await plain(s, p.tag, text);
  else if (p.step === 'first') tagged = await scramFirst(s, p.tag, p.mechanism, text);
  else tagged = await scramFinal(s, p.tag, p.mechanism, p.start, text);
  if (tagged) s.send(tagged);
}

const fromBase64 = (b64: string): string => (b64 === '=' ? '' : Buffer.from(b64, 'base64').toString('utf8'));

async function scramFirst(s: ImapSession, tag: string, mechanism: ScramMechanism, b64: string): Promise<Buffer | null> {
  let start: ScramStart;
  try {
    start = await s.deps.directory.scramStart(mechanism, s.port.channelBindings(), fromBase64(b64));
  } catch (err) {
    s.log.error({ err }, 'login could not be checked');
    return no(tag, 'Temporary failure, please try again', 'UNAVAILABLE');
  }
  if (!start.ok) return refused(s, tag, s.log.child({ method: mechanism }), 'failed', no(tag, 'Authentication failed', 'AUTHENTICATIONFAILED'));
  return awaitLine(s, { tag, mechanism, step: 'final', start }, Buffer.from(start.serverFirst, 'utf8').toString('base64'));
}

async function scramFinal(s: ImapSession, tag: string, mechanism: ScramMechanism, start: Extract<ScramStart, { ok: true }>, b64: string): Promise<Buffer | null> {
  const ip = s.port.clientAddress;
  const log = s.log.child({ method: mechanism, user: start.username });
  let outcome;
  try {
    outcome = await s.deps.authThrottle.attempt(ip, start.username, () => start.finish(fromBase64(b64)));
  } catch (err) {
    log.error({ err }, 'login could not be checked');
    return no(tag, 'Temporary failure, please try again', 'UNAVAILABLE');
  }
  if (outcome.result === 'locked' || outcome.result === 'busy') {
    return refused(s, tag, log, outcome.result, no(tag, 'Too many failed logins, try again later', 'UNAVAILABLE'));
  }
  if (outcome.result === 'failed') return refused(s, tag, log, 'failed', no(tag, 'Authentication failed', 'AUTHENTICATIONFAILED'));
  const { account, serverFinal } = outcome.value;
  return awaitLine(s, { tag, mechanism, step: 'done', account }, Buffer.from(serverFinal, 'utf8').toString('base64'));
}

async function plain(s: ImapSession, tag: string, b64: string): Promise<Buffer | null> {
  const decoded = b64 === '=' ? '' : Buffer.from(b64, 'base64').toString('utf8');
  const parts = decoded.split('\0');
  if (parts.length !== 3) return bad(tag, 'Malformed PLAIN response');
  const [authzid, authcid, password] = parts as [string, string, string];
  // Nobody may act as someone else: an authorisation identity must name the same account.
  if (authzid !== '' && loginName(authzid) !== loginName(authcid)) return verify(s, tag, authcid, '', 'PLAIN', true);
  return verify(s, tag, authcid, password, 'PLAIN');
}

async function verify(s: ImapSession, tag: string, username: string, password: string, method: string, refuse = false): Promise<Buffer | null> {
  const throttle = s.deps.authThrottle;
  const ip = s.port.clientAddress;
  const name = loginName(username);
  // Built only on a failure: most logins succeed and log through the session's logger.
  const log = (): ImapSession['log'] => s.log.child({ method, user: name });
  if (refuse) {
    throttle.failSource(ip);
    return refused(s, tag, log(), 'failed', no(tag, 'Not authorised to act as that user', 'AUTHORIZATIONFAILED'));
  }
  let outcome;
  try {
    outcome = await throttle.attempt(ip, name, () => s.deps.directory.authenticate(username, password, ip));
  } catch (err) {
    log().error({ err }, 'login could not be checked');
    return no(tag, 'Temporary failure, please try again', 'UNAVAILABLE');
  }
  if (outcome.result === 'locked' || outcome.result === 'busy') {
    // Not checked, right or wrong; still one of the connection's three tries.
    return refused(s, tag, log(), outcome.result, no(tag, 'Too many failed logins, try again later', 'UNAVAILABLE'));
  }
  if (outcome.result === 'failed') return refused(s, tag, log(), 'failed', no(tag, 'Authentication failed', 'AUTHENTICATIONFAILED'));
  return loggedIn(s, tag, outcome.value, method);
}

async function loggedIn(s: ImapSession, tag: string, account: Account, method: string): Promise<Buffer> {
  await inboxOf(s.deps.mailboxes, account.id, s.deps.clock.now());
  s.account = account;
  s.state = 'auth';
  s.log = s.log.child({ user: account.address });
  s.port.authenticated();
  s.log.info({ method, accountId: account.id }, 'login');
  return ok(tag, 'Logged in', { code: 'CAPABILITY', capabilities: s.capabilities() });
}

/** A refused login: every kind counts, and the third closes the connection (BYE after the tagged NO). */
function refused(s: ImapSession, tag: string, log: ImapSession['log'], result: string, reply: Buffer): Buffer | null {
  s.authFailures++;
  log.warn({ result, failures: s.authFailures }, result === 'failed' ? 'login failed' : 'login refused: too many failures');
  if (s.authFailures < MAX_AUTH_FAILURES_PER_CONNECTION) return reply;
  s.send(reply);
  s.port.close(bye('Too many failed logins'));
  return null;
}
