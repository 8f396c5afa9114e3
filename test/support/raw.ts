/**
 * A byte-exact SMTP client for the tests real clients cannot express: bare
 * CR/LF end-of-data variants, pipelined injection, NUL bytes, huge lines.
 * Every wait is bounded; a missing reply fails the test instead of hanging it.
 */
import net from 'node:net';
import tls from 'node:tls';

export interface Reply {
  code: number;
  lines: string[];
  /** The last line's text after the code. */
  text: string;
}

const open = new Set<net.Socket>();

export class RawClient {
  private buf = '';
  private waiters: (() => void)[] = [];
  private ended = false;

  private constructor(private sock: net.Socket) {
    this.attach(sock);
  }

  private attach(sock: net.Socket): void {
    this.sock = sock;
    open.add(sock);
    sock.on('data', (b: Buffer) => {
      this.buf += b.toString('latin1');
      this.wake();
    });
    const done = () => {
      this.ended = true;
      open.delete(sock);
      this.wake();
    };
    sock.on('close', done);
    sock.on('end', done);
    sock.on('error', done);
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** `localAddress` (another 127.x address) lets a test appear as a different client. */
  static async plain(port: number, localAddress?: string): Promise<RawClient> {
    const sock = net.connect({ port, host: '127.0.0.1', ...(localAddress ? { localAddress } : {}) });
    await new Promise<void>((res, rej) => sock.once('connect', res).once('error', rej));
    return new RawClient(sock);
  }

  static async tls(port: number, ca: string, localAddress?: string): Promise<RawClient> {
    const sock = tls.connect({ port, host: '127.0.0.1', ca, servername: 'mail.example.test', ...(localAddress ? { localAddress } : {}) });
    await new Promise<void>((res, rej) => sock.once('secureConnect', res).once('error', rej));
    return new RawClient(sock);
  }

  /** Upgrades after a 220 reply to STARTTLS. */
  async startTls(ca: string): Promise<void> {
    const raw = this.sock;
    raw.removeAllListeners('data');
    const sock = tls.connect({ socket: raw, ca, servername: 'mail.example.test' });
    await new Promise<void>((res, rej) => sock.once('secureConnect', res).once('error', rej));
    this.buf = '';
    this.ended = false;
    this.attach(sock);
  }

  write(data: string | Buffer): void {
    this.sock.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** Reads one (possibly multi-line) reply; null when the server closed first. */
  async reply(timeoutMs = 15_000): Promise<Reply | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = this.take();
      if (r) return r;
      if (this.ended) return null;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no SMTP reply within ${timeoutMs} ms; buffered: ${JSON.stringify(this.buf.slice(0, 200))}`);
      await new Promise<void>((res) => {
        const t = setTimeout(res, left);
        this.waiters.push(() => {
          clearTimeout(t);
          res();
        });
      });
    }
  }

  private take(): Reply | null {
    const lines: string[] = [];
    let pos = 0;
    for (;;) {
      const nl = this.buf.indexOf('\r\n', pos);
      if (nl < 0) return null;
      const line = this.buf.slice(pos, nl);
      lines.push(line);
      pos = nl + 2;
      if (line[3] !== '-') {
        this.buf = this.buf.slice(pos);
        return { code: Number(line.slice(0, 3)), lines, text: line.slice(4) };
      }
    }
  }

  /** Sends a command line and returns its reply. */
  async cmd(line: string): Promise<Reply | null> {
    this.write(line + '\r\n');
    return this.reply();
  }

  /** Resolves once the server has closed the connection (bounded). */
  async closed(timeoutMs = 15_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ended && Date.now() < deadline) {
      await new Promise<void>((res) => {
        const t = setTimeout(res, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(t);
          res();
        });
      });
    }
    return this.ended;
  }

  /** Bytes received and not yet read as a reply. */
  buffered(): string {
    return this.buf;
  }

  close(): void {
    this.sock.destroy();
  }

  /** Greeting, EHLO, STARTTLS, EHLO on the submission port. */
  static async submissionTls(port: number, ca: string, localAddress?: string): Promise<RawClient> {
    const c = await RawClient.plain(port, localAddress);
    await c.reply();
    await c.cmd('EHLO raw.example.test');
    const r = await c.cmd('STARTTLS');
    if (r?.code !== 220) throw new Error(`STARTTLS refused: ${JSON.stringify(r)}`);
    await c.startTls(ca);
    await c.cmd('EHLO raw.example.test');
    return c;
  }
}

/** Destroys every socket a test left open (afterEach). */
export function closeAllRaw(): void {
  for (const s of open) s.destroy();
  open.clear();
}

export function plainToken(user: string, password: string): string {
  return Buffer.from(`\0${user}\0${password}`, 'utf8').toString('base64');
}
