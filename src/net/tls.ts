import { readFileSync } from 'node:fs';
import type { SecureContextOptions } from 'node:tls';

export interface TlsFiles {
  cert: string;
  key: string;
  minVersion: 'TLSv1.2' | 'TLSv1.3';
}

/**
 * TLS settings shared by every listener: TLS 1.2 or newer, forward-secret
 * AEAD suites only, server cipher order. Reads the key once at start.
 */
export function loadTlsOptions(files: TlsFiles): SecureContextOptions {
  return {
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
  };
}
