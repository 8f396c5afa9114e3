/**
 * One ManageSieve connection: socket, TLS after STARTTLS, the command reader,
 * in-order command processing with back-pressure both ways, the idle timer
 * and a bounded close. The protocol itself lives in session.ts.
 */
import type net from 'node:net';
import tls from 'node:tls';
import { ManageSieveReader, sieveBye } from '../codec/managesieve/index.js';
import type { Logger } from '../metrics/logger.js';
import { InputDeadlines } from '../net/deadlines.js';
import { waitForDrain } from '../net/drain.js';
import { guardTlsSocket } from '../net/tls.js';
import { SIEVE_LIMITS } from '../store/types.js';
import type { ManageSieveSession } from './session.js';
import type { ManageSieveStep, ManageSieveWire } from './wire.js';

/** Longest line outside literals, CRLF included: room for AUTHENTICATE with a long address and password. */
export const MAX_LINE_LENGTH = 8 * 1024;
/** Input buffered ahead of the command being processed (pipelining); reading pauses beyond it. */
export const MAX_PENDING_INPUT = 64 * 1024;
/** How long a closing connection may take to flush its last reply before it is destroyed. */
export const END_GRACE_MS = 5_000;
/** Bytes per second a script literal must average once the command timeout has passed. */
export const MIN_LITERAL_RATE = 1024;

export interface ConnectionOptions {
  secureContext: tls.SecureContext;
  idleTimeoutMs: number;
  loginTimeoutMs: number;
  commandTimeoutMs: number;
  onLogin(): void;
  log: Logger;
  /** Set when a connection limit refuses this client: it is told so and disconnected. */
  refusal: string | null;
}

// Literals are kept up to the script limit (plus room for a long name); larger ones are skipped and refused.
const newReader = () => new ManageSieveReader({ maxLineLength: MAX_LINE_LENGTH, maxLiteralSize: SIEVE_LIMITS.maxScriptBytes });

export class ManageSieveConnection implements ManageSieveWire {
  private socket: net.Socket;
  private reader = newReader();
  private session: ManageSieveSession | null = null;
  private running = false;
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
    this.input = new InputDeadlines(
      { commandMs: opts.commandTimeoutMs, minBytesPerSecond: MIN_LITERAL_RATE },
      () => (this.running || this.inputPaused || this.upgrading ? 'busy' : this.reader.inLiteral ? 'transfer' : 'command'),
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
    this.send(sieveBye(text, { atom: 'TRYLATER' }));
    this.end();
  }

  start(makeSession: (wire: ManageSieveWire) => ManageSieveSession): void {
    this.session = makeSession(this);
    const raw = this.raw;
    raw.setNoDelay(true);
    raw.on('error', this.onError);
    raw.on('close', this.onClose);
    if (this.opts.refusal === null) {
      this.loginTimer = setTimeout(() => this.deadlinePassed('Login not completed in time'), this.opts.loginTimeoutMs);
      this.loginTimer.unref();
    }
    this.watch(raw);
    raw.on('data', this.onData);
    if (this.opts.refusal !== null) {
      this.opts.log.warn({ limit: this.opts.refusal }, 'connection refused: limit reached');
      this.send(sieveBye('Too many connections, try again later', { atom: 'TRYLATER' }));
      return this.end();
    }
    this.send(this.session.greeting());
  }

  /** Listener shutdown: idle sessions are closed now, a running command finishes first. */
  shutdown(): void {
    if (this.running) this.shutdownRequested = true;
    else {
      this.send(sieveBye('Server shutting down', { atom: 'TRYLATER' }));
      this.end();
    }
  }

  destroy(): void {
    this.socket.destroy();
    this.raw.destroy();
  }

  send(data: Buffer | readonly Buffer[]): void {
    if (this.ended || this.socket.destroyed) return;
    for (const b of Buffer.isBuffer(data) ? [data] : data) this.socket.write(b);
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
    if (this.busy) return;
    this.opts.log.info('closing: idle timeout');
    this.send(sieveBye('Idle for too long', { atom: 'TRYLATER' }));
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
    this.input.stop();
    this.destroy();
    if (!this.running) this.cleanup();
  };

  private cleanup(): void {
    if (this.cleanedUp) return;
    this.cleanedUp = true;
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
        let step: ManageSieveStep;
        try {
          step = await this.session!.handle(ev);
        } finally {
          this.busy = false;
        }
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
    // run after it (command injection, CVE-2011-0411 class).
    this.reader = newReader();
    this.inputPaused = false;
    while (raw.read() !== null);
    this.upgrading = true;
    const secure = new tls.TLSSocket(raw, { isServer: true, secureContext: this.opts.secureContext });
    guardTlsSocket(secure, (err) => this.opts.log.info({ err: { message: err.message } }, 'tls error, connection closed'));
    this.socket = secure;
    this.watch(secure);
    secure.on('error', this.onError);
    secure.on('close', this.onClose);
    secure.once('secure', () => {
      if (this.ended) return;
      this.secure = true;
      this.upgrading = false;
      this.opts.log.debug({ tls: secure.getProtocol(), cipher: secure.getCipher()?.name }, 'tls established');
      secure.on('data', this.onData);
      // RFC 5804 section 2.2: the capabilities again, now that TLS is up.
      this.send(this.session!.tlsStarted());
    });
  }
}
