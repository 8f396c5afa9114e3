/**
 * postern's own TLS endpoints, from the configuration: each enabled listener
 * port, how TLS starts on it and the loopback address to reach it at.
 */
import type { Config } from '../config/index.js';

export type TlsStart = 'implicit' | 'smtp' | 'imap' | 'pop3';

export interface Endpoint {
  /** Short name used in check ids: mx, submission, submissions, imap, imaps, pop3, pop3s, admin. */
  readonly name: string;
  readonly start: TlsStart;
  readonly host: string;
  readonly port: number;
}

/** A wildcard address is reached on loopback; a specific one as it is. */
export function reachable(address: string): string {
  if (address === '0.0.0.0') return '127.0.0.1';
  if (address === '::') return '::1';
  return address;
}

export function tlsEndpoints(c: Config): Endpoint[] {
  const off = c.server.port_offset;
  const out: Endpoint[] = [];
  const add = (on: boolean, name: string, start: TlsStart, address: string, port: number): void => {
    if (on) out.push({ name, start, host: reachable(address), port: port + off });
  };
  add(c.smtp.mx.enabled, 'mx', 'smtp', c.smtp.mx.address, c.smtp.mx.port);
  add(c.smtp.submission.enabled, 'submission', 'smtp', c.smtp.submission.address, c.smtp.submission.port);
  add(c.smtp.submissions.enabled, 'submissions', 'implicit', c.smtp.submissions.address, c.smtp.submissions.port);
  add(c.imap.enabled, 'imap', 'imap', c.imap.address, c.imap.port);
  add(c.imap.enabled, 'imaps', 'implicit', c.imap.address, c.imap.tls_port);
  add(c.pop3.enabled, 'pop3', 'pop3', c.pop3.address, c.pop3.port);
  add(c.pop3.enabled, 'pop3s', 'implicit', c.pop3.address, c.pop3.tls_port);
  add(c.admin.enabled, 'admin', 'implicit', c.admin.address, c.admin.port);
  return out;
}

/** The plain HTTP port of the admin listener (redirects only), or null. */
export function redirectEndpoint(c: Config): { host: string; port: number } | null {
  if (!c.admin.enabled || c.admin.redirect_port === undefined) return null;
  return { host: reachable(c.admin.address), port: c.admin.redirect_port + c.server.port_offset };
}
