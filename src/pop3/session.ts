/**
 * One POP3 session's state machine (RFC 1939): AUTHORIZATION, then
 * TRANSACTION over a maildrop snapshot, then UPDATE on QUIT. Credentials are
 * accepted only inside TLS; before it, USER, PASS, AUTH and APOP are refused
 * and not advertised. A session that drops without QUIT changes nothing.
 */
import {
  parsePop3Command,
  pop3Continuation,
  pop3Err,
  pop3MultiLineText,
  pop3Ok,
  type Pop3Command,
  type Pop3ReaderEvent,
} from '../codec/pop3/index.js';
import type { Logger } from '../metrics/logger.js';
import { AUTH_FAILED, MAX_AUTH_FAILURES_PER_SESSION, login, loginName, openMaildrop, type LoginResult } from './auth.js';
import { isScramMechanism, scramMechanisms, type ScramMechanism, type ScramStart } from '../directory/scram.js';
import type { Account } from '../store/types.js';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
import { capabilities } from './capa.js';
import type { MaildropLocks } from './locks.js';
import type { Maildrop } from './maildrop.js';
import { decodeSaslPlain } from '../codec/sasl-plain.js';
import { isTransactionCommand, transaction } from './transaction.js';
import type { Pop3Deps, Pop3Mode } from './types.js';
import type { Pop3Step, Pop3Wire } from './wire.js';

/** Protocol errors (bad syntax, unknown commands, wrong state, over-long lines) before the session is closed. */
export const MAX_BAD_COMMANDS = 10;

export interface SessionContext {
  readonly mode: Pop3Mode;
  readonly deps: Pop3Deps;
  readonly locks: MaildropLocks;
}

const TLS_FIRST = pop3Err('Plaintext authentication is not allowed; use STLS first', 'AUTH');

export class Pop3Session {
  private phase: 'authorization' | 'transaction' | 'update' = 'authorization';
  private userName: string | null = null;
  private saslPending = false;
  /** A SCRAM exchange under way: which message the next line is. */
  private scram: { mechanism: ScramMechanism; step: 'first' } | { mechanism: ScramMechanism; step: 'final'; begun: Extract<ScramStart, { ok: true }> } | { mechanism: ScramMechanism; step: 'done'; account: Account } | null = null;
  private authFailures = 0;
  private badCommands = 0;
  private maildrop: Maildrop | null = null;
  private release: (() => void) | null = null;

  constructor(
    private readonly ctx: SessionContext,
    private readonly wire: Pop3Wire,
    private readonly ip: string,
    private log: Logger,
  ) {}

  /** True while AUTH waits for the client's response line (read in raw mode). */
  get wantsRawLine(): boolean {
    return this.saslPending;
  }

  greeting(): Buffer {
    return pop3Ok(`${this.ctx.deps.hostname} POP3 server ready`);
  }

  async handle(ev: Pop3ReaderEvent): Promise<Pop3Step> {
    try {
      if (this.saslPending) return await this.saslResponse(ev);
      if (ev.type === 'error') return this.bad(pop3Err('Line too long'));
      const parsed = parsePop3Command(ev.line);
      if (!parsed.ok) return this.bad(pop3Err(parsed.message));
      return await this.command(parsed.command);
    } catch (err) {
      this.saslPending = false;
      this.scram = null;
      this.log.error({ err }, 'command failed');
      this.wire.send(pop3Err('Temporary server problem, try again later', 'SYS/TEMP'));
      return 'continue';
    }
  }

  /** After STLS: nothing from before the handshake carries over (RFC 2595 section 4). */
  tlsStarted(): void {
    this.userName = null;
    this.saslPending = false;
    this.scram = null;
  }

  /** The connection is gone: give up the maildrop lock. Without QUIT nothing is expunged. */
  closed(): void {
    this.release?.();
    this.release = null;
  }

  private reply(data: Buffer | readonly Buffer[]): Pop3Step {
    this.wire.send(data);
    return 'continue';
  }

  private bad(reply: Buffer): Pop3Step {
    this.badCommands++;
    if (this.badCommands >= MAX_BAD_COMMANDS) {
      this.log.info({ bad: this.badCommands }, 'closing: too many bad commands');
      this.wire.send(pop3Err('Too many bad commands, closing connection'));
      return 'close';
    }
    return this.reply(reply);
  }

  private async command(c: Pop3Command): Promise<Pop3Step> {
    if (c.cmd === 'CAPA') {
      const scram = this.wire.secure ? scramMechanisms(true) : [];
      const caps = capabilities({ stlsOffered: this.ctx.mode === 'stls', secure: this.wire.secure, authenticated: this.phase !== 'authorization', scram });
      return this.reply(pop3MultiLineText(pop3Ok('Capability list follows'), caps));
    }
    if (c.cmd === 'QUIT') return this.quit();
    if (c.cmd === 'unknown') return this.bad(pop3Err('Unknown command'));
    if (this.phase === 'transaction') {
      if (!isTransactionCommand(c)) return this.bad(pop3Err('Not allowed after login'));
      return this.reply(await transaction(c, this.maildrop!, this.ctx.deps.blobs, this.log));
    }
    switch (c.cmd) {
      case 'UTF8':
        // RFC 6856 3: messages are sent as stored either way (postern never downgrades); names and
        // passwords may be UTF-8 with or without it, and are compared in NFC (directory, crypto/password).
        return this.reply(pop3Ok('UTF8 enabled'));
      case 'STLS':
        if (this.ctx.mode !== 'stls' || this.wire.secure) return this.bad(pop3Err('TLS is already active'));
        this.wire.send(pop3Ok('Begin TLS negotiation now'));
        return 'starttls';
      case 'USER':
      case 'PASS':
      case 'AUTH':
      case 'APOP':
        if (!this.wire.secure) {
          this.log.warn({ command: c.cmd, event: 'plaintext-auth-refused' }, 'credentials refused before TLS');
          this.ctx.deps.events?.record('auth.plaintext_refused', this.ip, { protocol: 'pop3' });
          return this.bad(TLS_FIRST);
        }
        return this.authorize(c);
      default:
        return this.bad(pop3Err('Not logged in'));
    }
  }

  private async authorize(c: Extract<Pop3Command, { cmd: 'USER' | 'PASS' | 'AUTH' | 'APOP' }>): Promise<Pop3Step> {
    switch (c.cmd) {
      case 'USER':
        this.userName = c.name.slice(0, 512).normalize('NFC');
        return this.reply(pop3Ok('Send PASS'));
      case 'PASS': {
        const name = this.userName;
        this.userName = null;
        if (name === null) return this.bad(pop3Err('Send USER first'));
        return this.loggedIn(await login(this.ctx.deps, this.ctx.locks, this.ip, name, c.password, this.log));
      }
      case 'APOP':
        return this.reply(pop3Err('APOP is not supported; use USER/PASS or AUTH PLAIN', 'AUTH'));
      case 'AUTH':
        if (c.mechanism === null) return this.reply(pop3MultiLineText(pop3Ok('Mechanisms follow'), [...scramMechanisms(this.wire.secure), 'PLAIN']));
        if (isScramMechanism(c.mechanism)) {
          this.scram = { mechanism: c.mechanism, step: 'first' };
          if (c.initialResponse !== null) return this.scramLine(c.initialResponse);
          this.saslPending = true;
          return this.reply(pop3Continuation());
        }
        if (c.mechanism !== 'PLAIN') return this.reply(pop3Err('Unsupported authentication mechanism', 'AUTH'));
        if (c.initialResponse !== null) return this.plain(c.initialResponse);
        this.saslPending = true;
        return this.reply(pop3Continuation());
    }
  }

  private async saslResponse(ev: Pop3ReaderEvent): Promise<Pop3Step> {
    this.saslPending = false;
    if (ev.type === 'error') return this.failed(pop3Err('Authentication response too long', 'AUTH'));
    const line = ev.line.toString('latin1').trim();
    if (line === '*') {
      this.scram = null;
      return this.reply(pop3Err('Authentication cancelled'));
    }
    if (this.scram) return this.scramLine(line);
    return this.plain(line);
  }

  /** One line of a SCRAM exchange (RFC 5034 with RFC 5802): client-first, client-final, then an empty line. */
  private async scramLine(base64: string): Promise<Pop3Step> {
    const s = this.scram!;
    this.scram = null;
    if (s.step === 'done') {
      if (base64 !== '' && base64 !== '=') return this.failed(pop3Err('Expected an empty response', 'AUTH'));
      return this.loggedIn(await openMaildrop(this.ctx.deps, this.ctx.locks, s.account, this.log.child({ user: s.account.address })));
    }
    if (base64 !== '=' && !BASE64.test(base64)) return this.failed(pop3Err('Response is not base64', 'AUTH'));
    const text = base64 === '=' ? '' : Buffer.from(base64, 'base64').toString('utf8');
    if (s.step === 'first') {
      const begun = await this.ctx.deps.directory.scramStart(s.mechanism, this.wire.channelBindings(), text);
      if (!begun.ok) return this.failed(AUTH_FAILED);
      this.scram = { mechanism: s.mechanism, step: 'final', begun };
      this.saslPending = true;
      return this.reply(pop3Continuation(Buffer.from(begun.serverFirst, 'utf8').toString('base64')));
    }
    const l = this.log.child({ user: s.begun.username, method: s.mechanism });
    const outcome = await this.ctx.deps.authThrottle.attempt(this.ip, s.begun.username, () => s.begun.finish(text));
    if (outcome.result === 'locked' || outcome.result === 'busy') {
      l.warn({ result: outcome.result }, 'login refused: too many failures');
      return this.failed(pop3Err('Too many failed logins, try again later', 'SYS/TEMP'));
    }
    if (outcome.result === 'failed') {
      l.warn({ result: 'fail' }, 'login failed');
      return this.failed(AUTH_FAILED);
    }
    this.scram = { mechanism: s.mechanism, step: 'done', account: outcome.value.account };
    this.saslPending = true;
    return this.reply(pop3Continuation(Buffer.from(outcome.value.serverFinal, 'utf8').toString('base64')));
  }

  private async plain(base64: string): Promise<Pop3Step> {
    const creds = decodeSaslPlain(base64);
    if (!creds.ok) return this.failed(pop3Err('Malformed PLAIN response', 'AUTH'));
    // postern lets nobody act as someone else: an authorisation identity must name the same account.
    if (creds.authzid !== '' && loginName(creds.authzid) !== loginName(creds.authcid)) {
      this.ctx.deps.authThrottle.failSource(this.ip);
      this.log.warn({ user: loginName(creds.authcid), result: 'proxy-refused' }, 'login failed');
      return this.failed(AUTH_FAILED);
    }
    return this.loggedIn(await login(this.ctx.deps, this.ctx.locks, this.ip, creds.authcid, creds.password, this.log));
  }

  /** A failed authentication attempt: the session is closed after a few. */
  private failed(reply: Buffer): Pop3Step {
    this.authFailures++;
    this.wire.send(reply);
    if (this.authFailures < MAX_AUTH_FAILURES_PER_SESSION) return 'continue';
    this.log.info({ failures: this.authFailures }, 'closing: too many failed logins');
    return 'close';
  }

  private loggedIn(r: LoginResult): Pop3Step {
    if (!r.ok) return r.failed ? this.failed(r.reply) : this.reply(r.reply);
    this.phase = 'transaction';
    this.wire.loggedIn();
    this.maildrop = r.maildrop;
    this.release = r.release;
    this.log = this.log.child({ user: r.account.address, accountId: r.account.id });
    const { count, size } = r.maildrop.stat();
    return this.reply(pop3Ok(`Logged in, ${count} messages (${size} octets)`));
  }

  /** QUIT: in TRANSACTION, enter UPDATE and expunge what was marked (RFC 1939 section 6). */
  private async quit(): Promise<Pop3Step> {
    const drop = this.maildrop;
    if (this.phase !== 'transaction' || !drop) return this.close(pop3Ok('Bye'));
    this.phase = 'update';
    const uids = drop.deletedUids();
    try {
      if (uids.length === 0) return this.close(pop3Ok('Bye'));
      const removed = await this.ctx.deps.mailboxes.expunge(drop.folderId, uids);
      this.ctx.deps.notifier.changed(drop.folderId);
      this.log.info({ marked: uids.length, expunged: removed.length }, 'maildrop updated');
      return this.close(pop3Ok(`Bye, ${removed.length} messages deleted`));
    } catch (err) {
      this.log.error({ err, marked: uids.length }, 'expunge failed');
      return this.close(pop3Err('Some deleted messages were not removed', 'SYS/TEMP'));
    } finally {
      this.closed();
    }
  }

  private close(reply: Buffer): Pop3Step {
    this.wire.send(reply);
    return 'close';
  }
}
