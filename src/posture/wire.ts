/**
 * A small client for postern's own listeners: plaintext dialogs (greeting,
 * EHLO / CAPABILITY, STARTTLS) and TLS handshakes with chosen versions and
 * cipher lists. Every read has a deadline and a byte cap; replies are only
 * matched against patterns, never kept.
 */
import net from 'node:net';
import tls from 'node:tls';

const MAX_REPLY = 64 * 1024;

/** A reply is complete when `end` finds its last byte; it returns the length, or -1. */
export type ReplyEnd = (buf: string) => number;

/** SMTP: the line whose code is followed by a space ends the reply. */
export const smtpReply: ReplyEnd = (buf) => {
  const m = /(?:^|\r\n)\d{3} [^\r\n]*\r\n/.exec(buf);
  return m ? m.index + m[0].length : -1;
};

/** One line: greetings, POP3 replies. */
export const oneLine: ReplyEnd = (buf) => {
  const i = buf.indexOf('\r\n');
  return i < 0 ? -1 : i + 2;
};

/** IMAP: up to the tagged completion of `tag`. */
export const imapTagged =
  (tag: string): ReplyEnd =>
  (buf) => {
    const start = buf.startsWith(`${tag} `) ? 0 : buf.indexOf(`\r\n${tag} `);
    if (start < 0) return -1;
    const end = buf.indexOf('\r\n', start + 2);
    return end < 0 ? -1 : end + 2;
  };

export class Wire {
  private buf = '';
  private wake: (() => void) | null = null;
  private failure: Error | null = null;
  private readonly onData = (d: Buffer): void => {
    this.buf += d.toString('latin1');
    if (this.buf.length > MAX_REPLY) this.fail(new Error(`reply longer than ${MAX_REPLY} bytes`));
    this.wake?.();
  };
  private readonly onEnd = (): void => this.fail(new Error('connection closed'));
  private readonly onError = (e: Error): void => this.fail(e);

  private constructor(
    readonly socket: net.Socket,
    private readonly timeoutMs: number,
  ) {
    socket.on('data', this.onData);
    socket.on('close', this.onEnd);
    socket.on('error', this.onError);
  }

  /** Reads replies from a socket that is already open (inside TLS). */
  static over(socket: net.Socket, timeoutMs: number): Wire {
    return new Wire(socket, timeoutMs);
  }

  static connect(host: string, port: number, timeoutMs: number): Promise<Wire> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host, port });
      const t = setTimeout(() => {
        s.destroy();
        reject(new Error(`no connection to ${host}:${port} in ${timeoutMs} ms`));
      }, timeoutMs);
      s.once('error', (e) => {
        clearTimeout(t);
        reject(e);
      });
      s.once('connect', () => {
        clearTimeout(t);
        s.removeAllListeners('error');
        resolve(new Wire(s, timeoutMs));
      });
    });
  }

  private fail(e: Error): void {
    this.failure ??= e;
    this.socket.destroy();
    this.wake?.();
  }

  /** Sends `line` (CRLF added) unless it is null, then waits for one complete reply. */
  async ask(line: string | null, end: ReplyEnd): Promise<string> {
    if (line !== null) this.socket.write(`${line}\r\n`);
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      const n = end(this.buf);
      if (n >= 0) {
        const reply = this.buf.slice(0, n);
        this.buf = this.buf.slice(n);
        return reply;
      }
      if (this.failure) throw this.failure;
      const left = deadline - Date.now();
      if (left <= 0) {
        this.fail(new Error(`no complete reply in ${this.timeoutMs} ms`));
        throw this.failure ?? new Error('timeout');
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.wake = null;
    }
  }

  /** Hands the socket over (to TLS): this Wire reads no more from it. */
  detach(): net.Socket {
    this.socket.off('data', this.onData);
    this.socket.off('close', this.onEnd);
    this.socket.off('error', this.onError);
    return this.socket;
  }

  close(): void {
    this.socket.destroy();
  }
}

export interface TlsAttempt {
  readonly minVersion: tls.SecureVersion;
  readonly maxVersion: tls.SecureVersion;
  /** An OpenSSL cipher list (TLS 1.2 and older); default OpenSSL's. */
  readonly ciphers?: string;
}

export type Handshake =
  | {
      readonly ok: true;
      readonly protocol: string;
      readonly cipher: string;
      /** The key exchange's ephemeral key (ECDH, X25519, DH), or null without forward secrecy. */
      readonly ephemeral: string | null;
      readonly cert: tls.DetailedPeerCertificate | null;
      /** Why the chain does not verify against the system's CAs, or null when it does. */
      readonly chainError: string | null;
    }
  | { readonly ok: false; readonly error: string; /** This client's OpenSSL cannot offer what was asked: nothing was learnt about the server. */ readonly untestable: boolean };

const CLIENT_CANNOT = /no cipher match|no protocols available|no ciphers available|unsupported protocol|ERR_SSL_NO_PROTOCOLS_AVAILABLE/i;

/**
 * One TLS handshake, over `socket` (after STARTTLS) or a new connection;
 * the socket is closed afterwards. Old versions and weak suites are only
 * offered by lowering OpenSSL's security level for this one attempt.
 */
export function handshake(target: { host: string; port: number; servername: string; socket?: net.Socket }, a: TlsAttempt, timeoutMs: number): Promise<Handshake> {
  return new Promise((resolve) => {
    let ctx: tls.SecureContext;
    try {
      ctx = tls.createSecureContext({ minVersion: a.minVersion, maxVersion: a.maxVersion, ciphers: `${a.ciphers ?? 'DEFAULT'}:@SECLEVEL=0` });
    } catch (e) {
      target.socket?.destroy();
      return resolve({ ok: false, error: (e as Error).message, untestable: true });
    }
    const s = tls.connect({
      ...(target.socket ? { socket: target.socket } : { host: target.host, port: target.port }),
      servername: target.servername,
      secureContext: ctx,
      rejectUnauthorized: false,
    });
    let done = false;
    const finish = (h: Handshake): void => {
      if (done) return;
      done = true;
      clearTimeout(t);
      s.destroy();
      resolve(h);
    };
    const t = setTimeout(() => finish({ ok: false, error: `no handshake in ${timeoutMs} ms`, untestable: false }), timeoutMs);
    s.once('secureConnect', () => {
      const eph = s.getEphemeralKeyInfo();
      const kx = eph && typeof eph === 'object' && 'type' in eph && eph.type ? `${eph.name ?? eph.type}` : null;
      const cert = s.getPeerCertificate(true);
      finish({
        ok: true,
        protocol: s.getProtocol() ?? '?',
        cipher: s.getCipher().name,
        ephemeral: kx,
        cert: cert && Object.keys(cert).length > 0 ? cert : null,
        chainError: s.authorized ? null : String(s.authorizationError ?? 'not verified'),
      });
    });
    s.once('error', (e: NodeJS.ErrnoException) => finish({ ok: false, error: e.message, untestable: CLIENT_CANNOT.test(`${e.code ?? ''} ${e.message}`) }));
    s.once('close', () => finish({ ok: false, error: 'connection closed during the handshake', untestable: false }));
  });
}
