/**
 * A ScanEngine over clamd (ClamAV's daemon): the message is streamed with
 * INSTREAM (4-byte big-endian chunk lengths, a zero chunk to end) over a Unix
 * socket or TCP. clamd decodes MIME and unpacks archives itself. Every
 * connection has a timeout on connect and on each read and write, the reply
 * is capped, and the number of connections open at once is capped (scans
 * beyond it wait for a slot, under their own signal). clamd answering
 * "... ERROR" (e.g. the size limit) is never taken as clean.
 */
import { createConnection, type Socket } from 'node:net';
import { EngineUnavailable, type Detection, type EngineHealth, type EngineResult, type ScanEngine } from './engine.js';

export interface ClamdOptions {
  /** A Unix socket path (LocalSocket); when set, host/port are ignored. */
  readonly socket?: string;
  readonly host?: string;
  readonly port?: number;
  /** Connections open to clamd at once (clamd's MaxThreads bounds it too). */
  readonly maxConnections: number;
  /** Milliseconds for the connect and for each read or write. */
  readonly timeoutMs: number;
  /** Bytes per INSTREAM chunk (default 64 KiB). */
  readonly chunkBytes?: number;
  readonly now?: () => number;
}

export const CLAMAV = 'clamav';
const MAX_REPLY = 4096;
const MAX_SIGNATURE = 200;

/** A counting semaphore whose waiters give up when their signal aborts. */
class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];
  constructor(n: number) {
    this.free = n;
  }

  async take(signal: AbortSignal): Promise<() => void> {
    if (signal.aborted) throw new EngineUnavailable(CLAMAV, 'scan aborted');
    if (this.free > 0) {
      this.free--;
      return this.releaser();
    }
    await new Promise<void>((resolve, reject) => {
      const go = () => {
        signal.removeEventListener('abort', abort);
        resolve();
      };
      const abort = () => {
        const i = this.waiting.indexOf(go);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(new EngineUnavailable(CLAMAV, 'scan aborted while waiting for a connection'));
      };
      this.waiting.push(go);
      signal.addEventListener('abort', abort, { once: true });
    });
    return this.releaser();
  }

  private releaser(): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    };
  }
}

/** What clamd said about a stream: detections, or null when it said OK. Throws on ERROR or anything unexpected. */
export function parseScanReply(reply: string): Detection[] {
  const lines = reply
    .split(/[\0\n]/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
  if (lines.length === 0) throw new EngineUnavailable(CLAMAV, 'empty reply');
  const found: Detection[] = [];
  let ok = false;
  for (const line of lines) {
    if (line.endsWith(' ERROR')) throw new EngineUnavailable(CLAMAV, `clamd: ${printable(line)}`);
    const m = /^(?:\d+: )?stream: (.+) FOUND$/.exec(line);
    if (m) found.push({ engine: CLAMAV, signature: printable(m[1]!).slice(0, MAX_SIGNATURE), part: null });
    else if (/^(?:\d+: )?stream: OK$/.test(line)) ok = true;
    else throw new EngineUnavailable(CLAMAV, `unexpected reply: ${printable(line).slice(0, 100)}`);
  }
  if (!ok && found.length === 0) throw new EngineUnavailable(CLAMAV, 'no verdict in reply');
  return found;
}

/** "ClamAV 1.4.6/27480/Wed Dec  2 09:31:00 2026" → version string and database time. */
export function parseVersion(reply: string): { version: string; signaturesAt: number | null } {
  const v = printable(reply.replace(/\0/g, '').trim()).slice(0, 200);
  const parts = v.split('/');
  const at = parts.length >= 3 ? Date.parse(`${parts.slice(2).join('/')} UTC`) : NaN;
  return { version: v, signaturesAt: Number.isFinite(at) ? at : null };
}

function printable(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '?');
}

export class ClamdEngine implements ScanEngine {
  readonly name = CLAMAV;
  private readonly slots: Slots;
  private readonly chunk: number;
  private readonly now: () => number;
  private readonly open = new Set<Socket>();
  private lastVersion: string | null = null;

  constructor(private readonly o: ClamdOptions) {
    if (!o.socket && !(o.host && o.port)) throw new Error('clamav: set socket, or host and port');
    this.slots = new Slots(Math.max(1, o.maxConnections));
    this.chunk = Math.max(1024, o.chunkBytes ?? 65_536);
    this.now = o.now ?? Date.now;
  }

  get address(): string {
    return this.o.socket ?? `${this.o.host}:${this.o.port}`;
  }

  async scan(raw: Uint8Array, signal: AbortSignal): Promise<EngineResult> {
    const started = this.now();
    const reply = await this.talk(signal, async (send) => {
      await send(Buffer.from('zINSTREAM\0', 'latin1'));
      for (let at = 0; at < raw.byteLength; at += this.chunk) {
        const part = raw.subarray(at, Math.min(raw.byteLength, at + this.chunk));
        const len = Buffer.alloc(4);
        len.writeUInt32BE(part.byteLength);
        await send(len);
        await send(part);
      }
      await send(Buffer.alloc(4));
    });
    return { engine: CLAMAV, detections: parseScanReply(reply), version: this.lastVersion, ms: this.now() - started };
  }

  async health(signal: AbortSignal): Promise<EngineHealth> {
    try {
      const pong = (await this.talk(signal, (send) => send(Buffer.from('zPING\0', 'latin1')))).replace(/\0/g, '').trim();
      if (pong !== 'PONG') return { engine: CLAMAV, up: false, version: null, signaturesAt: null, detail: `PING answered ${printable(pong).slice(0, 50)}` };
      const v = parseVersion(await this.talk(signal, (send) => send(Buffer.from('zVERSION\0', 'latin1'))));
      this.lastVersion = v.version;
      return { engine: CLAMAV, up: true, version: v.version, signaturesAt: v.signaturesAt, detail: this.address };
    } catch (e) {
      return { engine: CLAMAV, up: false, version: null, signaturesAt: null, detail: e instanceof Error ? e.message : String(e) };
    }
  }

  async close(): Promise<void> {
    for (const s of this.open) s.destroy();
    this.open.clear();
  }

  /** One connection: runs `write`, then reads the reply until NUL or close, under the slot cap, the timeout and the signal. */
  private async talk(signal: AbortSignal, write: (send: (b: Uint8Array) => Promise<void>) => Promise<void>): Promise<string> {
    const release = await this.slots.take(signal);
    try {
      return await this.connection(signal, write);
    } finally {
      release();
    }
  }

  private connection(signal: AbortSignal, write: (send: (b: Uint8Array) => Promise<void>) => Promise<void>): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      if (signal.aborted) return reject(new EngineUnavailable(CLAMAV, 'scan aborted'));
      const sock = this.o.socket ? createConnection({ path: this.o.socket }) : createConnection({ host: this.o.host!, port: this.o.port! });
      this.open.add(sock);
      const chunks: Buffer[] = [];
      let size = 0;
      let settled = false;
      let writeError: Error | null = null;
      const finish = (err: Error | null) => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        this.open.delete(sock);
        sock.destroy();
        const text = Buffer.concat(chunks).toString('latin1');
        if (err && text === '') reject(err instanceof EngineUnavailable ? err : new EngineUnavailable(CLAMAV, err.message, { cause: err }));
        else if (!err && text === '' && writeError) reject(new EngineUnavailable(CLAMAV, writeError.message, { cause: writeError }));
        // clamd may answer (e.g. "size limit exceeded. ERROR") and close while we still write: its words win.
        else resolve(text);
      };
      const onAbort = () => finish(new EngineUnavailable(CLAMAV, 'scan aborted'));
      signal.addEventListener('abort', onAbort, { once: true });
      sock.setTimeout(this.o.timeoutMs, () => finish(new EngineUnavailable(CLAMAV, `no progress for ${this.o.timeoutMs} ms (${this.address})`)));
      sock.on('error', (e) => finish(new EngineUnavailable(CLAMAV, `${this.address}: ${e.message}`, { cause: e })));
      sock.on('data', (d: Buffer) => {
        const room = MAX_REPLY - size;
        if (room <= 0) return;
        const part = d.subarray(0, room);
        chunks.push(part);
        size += part.length;
        if (part.includes(0) || size >= MAX_REPLY) finish(null);
      });
      sock.on('end', () => finish(null));
      sock.on('close', () => finish(null));
      sock.once('connect', () => {
        const send = (b: Uint8Array) =>
          new Promise<void>((ok, fail) => {
            if (settled || sock.destroyed) return fail(new Error('connection closed'));
            sock.write(b, (e) => (e ? fail(e) : undefined));
            // Backpressure: wait for the buffer to drain (or the connection to end) before the next chunk.
            if (sock.writableNeedDrain) {
              const done = () => {
                sock.off('drain', done);
                sock.off('close', done);
                ok();
              };
              sock.on('drain', done);
              sock.on('close', done);
            } else ok();
          });
        write(send).catch((e: unknown) => {
          writeError = e instanceof Error ? e : new Error(String(e));
        });
      });
    });
  }
}
