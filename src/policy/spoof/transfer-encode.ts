/** Transfer encoders for re-writing a text part (RFC 2045 sections 6.7 and 6.8). */

const LINE = 76;

/** Base64 in lines of 76 characters, each ended by `eol`. */
export function encodeBase64Lines(bytes: Uint8Array, eol: string): string {
  const b64 = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  let out = '';
  for (let i = 0; i < b64.length; i += LINE) out += b64.slice(i, i + LINE) + eol;
  return out;
}

function hex(b: number): string {
  return `=${b.toString(16).toUpperCase().padStart(2, '0')}`;
}

/** Quoted-printable of text bytes: line breaks (LF or CRLF) stay hard breaks written as `eol`. */
export function encodeQuotedPrintable(bytes: Uint8Array, eol: string): string {
  const lines: string[] = [];
  let line = '';
  const soft = (piece: string): void => {
    if (line.length + piece.length > LINE - 1) {
      lines.push(`${line}=`);
      line = '';
    }
    line += piece;
  };
  const hard = (): void => {
    // White space at the end of a line would be removed in transport: encode it.
    const last = line.charCodeAt(line.length - 1);
    if (last === 0x20 || last === 0x09) line = line.slice(0, -1) + hex(last);
    lines.push(line);
    line = '';
  };
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b === 0x0d && bytes[i + 1] === 0x0a) continue;
    if (b === 0x0a) {
      hard();
      continue;
    }
    const printable = (b >= 33 && b <= 126 && b !== 0x3d) || b === 0x20 || b === 0x09;
    // A line starting with "." or "From " is left as it is; SMTP dot-stuffing takes care of the dot.
    soft(printable ? String.fromCharCode(b) : hex(b));
  }
  if (line !== '') hard();
  return lines.join(eol);
}
