/**
 * A stub resolver that asks one configured recursive resolver over UDP (TCP
 * when the answer is truncated) and reports its AD bit. DNSSEC validation is
 * the resolver's job: point it at a validating resolver you trust, reached
 * over a path nobody can tamper with (normally one on 127.0.0.1).
 */
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { isIP } from 'node:net';
import { getServers } from 'node:dns';
import { randomInt } from 'node:crypto';
import * as dnsPacket from 'dns-packet';
import { canonicalName, type DnsAnswer, type DnsResolver, type MxRecord, type SrvRecord, type TlsaRecord } from './types.js';

export interface WireResolverOptions {
  /** "127.0.0.1", "127.0.0.1:5353" or "[::1]:53"; default: the system's first name server. */
  server?: string;
  timeoutMs?: number;
  /** UDP attempts before giving up (each waits timeoutMs). */
  tries?: number;
}

type QType = 'MX' | 'A' | 'AAAA' | 'TXT' | 'TLSA' | 'PTR' | 'SRV' | 'CNAME';
type Decoded = dnsPacket.DecodedPacket & { rcode?: string };

const MAX_TCP_ANSWER = 65_535;

export function parseServer(spec: string): { host: string; port: number } {
  const s = spec.trim();
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (v6) return { host: v6[1]!, port: v6[2] ? Number(v6[2]) : 53 };
  if (isIP(s) === 6) return { host: s, port: 53 };
  const m = /^([^:]+)(?::(\d+))?$/.exec(s);
  if (!m || isIP(m[1]!) === 0) throw new RangeError(`not a resolver address: ${JSON.stringify(spec)} (expected an IP, optionally :port)`);
  const port = m[2] ? Number(m[2]) : 53;
  if (port < 1 || port > 65535) throw new RangeError(`resolver port out of range: ${spec}`);
  return { host: m[1]!, port };
}

export class WireResolver implements DnsResolver {
  private readonly host: string;
  private readonly port: number;
  private readonly timeoutMs: number;
  private readonly tries: number;

  constructor(opts: WireResolverOptions = {}) {
    const server = opts.server || getServers()[0] || '127.0.0.1';
    ({ host: this.host, port: this.port } = parseServer(server));
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.tries = opts.tries ?? 2;
  }

  async mx(name: string): Promise<DnsAnswer<MxRecord>> {
    return this.lookup(name, 'MX', (d) => {
      const m = d as dnsPacket.MxData;
      return { exchange: canonicalName(m.exchange), preference: m.preference ?? 0 };
    });
  }

  async a(name: string): Promise<DnsAnswer<string>> {
    return this.lookup(name, 'A', (d) => String(d));
  }

  async aaaa(name: string): Promise<DnsAnswer<string>> {
    return this.lookup(name, 'AAAA', (d) => String(d));
  }

  async txt(name: string): Promise<DnsAnswer<string>> {
    return this.lookup(name, 'TXT', (d) => {
      const parts = Array.isArray(d) ? d : [d as string | Buffer];
      return parts.map((p) => (Buffer.isBuffer(p) ? p.toString('utf8') : String(p))).join('');
    });
  }

  async tlsa(name: string): Promise<DnsAnswer<TlsaRecord>> {
    return this.lookup(name, 'TLSA', (d) => {
      const t = d as dnsPacket.TlsaData;
      return { usage: t.usage, selector: t.selector, matchingType: t.matchingType, data: Buffer.from(t.certificate) };
    });
  }

  async ptr(name: string): Promise<DnsAnswer<string>> {
    return this.lookup(name, 'PTR', (d) => canonicalName(String(d)));
  }

  async srv(name: string): Promise<DnsAnswer<SrvRecord>> {
    return this.lookup(name, 'SRV', (d) => {
      const r = d as dnsPacket.SrvData;
      return { priority: r.priority ?? 0, weight: r.weight ?? 0, port: r.port, target: canonicalName(r.target) };
    });
  }

  async cname(name: string): Promise<DnsAnswer<string>> {
    return this.lookup(name, 'CNAME', (d) => canonicalName(String(d)));
  }

  private async lookup<T>(name: string, type: QType, map: (data: unknown) => T): Promise<DnsAnswer<T>> {
    const qname = canonicalName(name);
    let res: Decoded;
    try {
      res = await this.query(qname, type);
    } catch (e) {
      return { status: 'temperror', reason: e instanceof Error ? e.message : String(e) };
    }
    const authenticated = (res.flags ?? 0) & dnsPacket.AUTHENTIC_DATA ? true : false;
    const rcode = res.rcode ?? 'NOERROR';
    if (rcode === 'NXDOMAIN') return { status: 'nxdomain', authenticated };
    if (rcode !== 'NOERROR') return { status: 'temperror', reason: `${type} ${qname}: ${rcode}` };
    const records: T[] = [];
    let ttl = Infinity;
    for (const a of res.answers ?? []) {
      if (a.type !== type) continue; // CNAMEs the resolver followed, RRSIGs
      try {
        records.push(map((a as { data: unknown }).data));
        ttl = Math.min(ttl, (a as { ttl?: number }).ttl ?? 0);
      } catch {
        return { status: 'temperror', reason: `${type} ${qname}: malformed record` };
      }
    }
    return records.length > 0 ? { status: 'ok', records, authenticated, ttl } : { status: 'nodata', authenticated };
  }

  private async query(name: string, type: QType): Promise<Decoded> {
    let last: unknown = new Error('no attempt');
    for (let i = 0; i < this.tries; i++) {
      const id = randomInt(0, 65536);
      const packet = encodeQuery(id, name, type);
      try {
        const res = await this.udp(packet, id, name, type);
        if (!res.flag_tc) return res;
        return await this.tcp(packet, id, name, type);
      } catch (e) {
        last = e;
      }
    }
    throw last instanceof Error ? last : new Error(String(last));
  }

  private udp(packet: Buffer, id: number, name: string, type: QType): Promise<Decoded> {
    return new Promise((resolve, reject) => {
      const sock = createSocket(isIP(this.host) === 6 ? 'udp6' : 'udp4');
      const done = (err: Error | null, res?: Decoded) => {
        clearTimeout(timer);
        sock.close();
        if (err) reject(err);
        else resolve(res!);
      };
      const timer = setTimeout(() => done(new Error(`${type} ${name}: timeout after ${this.timeoutMs} ms`)), this.timeoutMs);
      sock.on('error', (e) => done(e));
      sock.on('message', (msg, rinfo) => {
        // Only the server we asked, with our id and our question: anything else is ignored (spoofing).
        if (rinfo.address !== this.host || rinfo.port !== this.port) return;
        const res = decodeAnswer(msg, id, name, type);
        if (res) done(null, res);
      });
      sock.send(packet, this.port, this.host);
    });
  }

  private tcp(packet: Buffer, id: number, name: string, type: QType): Promise<Decoded> {
    return new Promise((resolve, reject) => {
      const sock = connect({ host: this.host, port: this.port });
      let buf = Buffer.alloc(0);
      const done = (err: Error | null, res?: Decoded) => {
        clearTimeout(timer);
        sock.destroy();
        if (err) reject(err);
        else resolve(res!);
      };
      const timer = setTimeout(() => done(new Error(`${type} ${name}: TCP timeout after ${this.timeoutMs} ms`)), this.timeoutMs);
      sock.on('error', (e) => done(e));
      sock.on('connect', () => {
        const len = Buffer.alloc(2);
        len.writeUInt16BE(packet.length);
        sock.write(Buffer.concat([len, packet]));
      });
      sock.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        if (buf.length > MAX_TCP_ANSWER + 2) return done(new Error('oversized TCP answer'));
        if (buf.length < 2) return;
        const n = buf.readUInt16BE(0);
        if (buf.length < n + 2) return;
        const res = decodeAnswer(buf.subarray(2, n + 2), id, name, type);
        done(res ? null : new Error(`${type} ${name}: mismatched TCP answer`), res ?? undefined);
      });
      sock.on('end', () => done(new Error(`${type} ${name}: connection closed`)));
    });
  }
}

function encodeQuery(id: number, name: string, type: QType): Buffer {
  return dnsPacket.encode({
    type: 'query',
    id,
    // AD in a query asks the resolver to report validation (RFC 6840 5.7).
    flags: dnsPacket.RECURSION_DESIRED | dnsPacket.AUTHENTIC_DATA,
    questions: [{ type, name, class: 'IN' }],
    additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232 } as dnsPacket.Answer],
  });
}

function decodeAnswer(msg: Buffer, id: number, name: string, type: QType): Decoded | null {
  let res: Decoded;
  try {
    res = dnsPacket.decode(msg) as Decoded;
  } catch {
    return null;
  }
  if (res.type !== 'response' || res.id !== id) return null;
  const q = res.questions?.[0];
  if (!q || q.type !== type || canonicalName(q.name) !== name) return null;
  return res;
}
