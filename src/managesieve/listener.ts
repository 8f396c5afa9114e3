/**
 * The ManageSieve listener (RFC 5804, port 4190): plaintext until STARTTLS,
 * with postern's own certificate; the shared line-protocol listener applies
 * the connection limits.
 */
import { createLineListener } from '../net/line-protocol/listener.js';
import { ManageSieveConnection } from './connection.js';
import { ManageSieveSession } from './session.js';
import type { ManageSieveDeps, ManageSieveListener } from './types.js';

export function createManageSieveListener(deps: ManageSieveDeps): ManageSieveListener {
  return createLineListener({
    name: 'managesieve',
    implicitTls: false,
    tls: deps.tls,
    limits: deps.limits,
    log: deps.log,
    connection: (socket, opts) => new ManageSieveConnection(socket, opts),
    session: (wire, ip, log) => new ManageSieveSession(deps, wire, ip, log),
  });
}
