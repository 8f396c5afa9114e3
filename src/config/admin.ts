/**
 * [admin]: the HTTPS listener that serves /metrics and the JSON API. It uses
 * the certificate, key and minimum version of [tls]. Access needs a bearer
 * token (read from metrics_token_file) or a client certificate signed by
 * client_ca; with neither, /metrics is refused. redirect_port, when set,
 * is a plain-HTTP listener that only answers 301 to https.
 */
import { bool, filePath, int, listenAddress, table } from './values.js';

export function adminSection(baseDir: string) {
  return table({
    enabled: bool().default(true),
    address: listenAddress().default('127.0.0.1'),
    port: int(1, 65535).default(8443),
    // A file whose first line is the bearer token (at least 32 characters; keep it mode 0600).
    metrics_token_file: filePath(baseDir).optional(),
    // PEM CA certificate(s): a client certificate it signed also grants access.
    client_ca: filePath(baseDir).optional(),
    redirect_port: int(1, 65535).optional(),
  }).prefault({});
}
