/**
 * The resolver postern is configured with: a UDP front on a fixed loopback
 * port that relays queries to a ZoneServer. `down()` closes the port (the
 * resolver is gone: queries get no answer), `up()` binds the same port again,
 * so the configured address stays valid across the fault.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { ZoneServer } from '../../src/net/dns/testing/zone-server.js';
import type { ZoneEntry } from '../../src/net/dns/memory.js';

export class DnsFront {
  private front: Socket | null = null;
  private back: Socket | null = null;
  private readonly pending = new Map<number, RemoteInfo>();
  port = 0;
  queries = 0;

  private constructor(private readonly zone: ZoneServer) {}

  static async start(zone: Record<string, ZoneEntry>): Promise<DnsFront> {
    const f = new DnsFront(await new ZoneServer(zone).start());
    const back = createSocket('udp4');
    await new Promise<void>((resolve) => back.bind(0, '127.0.0.1', () => resolve()));
    back.on('message', (msg) => {
      if (msg.length < 2) return;
      const id = msg.readUInt16BE(0);
      const to = f.pending.get(id);
      f.pending.delete(id);
      if (to && f.front) f.front.send(msg, to.port, to.address);
    });
    f.back = back;
    await f.up();
    return f;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  get isUp(): boolean {
    return this.front !== null;
  }

  async up(): Promise<void> {
    if (this.front) return;
    const s = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(this.port, '127.0.0.1', () => resolve());
    });
    s.on('error', () => undefined);
    this.port = s.address().port;
    s.on('message', (msg, rinfo) => {
      if (msg.length < 2 || !this.back) return;
      this.queries++;
      if (this.pending.size > 10_000) this.pending.clear(); // bounded: answers to forgotten queries are dropped
      this.pending.set(msg.readUInt16BE(0), rinfo);
      this.back.send(msg, this.zone.port, '127.0.0.1');
    });
    this.front = s;
  }

  async down(): Promise<void> {
    const s = this.front;
    this.front = null;
    this.pending.clear();
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }

  async stop(): Promise<void> {
    await this.down();
    const b = this.back;
    this.back = null;
    if (b) await new Promise<void>((r) => b.close(() => r()));
    await this.zone.stop();
  }
}
