/** Which command runs in which state (RFC 9051 section 6), and the function that answers it. */
import type { ImapCommand, ImapCommandName } from '../../codec/imap/index.js';
import type { Cmd } from './types.js';
import type { ImapSession } from '../session.js';
import { append } from './append.js';
import { authenticate, login, starttls } from './auth.js';
import { capability, enable, id, idle, logout, namespace, noop } from './basic.js';
import { cancelUpdate } from './context.js';
import { copyOrMove } from './copy.js';
import { expunge } from './expunge.js';
import { fetch } from './fetch.js';
import { create, remove, rename, subscribe } from './folders.js';
import { list, lsub } from './list.js';
import { notify } from './notify.js';
import { getQuota, getQuotaRoot, setQuota } from './quota.js';
import { search } from './search.js';
import { sort } from './sort.js';
import { close, select, unselect } from './select.js';
import { status } from './status.js';
import { store } from './store.js';
import { thread } from './thread.js';
import { genUrlauth, resetKey, urlFetch } from './urlauth.js';

export type SessionState = 'notauth' | 'auth' | 'selected';

type Run<N extends ImapCommandName> = (s: ImapSession, cmd: Cmd<N>) => Promise<Buffer | null>;

export interface CommandEntry<N extends ImapCommandName> {
  readonly states: readonly SessionState[];
  /** Returns the tagged response, or null when the command answered (or closed) itself. */
  readonly run: Run<N>;
}

const ANY: readonly SessionState[] = ['notauth', 'auth', 'selected'];
const NOT_AUTH: readonly SessionState[] = ['notauth'];
const AUTH: readonly SessionState[] = ['auth', 'selected'];
const SELECTED: readonly SessionState[] = ['selected'];

export const COMMANDS: { readonly [N in Exclude<ImapCommandName, 'unknown'>]: CommandEntry<N> } = {
  CAPABILITY: { states: ANY, run: capability },
  NOOP: { states: ANY, run: noop },
  LOGOUT: { states: ANY, run: logout },
  ID: { states: ANY, run: id },
  STARTTLS: { states: NOT_AUTH, run: starttls },
  LOGIN: { states: NOT_AUTH, run: login },
  AUTHENTICATE: { states: NOT_AUTH, run: authenticate },
  ENABLE: { states: AUTH, run: enable },
  NAMESPACE: { states: AUTH, run: namespace },
  IDLE: { states: AUTH, run: idle },
  SELECT: { states: AUTH, run: select },
  EXAMINE: { states: AUTH, run: select },
  CREATE: { states: AUTH, run: create },
  DELETE: { states: AUTH, run: remove },
  RENAME: { states: AUTH, run: rename },
  SUBSCRIBE: { states: AUTH, run: subscribe },
  UNSUBSCRIBE: { states: AUTH, run: subscribe },
  LIST: { states: AUTH, run: list },
  LSUB: { states: AUTH, run: lsub },
  STATUS: { states: AUTH, run: status },
  APPEND: { states: AUTH, run: append },
  GETQUOTA: { states: AUTH, run: getQuota },
  GETQUOTAROOT: { states: AUTH, run: getQuotaRoot },
  SETQUOTA: { states: AUTH, run: setQuota },
  GENURLAUTH: { states: AUTH, run: genUrlauth },
  RESETKEY: { states: AUTH, run: resetKey },
  URLFETCH: { states: AUTH, run: urlFetch },
  NOTIFY: { states: AUTH, run: notify },
  CHECK: { states: SELECTED, run: noop },
  CLOSE: { states: SELECTED, run: close },
  UNSELECT: { states: SELECTED, run: unselect },
  EXPUNGE: { states: SELECTED, run: expunge },
  SEARCH: { states: SELECTED, run: search },
  SORT: { states: SELECTED, run: sort },
  CANCELUPDATE: { states: SELECTED, run: cancelUpdate },
  THREAD: { states: SELECTED, run: thread },
  FETCH: { states: SELECTED, run: fetch },
  STORE: { states: SELECTED, run: store },
  COPY: { states: SELECTED, run: copyOrMove },
  MOVE: { states: SELECTED, run: copyOrMove },
};

type AnyEntry = { readonly states: readonly SessionState[]; readonly run: (s: ImapSession, cmd: ImapCommand) => Promise<Buffer | null> };

/** The entry for a parsed command (the table is keyed by the command's own name, so the types line up). */
export function commandEntry(name: Exclude<ImapCommandName, 'unknown'>): AnyEntry {
  return (COMMANDS as unknown as Record<string, AnyEntry>)[name]!;
}
