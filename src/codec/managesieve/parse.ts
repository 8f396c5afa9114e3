/** ManageSieve commands (RFC 5804 section 2) from the reader's tokens. Pure; never throws. */
import type { ManageSieveToken } from './reader.js';

export type ManageSieveCommand =
  | { readonly cmd: 'AUTHENTICATE'; readonly mechanism: string; readonly initialResponse: string | null }
  | { readonly cmd: 'STARTTLS' | 'LOGOUT' | 'CAPABILITY' | 'UNAUTHENTICATE' }
  | { readonly cmd: 'LISTSCRIPTS' }
  | { readonly cmd: 'NOOP'; readonly tag: string | null }
  | { readonly cmd: 'HAVESPACE'; readonly name: string; readonly size: number }
  | { readonly cmd: 'PUTSCRIPT'; readonly name: string; readonly script: Buffer }
  | { readonly cmd: 'CHECKSCRIPT'; readonly script: Buffer }
  | { readonly cmd: 'SETACTIVE' | 'GETSCRIPT' | 'DELETESCRIPT'; readonly name: string }
  | { readonly cmd: 'RENAMESCRIPT'; readonly from: string; readonly to: string };

export type ManageSieveParseResult = { ok: true; command: ManageSieveCommand } | { ok: false; message: string };

type Arg = 'string' | 'number';

/** The arguments each command takes; a trailing '?' marks the optional last one. */
const SHAPES: Record<ManageSieveCommand['cmd'], readonly Arg[]> = {
  AUTHENTICATE: ['string', 'string'],
  STARTTLS: [],
  LOGOUT: [],
  CAPABILITY: [],
  LISTSCRIPTS: [],
  UNAUTHENTICATE: [],
  NOOP: ['string'],
  HAVESPACE: ['string', 'number'],
  PUTSCRIPT: ['string', 'string'],
  CHECKSCRIPT: ['string'],
  SETACTIVE: ['string'],
  GETSCRIPT: ['string'],
  DELETESCRIPT: ['string'],
  RENAMESCRIPT: ['string', 'string'],
};
const OPTIONAL_LAST = new Set(['AUTHENTICATE', 'NOOP']);

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A string argument as UTF-8 text (RFC 5804 strings are UTF-8), or null when it is not. */
export function utf8Text(b: Buffer): string | null {
  try {
    return utf8.decode(b);
  } catch {
    return null;
  }
}

export function parseManageSieveCommand(tokens: readonly ManageSieveToken[]): ManageSieveParseResult {
  const first = tokens[0];
  if (!first || first.type !== 'atom') return { ok: false, message: 'Expected a command name' };
  const cmd = first.value.toUpperCase() as ManageSieveCommand['cmd'];
  const shape = Object.hasOwn(SHAPES, cmd) ? SHAPES[cmd] : undefined;
  if (!shape) return { ok: false, message: 'Unknown command' };
  const args = tokens.slice(1);
  const min = OPTIONAL_LAST.has(cmd) ? shape.length - 1 : shape.length;
  if (args.length < min || args.length > shape.length) return { ok: false, message: `Wrong number of arguments for ${cmd}` };
  const values: (Buffer | number)[] = [];
  for (const [i, a] of args.entries()) {
    if (shape[i] === 'number') {
      if (a.type !== 'atom' || !/^\d{1,10}$/.test(a.value) || Number(a.value) > 0xffffffff) return { ok: false, message: 'Expected a number' };
      values.push(Number(a.value));
    } else {
      if (a.type !== 'string') return { ok: false, message: 'Expected a string' };
      values.push(a.value);
    }
  }
  const text = (i: number): string | null => (values[i] === undefined ? null : utf8Text(values[i] as Buffer));
  const bytes = (i: number) => values[i] as Buffer;
  const needText = (i: number): string | { bad: true } => text(i) ?? { bad: true };
  switch (cmd) {
    case 'AUTHENTICATE': {
      const mechanism = text(0);
      const initial = values.length > 1 ? text(1) : null;
      if (mechanism === null || (values.length > 1 && initial === null)) return { ok: false, message: 'Not UTF-8' };
      return { ok: true, command: { cmd, mechanism: mechanism.toUpperCase(), initialResponse: initial } };
    }
    case 'NOOP': {
      const tag = values.length > 0 ? text(0) : null;
      if (values.length > 0 && tag === null) return { ok: false, message: 'Not UTF-8' };
      return { ok: true, command: { cmd, tag } };
    }
    case 'HAVESPACE': {
      const name = needText(0);
      if (typeof name !== 'string') return { ok: false, message: 'Script name is not UTF-8' };
      return { ok: true, command: { cmd, name, size: values[1] as number } };
    }
    case 'PUTSCRIPT': {
      const name = needText(0);
      if (typeof name !== 'string') return { ok: false, message: 'Script name is not UTF-8' };
      return { ok: true, command: { cmd, name, script: bytes(1) } };
    }
    case 'CHECKSCRIPT':
      return { ok: true, command: { cmd, script: bytes(0) } };
    case 'SETACTIVE':
    case 'GETSCRIPT':
    case 'DELETESCRIPT': {
      const name = needText(0);
      if (typeof name !== 'string') return { ok: false, message: 'Script name is not UTF-8' };
      return { ok: true, command: { cmd, name } };
    }
    case 'RENAMESCRIPT': {
      const from = needText(0);
      const to = needText(1);
      if (typeof from !== 'string' || typeof to !== 'string') return { ok: false, message: 'Script name is not UTF-8' };
      return { ok: true, command: { cmd, from, to } };
    }
    default:
      return { ok: true, command: { cmd } as ManageSieveCommand };
  }
}

/** A SASL client response (RFC 5804 section 2.1): one string on its own line. */
export function parseSaslResponse(tokens: readonly ManageSieveToken[]): string | null {
  if (tokens.length !== 1 || tokens[0]!.type !== 'string') return null;
  return utf8Text(tokens[0]!.value);
}
