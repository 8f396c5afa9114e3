/**
 * A POP3 listener: 'stls' (port 110, plaintext until STLS) or 'tls' (port
 * 995, implicit TLS). Both use postern's own certificate only; the shared
 * line-protocol listener applies the connection limits.
 */
import { createLineListener } from '../net/line-protocol/listener.js';
import { Pop3Connection } from './connection.js';
import { MaildropLocks } from './locks.js';
import { Pop3Session, type SessionContext } from './session.js';
import type { Pop3Deps, Pop3Listener, Pop3Mode } from './types.js';

export function createPop3Listener(mode: Pop3Mode, deps: Pop3Deps): Pop3Listener {
  const ctx: SessionContext = { mode, deps, locks: MaildropLocks.forStore(deps.mailboxes) };
  return createLineListener({
    name: mode === 'tls' ? 'pop3s' : 'pop3',
    implicitTls: mode === 'tls',
    tls: deps.tls,
    limits: deps.limits,
    log: deps.log,
    connection: (socket, opts) => new Pop3Connection(socket, opts),
    session: (wire, ip, log) => new Pop3Session(ctx, wire, ip, log),
  });
}
