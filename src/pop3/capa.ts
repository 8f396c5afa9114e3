/** The CAPA listing (RFC 2449): what a client may use depends on TLS and on the session state. */

export interface CapaState {
  /** The listener offers STLS (port 110). */
  stlsOffered: boolean;
  /** TLS is active on this connection. */
  secure: boolean;
  /** Logged in (TRANSACTION state). */
  authenticated: boolean;
  /** SASL mechanisms besides PLAIN (SCRAM; -PLUS only with channel-binding data). */
  scram?: readonly string[];
}

export function capabilities(s: CapaState): string[] {
  const caps: string[] = [];
  // Credentials are only ever accepted inside TLS: before it, USER and SASL are not offered.
  if (s.secure && !s.authenticated) caps.push('USER', ['SASL', ...(s.scram ?? []), 'PLAIN'].join(' '));
  if (s.stlsOffered && !s.secure && !s.authenticated) caps.push('STLS');
  caps.push('TOP', 'UIDL', 'RESP-CODES', 'AUTH-RESP-CODE', 'PIPELINING', 'EXPIRE NEVER');
  // RFC 6856: UTF8 is a command of the AUTHORIZATION state; "USER": names and passwords may be UTF-8.
  if (!s.authenticated) caps.push('UTF8 USER');
  caps.push('IMPLEMENTATION postern');
  return caps;
}
