/**
 * The entries of a TAR archive (ustar and GNU; what .tgz files hold): a
 * 512-byte header per entry, its data after, read in place (no copy, no
 * decompression: the bytes are already counted). Regular files only; long
 * names (GNU 'L', pax 'x') are not followed — the entry keeps its short name.
 */

export interface TarEntry {
  readonly name: string;
  readonly data: Uint8Array;
}

export type TarListing = { ok: true; entries: TarEntry[]; more: boolean } | { ok: false; error: string };

/** True when the bytes start with a ustar header (magic "ustar" at offset 257). */
export function looksLikeTar(b: Uint8Array): boolean {
  return b.length >= 512 && b[257] === 0x75 && b[258] === 0x73 && b[259] === 0x74 && b[260] === 0x61 && b[261] === 0x72;
}

function field(b: Uint8Array, at: number, len: number): string {
  let end = at;
  while (end < at + len && b[end] !== 0) end++;
  return Buffer.from(b.buffer, b.byteOffset + at, end - at).toString('utf8');
}

/** At most `maxEntries` regular files (`more` says there were others). */
export function readTar(b: Uint8Array, maxEntries: number): TarListing {
  const entries: TarEntry[] = [];
  for (let at = 0; at + 512 <= b.length; ) {
    if (b[at] === 0) break; // the end: two zero blocks
    const size = parseInt(field(b, at + 124, 12).trim() || '0', 8);
    if (!Number.isFinite(size) || size < 0) return { ok: false, error: 'corrupt tar header' };
    const type = b[at + 156];
    const prefix = field(b, at + 345, 155);
    const name = (prefix ? `${prefix}/` : '') + field(b, at + 0, 100);
    const start = at + 512;
    if (start + size > b.length) return { ok: false, error: `${name.slice(0, 100)}: truncated tar entry` };
    if (type === 0x30 || type === 0 || type === 0x37) {
      if (entries.length >= maxEntries) return { ok: true, entries, more: true };
      entries.push({ name: name.slice(0, 255), data: b.subarray(start, start + size) });
    }
    at = start + Math.ceil(size / 512) * 512;
  }
  return { ok: true, entries, more: false };
}
