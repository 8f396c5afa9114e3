/**
 * Messages with real content for the soak test (text, quoted-printable
 * accents, a base64 attachment, dot lines; 1 to ~60 KB), drawn from a seeded
 * generator so a run can be replayed, and the digest they are compared by.
 */
import { createHash } from 'node:crypto';
import type { Rng } from '../integrity/helpers.js';

const WORDS = 'mail server queue durable sync block repair scrub folder inbox message header body delivery retry lease spool digest'.split(' ');

export function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

function paragraph(rng: Rng): string {
  const n = 20 + rng.int(60);
  const words = Array.from({ length: n }, () => WORDS[rng.int(WORDS.length)]!);
  // Wrapped at 72 columns, as a mail client writes it.
  return words.join(' ').replace(/(.{1,72})( |$)/g, '$1\r\n');
}

export interface Draft {
  /** The Message-ID's local part, unique per attempt. */
  id: string;
  raw: Buffer;
  digest: string;
}

export function compose(rng: Rng, id: string, from: string, to: string[], domain: string): Draft {
  const boundary = `b-${id}`;
  const text = Array.from({ length: 1 + rng.int(6) }, () => paragraph(rng)).join('\r\n');
  // A line starting with a dot exercises dot-stuffing on every hop.
  const dots = rng.int(3) === 0 ? '.a line that starts with a dot\r\n..and one with two\r\n' : '';
  const attach = rng.int(2) === 0 ? rng.bytes(500 + rng.int(40_000)).toString('base64').replace(/.{76}/g, '$&\r\n') : '';
  const parts = [
    `--${boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nGr=C3=BC=C3=9Fe,\r\n\r\n${text}${dots}`,
    attach ? `--${boundary}\r\nContent-Type: application/octet-stream; name="data-${id}.bin"\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename="data-${id}.bin"\r\n\r\n${attach}\r\n` : '',
    `--${boundary}--\r\n`,
  ];
  const raw = Buffer.from(
    `From: <${from}>\r\nTo: ${to.map((t) => `<${t}>`).join(', ')}\r\nSubject: soak ${id}\r\nMessage-ID: <${id}@${domain}>\r\n` +
      `Date: Thu, 03 Dec 2026 08:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="${boundary}"\r\n\r\n` +
      parts.join(''),
    'utf8',
  );
  return { id, raw, digest: sha256(raw) };
}

/** The Message-ID local part of a stored or received message (null: none). */
export function messageIdOf(b: Buffer): string | null {
  const head = b.subarray(0, Math.min(b.length, 64 * 1024)).toString('latin1');
  const end = head.indexOf('\r\n\r\n');
  return /^Message-ID: <([^@>]+)@/im.exec(end < 0 ? head : head.slice(0, end))?.[1] ?? null;
}

/**
 * The stored message without the delivery fields and the first `Received:`
 * header postern prepended, and the queue id that header names (null when there is none).
 */
export function withoutOwnReceived(b: Buffer): { body: Buffer; queueId: string | null } {
  // Local delivery puts Return-Path and Delivered-To (one line each) above the Received field.
  const fields = /^Return-Path: [^\r\n]*\r\nDelivered-To: [^\r\n]*\r\n/.exec(b.subarray(0, 2048).toString('latin1'));
  if (fields) b = b.subarray(fields[0].length);
  const text = b.toString('latin1');
  if (!text.startsWith('Received: ')) return { body: b, queueId: null };
  let end = 0;
  for (;;) {
    const nl = text.indexOf('\r\n', end);
    if (nl < 0) return { body: b, queueId: null };
    end = nl + 2;
    if (text[end] !== ' ' && text[end] !== '\t') break;
  }
  const queueId = /\bid ([0-9A-Za-z]+)/.exec(text.slice(0, end))?.[1] ?? null;
  // The fields postern's policy stages add sit right below its Received field.
  for (;;) {
    if (!/^(Authentication-Results|X-Postern-[A-Za-z-]+):/i.test(text.slice(end, end + 40))) break;
    for (;;) {
      const nl = text.indexOf('\r\n', end);
      if (nl < 0) return { body: b.subarray(end), queueId };
      end = nl + 2;
      if (text[end] !== ' ' && text[end] !== '\t') break;
    }
  }
  return { body: b.subarray(end), queueId };
}
