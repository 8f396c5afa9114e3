/** POP3 commands (RFC 1939, CAPA RFC 2449, STLS RFC 2595, AUTH RFC 5034, UTF8 RFC 6856) to a typed union; never throws. */
import { VerdictError } from '../verdict-error.js';

export type Pop3Command =
  | { readonly cmd: 'USER'; readonly name: string }
  /** Everything after "PASS ", spaces included (RFC 1939 allows that reading). */
  | { readonly cmd: 'PASS'; readonly password: string }
  /** Parsed so the server can refuse it: postern keeps no plaintext secrets for APOP. */
  | { readonly cmd: 'APOP'; readonly name: string; readonly digest: string }
  | { readonly cmd: 'STAT' | 'NOOP' | 'RSET' | 'QUIT' | 'CAPA' | 'STLS' | 'UTF8' }
  | { readonly cmd: 'LIST' | 'UIDL'; readonly msg: number | null }
  | { readonly cmd: 'RETR' | 'DELE'; readonly msg: number }
  | { readonly cmd: 'TOP'; readonly msg: number; readonly lines: number }
  /** No mechanism asks for the list of mechanisms; initialResponse is base64 or "=" for empty. */
  | { readonly cmd: 'AUTH'; readonly mechanism: string | null; readonly initialResponse: string | null }
  | { readonly cmd: 'unknown'; readonly keyword: string };

export type Pop3ParseResult = { readonly ok: true; readonly command: Pop3Command } | { readonly ok: false; readonly message: string };

const decoder = new TextDecoder('utf-8', { fatal: true });
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** A syntax verdict, caught by parsePop3Command; no stack trace (see VerdictError). */
class Pop3Syntax extends VerdictError {}

function bad(message: string): never {
  throw new Pop3Syntax(message);
}

function text(bytes: Buffer): string {
  try {
    return decoder.decode(bytes);
  } catch {
    return bad('Invalid UTF-8');
  }
}

/** A decimal without sign within 32 bits; message numbers must also be positive. */
function num(s: string | undefined, positive: boolean, what: string): number {
  if (s === undefined || !/^[0-9]{1,10}$/.test(s)) bad(`Invalid ${what}`);
  const n = Number(s);
  if (n > 0xffffffff || (positive && n === 0)) bad(`Invalid ${what}`);
  return n;
}

function arity(args: string[], min: number, max: number): void {
  if (args.length < min) bad('Missing argument');
  if (args.length > max) bad('Too many arguments');
}

const NO_ARGS = new Set(['STAT', 'NOOP', 'RSET', 'QUIT', 'CAPA', 'STLS', 'UTF8']);

function parse(line: Buffer): Pop3Command {
  if (line.includes(0) || line.includes(0x0d) || line.includes(0x0a)) bad('Invalid character in command');
  const sp = line.indexOf(0x20);
  const keyword = line.toString('latin1', 0, sp < 0 ? line.length : sp).toUpperCase();
  // Keywords are three or four letters; UTF8 (RFC 6856) is the one with a digit.
  if (!/^[A-Z]{3,4}$/.test(keyword) && keyword !== 'UTF8') {
    if (keyword.length === 0) bad('Empty command');
    return { cmd: 'unknown', keyword: keyword.replace(/[^\x21-\x7e]/g, '?').slice(0, 16) };
  }
  const rest = sp < 0 ? Buffer.alloc(0) : line.subarray(sp + 1);
  if (keyword === 'PASS') {
    if (rest.length === 0) bad('Missing argument');
    return { cmd: 'PASS', password: text(rest) };
  }
  // Lenient about repeated and trailing spaces; arguments themselves have none.
  const restText = text(rest).trim();
  const args = restText.length === 0 ? [] : restText.split(/ +/);
  if (NO_ARGS.has(keyword)) {
    arity(args, 0, 0);
    return { cmd: keyword as 'STAT' };
  }
  switch (keyword) {
    case 'USER':
      arity(args, 1, 1);
      return { cmd: 'USER', name: args[0]! };
    case 'APOP':
      arity(args, 2, 2);
      if (!/^[0-9a-fA-F]{32}$/.test(args[1]!)) bad('Invalid digest');
      return { cmd: 'APOP', name: args[0]!, digest: args[1]!.toLowerCase() };
    case 'LIST':
    case 'UIDL':
      arity(args, 0, 1);
      return { cmd: keyword, msg: args.length === 0 ? null : num(args[0], true, 'message number') };
    case 'RETR':
    case 'DELE':
      arity(args, 1, 1);
      return { cmd: keyword, msg: num(args[0], true, 'message number') };
    case 'TOP':
      arity(args, 2, 2);
      return { cmd: 'TOP', msg: num(args[0], true, 'message number'), lines: num(args[1], false, 'line count') };
    case 'AUTH': {
      arity(args, 0, 2);
      const mechanism = args[0] === undefined ? null : args[0].toUpperCase();
      if (mechanism !== null && !/^[A-Z0-9_-]{1,20}$/.test(mechanism)) bad('Invalid mechanism');
      const ir = args[1] ?? null;
      if (ir !== null && ir !== '=' && !BASE64.test(ir)) bad('Initial response is not base64');
      return { cmd: 'AUTH', mechanism, initialResponse: ir };
    }
    default:
      return { cmd: 'unknown', keyword };
  }
}

/** Parses one command line (line end removed). Errors are for "-ERR message". */
export function parsePop3Command(line: Buffer | string): Pop3ParseResult {
  try {
    return { ok: true, command: parse(typeof line === 'string' ? Buffer.from(line, 'utf8') : line) };
  } catch (e) {
    return { ok: false, message: e instanceof Pop3Syntax ? e.message : 'Invalid command' };
  }
}
