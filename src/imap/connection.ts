/**
 * One client connection: the socket (plain until STARTTLS, or TLS from the
 * first byte), the command reader, timeouts, and the order in which events
 * reach the session. Events are handled one at a time; notifications for an
 * IDLE client are queued behind them, so responses never interleave.
 */
import { channelBindings, type ChannelBindings } from '../net/channel-binding.js';
import type { Socket } from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { bye, ImapCommandReader, ok, type ImapReaderEvent, type ImapReaderMode } from '../codec/imap/index.js';
import type { Logger } from '../metrics/logger.js';
import { InputDeadlines, type InputMode } from '../net/deadlines.js';
import { guardTlsSocket } from '../net/tls.js';
import { Output, Serial } from './output.js';
import type { ImapDeps, ImapMode } from './types.js';

/** Received-but-unprocessed bytes at which the socket is paused. */
const HIGH_WATER = 256 * 1024;
/** How long a closing socket may take to flush before it is destroyed. */
const CLOSE_GRACE_MS = 5_000;
/**
 * Sent when a literal arrived but the rest of its command line did not. A
 * client that writes the literal and the line end separately with Nagle's
 * algorithm on (Python's imaplib does) holds the line end until its literal
 * is acknowledged, and our kernel delays that acknowledgement by up to 40 ms
 * (Node cannot set TCP_QUICKACK); a response carries the acknowledgement at
 * once. Clients must accept untagged responses at any time (RFC 9051 2.2.2).
 */
const LITERAL_RECEIVED = ok(null, 'Literal received');

/** What the session sees of its connection. */
export interface SessionPort {
  readonly id: string;
  readonly clientAddress: string;
  readonly mode: ImapMode;
  readonly secure: boolean;
  readonly out: Output;
  setReaderMode(mode: ImapReaderMode): void;
  /** Sends the tagged OK in clear, then starts the TLS handshake; bytes pipelined after STARTTLS are dropped. */
  startTls(ok: Buffer): Promise<void>;
  /** Logged in: the idle timeout replaces the pre-login one. */
  authenticated(): void;
  /** Queues a job behind the events being handled (IDLE notifications). */
  exclusive(job: () => Promise<void>): Promise<void>;
  /** Sends the BYE (if any), flushes and closes. */
  close(farewell?: Buffer): void;
  readonly closing: boolean;
  /** Channel-binding data for SCRAM-SHA-256-PLUS (empty before TLS). */
  channelBindings(): ChannelBindings;
}

/** The session as the connection drives it. */
export interface SessionHandler {
  greeting(): Buffer;
  handle(ev: ImapReaderEvent, reader: ImapCommandReader): Promise<void>;
  timedOut(): Buffer;
  dispose(): void;
}

export interface ConnectionOptions {
  deps: ImapDeps;
  mode: ImapMode;
  secureContext: tls.SecureContext;
  log: Logger;
  id: string;
  /** Builds the reader; called again after STARTTLS so nothing sent in clear survives. */
  newReader(): ImapCommandReader;
  /** Builds the session for this connection. */
  newSession(port: SessionPort): SessionHandler;
}

export class ImapConnection implements SessionPort {
  readonly id: string;
  readonly clientAddress: string;
  readonly mode: ImapMode;
  readonly out: Output;
  private stream: Duplex;
  private reader: ImapCommandReader;
  private readonly serial = new Serial();
  private readonly session: SessionHandler;
  private pumping = false;
  private secureFlag = false;
  private closingFlag = false;
  private deadline: NodeJS.Timeout | null = null;
  private loggedIn = false;
  private readonly input: InputDeadlines;
  /** Told once the client logged in (the listener's connection slot stops counting as pending). */
  onLogin: () => void = () => undefined;

  constructor(
    private readonly raw: Socket,
    private readonly opts: ConnectionOptions,
  ) {
    this.id = opts.id;
    this.mode = opts.mode;
    this.clientAddress = raw.remoteAddress ?? 'unknown';
    this.stream = raw;
    this.out = new Output(raw, opts.deps.limits.commandTimeoutMs);
    this.reader = opts.newReader();
    const { commandTimeoutMs, minTransferRate } = opts.deps.limits;
    this.input = new InputDeadlines(
      { commandMs: commandTimeoutMs, minBytesPerSecond: minTransferRate },
      () => this.inputMode(),
      (what) => this.onDeadline(what),
    );
    this.session = opts.newSession(this);
    raw.on('error', (err) => this.onError(err));
    raw.once('close', () => this.cleanup());
    // Nothing happens before the deadline? The client goes, logged in or not (cleared at login).
    this.deadline = setTimeout(() => this.onTimeout(), opts.deps.limits.preAuthTimeoutMs);
    this.deadline.unref();
  }

  get secure(): boolean {
    return this.secureFlag;
  }

  channelBindings(): ChannelBindings {
    return this.secureFlag ? channelBindings(this.stream as Socket) : {};
  }

  get closing(): boolean {
    return this.closingFlag;
  }

  /** Greets at once (STARTTLS port) or after the TLS handshake (implicit TLS). */
  start(): void {
    if (this.mode === 'tls') {
      this.wrapTls(() => this.greet());
    } else {
      this.attach(this.raw);
      this.greet();
    }
  }

  /** Refuses a connection over a limit with a BYE (over TLS on the implicit-TLS port). */
  refuse(text: string): void {
    const send = (): void => this.close(bye(text, 'UNAVAILABLE'));
    if (this.mode === 'tls') this.wrapTls(send);
    else {
      this.attach(this.raw);
      send();
    }
  }

  private greet(): void {
    this.out.send(this.session.greeting());
    this.out.flush().catch((err: unknown) => this.failed(err));
  }

  private wrapTls(onSecure: () => void): void {
    const t = new tls.TLSSocket(this.raw, { isServer: true, secureContext: this.opts.secureContext });
    guardTlsSocket(t, (err) => this.opts.log.info({ err: { message: err.message } }, 'tls error, connection closed'));
    t.once('secure', () => {
      this.secureFlag = true;
      this.opts.log.debug({ protocol: t.getProtocol(), cipher: t.getCipher()?.name }, 'tls established');
      onSecure();
    });
    this.attach(t);
  }

  private attach(stream: Duplex): void {
    if (stream !== this.raw) this.raw.setTimeout(0); // the TLS socket's timer takes over
    this.stream = stream;
    this.out.setStream(stream);
    stream.on('data', (chunk: Buffer) => this.onData(chunk));
    stream.on('end', () => this.close());
    if (stream !== this.raw) stream.on('error', (err: Error) => this.onError(err));
    this.armTimeout();
  }

  private armTimeout(): void {
    const { idleTimeoutMs, preAuthTimeoutMs } = this.opts.deps.limits;
    (this.stream as Socket).setTimeout(this.loggedIn ? idleTimeoutMs : preAuthTimeoutMs, () => this.onTimeout());
  }

  /** Busy while a command runs or reading is paused: the client is waiting on us then. */
  private inputMode(): InputMode {
    if (this.pumping || this.stream.isPaused()) return 'busy';
    return this.reader.receivingLiteral ? 'transfer' : 'command';
  }

  private onDeadline(what: 'command' | 'transfer'): void {
    if (this.closingFlag) return;
    this.opts.log.info({ deadline: what }, 'closing: deadline passed');
    this.close(bye(what === 'command' ? 'Command not completed in time' : 'Literal data too slow', 'UNAVAILABLE'));
  }

  private onData(chunk: Buffer): void {
    if (this.closingFlag) return;
    this.input.received(chunk);
    this.reader.push(chunk);
    if (this.reader.bufferedBytes > HIGH_WATER) this.stream.pause();
    this.pump().catch((err: unknown) => this.failed(err));
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (;;) {
        if (this.closingFlag) return;
        const reader = this.reader;
        const ev = reader.next();
        if (!ev) break;
        await this.serial.run(() => this.session.handle(ev, reader));
        if (reader.closed && !this.closingFlag) this.close();
      }
    } catch (err) {
      this.opts.log.error({ err }, 'connection failed');
      this.close(bye('Internal server error', 'SERVERBUG'));
    } finally {
      this.pumping = false;
    }
    if (this.closingFlag) return;
    if (this.stream.isPaused()) this.stream.resume();
    if (this.reader.literalJustEnded) this.acknowledgeLiteral();
  }

  private acknowledgeLiteral(): void {
    this.serial
      .run(async () => {
        if (this.closingFlag) return;
        this.out.send(LITERAL_RECEIVED);
        await this.out.flush();
      })
      .catch((err: unknown) => this.failed(err));
  }

  /** A write or a command failed outside a command's own handling: log it and drop the client. */
  private failed(err: unknown): void {
    this.opts.log.warn({ err }, 'connection failed');
    this.raw.destroy();
  }

  setReaderMode(mode: ImapReaderMode): void {
    this.reader.setMode(mode);
  }

  async startTls(ok: Buffer): Promise<void> {
    this.raw.removeAllListeners('data');
    this.raw.removeAllListeners('end');
    this.raw.pause();
    // A fresh reader: whatever the client pipelined after STARTTLS was sent in clear and is dropped.
    this.reader = this.opts.newReader();
    await this.out.writeNow(ok);
    if (this.closingFlag) return;
    this.wrapTls(() => undefined);
  }

  authenticated(): void {
    this.loggedIn = true;
    if (this.deadline) clearTimeout(this.deadline);
    this.deadline = null;
    this.armTimeout();
    this.onLogin();
  }

  exclusive(job: () => Promise<void>): Promise<void> {
    return this.serial.run(job);
  }

  close(farewell?: Buffer): void {
    if (this.closingFlag) return;
    this.closingFlag = true;
    if (farewell) this.out.send(farewell);
    this.out
      .flush()
      .catch(() => undefined) // the farewell may not get out; the socket goes either way
      .finally(() => {
        this.stream.end();
        setTimeout(() => this.raw.destroy(), CLOSE_GRACE_MS).unref();
      });
  }

  private onTimeout(): void {
    if (this.closingFlag) return;
    this.opts.log.info({ loggedIn: this.loggedIn }, 'connection timed out');
    this.close(this.session.timedOut());
  }

  private onError(err: Error & { code?: string }): void {
    this.opts.log.debug({ err: { message: err.message, code: err.code } }, 'socket error');
    this.closingFlag = true;
    this.raw.destroy();
  }

  private cleanup(): void {
    this.closingFlag = true;
    this.input.stop();
    if (this.deadline) clearTimeout(this.deadline);
    this.deadline = null;
    this.session.dispose();
  }

  /** Used by the listener on shutdown. */
  shutdown(text: string): void {
    this.close(bye(text));
  }

  destroy(): void {
    this.closingFlag = true;
    this.raw.destroy();
  }
}
