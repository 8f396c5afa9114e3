/** Test support: the MIME corpus in test/corpus/mime and a structural round trip. */
import { readdirSync, readFileSync } from 'node:fs';
import type { MimeMessage, MimePart } from '../types.js';

const DIR = new URL('../../../../test/corpus/mime/', import.meta.url);

export function corpus(name: string): Buffer {
  return readFileSync(new URL(name, DIR));
}

export function corpusNames(): string[] {
  return readdirSync(DIR)
    .filter((n) => n !== 'SOURCES.md' && !n.startsWith('.'))
    .sort();
}

export function text(msg: MimeMessage, start: number, end: number): string {
  return msg.buf.toString('latin1', start, end);
}

/**
 * Rebuilds a part's bytes from the tree alone: its header slice, then either its
 * encapsulated message, or preamble + children + the delimiter lines between them
 * + epilogue, or its body. Throws when a gap between children is anything but a
 * delimiter line, so a test sees where offsets went wrong.
 */
export function rebuild(msg: MimeMessage, part: MimePart): Buffer {
  const out: Buffer[] = [msg.buf.subarray(part.headerStart, part.bodyStart)];
  if (part.message) {
    if (part.message.headerStart !== part.bodyStart || part.message.bodyEnd !== part.bodyEnd) {
      throw new Error(`encapsulated message at ${part.message.headerStart} does not fill the body of ${part.headerStart}`);
    }
    out.push(rebuild(msg, part.message));
  } else if (part.children.length > 0 && part.multipart) {
    const delim = part.multipart.boundary.trimEnd().replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const between = new RegExp(`^(\\r?\\n)?--${delim}[ \\t]*(\\r?\\n)$`);
    // A delimiter that is the last line of the data has no line break of its own.
    const atEnd = new RegExp(`^(\\r?\\n)?--${delim}[ \\t]*$`);
    let pos = part.bodyStart;
    part.children.forEach((child, i) => {
      const gap = text(msg, pos, child.headerStart);
      const ok = between.test(gap) || (child.headerStart === msg.buf.length && atEnd.test(gap));
      if (i > 0 && !ok) throw new Error(`gap before child ${i + 1} of ${part.headerStart} is ${JSON.stringify(gap)}`);
      out.push(msg.buf.subarray(pos, child.headerStart), rebuild(msg, child));
      pos = child.bodyEnd;
    });
    out.push(msg.buf.subarray(pos, part.bodyEnd));
  } else {
    out.push(msg.buf.subarray(part.bodyStart, part.bodyEnd));
  }
  return Buffer.concat(out);
}
