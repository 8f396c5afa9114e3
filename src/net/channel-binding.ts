/**
 * Channel-binding data of a TLS connection for SCRAM-SHA-256-PLUS:
 * tls-exporter (RFC 9266) on TLS 1.3 only — on TLS 1.2 it is safe only with
 * the extended master secret, which node does not let us confirm — and
 * tls-server-end-point (RFC 5929) on any version. Empty outside TLS, so the
 * caller advertises -PLUS only where it can be used.
 */
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { serverEndPointHash, type ChannelBindingType } from '../crypto/scram.js';

export type ChannelBindings = Partial<Record<ChannelBindingType, Buffer>>;

export function channelBindings(socket: Socket | TLSSocket | null | undefined): ChannelBindings {
  if (!(socket instanceof TLSSocket) || !socket.encrypted) return {};
  const out: ChannelBindings = {};
  try {
    if (socket.getProtocol() === 'TLSv1.3') out['tls-exporter'] = socket.exportKeyingMaterial(32, 'EXPORTER-Channel-Binding', Buffer.alloc(0));
    const cert = socket.getX509Certificate();
    if (cert) out['tls-server-end-point'] = serverEndPointHash(cert.raw);
  } catch {
    // A socket closing under us has no keying material: offer no binding.
    return {};
  }
  return out;
}
