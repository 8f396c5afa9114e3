/** CAPABILITY, NOOP, CHECK, LOGOUT, ID, ENABLE, NAMESPACE and IDLE. */
import {
  bye,
  capabilityResponse,
  continuation,
  enabledResponse,
  idResponse,
  namespaceResponse,
  ok,
} from '../../codec/imap/index.js';
import { ENABLEABLE } from '../capabilities.js';
import type { ImapSession } from '../session.js';
import type { Cmd } from './types.js';

export const DELIMITER = '/';

export async function capability(s: ImapSession, cmd: Cmd<'CAPABILITY'>): Promise<Buffer> {
  s.send(capabilityResponse(s.capabilities()));
  return ok(cmd.tag, 'CAPABILITY completed');
}

/** NOOP and CHECK: look for changes now, even without a notification (another process may have written). */
export async function noop(s: ImapSession, cmd: Cmd<'NOOP' | 'CHECK'>): Promise<Buffer> {
  if (s.selected) s.selected.dirty = true;
  return ok(cmd.tag, `${cmd.name} completed`);
}

export async function logout(s: ImapSession, cmd: Cmd<'LOGOUT'>): Promise<null> {
  s.send(bye('Logging out'));
  s.deselect();
  s.port.close(ok(cmd.tag, 'LOGOUT completed'));
  return null;
}

export async function id(s: ImapSession, cmd: Cmd<'ID'>): Promise<Buffer> {
  if (cmd.params) {
    // What the client says it is, bounded: the values are the client's to choose.
    const info = Object.fromEntries(cmd.params.slice(0, 30).map(([k, v]) => [k.slice(0, 32), v === null ? null : v.slice(0, 128)]));
    s.log.info({ clientId: info }, 'client id');
  }
  s.send(idResponse([['name', 'postern']], s.encode));
  return ok(cmd.tag, 'ID completed');
}

export async function enable(s: ImapSession, cmd: Cmd<'ENABLE'>): Promise<Buffer> {
  const newly: string[] = [];
  for (const c of cmd.capabilities) {
    const canon = ENABLEABLE.get(c);
    if (!canon || s.enabled.has(canon)) continue;
    s.enabled.add(canon);
    newly.push(canon);
    // RFC 7162 3.2.3: enabling QRESYNC enables CONDSTORE too.
    if (canon === 'QRESYNC') s.enabled.add('CONDSTORE');
    if (canon === 'QRESYNC' || canon === 'CONDSTORE') s.condstore = true;
  }
  s.send(enabledResponse(newly));
  return ok(cmd.tag, 'ENABLE completed');
}

export async function namespace(s: ImapSession, cmd: Cmd<'NAMESPACE'>): Promise<Buffer> {
  s.send(namespaceResponse([{ prefix: '', delimiter: DELIMITER }], null, null, s.encode));
  return ok(cmd.tag, 'NAMESPACE completed');
}

/** IDLE (RFC 2177): updates go out at once, and later as the notifier reports changes, until DONE. */
export async function idle(s: ImapSession, cmd: Cmd<'IDLE'>): Promise<null> {
  s.idleTag = cmd.tag;
  s.port.setReaderMode('idle');
  s.send(continuation('idling'));
  await s.updates(true, true);
  return null;
}
