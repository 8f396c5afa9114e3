/**
 * A line-level IMAP client over a raw socket, for tests that must control
 * every byte on the wire (STARTTLS injection, literal limits, fuzz). Every
 * wait is bounded; a closed connection ends all waits.
 */
import net from 'node:net';
import tls from 'node:tls';

export class RawClient {
  private buf = Buffer.alloc(0);
  private lines: string[] = [];
  private waiter: (() => void) | null = null;
  private onData = (d: Buffer): void => {
    this.buf = Buffer.concat([this.buf, d]);
    for (let at = this.buf.indexOf('\r\n'); at >= 0; at = this.buf.indexOf('\r\n')) {
      this.lines.push(this.buf.subarray(0, at).toString('latin1'));
      this.buf = this.buf.subarray(at + 2);
    }
    this.wake();
  };
  /** Every line received, in order, for failure messages. */
  readonly transcript: string[] = [];
  closed = false;

  private constructor(private socket: net.Socket | tls.TLSSocket) {
    this.attach();
  }

  static plain(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host: '127.0.0.1' }, () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  static tls(port: number, ca: string): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = tls.connect({ port, host: '127.0.0.1', ca }, () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  private attach(): void {
    this.socket.on('data', this.onData);
    this.socket.on('error', () => undefined);
    this.socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  write(data: string | Buffer): void {
    if (!this.closed) this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** The next line, or null when the connection closed or nothing came within timeoutMs. */
  async line(timeoutMs = 10_000): Promise<string | null> {
    const deadline = Date.now() + timeoutMs;
    while (this.lines.length === 0) {
      if (this.closed) return null;
      const left = deadline - Date.now();
      if (left <= 0) return null;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    const l = this.lines.shift()!;
    this.transcript.push(l);
    return l;
  }

  /** Lines up to and including the first that matches; throws if the connection ends or time runs out first. */
  async until(match: (l: string) => boolean, timeoutMs = 10_000, maxLines = 1000): Promise<string[]> {
    const out: string[] = [];
    const deadline = Date.now() + timeoutMs;
    for (let i = 0; i < maxLines; i++) {
      const l = await this.line(Math.max(1, deadline - Date.now()));
      if (l === null) throw new Error(`connection ${this.closed ? 'closed' : 'silent'} before the expected line; got:\n${this.transcript.join('\n')}`);
      out.push(l);
      if (match(l)) return out;
    }
    throw new Error(`no expected line in ${maxLines} lines`);
  }

  /** Sends a tagged command and returns its lines, the tagged reply last. */
  async command(tag: string, cmd: string, timeoutMs = 10_000): Promise<string[]> {
    this.write(`${tag} ${cmd}\r\n`);
    return this.until((l) => l.startsWith(`${tag} `), timeoutMs);
  }

  /** Resolves once the server closed the connection, or false after timeoutMs. */
  async waitClosed(timeoutMs = 10_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) {
      if ((await this.line(deadline - Date.now())) === null && this.closed) break;
    }
    return this.closed;
  }

  /**
   * Starts TLS on the connection after the server's OK to STARTTLS. Returns
   * what the server sent in plaintext after that OK (it must be nothing).
   */
  async startTls(ca: string): Promise<{ leftover: string }> {
    const leftover = [...this.lines.map((l) => l + '\r\n'), this.buf.toString('latin1')].join('');
    this.lines = [];
    this.buf = Buffer.alloc(0);
    this.socket.off('data', this.onData);
    this.socket.removeAllListeners('close');
    const plain = this.socket;
    const secure = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const s = tls.connect({ socket: plain as net.Socket, host: '127.0.0.1', ca }, () => resolve(s));
      s.once('error', reject);
    });
    this.socket = secure;
    this.attach();
    return { leftover };
  }

  get encrypted(): boolean {
    return this.socket instanceof tls.TLSSocket;
  }

  close(): void {
    this.socket.destroy();
    this.closed = true;
  }
}

/** Greeting, then a tagged LOGIN; returns the tagged reply. */
export async function rawLogin(c: RawClient, user: string, password: string, tag = 'L1'): Promise<string> {
  return (await c.command(tag, `LOGIN "${user}" "${password}"`)).at(-1)!;
}
