/**
 * One SMTP client connection: writes commands, reads bounded replies, and
 * upgrades to TLS in place. It refuses to write MAIL, RCPT, DATA or message
 * bytes in clear once the session has been marked as TLS-only, so no later
 * change in the calling code can leak a message the policy protects.
 *
 * Every write and every read has a deadline (RFC 5321 4.5.3.2): a peer that
 * stops reading or stops answering has its connection destroyed when the
 * deadline passes, and the waiting call fails with SmtpTimeout. Message bytes
 * go out in blocks, each with its own deadline, so a slow but moving transfer
 * goes on while a stalled one ends.
 */
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import type { Socket } from 'node:net';
import { PosternError } from '../../../core/errors.js';
import { waitForDrain } from '../../../net/drain.js';
import { ReplyParser, SmtpProtocolError, type SmtpReply } from './reply.js';

export class SmtpTimeout extends Error {
  override readonly name = 'SmtpTimeout';
}

const PROTECTED = /^(MAIL|RCPT|DATA|BDAT)\b/i;

/** Message bytes are handed to the socket in blocks of this size; each must drain within the data block deadline. */
export const DATA_BLOCK = 64 * 1024;

export class SmtpWire {
  private socket: Socket | TLSSocket;
  private parser = new ReplyParser();
  private waiting: { resolve: (r: SmtpReply) => void; reject: (e: Error) => void } | null = null;
  private failure: Error | null = null;
  private readonly onData = (d: Buffer) => this.receive(d);
  secure = false;
  /** Set once policy requires TLS: from then on nothing protected may go out in clear. */
  tlsOnly = false;
  bytesOut = 0;

  constructor(socket: Socket) {
    this.socket = socket;
    this.attach(socket);
  }

  private attach(s: Socket | TLSSocket): void {
    s.on('data', this.onData);
    s.on('error', (e) => this.fail(e));
    s.on('close', () => this.fail(new Error('connection closed by peer')));
  }

  private receive(d: Buffer): void {
    if (this.failure) return;
    try {
      this.parser.push(d);
    } catch (e) {
      this.fail(e instanceof Error ? e : new Error(String(e))); // a flood: drop the connection
      return;
    }
    this.deliver();
  }

  private deliver(): void {
    if (!this.waiting) return;
    let r: SmtpReply | null;
    try {
      r = this.parser.next();
    } catch (e) {
      this.fail(e instanceof Error ? e : new Error(String(e)));
      return;
    }
    if (r) {
      const w = this.waiting;
      this.waiting = null;
      w.resolve(r);
    }
  }

  private fail(e: Error): void {
    if (!this.failure) this.failure = e;
    const w = this.waiting;
    this.waiting = null;
    w?.reject(this.failure);
    this.socket.destroy();
  }

  read(timeoutMs: number): Promise<SmtpReply> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<SmtpReply>((resolve, reject) => {
      const timer = setTimeout(() => this.fail(new SmtpTimeout(`no reply within ${timeoutMs} ms`)), timeoutMs);
      this.waiting = {
        resolve: (r) => (clearTimeout(timer), resolve(r)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      };
      this.deliver();
    });
  }

  /** Sends one command line and reads its reply; writing and answering together must fit in `timeoutMs`. */
  async command(line: string, timeoutMs: number): Promise<SmtpReply> {
    if (/[\r\n]/.test(line)) throw new PosternError('INVARIANT', 'SMTP command contains a line break');
    const start = Date.now();
    await this.write(Buffer.from(`${line}\r\n`, 'utf8'), line, timeoutMs);
    return this.read(Math.max(1, timeoutMs - (Date.now() - start)));
  }

  /**
   * Writes bytes in blocks of DATA_BLOCK; each block must be taken by the
   * socket (drain) within `blockTimeoutMs`, or the connection is destroyed.
   * `what` names the command for the clear-text guard.
   */
  async write(data: Buffer, what: string, blockTimeoutMs: number): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.tlsOnly && !this.secure && PROTECTED.test(what)) {
      this.fail(new Error('refused to send in clear'));
      throw new PosternError('INVARIANT', `refused to send ${what.split(' ')[0]} without TLS`);
    }
    for (let off = 0; off < data.length; off += DATA_BLOCK) {
      const block = data.subarray(off, Math.min(data.length, off + DATA_BLOCK));
      this.bytesOut += block.length;
      if (!this.socket.write(block)) await this.drained(blockTimeoutMs, what);
      if (this.failure) throw this.failure;
    }
  }

  /** Waits for the socket to take what it buffered; a peer that stops reading ends the connection at the deadline. */
  private async drained(timeoutMs: number, what: string): Promise<void> {
    const r = await waitForDrain(this.socket, timeoutMs, () => {
      const name = what === 'DATA' ? 'the message' : what.split(' ')[0];
      this.fail(new SmtpTimeout(`peer took no data for ${timeoutMs} ms while we sent ${name}`));
    });
    if (r !== 'drained') throw this.failure ?? new Error('connection closed');
  }

  /**
   * STARTTLS: after the server's 220, hands the socket to TLS. Bytes the
   * server sent after its 220 but before the handshake are an injection
   * attempt (CVE-2011-0411 class) and end the session.
   */
  async upgrade(options: ConnectionOptions, timeoutMs: number): Promise<TLSSocket> {
    if (this.parser.pending > 0) {
      this.fail(new SmtpProtocolError('data after the STARTTLS reply, before the TLS handshake'));
      throw this.failure!;
    }
    const plain = this.socket as Socket;
    plain.off('data', this.onData);
    plain.removeAllListeners('close');
    plain.removeAllListeners('error');
    const tls = await new Promise<TLSSocket>((resolve, reject) => {
      const s = tlsConnect({ ...options, socket: plain });
      const timer = setTimeout(() => (s.destroy(), reject(new SmtpTimeout(`TLS handshake not done within ${timeoutMs} ms`))), timeoutMs);
      s.once('secureConnect', () => (clearTimeout(timer), resolve(s)));
      s.once('error', (e) => (clearTimeout(timer), s.destroy(), reject(e)));
    }).catch((e: Error) => {
      this.failure = e;
      plain.destroy();
      throw e;
    });
    this.socket = tls;
    this.parser = new ReplyParser();
    this.secure = true;
    this.attach(tls);
    return tls;
  }

  /** Not failed, timed out or closed (a cached session may have been dropped while idle). */
  get alive(): boolean {
    return this.failure === null;
  }

  get localAddress(): string | null {
    return this.socket.localAddress ?? null;
  }

  close(): void {
    this.socket.destroy();
  }

  /** QUIT politely, then close whatever the answer. */
  async quit(timeoutMs: number): Promise<void> {
    if (!this.failure) await this.command('QUIT', timeoutMs).catch(() => undefined);
    this.close();
  }
}
