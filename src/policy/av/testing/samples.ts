/**
 * Real files for the tests, built here: messages with attachments, ZIP
 * archives (fflate, and a hand-made writer for what fflate will not make:
 * encrypted entries, lying sizes, a 1 GiB bomb), an OOXML document with a
 * VBA project, a PE header, an HTML smuggling page.
 */
import { Deflate, strToU8, zipSync } from 'fflate';
import { randomUUID } from 'node:crypto';
import { crc32 } from 'node:zlib';

export interface Attachment {
  readonly filename?: string;
  readonly type: string;
  readonly bytes: Uint8Array | string;
}

const bytesOf = (b: Uint8Array | string): Uint8Array => (typeof b === 'string' ? Buffer.from(b, 'utf8') : b);

/** A multipart/mixed message: a text body and each attachment in base64 (lines of 76). */
export function message(attachments: readonly Attachment[], body = 'Please see the attached file.\r\n'): Uint8Array {
  const boundary = '=_postern_test_boundary';
  let out = `From: Sender <sender@partner.test>\r\nTo: alice@example.test\r\nSubject: Files\r\nDate: Thu, 03 Dec 2026 10:00:00 +0000\r\nMessage-ID: <files-${randomUUID()}@partner.test>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="${boundary}"\r\n\r\n`;
  out += `--${boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${body}`;
  for (const a of attachments) {
    const b64 = Buffer.from(bytesOf(a.bytes)).toString('base64').replace(/.{76}/g, '$&\r\n');
    const name = a.filename ? `; name="${a.filename}"` : '';
    const disp = a.filename ? `Content-Disposition: attachment; filename="${a.filename}"\r\n` : '';
    out += `\r\n--${boundary}\r\nContent-Type: ${a.type}${name}\r\n${disp}Content-Transfer-Encoding: base64\r\n\r\n${b64}\r\n`;
  }
  out += `--${boundary}--\r\n`;
  return Buffer.from(out, 'utf8');
}

/** A ZIP of these files (deflated). */
export function zip(files: Record<string, Uint8Array | string>): Uint8Array {
  return zipSync(Object.fromEntries(Object.entries(files).map(([k, v]) => [k, bytesOf(v)])), { level: 6 });
}

export interface RawEntry {
  readonly name: string;
  /** The entry's stored bytes (already deflated when method is 8). */
  readonly data: Uint8Array;
  readonly method: 0 | 8;
  /** The uncompressed size to declare. */
  readonly size: number;
  readonly crc?: number;
  /** General purpose flags (bit 0: encrypted). */
  readonly flags?: number;
}

/** A ZIP written byte by byte, declaring whatever it is told to. */
export function rawZip(entries: readonly RawEntry[]): Uint8Array {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const lh = Buffer.alloc(30);
    lh.writeUInt32LE(0x04034b50, 0);
    lh.writeUInt16LE(20, 4);
    lh.writeUInt16LE(e.flags ?? 0, 6);
    lh.writeUInt16LE(e.method, 8);
    lh.writeUInt32LE(e.crc ?? 0, 14);
    lh.writeUInt32LE(e.data.length, 18);
    lh.writeUInt32LE(e.size, 22);
    lh.writeUInt16LE(name.length, 26);
    const ch = Buffer.alloc(46);
    ch.writeUInt32LE(0x02014b50, 0);
    ch.writeUInt16LE(20, 4);
    ch.writeUInt16LE(20, 6);
    ch.writeUInt16LE(e.flags ?? 0, 8);
    ch.writeUInt16LE(e.method, 10);
    ch.writeUInt32LE(e.crc ?? 0, 16);
    ch.writeUInt32LE(e.data.length, 20);
    ch.writeUInt32LE(e.size, 24);
    ch.writeUInt16LE(name.length, 28);
    ch.writeUInt32LE(offset, 42);
    locals.push(lh, name, Buffer.from(e.data));
    centrals.push(ch, name);
    offset += 30 + name.length + e.data.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

/**
 * Raw deflate data of `mib` MiB of zeros, made without deflating them all:
 * one MiB of zeros deflated as a non-final block and synced to a byte
 * boundary, repeated (each copy stands alone), then an empty final block.
 */
export function zerosDeflated(mib: number): Uint8Array {
  const chunks: Uint8Array[] = [];
  const d = new Deflate({ level: 9 }, (c) => chunks.push(c));
  d.push(new Uint8Array(1024 * 1024));
  d.flush(true);
  const one = Buffer.concat(chunks);
  chunks.length = 0;
  d.push(new Uint8Array(0), true);
  const final = Buffer.concat(chunks);
  const out = Buffer.alloc(one.length * mib + final.length);
  for (let i = 0; i < mib; i++) one.copy(out, i * one.length);
  final.copy(out, one.length * mib);
  return out;
}

/** A ZIP whose one entry inflates to `mib` MiB of zeros, declaring `declared` bytes (default: the truth). */
export function bombZip(mib = 1024, declared = mib * 1024 * 1024, name = 'zeros.bin'): Uint8Array {
  return rawZip([{ name, data: zerosDeflated(mib), method: 8, size: declared >>> 0 }]);
}

/** A ZIP with `name` marked encrypted (bit 0), its bytes stored as they are (noise, as encrypted data looks). */
export function encryptedZip(name = 'secret.pdf', data: Uint8Array = new Uint8Array(256).map((_, i) => (i * 151 + 7) & 0xff)): Uint8Array {
  return rawZip([{ name, data, method: 0, size: data.length, crc: crc32(data), flags: 1 }]);
}

/** A Word document with macros: OOXML whose package holds word/vbaProject.bin. */
export function macroDocx(): Uint8Array {
  return zip({
    '[Content_Types].xml':
      '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/><Override PartName="/word/document.xml" ContentType="application/vnd.ms-word.document.macroEnabled.main+xml"/></Types>',
    '_rels/.rels': '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"/>',
    'word/document.xml': '<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body/></w:document>',
    'word/vbaProject.bin': new Uint8Array([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, ...new Uint8Array(504)]),
  });
}

/** The first bytes of a Windows PE executable: an MZ header pointing at "PE\0\0" and a COFF header. */
export function peBytes(size = 1024): Uint8Array {
  const b = Buffer.alloc(size);
  b.write('MZ', 0, 'latin1');
  b.writeUInt32LE(0x80, 0x3c);
  b.write('This program cannot be run in DOS mode.', 0x4e, 'latin1');
  b.write('PE\0\0', 0x80, 'latin1');
  b.writeUInt16LE(0x14c, 0x84); // i386
  return b;
}

export function elfBytes(size = 256): Uint8Array {
  const b = Buffer.alloc(size);
  b.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0], 0);
  return b;
}

/** An HTML page that rebuilds a ZIP from base64 in a Blob and clicks a download link to it. */
export function smugglingHtml(payload: Uint8Array = zip({ 'invoice.js': 'WScript.Echo(1)' })): string {
  return `<!DOCTYPE html><html><body><p>Loading your document...</p><script>
var b64 = "${Buffer.from(payload).toString('base64')}";
var bin = atob(b64); var arr = new Uint8Array(bin.length);
for (var i = 0; i < bin.length; i++) arr[i] = bin.charCodeAt(i);
var blob = new Blob([arr], {type: 'application/octet-stream'});
var a = document.createElement('a'); a.href = window.URL.createObjectURL(blob);
a.download = 'invoice.zip'; document.body.appendChild(a); a.click();
</script></body></html>`;
}

export const utf8 = strToU8;
