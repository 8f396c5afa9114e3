/**
 * Which client services a configuration file may point at: only TLS ones
 * that are listening now (implicit TLS for IMAP, POP3 and submission, and
 * submission with STARTTLS), never plain IMAP or POP3. Read from the bound
 * listeners, so a disabled or failed listener is never advertised.
 */
import type { ListenerInfo } from '../app.js';

export interface ClientEndpoint {
  readonly protocol: 'imap' | 'pop3' | 'smtp';
  readonly port: number;
  /** Thunderbird's socketType: "SSL" is implicit TLS. */
  readonly socket: 'SSL' | 'STARTTLS';
}

// The names cli/start.ts gives its listeners, in the order clients should prefer them.
const ADVERTISED: readonly (readonly [string, ClientEndpoint['protocol'], ClientEndpoint['socket']])[] = [
  ['imaps', 'imap', 'SSL'],
  ['pop3s', 'pop3', 'SSL'],
  ['smtp submissions', 'smtp', 'SSL'],
  ['smtp submission', 'smtp', 'STARTTLS'],
];

export function clientEndpoints(listeners: readonly ListenerInfo[]): ClientEndpoint[] {
  const out: ClientEndpoint[] = [];
  for (const [name, protocol, socket] of ADVERTISED) {
    const l = listeners.find((x) => x.name === name);
    // A listener whose TLS mode is not what its name promises is not advertised.
    if (l && (socket === 'SSL' ? l.tls === 'implicit' : l.tls === 'starttls')) out.push({ protocol, port: l.port, socket });
  }
  return out;
}
