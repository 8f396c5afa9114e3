/** Byte-level building blocks shared by the MIME parsers. */
import { TextDecoder } from 'node:util';

export const CR = 0x0d;
export const LF = 0x0a;
export const SP = 0x20;
export const HT = 0x09;

const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/** A Buffer view of the same memory (no copy). */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Index just past the next LF at or after `pos`, or `end` when there is none. */
export function lineEnd(buf: Buffer, pos: number, end: number): number {
  // No view per line: with no LF in the region the search runs on to the next LF after it,
  // at most once per loop over a region's lines, since that line ends the loop.
  const i = buf.indexOf(LF, pos);
  return i < 0 || i >= end ? end : i + 1;
}

/** Start of the line break that ends just before `pos` (CRLF or LF); `pos` when there is none. */
export function breakBefore(buf: Uint8Array, pos: number): number {
  if (pos > 0 && buf[pos - 1] === LF) return pos >= 2 && buf[pos - 2] === CR ? pos - 2 : pos - 1;
  return pos;
}

/** Length of [start, end) without its trailing CRLF or LF. */
export function contentEnd(buf: Uint8Array, start: number, end: number): number {
  let e = end;
  if (e > start && buf[e - 1] === LF) e--;
  if (e > start && buf[e - 1] === CR) e--;
  return e;
}

export function countLf(buf: Buffer, start: number, end: number): number {
  let n = 0;
  let i = buf.indexOf(LF, start);
  while (i >= 0 && i < end) {
    n++;
    i = buf.indexOf(LF, i + 1);
  }
  return n;
}

export function latin1(bytes: Uint8Array): string {
  return asBuffer(bytes).toString('latin1');
}

/**
 * UTF-8 when the bytes (those from `start` to `end`) are valid UTF-8, else
 * latin1: header text is usually one or the other. ASCII is decoded in
 * place, without a view.
 */
export function utf8OrLatin1(bytes: Uint8Array, start = 0, end = bytes.length): string {
  let ascii = true;
  for (let i = start; i < end; i++) {
    if (bytes[i]! >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return asBuffer(bytes).toString('latin1', start, end);
  const part = bytes.subarray(start, end);
  try {
    return utf8Strict.decode(part);
  } catch {
    return latin1(part);
  }
}
