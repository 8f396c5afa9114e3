/**
 * One POP3 connection: socket, TLS (implicit or after STLS), the line reader,
 * in-order command processing with back-pressure both ways, the idle timer
 * and a bounded close. The protocol itself lives in session.ts.
 */
import { channelBindings, type ChannelBindings } from '../net/channel-binding.js';
import type net from 'node:net';
import tls from 'node:tls';
import { Pop3LineReader, pop3Err } from '../codec/pop3/index.js';
import type { Logger } from '../metrics/logger.js';
import { InputDeadlines } from '../net/deadlines.js';
import { waitForDrain } from '../net/drain.js';
import { guardTlsSocket } from '../net/tls.js';
import type { Pop3Session } from './session.js';
import type { Pop3Mode } from './types.js';
import type { Pop3Step, Pop3Wire } from './wire.js';

/**
 * Longest command line, CRLF included. RFC 2449's 255 octets cannot carry
 * "AUTH PLAIN <initial response>" for a long address and password, so both
 * command lines and SASL response lines may be 2048 octets: a 254-octet
 * address with a 1000-octet password still fits.
 */
export const MAX_LINE_LENGTH = 2048;
/** Input buffered ahead of the command being processed (pipelining); reading pauses beyond it. */
export const MAX_PENDING_INPUT = 64 * 1024;
/** How long a closing connection may take to flush its last reply before it is destroyed. */
export const END_GRACE_MS = 5_000;

export interface ConnectionOptions {
  mode: Pop3Mode;
  secureContext: tls.SecureContext;
  idleTimeoutMs: number;
  /** From connect to a successful login, however the client spreads its bytes (an idle timer restarts on each). */
  loginTimeoutMs: number;
  /** A command line must be complete this long after its first byte; also how long a reply may wait unread. */
  commandTimeoutMs: number;
  /** Called once the session logged in. */
  onLogin(): void;
  log: Logger;
  /** Set when a connection limit refuses this client: it is told so and disconnected. */
  refusal: string | null;
}

const newReader = () => new Pop3LineReader({ maxLineLength: MAX_LINE_LENGTH, maxRawLineLength: MAX_LINE_LENGTH });

export class Pop3Connection implements Pop3Wire {
  channelBindings(): ChannelBindings {
    return this.secure ? channelBindings(this.socket) : {};
  }

  private socket: net.Socket;
  private reader = newReader();
  private session: Pop3Session | null = null;
  private running = false;
  /** A command is being handled: time spent on our side is not the client's idleness. */
  private busy = false;
  private ended = false;
  private closed = false;
  private cleanedUp = false;
  private inputPaused = false;
  private shutdownRequested = false;
  /** Between STLS and the end of the handshake: nothing is read or answered. */
  private upgrading = false;
  private endTimer: NodeJS.Timeout | null = null;
  private loginTimer: NodeJS.Timeout | null = null;
  private readonly input: InputDeadlines;
  private resolveDone!: () => void;
  secure = false;
  /** Resolves once the connection is closed and its session released. */
  readonly done = new Promise<void>((resolve) => (this.resolveDone = resolve));

  constructor(
    private readonly raw: net.Socket,
    private readonly opts: ConnectionOptions,
  ) {
    this.socket = raw;
    // POP3 has no uploads: every byte is part of a command line.
    this.input = new InputDeadlines(
      { commandMs: opts.commandTimeoutMs, minBytesPerSecond: 1 },
      () => (this.running || this.inputPaused || this.upgrading ? 'busy' : 'command'),
      () => this.deadlinePassed('Command not completed in time'),
    );
  }

  loggedIn(): void {
    if (this.loginTimer) clearTimeout(this.loginTimer);
    this.loginTimer = null;
    this.opts.onLogin();
  }

  private deadlinePassed(text: string): void {
    if (this.ended) return;
    this.opts.log.info({ reason: text }, 'closing: deadline passed');
    this.send(pop3Err(text, 'SYS/TEMP'));
    this.end();
  }

  start(makeSession: (wire: Pop3Wire) => Pop3Session): void {
    this.session = makeSession(this);
    const raw = this.raw;
    raw.setNoDelay(true);
    raw.on('error', this.onError);
    raw.on('close', this.onClose);
    if (this.opts.refusal === null) {
      this.loginTimer = setTimeout(() => this.deadlinePassed('Login not completed in time'), this.opts.loginTimeoutMs);
      this.loginTimer.unref();
    }
    if (this.opts.mode === 'tls') return this.upgrade(() => this.open());
    this.watch(raw);
    raw.on('data', this.onData);
    this.open();
  }

  /** Listener shutdown: idle sessions are closed now, a running command finishes first. */
  shutdown(): void {
    if (this.running) this.shutdownRequested = true;
    else this.end();
  }

  /** Force-closes the socket (after the listener's grace period). */
  destroy(): void {
    this.socket.destroy();
    this.raw.destroy();
  }

  send(data: Buffer | readonly Buffer[]): void {
    if (this.ended || this.socket.destroyed) return;
    for (const b of Buffer.isBuffer(data) ? [data] : data) this.socket.write(b);
  }

  private open(): void {
    if (this.opts.refusal !== null) {
      this.opts.log.warn({ limit: this.opts.refusal }, 'connection refused: limit reached');
      this.send(pop3Err('Too many connections, try again later', 'SYS/TEMP'));
      return this.end();
    }
    this.send(this.session!.greeting());
  }

  private watch(s: net.Socket): void {
    s.setTimeout(this.opts.idleTimeoutMs);
    s.on('timeout', this.onTimeout);
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.ended) return;
    this.input.received(chunk);
    this.reader.push(chunk);
    if (this.reader.bufferedBytes > MAX_PENDING_INPUT && !this.inputPaused) {
      this.inputPaused = true;
      this.socket.pause();
    }
    this.pump().catch((err: unknown) => {
      // A bug here must cost one connection, never the process.
      this.opts.log.error({ err }, 'connection failed');
      this.destroy();
    });
  };

  private readonly onTimeout = (): void => {
    // The reply to the command being handled re-arms the timer. A client that stops
    // reading our reply is idle, though: waiting for 'drain' does not count as busy.
    if (this.busy) return;
    // RFC 1939 section 3: the autologout timer closes without UPDATE and without a reply.
    this.opts.log.info('closing: idle timeout');
    this.destroy();
  };

  private readonly onError = (err: Error & { code?: string }): void => {
    this.opts.log.debug({ err: { message: err.message, code: err.code } }, 'connection error');
    this.destroy();
  };

  private readonly onClose = (): void => {
    if (this.closed) return;
    this.closed = true;
    this.ended = true;
    if (this.endTimer) clearTimeout(this.endTimer);
    if (this.loginTimer) clearTimeout(this.loginTimer);
    this.input.stop();
    this.destroy();
    if (!this.running) this.cleanup();
  };

  private cleanup(): void {
    if (this.cleanedUp) return;
    this.cleanedUp = true;
    this.session?.closed();
    this.opts.log.debug('connection closed');
    this.resolveDone();
  }

  /** Processes buffered lines one at a time, in order; one pump runs at a time. */
  private async pump(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (!this.ended && !this.upgrading) {
        const ev = this.reader.next();
        if (!ev) break;
        this.busy = true;
        let step: Pop3Step;
        try {
          step = await this.session!.handle(ev);
        } finally {
          this.busy = false;
        }
        this.reader.setMode(this.session!.wantsRawLine ? 'raw' : 'command');
        await this.drained();
        if (step === 'close' || this.shutdownRequested) {
          this.end();
        } else if (step === 'starttls') {
          this.startTls();
        }
      }
    } finally {
      this.running = false;
      if (this.closed) this.cleanup();
      else if (this.inputPaused && !this.ended && !this.upgrading) {
        this.inputPaused = false;
        this.socket.resume();
      }
    }
  }

  /**
   * Waits while the socket's write buffer is full, so a slow reader cannot make
   * us buffer without bound; one that reads nothing for the command timeout is cut off.
   */
  private async drained(): Promise<void> {
    await waitForDrain(this.socket, this.opts.commandTimeoutMs);
  }

  /** Stops reading, flushes what was written, closes; destroys if the peer does not let go. */
  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.socket.end();
    this.endTimer = setTimeout(() => this.destroy(), END_GRACE_MS);
  }

  private startTls(): void {
    const raw = this.raw;
    raw.off('data', this.onData);
    raw.off('timeout', this.onTimeout);
    raw.setTimeout(0);
    // Anything the client sent after "STLS" before the handshake is discarded, not
    // run after it (command injection, CVE-2011-0411 class): a fresh reader, and the
    // socket's own buffer is emptied before TLS takes the socket over.
    this.reader = newReader();
    this.inputPaused = false;
    while (raw.read() !== null);
    this.upgrading = true;
    this.upgrade(() => {
      this.upgrading = false;
      this.session!.tlsStarted();
    });
  }

  private upgrade(then: () => void): void {
    const secure = new tls.TLSSocket(this.raw, { isServer: true, secureContext: this.opts.secureContext });
    guardTlsSocket(secure, (err) => this.opts.log.info({ err: { message: err.message } }, 'tls error, connection closed'));
    this.socket = secure;
    this.watch(secure);
    secure.on('error', this.onError);
    secure.on('close', this.onClose);
    secure.once('secure', () => {
      if (this.ended) return;
      this.secure = true;
      this.opts.log.debug({ tls: secure.getProtocol(), cipher: secure.getCipher()?.name }, 'tls established');
      secure.on('data', this.onData);
      then();
    });
  }
}
