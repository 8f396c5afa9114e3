/**
 * A tiny authoritative-and-validating DNS server for tests, on 127.0.0.1:
 * answers UDP and TCP from an in-memory zone and sets the AD bit for names
 * marked secure, as a validating resolver would. Not for production.
 */
import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server, type Socket as TcpSocket } from 'node:net';
import * as dnsPacket from 'dns-packet';
import { canonicalName } from '../types.js';
import type { ZoneEntry } from '../memory.js';

export interface ZoneServerOptions {
  /** Answer every UDP query with TC set, so clients must retry over TCP. */
  truncateUdp?: boolean;
  /** Drop every UDP query unanswered (a dead resolver). */
  silent?: boolean;
}

const RCODE = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3 } as const;

export class ZoneServer {
  readonly zone = new Map<string, ZoneEntry>();
  readonly queries: string[] = [];
  private udp: Socket | null = null;
  private tcp: Server | null = null;
  private readonly conns = new Set<TcpSocket>();
  port = 0;

  constructor(
    zone: Record<string, ZoneEntry> = {},
    private readonly opts: ZoneServerOptions = {},
  ) {
    for (const [n, e] of Object.entries(zone)) this.zone.set(canonicalName(n), e);
  }

  /** "127.0.0.1:port", the form WireResolver and the config take. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /**
   * Binds UDP on a free port, then TCP on the same number. That number can be
   * taken for TCP (another test's client socket), so a clash starts over.
   */
  async start(): Promise<this> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.bindBoth();
      } catch (err) {
        await this.stop();
        if ((err as { code?: string }).code !== 'EADDRINUSE' || attempt >= 20) throw err;
      }
    }
  }

  private async bindBoth(): Promise<this> {
    const udp = createSocket('udp4');
    this.udp = udp;
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(0, '127.0.0.1', () => resolve());
    });
    this.port = udp.address().port;
    udp.on('message', (msg, rinfo) => {
      if (this.opts.silent) return;
      const out = this.answer(msg, this.opts.truncateUdp === true);
      if (out) udp.send(out, rinfo.port, rinfo.address);
    });
    const tcp = createServer((s) => {
      this.conns.add(s);
      s.on('close', () => this.conns.delete(s));
      s.on('error', () => undefined);
      let buf = Buffer.alloc(0);
      s.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        while (buf.length >= 2 && buf.length >= buf.readUInt16BE(0) + 2) {
          const n = buf.readUInt16BE(0);
          const out = this.answer(buf.subarray(2, n + 2), false);
          buf = buf.subarray(n + 2);
          if (!out) continue;
          const len = Buffer.alloc(2);
          len.writeUInt16BE(out.length);
          s.write(Buffer.concat([len, out]));
        }
      });
    });
    this.tcp = tcp;
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(this.port, '127.0.0.1', () => resolve());
    });
    return this;
  }

  /** Lets the process exit while the server still listens (a server shared by a whole test file). */
  unref(): this {
    this.udp?.unref();
    this.tcp?.unref();
    return this;
  }

  async stop(): Promise<void> {
    for (const c of this.conns) c.destroy();
    await Promise.all([
      new Promise<void>((r) => (this.udp ? this.udp.close(() => r()) : r())),
      new Promise<void>((r) => (this.tcp ? this.tcp.close(() => r()) : r())),
    ]);
    this.udp = null;
    this.tcp = null;
  }

  private answer(msg: Buffer, truncate: boolean): Buffer | null {
    let q: dnsPacket.DecodedPacket;
    try {
      q = dnsPacket.decode(msg);
    } catch {
      return null;
    }
    const question = q.questions?.[0];
    if (!question) return null;
    const name = canonicalName(question.name);
    this.queries.push(`${question.type} ${name}`);
    const entry = this.zone.get(name);
    let rcode: number = RCODE.NOERROR;
    const answers: dnsPacket.Answer[] = [];
    if (!entry) rcode = RCODE.NXDOMAIN;
    else if (entry.fail?.includes(question.type as 'MX')) rcode = RCODE.SERVFAIL;
    else if (!truncate) answers.push(...recordsOf(entry, question.type, question.name));
    const secure = entry?.secure === true && rcode !== RCODE.SERVFAIL;
    const flags =
      dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | (secure ? dnsPacket.AUTHENTIC_DATA : 0) | (truncate ? dnsPacket.TRUNCATED_RESPONSE : 0) | rcode;
    return dnsPacket.encode({ type: 'response', id: q.id ?? 0, flags, questions: [question], answers });
  }
}

function recordsOf(e: ZoneEntry, type: string, name: string): dnsPacket.Answer[] {
  const base = { name, ttl: 60, class: 'IN' as const };
  switch (type) {
    case 'A':
      return (e.A ?? []).map((data) => ({ ...base, type: 'A', data }));
    case 'AAAA':
      return (e.AAAA ?? []).map((data) => ({ ...base, type: 'AAAA', data }));
    case 'MX':
      return (e.MX ?? []).map((m) => ({ ...base, type: 'MX', data: { preference: m.preference, exchange: m.exchange === '' ? '.' : m.exchange } }));
    case 'TXT':
      return (e.TXT ?? []).map((t) => ({ ...base, type: 'TXT', data: chunk(t) }));
    case 'TLSA':
      return (e.TLSA ?? []).map((t) => ({
        ...base,
        type: 'TLSA',
        data: { usage: t.usage, selector: t.selector, matchingType: t.matchingType, certificate: t.data },
      }));
    case 'SRV':
      return (e.SRV ?? []).map((r) => ({ ...base, type: 'SRV', data: { priority: r.priority, weight: r.weight, port: r.port, target: r.target === '' ? '.' : r.target } }));
    case 'CNAME':
      return (e.CNAME ?? []).map((data) => ({ ...base, type: 'CNAME', data }));
    default:
      return [];
  }
}

/** TXT character-strings are at most 255 bytes. */
function chunk(s: string): Buffer[] {
  const b = Buffer.from(s, 'utf8');
  const out: Buffer[] = [];
  for (let i = 0; i < b.length; i += 255) out.push(b.subarray(i, i + 255));
  return out.length ? out : [Buffer.alloc(0)];
}
