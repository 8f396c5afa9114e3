/**
 * postern's narrow adjustments to smtp-server's connection handling. Each
 * override exists because the library's default would be wrong for us:
 *  - replies that already carry an enhanced status code are sent as they are
 *    (the library would prepend a second, generic one);
 *  - before TLS, EHLO does not offer AUTH and AUTH is refused with 530, so a
 *    password can never cross the network in the clear;
 *  - an over-long command line gets "500 5.5.2" and a clean close instead of
 *    the library's 421 with its own wording;
 *  - MAIL and RCPT parameters must be well-formed ("501 5.5.4" otherwise) and
 *    belong to an extension the session's last EHLO offered ("555 5.5.4";
 *    RFC 5321 4.1.1.11), REQUIRETLS included (RFC 8689: TLS sessions only).
 *    The library alone ignores unknown words after the path, answers
 *    REQUIRETLS with 530 before TLS and takes it after TLS whether offered or not;
 *  - a UTF-8 address only in a transaction with SMTPUTF8 ("553 5.6.7",
 *    RFC 6531 3.7.4.1), and only valid UTF-8: the library takes any 8-bit
 *    bytes in a path, with or without the parameter;
 *  - deadlines the library's idle timer cannot give, since every byte restarts
 *    it: the session must be established (logged in; on mx, MAIL accepted)
 *    within the login timeout, a command line must be complete within the
 *    command timeout of its first byte, and DATA must keep up a minimum rate;
 *  - the greeting: the library waits a fixed 100 ms before every greeting
 *    (its early-talker check), which was most of a one-message session's time.
 *    postern greets at once, or after `greetPauseMs` (mx only), refusing a
 *    client that talks before the greeting with 554 5.5.1.
 * The session, parsing and STARTTLS state machine stay the library's.
 */
import type net from 'node:net';
import type tls from 'node:tls';
import { SMTPServer } from 'smtp-server';
import { SMTPConnection, type SMTPConnectionOptions } from 'smtp-server/lib/smtp-connection.js';
import type { SMTPStream } from 'smtp-server/lib/smtp-stream.js';
import { checkEightBit, checkParams, ehloKeywords } from './params.js';
import { InputDeadlines, type InputMode } from '../net/deadlines.js';
import { ENHANCED_PREFIX, replyOf } from './replies.js';
import { channelBindings } from '../net/channel-binding.js';
import { isScramMechanism, type ScramMechanism } from '../directory/scram.js';
import type { ScramBegun, SmtpScram } from './scram.js';

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** What postern's connections need from their server beyond smtp-server's options. */
export interface ConnectionGuards {
  loginTimeoutMs: number;
  commandTimeoutMs: number;
  minTransferRate: number;
  /** Whether the session got past its greeting phase (ends the login deadline). */
  isEstablished(sessionId: string): boolean;
  /** AUTH was tried before TLS and refused (counted: credentials were about to cross in the clear). */
  onPlaintextAuth?(sessionId: string): void;
  /** AUTH SCRAM-SHA-256(-PLUS); absent: those mechanisms are not offered. */
  scram?: SmtpScram;
  /** Wait this long before the greeting, refusing a client that talks first; 0 or absent: greet at once. */
  greetPauseMs?: number;
  /** The server ends the session (after QUIT's 221, a 421, a refusal): its connection slot is free from now. */
  onClosing?(sessionId: string): void;
  /** A client talked before the greeting and was refused (counted). */
  onEarlyTalker?(remoteAddress: string): void;
}

/** The library's connection start-up that greet() drives (smtp-server-contract.test.ts checks each). */
interface LibraryStart {
  /** Socket listeners, the idle timer and the parser pipe; then the callback (after TLS on 465). */
  _setListeners(done: () => void): void;
  /** onConnect, onSecure, then the 220 greeting; input is parsed from then on. */
  connectionReady(): void;
  /** The name the greeting carries. */
  name: string;
  remoteAddress: string;
}

export class PosternConnection extends SMTPConnection {
  /** Keywords of the last EHLO reply; empty after HELO. MAIL and RCPT parameters must come from these. */
  private offered: ReadonlySet<string> = new Set();
  private deadlines: InputDeadlines | null = null;
  private loginTimer: NodeJS.Timeout | null = null;
  /** Runs while the greeting is held back; any byte from the client meanwhile refuses the session. */
  private greetTimer: NodeJS.Timeout | null = null;

  override init(): void {
    const guards = (this._server as PosternSmtpServer).guards;
    this.loginTimer = setTimeout(() => {
      this.loginTimer = null;
      if (this._closing || this._closed || guards.isEstablished(this.session.id)) return;
      this.timedOut('LOGIN_TIMEOUT');
    }, guards.loginTimeoutMs);
    this.loginTimer.unref();
    this.deadlines = new InputDeadlines(
      { commandMs: guards.commandTimeoutMs, minBytesPerSecond: guards.minTransferRate },
      () => this.inputMode(),
      (what) => this.timedOut(what === 'command' ? 'COMMAND_TIMEOUT' : 'DATA_TIMEOUT'),
    );
    this.greet(guards.greetPauseMs ?? 0);
  }

  /**
   * The library's init() (socket listeners, the maxClients check, then
   * connectionReady: onConnect, onSecure, 220) without its fixed 100 ms pause.
   * Reverse DNS stays off (disableReverseLookup), so nothing else waits.
   */
  private greet(pauseMs: number): void {
    const lib = this as unknown as LibraryStart;
    lib._setListeners(() => {
      const max = this._server.options.maxClients;
      if (max && this._server.connections.size > max) {
        return this.send(421, `${lib.name} Too many connected clients, try again in a moment`, false);
      }
      if (pauseMs <= 0) return lib.connectionReady();
      this.greetTimer = setTimeout(() => {
        this.greetTimer = null;
        if (!this._closing && !this._closed) lib.connectionReady();
      }, pauseMs);
      this.greetTimer.unref();
    });
  }

  /** A client that talks before our greeting is not speaking SMTP with us: refuse it, counted, and drop its bytes. */
  private refuseEarlyTalker(): void {
    if (this.greetTimer) clearTimeout(this.greetTimer);
    this.greetTimer = null;
    if (this._closing || this._closed) return;
    (this._server as PosternSmtpServer).guards.onEarlyTalker?.((this as unknown as LibraryStart).remoteAddress);
    const [code, text] = replyOf('EARLY_TALKER');
    this.send(code, text);
    this.close();
  }

  /** Reading a command, receiving DATA, or waiting on us (a handler, the message decision, TLS). */
  private inputMode(): InputMode {
    const parser = this._parser;
    if (this._handlerPending || this._upgrading || (this._dataStream && !(parser && parser._dataMode))) return 'busy';
    return parser && parser._dataMode ? 'transfer' : 'command';
  }

  private timedOut(reply: 'LOGIN_TIMEOUT' | 'COMMAND_TIMEOUT' | 'DATA_TIMEOUT'): void {
    if (this._closing || this._closed) return;
    this._server.logger.info({ tnx: 'timeout', cid: this.id, reply }, 'deadline passed');
    (this._server as PosternSmtpServer).onDeadline(this.session.id, reply);
    const [code, text] = replyOf(reply);
    this.send(code, text); // a 421 closes the connection
  }

  // A client that got 221 may connect again before its old socket's close event
  // arrives; counting the old one then would refuse a sender that never exceeded
  // its limit. The socket itself stays bounded by maxClients and the close deadline.
  override close(): void {
    (this._server as PosternSmtpServer).guards.onClosing?.(this.session.id);
    super.close();
  }

  override _onClose(): void {
    if (this.loginTimer) clearTimeout(this.loginTimer);
    this.loginTimer = null;
    if (this.greetTimer) clearTimeout(this.greetTimer);
    this.greetTimer = null;
    this.deadlines?.stop();
    super._onClose();
  }

  override send(code: number, data?: string | string[] | null, context?: string | false): void {
    if (code === 250 && Array.isArray(data)) this.offered = ehloKeywords(data); // only EHLO answers 250 in several lines
    if (typeof data === 'string' && ENHANCED_PREFIX.test(data)) return super.send(code, data, false);
    super.send(code, data, context);
  }

  override handler_HELO(command: Buffer, callback: () => void): void {
    this.offered = new Set();
    super.handler_HELO(command, callback);
  }

  override handler_EHLO(command: Buffer, callback: () => void): void {
    this.offered = new Set(); // set again by send() from this EHLO's reply
    if (this.secure) return super.handler_EHLO(command, callback);
    // Compute the capability list as if AUTH were disabled, then put the list back
    // before anything pipelined behind EHLO runs.
    const saved = this.session.disabledCommands;
    const restore = (): void => {
      this.session.disabledCommands = saved;
    };
    this.session.disabledCommands = [...this._server.options.disabledCommands, 'AUTH'];
    try {
      super.handler_EHLO(command, () => {
        restore();
        callback();
      });
    } finally {
      restore();
    }
  }

  override handler_AUTH(command: Buffer, callback: () => void): void {
    if (!this.secure) {
      (this._server as PosternSmtpServer).guards.onPlaintextAuth?.(this.session.id);
      const [code, text] = replyOf('TLS_REQUIRED');
      this.send(code, text);
      return callback();
    }
    const [, mechanism = '', ...args] = command.toString().trim().split(/\s+/);
    const scram = (this._server as PosternSmtpServer).guards.scram;
    const mech = mechanism.toUpperCase();
    if (scram && isScramMechanism(mech) && !this.session.user) return this.scramAuth(scram, mech, args, callback);
    super.handler_AUTH(command, callback);
  }

  /**
   * AUTH SCRAM-SHA-256(-PLUS) (RFC 4954 with RFC 5802): client-first (initial
   * response or after "334 "), "334 server-first", client-final, "334
   * server-final", an empty line, then 235. "*" cancels at any step.
   */
  private scramAuth(scram: SmtpScram, mechanism: ScramMechanism, args: string[], callback: () => void): void {
    if (args.length > 1) {
      this.send(501, '5.5.2 Error: syntax: AUTH mechanism [initial-response]');
      return callback();
    }
    const id = this.session.id;
    const fail = ([code, text]: [number, string], done: () => void): void => {
      this.send(code, text); // a 421 closes the connection
      done();
    };
    /** Reads the client's next line; "*" cancels, anything but base64 is a syntax error. */
    const next = (then: (text: string, done: () => void) => void): void => {
      this._nextHandler = (line: Buffer, done: () => void) => {
        const t = line.toString('latin1').trim();
        if (t === '*') return fail([501, '5.7.0 Authentication cancelled'], done);
        if (!BASE64.test(t)) return fail([501, '5.5.2 Invalid base64'], done);
        then(Buffer.from(t, 'base64').toString('utf8'), done);
      };
    };
    const first = (text: string, done: () => void): void => {
      scram
        .start(id, mechanism, channelBindings(this._socket), text)
        .then((r) => {
          if (!r.ok) return fail(r.reply, done);
          next((t, d) => final(r.begun, t, d));
          this.send(334, b64(r.begun.serverFirst));
          done();
        })
        .catch(() => fail([454, '4.7.0 Temporary authentication failure'], done));
    };
    const final = (begun: ScramBegun, text: string, done: () => void): void => {
      scram
        .finish(id, mechanism, begun, text)
        .then((r) => {
          if (!r.ok) return fail(r.reply, done);
          this._nextHandler = (line: Buffer, d: () => void) => {
            // The client checked our server-final-message; only then is the session authenticated.
            const t = line.toString('latin1').trim();
            if (t !== '' && t !== '=') return fail([501, '5.7.0 Authentication cancelled'], d);
            this.session.user = r.user;
            this.session.transmissionType = this._transmissionType();
            this.send(235, '2.7.0 Authentication successful');
            d();
          };
          this.send(334, b64(r.serverFinal));
          done();
        })
        .catch(() => fail([454, '4.7.0 Temporary authentication failure'], done));
    };
    if (args.length === 1) {
      const ir = args[0]!;
      if (ir === '=' || !BASE64.test(ir)) return fail([501, '5.5.2 Invalid base64'], callback);
      return first(Buffer.from(ir, 'base64').toString('utf8'), callback);
    }
    next(first);
    this.send(334, '');
    callback();
  }

  override handler_MAIL(command: Buffer, callback: () => void): void {
    if (this.refuseParams(command, 'MAIL')) return callback();
    super.handler_MAIL(command, callback);
  }

  override handler_RCPT(command: Buffer, callback: () => void): void {
    if (this.refuseParams(command, 'RCPT')) return callback();
    super.handler_RCPT(command, callback);
  }

  /**
   * Answers a bad or unoffered parameter, or a UTF-8 address the transaction
   * did not ask for (RFC 6531), and returns true; false when the library should go on.
   */
  private refuseParams(command: Buffer, verb: 'MAIL' | 'RCPT'): boolean {
    const v = checkParams(command.toString(), verb, this.offered);
    let reply: Parameters<typeof replyOf>[0] | null = null;
    if (v) reply = v.refuse === 'syntax' ? 'PARAM_SYNTAX' : v.keyword === 'REQUIRETLS' ? 'REQUIRETLS_NOT_OFFERED' : 'PARAM_NOT_OFFERED';
    // A RCPT before MAIL is the library's to answer (503), whatever its address.
    else if (verb === 'MAIL' || this.session.envelope.mailFrom) reply = checkEightBit(command, verb, this.session.envelope.smtpUtf8 === true);
    if (!reply) return false;
    const [code, text] = replyOf(reply);
    this.send(code, text);
    return true;
  }

  override _createParser(): SMTPStream {
    const parser = super._createParser();
    // Every byte the client sends passes the deadlines before the parser sees it.
    const write = parser._write.bind(parser);
    parser._write = (chunk, encoding, next) => {
      if (this.greetTimer) {
        this.refuseEarlyTalker(); // nothing before the greeting reaches the parser
        return next();
      }
      this.deadlines?.received(chunk);
      write(chunk, encoding, next);
    };
    // The parser's only error is an over-long command line. The stream is dead
    // after it, so answer and close; the server keeps serving everyone else.
    parser.removeAllListeners('error');
    parser.on('error', () => {
      const [code, text] = replyOf('LINE_TOO_LONG');
      this.send(code, text);
      this.close();
    });
    return parser;
  }

  /** On shutdown: a client we are waiting for is told to come back; one we owe a reply keeps its grace period. */
  shutdownIfIdle(): void {
    if (this._closing || this._closed || this._upgrading || this._handlerPending || this._dataStream) return;
    const [code, text] = replyOf('SHUTTING_DOWN');
    this.send(code, text); // a 421 closes the connection
  }
}

export class PosternSmtpServer extends SMTPServer {
  constructor(
    options: ConstructorParameters<typeof SMTPServer>[0],
    readonly guards: ConnectionGuards,
    /** Told when a deadline closes a session (for the log). */
    readonly onDeadline: (sessionId: string, reply: string) => void = () => undefined,
  ) {
    super(options);
  }

  // Same as SMTPServer.connect, with postern's connection class.
  override connect(socket: net.Socket | tls.TLSSocket, socketOptions?: SMTPConnectionOptions | null): void {
    const connection = new PosternConnection(this, socket, socketOptions);
    this.connections.add(connection);
    connection.on('error', (err: Error) => this._onError(err));
    connection.on('connect', (data: Parameters<SMTPServer['_onClientConnect']>[0]) => this._onClientConnect(data));
    connection.init();
  }
}
