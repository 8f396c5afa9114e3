/**
 * Continuous senders for the soak test: nodemailer over the MX port (plain,
 * from the Internet to local users) and over submission (STARTTLS + AUTH,
 * from a local user to local users and sometimes also to a remote domain).
 * Every attempt gets a fresh Message-ID; its digest is noted before it is
 * sent, and the queue id is recorded the moment `250` arrives.
 */
import nodemailer from 'nodemailer';
import { appendFileSync } from 'node:fs';
import type { Rng } from '../integrity/helpers.js';
import { queueIdOf } from '../support/harness.js';
import { compose } from './mail.js';

export interface Ack {
  id: string;
  queueId: string;
  digest: string;
  length: number;
  local: string[];
  remote: string[];
  via: 'mx' | 'submission';
  /** When the 250 arrived (ms since the epoch). */
  at: number;
}

export type ReplyClass = '2xx' | '4xx' | '5xx' | 'conn';

export interface Ledger {
  /** Every attempt, acknowledged or not: Message-ID local part -> digest. */
  readonly attempts: Map<string, { digest: string; length: number }>;
  readonly acks: Ack[];
  readonly replies: Record<ReplyClass, number>;
  /** 5xx replies and other surprises, with their text. */
  readonly anomalies: string[];
  /** Replies counted into this extra tally too while it is set (e.g. during disk full). */
  window: Record<ReplyClass, number> | null;
}

export function newLedger(): Ledger {
  return { attempts: new Map(), acks: [], replies: { '2xx': 0, '4xx': 0, '5xx': 0, conn: 0 }, anomalies: [], window: null };
}

export interface SenderSpec {
  tag: string;
  via: 'mx' | 'submission';
  port: number;
  from: string;
  auth?: { user: string; pass: string };
  ca?: string;
  local: string[];
  /** Remote recipient added to about a quarter of the messages. */
  remote?: string;
  domain: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runSender(s: SenderSpec, rng: Rng, ledger: Ledger, ledgerFile: string, until: () => boolean): Promise<void> {
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port: s.port,
    secure: false,
    pool: false,
    ...(s.via === 'mx' ? { ignoreTLS: true } : { requireTLS: true, tls: { ca: s.ca! }, auth: s.auth! }),
    connectionTimeout: 20_000,
    greetingTimeout: 20_000,
    socketTimeout: 30_000,
  });
  // Bounded by count as well as by time, whatever happens to the clock.
  for (let n = 0; n < 1_000_000 && !until(); n++) {
    const id = `${s.tag}-${n}`;
    const local = [s.local[rng.int(s.local.length)]!];
    const remote = s.remote && rng.int(4) === 0 ? [s.remote] : [];
    const d = compose(rng, id, s.from, [...local, ...remote], s.domain);
    ledger.attempts.set(id, { digest: d.digest, length: d.raw.length });
    let cls: ReplyClass;
    try {
      const info = await transport.sendMail({ envelope: { from: s.from, to: [...local, ...remote] }, raw: d.raw });
      const queueId = queueIdOf(info.response);
      const ack: Ack = { id, queueId, digest: d.digest, length: d.raw.length, local, remote, via: s.via, at: Date.now() };
      ledger.acks.push(ack);
      appendFileSync(ledgerFile, JSON.stringify(ack) + '\n');
      if (info.rejected.length > 0) ledger.anomalies.push(`${id}: recipients rejected in a 250 transaction: ${info.rejected.join(', ')}`);
      cls = '2xx';
    } catch (e) {
      const code = (e as { responseCode?: number }).responseCode;
      cls = typeof code === 'number' && code >= 400 ? (code < 500 ? '4xx' : '5xx') : 'conn';
      if (cls === '5xx' && ledger.anomalies.length < 100) ledger.anomalies.push(`${id}: ${(e as Error).message}`);
    }
    ledger.replies[cls]++;
    if (ledger.window) ledger.window[cls]++;
    // Pace like real clients; back off a little when the server is away.
    await sleep(cls === 'conn' ? 200 + rng.int(300) : 50 + rng.int(250));
  }
  transport.close();
}
