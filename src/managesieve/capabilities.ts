/** The capability list (RFC 5804 section 1.7): what a client may use depends on TLS and on the session state. */

export interface CapabilityState {
  secure: boolean;
  authenticated: boolean;
  extensions: readonly string[];
}

export function capabilities(s: CapabilityState): [string, string?][] {
  const caps: [string, string?][] = [['IMPLEMENTATION', 'postern'], ['SIEVE', s.extensions.join(' ')]];
  // Credentials are only ever accepted inside TLS: before it, no mechanism is offered.
  caps.push(['SASL', s.secure && !s.authenticated ? 'PLAIN' : '']);
  if (!s.secure && !s.authenticated) caps.push(['STARTTLS']);
  caps.push(['UNAUTHENTICATE'], ['VERSION', '1.0']);
  return caps;
}
