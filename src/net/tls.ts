import { constants } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { SecureContextOptions, TLSSocket } from 'node:tls';

export interface TlsFiles {
  cert: string;
  key: string;
  minVersion: 'TLSv1.2' | 'TLSv1.3';
}

/**
 * OpenSSL's switch that refuses every renegotiation (TLS 1.2 and older; TLS 1.3
 * has none). Node 20 ships OpenSSL 3, which has it; the fallback value is
 * OpenSSL's own, so the option is never silently dropped.
 */
const NO_RENEGOTIATION: number = constants.SSL_OP_NO_RENEGOTIATION ?? 0x40000000;

/**
 * TLS settings shared by every listener: TLS 1.2 or newer, forward-secret
 * AEAD suites only, server cipher order. Reads the key once at start.
 */
export function loadTlsOptions(files: TlsFiles): SecureContextOptions {
  return serverTlsOptions({
    cert: readFileSync(files.cert),
    key: readFileSync(files.key),
    minVersion: files.minVersion,
    ciphers: [
      'TLS_AES_256_GCM_SHA384',
      'TLS_CHACHA20_POLY1305_SHA256',
      'TLS_AES_128_GCM_SHA256',
      'ECDHE-ECDSA-AES256-GCM-SHA384',
      'ECDHE-RSA-AES256-GCM-SHA384',
      'ECDHE-ECDSA-CHACHA20-POLY1305',
      'ECDHE-RSA-CHACHA20-POLY1305',
      'ECDHE-ECDSA-AES128-GCM-SHA256',
      'ECDHE-RSA-AES128-GCM-SHA256',
    ].join(':'),
    honorCipherOrder: true,
  });
}

/**
 * The options every listener builds its secure context from, whatever it was
 * handed: client-initiated renegotiation is refused by OpenSSL itself (each
 * one costs the server a full handshake, so allowing it lets one client burn
 * CPU at will), and TLS 1.2 is the floor.
 */
export function serverTlsOptions(opts: SecureContextOptions): SecureContextOptions {
  return {
    ...opts,
    minVersion: opts.minVersion ?? 'TLSv1.2',
    secureOptions: (opts.secureOptions ?? 0) | NO_RENEGOTIATION,
  };
}

/**
 * Second lock for sockets postern wraps itself (IMAP, POP3): Node reports any
 * TLS error of a server-side TLSSocket — a failed handshake (a client offering
 * only old protocol versions), a renegotiation flood when a context without
 * NO_RENEGOTIATION was used — as '_tlsError', which nothing else listens to;
 * the connection is cut and the error reported.
 */
export function guardTlsSocket(socket: TLSSocket, onError: (err: Error) => void): void {
  socket.on('_tlsError', (err: Error) => {
    onError(err);
    socket.destroy();
  });
}
