/**
 * A minimal POP3 client over raw sockets for tests that must control bytes
 * exactly (pipelined STLS injection, garbage, over-long lines). Every wait is
 * bounded so a broken server fails the test instead of hanging it.
 */
import net from 'node:net';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import { HOST } from './harness.js';

const WAIT_MS = 15_000;

export class LineClient {
  private buf = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  private ended = false;
  readonly closed: Promise<void>;
  private resolveClosed!: () => void;

  private constructor(private socket: net.Socket) {
    this.closed = new Promise((r) => (this.resolveClosed = r));
    this.attach(socket);
  }

  /** localAddress: the loopback source address to connect from (127.0.0.0/8 all reaches lo). */
  static async connect(port: number, opts: { tls?: boolean; ca?: string; localAddress?: string } = {}): Promise<LineClient> {
    const { localAddress } = opts;
    const socket = opts.tls
      ? tls.connect({ host: HOST, port, ca: readFileSync(opts.ca!), socket: net.connect({ host: HOST, port, localAddress }) })
      : net.connect({ host: HOST, port, localAddress });
    await new Promise<void>((resolve, reject) => {
      socket.once(opts.tls ? 'secureConnect' : 'connect', () => resolve());
      socket.once('error', reject);
    });
    return new LineClient(socket);
  }

  private readonly onData = (d: Buffer): void => {
    this.buf = Buffer.concat([this.buf, d]);
    this.wake();
  };

  private attach(s: net.Socket): void {
    s.on('data', this.onData);
    s.on('error', () => undefined);
    s.on('close', () => {
      this.ended = true;
      this.resolveClosed();
      this.wake();
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private async waitForData(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('timed out waiting for the server')), WAIT_MS);
      this.waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  get isClosed(): boolean {
    return this.ended;
  }

  send(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** The next line without CRLF, or null once the server has closed and nothing is left. */
  async line(): Promise<string | null> {
    for (;;) {
      const i = this.buf.indexOf('\r\n');
      if (i >= 0) {
        const l = this.buf.subarray(0, i).toString('latin1');
        this.buf = this.buf.subarray(i + 2);
        return l;
      }
      if (this.ended) return null;
      await this.waitForData();
    }
  }

  /** Reads a status line; throws if the connection closed instead. */
  async status(): Promise<string> {
    const l = await this.line();
    if (l === null) throw new Error('connection closed');
    return l;
  }

  /** Lines of a multi-line response after its status line, un-stuffed, up to the terminating ".". */
  async multi(): Promise<string[]> {
    const out: string[] = [];
    for (;;) {
      const l = await this.line();
      if (l === null) throw new Error('connection closed inside a multi-line response');
      if (l === '.') return out;
      out.push(l.startsWith('.') ? l.slice(1) : l);
    }
  }

  async command(cmd: string): Promise<string> {
    this.send(cmd + '\r\n');
    return this.status();
  }

  /** Upgrades the connection after "+OK" to STLS. */
  async startTls(ca: string): Promise<void> {
    const raw = this.socket;
    raw.off('data', this.onData);
    raw.removeAllListeners('close');
    const secure = tls.connect({ socket: raw, host: HOST, ca: readFileSync(ca) });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', () => resolve());
      secure.once('error', reject);
    });
    this.socket = secure;
    this.attach(secure);
  }

  /** Waits (bounded) for the server to close the connection. */
  async waitClosed(): Promise<void> {
    let t: NodeJS.Timeout | undefined;
    await Promise.race([this.closed, new Promise((_, reject) => (t = setTimeout(() => reject(new Error('server did not close')), WAIT_MS)))]);
    clearTimeout(t);
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Logs in over implicit TLS with USER/PASS; returns the client after "+OK". */
export async function loggedIn(port: number, ca: string, user: string, password: string): Promise<LineClient> {
  const c = await LineClient.connect(port, { tls: true, ca });
  await c.status();
  if (!(await c.command(`USER ${user}`)).startsWith('+OK')) throw new Error('USER refused');
  const r = await c.command(`PASS ${password}`);
  if (!r.startsWith('+OK')) throw new Error(`login failed: ${r}`);
  return c;
}
