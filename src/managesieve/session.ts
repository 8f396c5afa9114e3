/**
 * One ManageSieve session (RFC 5804): non-authenticated until AUTHENTICATE
 * "PLAIN" succeeds inside TLS, then authenticated until UNAUTHENTICATE or
 * LOGOUT. Credentials are accepted only inside TLS; before it, AUTHENTICATE
 * is refused with ENCRYPT-NEEDED and no mechanism is advertised.
 */
import {
  parseManageSieveCommand,
  parseSaslResponse,
  sieveBye,
  sieveCapabilities,
  sieveNo,
  sieveOk,
  sieveString,
  type ManageSieveCommand,
  type ManageSieveReaderEvent,
} from '../codec/managesieve/index.js';
import type { Logger } from '../metrics/logger.js';
import { AUTH_FAILED, MAX_AUTH_FAILURES_PER_SESSION, login, loginName, type LoginResult } from './auth.js';
import { capabilities } from './capabilities.js';
import { decodeSaslPlain } from '../codec/sasl-plain.js';
import { isScriptCommand, scriptCommand, TOO_LARGE, type ScriptOwner } from './scripts.js';
import type { ManageSieveDeps } from './types.js';
import type { ManageSieveStep, ManageSieveWire } from './wire.js';

/** Protocol errors (bad syntax, unknown commands, wrong state) before the session is closed. */
export const MAX_BAD_COMMANDS = 10;

const TLS_FIRST = sieveNo('Authentication is only allowed inside TLS; use STARTTLS first', { atom: 'ENCRYPT-NEEDED' });
const CRLF = Buffer.from('\r\n');

export class ManageSieveSession {
  private owner: ScriptOwner | null = null;
  private saslPending = false;
  private authFailures = 0;
  private badCommands = 0;
  private readonly baseLog: Logger;

  constructor(
    private readonly deps: ManageSieveDeps,
    private readonly wire: ManageSieveWire,
    private readonly ip: string,
    private log: Logger,
  ) {
    this.baseLog = log;
  }

  /** The capabilities and OK: the greeting, the CAPABILITY answer and what follows STARTTLS. */
  private capabilityResponse(text: string): Buffer {
    const caps = capabilities({ secure: this.wire.secure, authenticated: this.owner !== null, extensions: this.deps.extensions });
    return Buffer.concat([sieveCapabilities(caps), sieveOk(text)]);
  }

  greeting(): Buffer {
    return this.capabilityResponse(`${this.deps.hostname} ManageSieve ready`);
  }

  /** After STARTTLS: nothing from before the handshake carries over; the capabilities again (RFC 5804 section 2.2). */
  tlsStarted(): Buffer {
    this.saslPending = false;
    return this.capabilityResponse('TLS negotiation successful');
  }

  async handle(ev: ManageSieveReaderEvent): Promise<ManageSieveStep> {
    try {
      if (this.saslPending) return await this.saslResponse(ev);
      if (ev.type === 'error') {
        if (ev.fatal) return this.close(sieveBye(ev.message));
        // A script over the limit was skipped as it arrived: refused like any oversize script.
        if (ev.code === 'literal-too-large') return this.reply(TOO_LARGE);
        return this.bad(sieveNo(ev.message));
      }
      const parsed = parseManageSieveCommand(ev.tokens);
      if (!parsed.ok) return this.bad(sieveNo(parsed.message));
      return await this.command(parsed.command);
    } catch (err) {
      this.saslPending = false;
      this.log.error({ err }, 'command failed');
      this.wire.send(sieveNo('Temporary server problem, try again later', { atom: 'TRYLATER' }));
      return 'continue';
    }
  }

  private reply(data: Buffer | readonly Buffer[]): ManageSieveStep {
    this.wire.send(data);
    return 'continue';
  }

  private close(data: Buffer): ManageSieveStep {
    this.wire.send(data);
    return 'close';
  }

  private bad(reply: Buffer): ManageSieveStep {
    this.badCommands++;
    if (this.badCommands >= MAX_BAD_COMMANDS) {
      this.log.info({ bad: this.badCommands }, 'closing: too many bad commands');
      return this.close(sieveBye('Too many bad commands'));
    }
    return this.reply(reply);
  }

  private async command(c: ManageSieveCommand): Promise<ManageSieveStep> {
    switch (c.cmd) {
      case 'CAPABILITY':
        return this.reply(this.capabilityResponse('Capability completed'));
      case 'LOGOUT':
        return this.close(sieveOk('Logout completed'));
      case 'NOOP':
        return this.reply(sieveOk('Done', c.tag === null ? undefined : { atom: 'TAG', arg: c.tag }));
      case 'STARTTLS':
        if (this.wire.secure) return this.bad(sieveNo('TLS is already active'));
        if (this.owner) return this.bad(sieveNo('Not allowed after login'));
        this.wire.send(sieveOk('Begin TLS negotiation now'));
        return 'starttls';
      case 'AUTHENTICATE':
        return this.authenticate(c);
      case 'UNAUTHENTICATE':
        if (!this.owner) return this.bad(sieveNo('Not logged in'));
        this.log.info('unauthenticated');
        this.owner = null;
        this.log = this.baseLog;
        return this.reply(sieveOk('Unauthenticate completed'));
      default:
        if (!this.owner) return this.bad(sieveNo('Authenticate first'));
        if (!isScriptCommand(c)) return this.bad(sieveNo('Unknown command'));
        return this.reply(await scriptCommand(c, this.deps, this.owner, this.log));
    }
  }

  private async authenticate(c: Extract<ManageSieveCommand, { cmd: 'AUTHENTICATE' }>): Promise<ManageSieveStep> {
    if (this.owner) return this.bad(sieveNo('Already authenticated'));
    if (!this.wire.secure) {
      this.log.warn({ command: 'AUTHENTICATE', event: 'plaintext-auth-refused' }, 'credentials refused before TLS');
      this.deps.events?.record('auth.plaintext_refused', this.ip, { protocol: 'managesieve' });
      return this.bad(TLS_FIRST);
    }
    if (c.mechanism !== 'PLAIN') return this.reply(sieveNo('Unsupported authentication mechanism'));
    if (c.initialResponse !== null) return this.plain(c.initialResponse);
    this.saslPending = true;
    // An empty challenge: PLAIN has nothing to say first (RFC 4616).
    return this.reply(Buffer.concat([sieveString(''), CRLF]));
  }

  private async saslResponse(ev: ManageSieveReaderEvent): Promise<ManageSieveStep> {
    this.saslPending = false;
    const response = ev.type === 'command' ? parseSaslResponse(ev.tokens) : null;
    if (ev.type === 'error' && ev.fatal) return this.close(sieveBye(ev.message));
    if (response === null) return this.failed(sieveNo('Malformed authentication response'));
    if (response === '*') return this.reply(sieveNo('Authentication cancelled'));
    return this.plain(response);
  }

  private async plain(base64: string): Promise<ManageSieveStep> {
    const creds = decodeSaslPlain(base64);
    if (!creds.ok) return this.failed(sieveNo('Malformed PLAIN response'));
    // Nobody acts as someone else: an authorisation identity must name the same account.
    if (creds.authzid !== '' && loginName(creds.authzid) !== loginName(creds.authcid)) {
      this.deps.authThrottle.failSource(this.ip);
      this.log.warn({ user: loginName(creds.authcid), result: 'proxy-refused' }, 'login failed');
      return this.failed(AUTH_FAILED);
    }
    return this.loggedIn(await login(this.deps, this.ip, creds.authcid, creds.password, this.log));
  }

  private failed(reply: Buffer): ManageSieveStep {
    this.authFailures++;
    if (this.authFailures < MAX_AUTH_FAILURES_PER_SESSION) return this.reply(reply);
    this.log.info({ failures: this.authFailures }, 'closing: too many failed logins');
    this.wire.send(reply);
    return this.close(sieveBye('Too many failed logins'));
  }

  private loggedIn(r: LoginResult): ManageSieveStep {
    if (!r.ok) return this.failed(r.reply);
    this.owner = { accountId: r.account.id, address: r.account.address };
    this.wire.loggedIn();
    this.log = this.baseLog.child({ user: r.account.address, accountId: r.account.id });
    return this.reply(sieveOk('Logged in'));
  }
}
