/**
 * A MIME entity with every base64 and quoted-printable leaf decoded, as
 * URLFETCH BINARY (RFC 5524) serves a message/rfc822 or multipart part: each
 * decoded leaf's Content-Transfer-Encoding field reads "binary"; headers,
 * boundaries, preambles and epilogues stay as stored. Depth follows the MIME
 * parser's own bounded tree.
 */
import { decodePartBody, type MimeMessage, type MimePart } from '../codec/mime/index.js';

const DECODED = new Set(['base64', 'quoted-printable']);

const CTE_FIELD = /^content-transfer-encoding[ \t]*:/i;

/** The header section with its Content-Transfer-Encoding field (and continuation lines) replaced. */
function binaryHeader(header: Buffer): Buffer {
  const lines = header.toString('latin1').split(/(?<=\n)/);
  const out: string[] = [];
  let skipping = false;
  for (const line of lines) {
    if (skipping && (line.startsWith(' ') || line.startsWith('\t'))) continue;
    skipping = CTE_FIELD.test(line);
    out.push(skipping ? `Content-Transfer-Encoding: binary${line.endsWith('\r\n') ? '\r\n' : '\n'}` : line);
  }
  return Buffer.from(out.join(''), 'latin1');
}

function whole(m: MimeMessage, p: MimePart, out: Buffer[]): void {
  const header = m.buf.subarray(p.headerStart, p.bodyStart);
  out.push(p.children.length === 0 && !p.message && DECODED.has(p.transferEncoding) ? binaryHeader(header) : header);
  body(m, p, out);
}

function body(m: MimeMessage, p: MimePart, out: Buffer[]): void {
  const buf = m.buf;
  if (p.message) {
    whole(m, p.message, out);
    out.push(buf.subarray(p.message.bodyEnd, p.bodyEnd));
  } else if (p.children.length > 0) {
    out.push(buf.subarray(p.bodyStart, p.children[0]!.headerStart));
    p.children.forEach((c, i) => {
      whole(m, c, out);
      out.push(buf.subarray(c.bodyEnd, p.children[i + 1]?.headerStart ?? p.bodyEnd));
    });
  } else if (DECODED.has(p.transferEncoding)) {
    const d = decodePartBody(m, p);
    out.push(Buffer.from(d.buffer, d.byteOffset, d.byteLength));
  } else {
    out.push(buf.subarray(p.bodyStart, p.bodyEnd));
  }
}

/** The part's body with its leaves decoded. */
export function binaryBody(m: MimeMessage, p: MimePart): Buffer {
  const out: Buffer[] = [];
  body(m, p, out);
  return Buffer.concat(out);
}
