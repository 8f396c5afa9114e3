/**
 * Deadlines and caps for both admin listeners, so a slow or idle client holds
 * a socket only briefly: 10 s for the TLS handshake and the request headers,
 * 30 s for a whole request, 30 s of silence in either direction (a reader
 * that leaves the response unread included), 5 s of idle keep-alive, 256
 * sockets, 8 KiB of headers (set at creation).
 */
import type { Server } from 'node:http';

export const ADMIN_LIMITS = {
  handshakeTimeoutMs: 10_000,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  socketIdleMs: 30_000,
  keepAliveMs: 5_000,
  maxConnections: 256,
  maxHeaderBytes: 8192,
  maxRequestsPerSocket: 100,
  // How often Node checks the header and request deadlines (its default, 30 s, would let them run late).
  checkIntervalMs: 2_000,
} as const;

export function applyHttpLimits(server: Server): void {
  server.headersTimeout = ADMIN_LIMITS.headersTimeoutMs;
  server.requestTimeout = ADMIN_LIMITS.requestTimeoutMs;
  server.keepAliveTimeout = ADMIN_LIMITS.keepAliveMs;
  server.maxConnections = ADMIN_LIMITS.maxConnections;
  server.maxRequestsPerSocket = ADMIN_LIMITS.maxRequestsPerSocket;
  // Without a callback, a socket silent for this long is destroyed.
  server.setTimeout(ADMIN_LIMITS.socketIdleMs);
}
