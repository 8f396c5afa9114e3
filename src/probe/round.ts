/**
 * One probe round: send a message with a unique token through the configured
 * SMTP listener, wait until it shows up in the probe account's INBOX over
 * IMAP, and delete it (with any probe message an earlier round left behind),
 * all within one deadline. Past the deadline every socket of the round is
 * destroyed and the round has failed.
 */
import { randomUUID } from 'node:crypto';
import { connect as netConnect, type Socket } from 'node:net';
import nodemailer from 'nodemailer';
import { imapString, ProbeImapClient, searchUids } from './imap-client.js';

/** The header that carries a round's token; every message with it is the probe's own. */
export const PROBE_HEADER = 'X-Postern-Probe';
const POLL_MS = 250;
const GRACE_MS = 1000;

export type FailureStage = 'smtp' | 'delivery' | 'imap' | 'timeout';

export interface ProbeTarget {
  readonly smtp: { readonly host: string; readonly port: number; readonly mode: 'mx' | 'submission' };
  /** Implicit-TLS IMAP. */
  readonly imap: { readonly host: string; readonly port: number };
  readonly address: string;
  readonly password: string;
  /** PEM certificates to trust; the name the certificate carries. */
  readonly ca: string | Buffer;
  readonly servername: string;
  readonly timeoutMs: number;
}

export type RoundResult =
  | { readonly ok: true; readonly start: number; readonly end: number; readonly ms: number }
  | { readonly ok: false; readonly start: number; readonly end: number; readonly ms: number; readonly stage: FailureStage; readonly error: string };

class StageError extends Error {
  constructor(
    readonly stage: FailureStage,
    message: string,
  ) {
    super(message);
  }
}

type Phase = 'smtp' | 'imap' | 'polling';

/** Runs one round; never throws. `now` gives wall-clock ms for the result's times. */
export async function runRound(t: ProbeTarget, now: () => number = Date.now): Promise<RoundResult> {
  const start = now();
  const began = performance.now();
  const sockets = new Set<Socket>();
  let imap: ProbeImapClient | null = null;
  let phase: Phase = 'smtp';
  let timer: NodeJS.Timeout | undefined;
  const deadline = began + t.timeoutMs;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      // Hung, not refused: the stage is "delivery" only when IMAP answered and the message never came.
      reject(new StageError(phase === 'polling' ? 'delivery' : 'timeout', `no round trip in ${t.timeoutMs} ms (${phase === 'polling' ? 'the message did not arrive' : `waiting for ${phase.toUpperCase()}`})`));
    }, t.timeoutMs);
  });
  const work = (async () => {
    const token = randomUUID().replace(/-/g, '');
    await send(t, token, sockets, deadline);
    phase = 'imap';
    // The client's own deadlines fall a little after the round's, so a hung server is reported as "timeout".
    const left = () => Math.max(1, deadline - performance.now()) + GRACE_MS;
    try {
      imap = await ProbeImapClient.connect({ host: t.imap.host, port: t.imap.port, ca: t.ca, servername: t.servername, commandMs: left() });
      await imap.ok('LOGIN ', imapString(t.address), ' ', imapString(t.password));
      await imap.ok('SELECT INBOX');
    } catch (e) {
      throw new StageError('imap', message(e));
    }
    phase = 'polling';
    for (;;) {
      let found: number[];
      try {
        found = searchUids(await imap.ok(`UID SEARCH HEADER ${PROBE_HEADER} "${token}"`));
      } catch (e) {
        throw new StageError('imap', message(e));
      }
      if (found.length > 0) break;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    phase = 'imap';
    try {
      // Every probe message, also those of earlier rounds that timed out: the probe mailbox stays empty.
      const all = searchUids(await imap.ok(`UID SEARCH HEADER ${PROBE_HEADER} ""`));
      if (all.length > 0) {
        const set = all.join(',');
        await imap.ok(`UID STORE ${set} +FLAGS.SILENT (\\Deleted)`);
        await imap.ok(`UID EXPUNGE ${set}`);
      }
      await imap.logout();
    } catch (e) {
      throw new StageError('imap', message(e));
    }
  })();
  // The loser of the race below still settles later (a destroyed socket): that is expected.
  work.catch(() => undefined);
  try {
    await Promise.race([work, expired]);
    return { ok: true, start, end: now(), ms: Math.round(performance.now() - began) };
  } catch (e) {
    const stage = e instanceof StageError ? e.stage : phase === 'smtp' ? 'smtp' : 'imap';
    return { ok: false, start, end: now(), ms: Math.round(performance.now() - began), stage, error: message(e).slice(0, 300) };
  } finally {
    clearTimeout(timer);
    for (const s of sockets) s.destroy();
    (imap as ProbeImapClient | null)?.destroy();
  }
}

async function send(t: ProbeTarget, token: string, sockets: Set<Socket>, deadline: number): Promise<void> {
  const ms = Math.max(1, Math.round(deadline - performance.now())) + GRACE_MS;
  const transport = nodemailer.createTransport({
    host: t.smtp.host,
    port: t.smtp.port,
    secure: false,
    requireTLS: true,
    tls: { ca: t.ca, servername: t.servername, minVersion: 'TLSv1.2' },
    name: t.servername,
    connectionTimeout: ms,
    greetingTimeout: ms,
    socketTimeout: ms,
    ...(t.smtp.mode === 'submission' ? { auth: { user: t.address, pass: t.password } } : {}),
    // Our own socket, so the round's deadline can destroy it whatever nodemailer is waiting for.
    getSocket: (_opts, cb) => {
      const s = netConnect({ host: t.smtp.host, port: t.smtp.port });
      sockets.add(s);
      // nodemailer takes a connected socket; one destroyed before it connects must still end the send.
      let called = false;
      const early = (e?: Error) => {
        if (!called) cb(e ?? new Error('SMTP connection closed before it was established'));
        called = true;
      };
      s.once('error', early);
      s.once('close', () => early());
      s.once('connect', () => {
        s.off('error', early);
        s.removeAllListeners('close');
        called = true;
        cb(null, { connection: s });
      });
    },
  });
  const at = new Date();
  try {
    await transport.sendMail({
      // The MX path: a null sender (nothing bounces) and a From outside our domains, which no spoof rule holds.
      envelope: { from: t.smtp.mode === 'mx' ? '' : t.address, to: [t.address] },
      from: t.smtp.mode === 'mx' ? 'postern probe <probe@probe.invalid>' : t.address,
      to: t.address,
      subject: `postern probe ${at.toISOString()}`,
      messageId: `<probe.${token}@${t.servername}>`,
      headers: { [PROBE_HEADER]: token },
      text: `A synthetic message of the postern probe (token ${token}); it deletes it when it arrives.\r\n`,
    });
  } catch (e) {
    throw new StageError('smtp', message(e));
  } finally {
    transport.close();
  }
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
