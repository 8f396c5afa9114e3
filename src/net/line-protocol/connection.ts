/**
 * One connection of a line-based protocol (POP3, ManageSieve): socket, TLS
 * (implicit, or after the protocol's STARTTLS command), the reader, in-order
 * command processing with back-pressure both ways, the login, command and
 * idle deadlines, and a bounded close. The protocol's replies and its session
 * come from the subclass; the session owns the protocol itself.
 */
import type net from 'node:net';
import tls from 'node:tls';
import type { Logger } from '../../metrics/logger.js';
import { channelBindings, type ChannelBindings } from '../channel-binding.js';
import { InputDeadlines } from '../deadlines.js';
import { waitForDrain } from '../drain.js';
import { guardTlsSocket } from '../tls.js';

/** Input buffered ahead of the command being processed (pipelining); reading pauses beyond it. */
export const MAX_PENDING_INPUT = 64 * 1024;
/** How long a closing connection may take to flush its last reply before it is destroyed. */
export const END_GRACE_MS = 5_000;

/** What the connection does after a command: read the next one, close, or start TLS. */
export type LineStep = 'continue' | 'close' | 'starttls';

/** The reader a protocol brings: bytes in, whole commands (or literals) out. */
export interface LineReader<Ev> {
  push(chunk: Buffer): void;
  next(): Ev | null;
  readonly bufferedBytes: number;
}

/** The protocol state machine a connection drives. */
export interface LineSession<Ev> {
  greeting(): Buffer | readonly Buffer[];
  handle(ev: Ev): Promise<LineStep>;
  /** The connection is gone; release what the session holds. */
  closed?(): void;
}

export interface LineConnectionOptions {
  /** Implicit TLS from the first byte (e.g. port 995); otherwise plaintext until the STARTTLS step. */
  implicitTls: boolean;
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

/** What a protocol's connection supplies to the shared machinery. */
export abstract class LineConnection<Ev, S extends LineSession<Ev>> {
  protected abstract newReader(): LineReader<Ev>;
  /** The reply that refuses a client over a connection limit, or ends it at a deadline. */
  protected abstract farewell(text: string): Buffer;
  /** The session's TLS is up (after the STARTTLS step or the implicit handshake). */
  protected abstract tlsStarted(session: S): void;
  /** Idle timeout: POP3 closes silently (RFC 1939 §3), others say goodbye first. */
  protected abstract readonly idleFarewell: string | null;
  /** Listener shutdown of an idle session: the goodbye to send first, if any. */
  protected abstract readonly shutdownFarewell: string | null;
  /** Minimum bytes per second once the command deadline has passed while a literal is read. */
  protected abstract readonly minTransferRate: number;
  /** A literal or raw payload is being read (its rate, not the command deadline, applies). */
  protected inTransfer(): boolean {
    return false;
  }
  /** After each command (e.g. the reader's mode for the next line). */
  protected afterCommand(_session: S): void {}

  private socket: net.Socket;
  protected reader!: LineReader<Ev>;
  protected session: S | null = null;
  private running = false;
  /** A command is being handled: time spent on our side is not the client's idleness. */
  private busy = false;
  private ended = false;
  private closed = false;
  private cleanedUp = false;
  private inputPaused = false;
  private shutdownRequested = false;
  /** Between STARTTLS and the end of the handshake: nothing is read or answered. */
  private upgrading = false;
  private endTimer: NodeJS.Timeout | null = null;
  private loginTimer: NodeJS.Timeout | null = null;
  private input: InputDeadlines | null = null;
  private resolveDone!: () => void;
  secure = false;
  /** Resolves once the connection is closed and its session released. */
  readonly done = new Promise<void>((resolve) => (this.resolveDone = resolve));

  constructor(
    private readonly raw: net.Socket,
    private readonly opts: LineConnectionOptions,
  ) {
    this.socket = raw;
  }

  channelBindings(): ChannelBindings {
    return this.secure ? channelBindings(this.socket) : {};
  }

  loggedIn(): void {
    if (this.loginTimer) clearTimeout(this.loginTimer);
    this.loginTimer = null;
    this.opts.onLogin();
  }

  start(makeSession: (wire: this) => S): void {
    this.reader = this.newReader();
    this.input = new InputDeadlines(
      { commandMs: this.opts.commandTimeoutMs, minBytesPerSecond: this.minTransferRate },
      () => (this.running || this.inputPaused || this.upgrading ? 'busy' : this.inTransfer() ? 'transfer' : 'command'),
      () => this.deadlinePassed('Command not completed in time'),
    );
    this.session = makeSession(this);
    const raw = this.raw;
    raw.setNoDelay(true);
    raw.on('error', this.onError);
    raw.on('close', this.onClose);
    if (this.opts.refusal === null) {
      this.loginTimer = setTimeout(() => this.deadlinePassed('Login not completed in time'), this.opts.loginTimeoutMs);
      this.loginTimer.unref();
    }
    if (this.opts.implicitTls) return this.upgrade(() => this.open());
    this.watch(raw);
    raw.on('data', this.onData);
    this.open();
  }

  /** Listener shutdown: idle sessions are closed now, a running command finishes first. */
  shutdown(): void {
    if (this.running) {
      this.shutdownRequested = true;
      return;
    }
    if (this.shutdownFarewell !== null) this.send(this.farewell(this.shutdownFarewell));
    this.end();
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

  private deadlinePassed(text: string): void {
    if (this.ended) return;
    this.opts.log.info({ reason: text }, 'closing: deadline passed');
    this.send(this.farewell(text));
    this.end();
  }

  private open(): void {
    if (this.opts.refusal !== null) {
      this.opts.log.warn({ limit: this.opts.refusal }, 'connection refused: limit reached');
      this.send(this.farewell('Too many connections, try again later'));
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
    this.input!.received(chunk);
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
    this.opts.log.info('closing: idle timeout');
    if (this.idleFarewell === null) return this.destroy();
    this.send(this.farewell(this.idleFarewell));
    this.end();
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
    this.input?.stop();
    this.destroy();
    if (!this.running) this.cleanup();
  };

  private cleanup(): void {
    if (this.cleanedUp) return;
    this.cleanedUp = true;
    this.session?.closed?.();
    this.opts.log.debug('connection closed');
    this.resolveDone();
  }

  /** Processes buffered commands one at a time, in order; one pump runs at a time. */
  private async pump(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (!this.ended && !this.upgrading) {
        const ev = this.reader.next();
        if (!ev) break;
        this.busy = true;
        let step: LineStep;
        try {
          step = await this.session!.handle(ev);
        } finally {
          this.busy = false;
        }
        this.afterCommand(this.session!);
        // A slow reader cannot make us buffer without bound; one that reads nothing
        // for the command timeout is cut off.
        await waitForDrain(this.socket, this.opts.commandTimeoutMs);
        if (step === 'close' || this.shutdownRequested) this.end();
        else if (step === 'starttls') this.startTls();
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
    // Anything the client sent after STARTTLS before the handshake is discarded, not
    // run after it (command injection, CVE-2011-0411 class): a fresh reader, and the
    // socket's own buffer is emptied before TLS takes the socket over.
    this.reader = this.newReader();
    this.inputPaused = false;
    while (raw.read() !== null);
    this.upgrading = true;
    this.upgrade(() => {
      this.upgrading = false;
      this.tlsStarted(this.session!);
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
