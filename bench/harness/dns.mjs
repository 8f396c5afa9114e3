// A DNS server on loopback that knows no names: every query gets NXDOMAIN.
// postern's sender authentication (SPF, DKIM, DMARC) asks it, so a
// benchmark never sends a query off the machine and never waits on one.
import dgram from 'node:dgram';
import { bindInRange } from './procs.mjs';

/**
 * The NXDOMAIN reply to one query (a datagram, at most 64 KiB): its header
 * with QR, RA and RCODE 3 set and no records, and its first question; null
 * when it is not a well-formed query.
 */
export function nxdomainReply(q) {
  if (q.length < 12 || q[2] & 0x80) return null;
  const qd = q.readUInt16BE(4);
  let at = 12;
  if (qd > 0) {
    for (let labels = 0; ; labels++) {
      if (at >= q.length || labels > 127) return null;
      const len = q[at];
      if (len === 0) break;
      if (len & 0xc0) return null; // no compression in a question of a query
      at += 1 + len;
    }
    at += 1 + 4; // root label, QTYPE, QCLASS
    if (at > q.length) return null;
  }
  const r = Buffer.from(q.subarray(0, at));
  r[2] = 0x80 | (q[2] & 0x79); // QR, the query's opcode and RD
  r[3] = 0x80 | 3; // RA, NXDOMAIN
  r.writeUInt16BE(Math.min(qd, 1), 4);
  r.fill(0, 6, 12);
  return r;
}

export async function startNxdomain() {
  // A socket whose bind failed cannot bind again: a new one per port tried.
  const sock = await bindInRange(
    (port) =>
      new Promise((resolve, reject) => {
        const s = dgram.createSocket('udp4');
        s.once('error', (e) => (s.close(), reject(e)));
        s.bind(port, '127.0.0.1', () => {
          s.removeAllListeners('error');
          resolve(s);
        });
      }),
  );
  sock.on('message', (msg, rinfo) => {
    const reply = nxdomainReply(msg);
    if (reply) sock.send(reply, rinfo.port, rinfo.address);
  });
  sock.unref();
  return { address: `127.0.0.1:${sock.address().port}`, close: () => sock.close() };
}
