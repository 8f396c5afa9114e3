/** ManageSieve responses (RFC 5804 section 4). Pure. */

/** A string as a quoted string when it can be one, otherwise as a literal. */
export function sieveString(s: string | Buffer): Buffer {
  const b = Buffer.isBuffer(s) ? s : Buffer.from(s, 'utf8');
  if (b.length <= 1024 && !b.includes(0x0d) && !b.includes(0x0a) && !b.includes(0)) {
    return Buffer.from(`"${b.toString('latin1').replace(/[\\"]/g, (c) => `\\${c}`)}"`, 'latin1');
  }
  return Buffer.concat([Buffer.from(`{${b.length}}\r\n`, 'latin1'), b]);
}

/** A response code: an atom (e.g. "QUOTA/MAXSIZE") and an optional string argument. */
export interface ResponseCode {
  readonly atom: string;
  readonly arg?: string;
}

function response(kind: 'OK' | 'NO' | 'BYE', text: string, code?: ResponseCode): Buffer {
  const parts: Buffer[] = [Buffer.from(kind, 'latin1')];
  if (code) {
    parts.push(Buffer.from(` (${code.atom}`, 'latin1'));
    if (code.arg !== undefined) parts.push(Buffer.from(' '), sieveString(code.arg));
    parts.push(Buffer.from(')'));
  }
  if (text) parts.push(Buffer.from(' '), sieveString(text));
  parts.push(Buffer.from('\r\n'));
  return Buffer.concat(parts);
}

export const sieveOk = (text: string, code?: ResponseCode) => response('OK', text, code);
export const sieveNo = (text: string, code?: ResponseCode) => response('NO', text, code);
export const sieveBye = (text: string, code?: ResponseCode) => response('BYE', text, code);

/** Capability lines ("NAME" or "NAME" "value"), without the closing OK. */
export function sieveCapabilities(caps: readonly (readonly [string, string?])[]): Buffer {
  return Buffer.concat(
    caps.map(([name, value]) => Buffer.concat([sieveString(name), ...(value === undefined ? [] : [Buffer.from(' '), sieveString(value)]), Buffer.from('\r\n')])),
  );
}

/** A SASL server challenge (RFC 5804 section 2.1): base64 as a string on its own line. */
export const sieveChallenge = (base64: string) => Buffer.concat([sieveString(base64), Buffer.from('\r\n')]);

/** LISTSCRIPTS lines: each name, the active one followed by ACTIVE. */
export function sieveScriptList(scripts: readonly { name: string; active: boolean }[]): Buffer {
  return Buffer.concat(scripts.map((s) => Buffer.concat([sieveString(s.name), Buffer.from(s.active ? ' ACTIVE\r\n' : '\r\n')])));
}

/** GETSCRIPT: the script as a literal, then CRLF (the OK follows). */
export const sieveScriptBody = (text: Buffer) => Buffer.concat([Buffer.from(`{${text.length}}\r\n`, 'latin1'), text, Buffer.from('\r\n')]);
