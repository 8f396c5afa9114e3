/**
 * A small IMAP client over implicit TLS, just enough for the probe: LOGIN,
 * SELECT, UID SEARCH, UID STORE, UID EXPUNGE, LOGOUT. Bounded on every side:
 * each command must complete within `commandMs`, a response line may not
 * exceed MAX_LINE bytes, a literal MAX_LITERAL bytes, one command's untagged
 * output MAX_RESPONSE bytes; past any bound the socket is destroyed and the
 * command fails. The server is our own but may be hung or broken, which is
 * exactly what the probe is there to notice.
 */
import { connect, type TLSSocket } from 'node:tls';

const MAX_LINE = 64 * 1024;
const MAX_LITERAL = 1024 * 1024;
const MAX_RESPONSE = 4 * 1024 * 1024;

export interface ImapConnectOptions {
  host: string;
  port: number;
  /** PEM certificates to trust (the server's own certificate). */
  ca: string | Buffer;
  /** The name the certificate must carry; default host. */
  servername?: string;
  /** Deadline for the connection with its greeting, and for each command. */
  commandMs: number;
}

export interface ImapResponse {
  /** Untagged lines ("* ..."), literals inlined. */
  readonly untagged: readonly string[];
  readonly status: 'OK' | 'NO' | 'BAD';
  readonly text: string;
}

/** A command part sent as an IMAP literal ({n}), for strings that cannot be quoted. */
export interface Literal {
  readonly literal: Buffer;
}

export class ImapError extends Error {}

type Waiter = { kind: 'greeting' | 'continue' | 'tagged'; tag?: string; resolve: (r: ImapResponse) => void; reject: (e: Error) => void };

export class ProbeImapClient {
  private buf: Buffer = Buffer.alloc(0);
  private pendingLine: Buffer[] = [];
  private pendingBytes = 0;
  private literalLeft = 0;
  private untagged: string[] = [];
  private untaggedBytes = 0;
  private waiter: Waiter | null = null;
  /** Waiting for a "+" continuation (a literal), beside the command's own waiter. */
  private cont: Waiter | null = null;
  private failed: Error | null = null;
  private seq = 0;

  private constructor(
    private readonly socket: TLSSocket,
    private readonly commandMs: number,
  ) {
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('error', (e) => this.fail(new ImapError(`IMAP connection failed: ${e.message}`)));
    socket.on('close', () => this.fail(new ImapError('IMAP connection closed')));
  }

  /** Connects, verifies the certificate, and waits for an OK greeting. */
  static async connect(o: ImapConnectOptions): Promise<ProbeImapClient> {
    const socket = connect({ host: o.host, port: o.port, ca: o.ca, servername: o.servername ?? o.host, minVersion: 'TLSv1.2' });
    const client = new ProbeImapClient(socket, o.commandMs);
    const greeting = await client.wait({ kind: 'greeting' }, 'greeting');
    if (greeting.status !== 'OK') throw new ImapError(`IMAP greeting was not OK: ${greeting.text}`);
    return client;
  }

  /** Sends one command and resolves with its tagged completion (any status). */
  async command(...parts: (string | Literal)[]): Promise<ImapResponse> {
    const tag = `p${++this.seq}`;
    const done = this.wait({ kind: 'tagged', tag }, parts[0] as string);
    // If a literal's wait throws first, `done` fails too: it is reported once, through the throw.
    done.catch(() => undefined);
    let line = `${tag} `;
    for (const p of parts) {
      if (typeof p === 'string') {
        line += p;
        continue;
      }
      // A literal: announce it, wait for the server's "+", then send its bytes.
      this.write(`${line}{${p.literal.length}}\r\n`);
      line = '';
      const go = await this.wait({ kind: 'continue' }, 'literal');
      // A tagged NO/BAD instead of "+" ends the command: `done` carries it.
      if (go.status !== 'OK') return done;
      this.socket.write(p.literal);
    }
    this.write(`${line}\r\n`);
    return done;
  }

  /** Like command(), but anything other than OK is an error naming the command. */
  async ok(...parts: (string | Literal)[]): Promise<ImapResponse> {
    const r = await this.command(...parts);
    if (r.status !== 'OK') throw new ImapError(`IMAP ${String(parts[0]).split(' ')[0]} answered ${r.status} ${r.text}`);
    return r;
  }

  /** LOGOUT, politely and briefly; then the socket is gone whatever happened. */
  async logout(): Promise<void> {
    try {
      if (!this.failed) await this.command('LOGOUT');
    } catch {
      // The session is over either way.
    } finally {
      this.destroy();
    }
  }

  destroy(): void {
    this.socket.destroy();
    this.fail(new ImapError('IMAP connection closed'));
  }

  private write(s: string): void {
    if (this.failed) return;
    this.socket.write(s);
  }

  private wait(w: Omit<Waiter, 'resolve' | 'reject'>, what: string): Promise<ImapResponse> {
    if (this.failed) return Promise.reject(this.failed);
    return new Promise<ImapResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        const e = new ImapError(`IMAP ${what.split(' ')[0]} got no answer in ${this.commandMs} ms`);
        this.fail(e);
        this.socket.destroy();
      }, this.commandMs);
      const clear = () => clearTimeout(timer);
      const waiter: Waiter = {
        ...w,
        resolve: (r) => (clear(), resolve(r)),
        reject: (e) => (clear(), reject(e)),
      };
      if (w.kind === 'continue') this.cont = waiter;
      else this.waiter = waiter;
    });
  }

  private fail(e: Error): void {
    if (this.failed) return;
    this.failed = e;
    const [w, c] = [this.waiter, this.cont];
    this.waiter = this.cont = null;
    w?.reject(e);
    c?.reject(e);
  }

  private onData(d: Buffer): void {
    if (this.failed) return;
    this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
    while (!this.failed) {
      if (this.literalLeft > 0) {
        const n = Math.min(this.literalLeft, this.buf.length);
        if (n === 0) return;
        this.append(this.buf.subarray(0, n));
        this.buf = this.buf.subarray(n);
        this.literalLeft -= n;
        continue;
      }
      const nl = this.buf.indexOf(0x0a);
      if (nl < 0) {
        if (this.pendingBytes + this.buf.length > MAX_LINE) this.abort(`an IMAP response line is longer than ${MAX_LINE} bytes`);
        return;
      }
      const part = this.buf.subarray(0, nl + 1);
      this.buf = this.buf.subarray(nl + 1);
      this.append(part);
      const lit = /\{(\d{1,9})\}\r?\n$/.exec(part.toString('latin1'));
      if (lit) {
        const n = Number(lit[1]);
        if (n > MAX_LITERAL) return this.abort(`an IMAP literal of ${n} bytes is larger than ${MAX_LITERAL}`);
        this.literalLeft = n;
        continue;
      }
      const line = Buffer.concat(this.pendingLine).toString('utf8').replace(/\r?\n$/, '');
      this.pendingLine = [];
      this.pendingBytes = 0;
      this.onLine(line);
    }
  }

  private append(b: Buffer): void {
    this.pendingLine.push(b);
    this.pendingBytes += b.length;
    if (this.pendingBytes > MAX_LINE + MAX_LITERAL) this.abort('an IMAP response is too long');
  }

  private abort(why: string): void {
    this.fail(new ImapError(why));
    this.socket.destroy();
  }

  private onLine(line: string): void {
    const w = this.waiter;
    if (line.startsWith('+')) {
      const c = this.cont;
      this.cont = null;
      c?.resolve({ untagged: [], status: 'OK', text: line.slice(1).trim() });
      return;
    }
    if (line.startsWith('* ')) {
      if (w?.kind === 'greeting') {
        this.waiter = null;
        const m = /^\* (OK|PREAUTH|BYE|NO|BAD)\b ?(.*)$/i.exec(line);
        const ok = m?.[1]?.toUpperCase() === 'OK';
        w.resolve({ untagged: [], status: ok ? 'OK' : 'NO', text: m?.[2] ?? line });
        return;
      }
      this.untaggedBytes += line.length;
      if (this.untaggedBytes > MAX_RESPONSE) return this.abort(`IMAP untagged output is larger than ${MAX_RESPONSE} bytes`);
      this.untagged.push(line);
      return;
    }
    const m = /^(\S+) (OK|NO|BAD)\b ?(.*)$/i.exec(line);
    if (!m) return this.abort(`unexpected IMAP line: ${line.slice(0, 80)}`);
    if (w?.kind === 'tagged' && w.tag === m[1]) {
      this.waiter = null;
      // A tagged answer instead of "+": the literal is not wanted; the command is over.
      const c = this.cont;
      this.cont = null;
      c?.resolve({ untagged: [], status: 'NO', text: '' });
      const untagged = this.untagged;
      this.untagged = [];
      this.untaggedBytes = 0;
      w.resolve({ untagged, status: m[2]!.toUpperCase() as ImapResponse['status'], text: m[3] ?? '' });
    }
  }
}

/** An IMAP quoted string, or a literal when the value cannot be quoted (8-bit, CR, LF). */
export function imapString(s: string): string | Literal {
  return /^[\x20-\x7e]*$/.test(s) ? `"${s.replace(/(["\\])/g, '\\$1')}"` : { literal: Buffer.from(s, 'utf8') };
}

/** The UIDs of a "* SEARCH ..." response. */
export function searchUids(r: ImapResponse): number[] {
  const out: number[] = [];
  for (const l of r.untagged) {
    const m = /^\* SEARCH((?: \d+)*)\s*$/i.exec(l);
    if (m) for (const n of m[1]!.trim().split(' ')) if (n) out.push(Number(n));
  }
  return out;
}
