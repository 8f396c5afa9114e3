/** Commands about the connection: no-argument commands, AUTHENTICATE, LOGIN, ENABLE, ID. */
import type { ImapCommand } from '../ast.js';
import type { Cursor } from '../cursor.js';
import { fail } from '../errors.js';

export const NO_ARG_COMMANDS = ['CAPABILITY', 'NOOP', 'LOGOUT', 'STARTTLS', 'NAMESPACE', 'IDLE', 'CHECK', 'CLOSE', 'UNSELECT'] as const;
type NoArgName = (typeof NO_ARG_COMMANDS)[number];

export function parseNoArg(c: Cursor, tag: string, name: NoArgName): ImapCommand {
  c.end();
  return { tag, name };
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** True for a base64 string as SASL exchanges use it (canonical padding). */
export function isBase64(text: string): boolean {
  return BASE64.test(text);
}

/** AUTHENTICATE SP auth-type [SP (base64 / "=")] (RFC 9051, SASL-IR RFC 4959). */
export function parseAuthenticate(c: Cursor, tag: string): ImapCommand {
  c.sp();
  const mechanism = c.word('SASL mechanism');
  let initialResponse: string | null = null;
  if (c.trySp()) {
    initialResponse = c.chars((b) => b > 0x20 && b < 0x7f, 'initial response');
    if (initialResponse !== '=' && (initialResponse.length === 0 || !isBase64(initialResponse))) fail('Initial response is not base64');
  }
  c.end();
  return { tag, name: 'AUTHENTICATE', mechanism, initialResponse };
}

export function parseLogin(c: Cursor, tag: string): ImapCommand {
  c.sp();
  const username = c.astringText('user name');
  c.sp();
  const password = c.astringText('password');
  c.end();
  return { tag, name: 'LOGIN', username, password };
}

/** ENABLE 1*(SP capability) (RFC 5161). */
export function parseEnable(c: Cursor, tag: string): ImapCommand {
  const capabilities: string[] = [];
  do {
    c.sp();
    capabilities.push(c.word('capability'));
  } while (!c.atEnd());
  return { tag, name: 'ENABLE', capabilities };
}

/** ID SP ("(" *(string SP nstring) ")" / NIL) (RFC 2971). Atoms are accepted as keys and values too. */
export function parseId(c: Cursor, tag: string): ImapCommand {
  c.sp();
  if (c.tryWord('NIL')) {
    c.end();
    return { tag, name: 'ID', params: null };
  }
  const params: Array<readonly [string, string | null]> = [];
  c.expect(0x28, '"(" or NIL');
  while (!c.tryChar(0x29)) {
    if (params.length > 0) c.sp();
    const key = c.astringText('ID key');
    c.sp();
    const value = c.tryWord('NIL') ? null : c.astringText('ID value');
    params.push([key, value]);
  }
  c.end();
  return { tag, name: 'ID', params };
}
