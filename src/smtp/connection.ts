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
 *    REQUIRETLS with 530 before TLS and takes it after TLS whether offered or not.
 * The session, parsing and STARTTLS state machine stay the library's.
 */
import type net from 'node:net';
import type tls from 'node:tls';
import { SMTPServer } from 'smtp-server';
import { SMTPConnection, type SMTPConnectionOptions } from 'smtp-server/lib/smtp-connection.js';
import type { SMTPStream } from 'smtp-server/lib/smtp-stream.js';
import { checkParams, ehloKeywords } from './params.js';
import { ENHANCED_PREFIX, replyOf } from './replies.js';

export class PosternConnection extends SMTPConnection {
  /** Keywords of the last EHLO reply; empty after HELO. MAIL and RCPT parameters must come from these. */
  private offered: ReadonlySet<string> = new Set();

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
      const [code, text] = replyOf('TLS_REQUIRED');
      this.send(code, text);
      return callback();
    }
    super.handler_AUTH(command, callback);
  }

  override handler_MAIL(command: Buffer, callback: () => void): void {
    if (this.refuseParams(command, 'MAIL')) return callback();
    super.handler_MAIL(command, callback);
  }

  override handler_RCPT(command: Buffer, callback: () => void): void {
    if (this.refuseParams(command, 'RCPT')) return callback();
    super.handler_RCPT(command, callback);
  }

  /** Answers a bad or unoffered parameter and returns true; false when the library should go on. */
  private refuseParams(command: Buffer, verb: 'MAIL' | 'RCPT'): boolean {
    const v = checkParams(command.toString(), verb, this.offered);
    if (!v) return false;
    const reply = v.refuse === 'syntax' ? 'PARAM_SYNTAX' : v.keyword === 'REQUIRETLS' ? 'REQUIRETLS_NOT_OFFERED' : 'PARAM_NOT_OFFERED';
    const [code, text] = replyOf(reply);
    this.send(code, text);
    return true;
  }

  override _createParser(): SMTPStream {
    const parser = super._createParser();
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
  // Same as SMTPServer.connect, with postern's connection class.
  override connect(socket: net.Socket | tls.TLSSocket, socketOptions?: SMTPConnectionOptions | null): void {
    const connection = new PosternConnection(this, socket, socketOptions);
    this.connections.add(connection);
    connection.on('error', (err: Error) => this._onError(err));
    connection.on('connect', (data: Parameters<SMTPServer['_onClientConnect']>[0]) => this._onClientConnect(data));
    connection.init();
  }
}
