/**
 * Opening a listener up to the point where TLS begins: nothing for implicit
 * TLS, the protocol's STARTTLS dialog otherwise.
 */
import type net from 'node:net';
import type { Endpoint } from './listeners.js';
import { imapTagged, oneLine, smtpReply, Wire } from './wire.js';

export class NoStartTls extends Error {}

/** A plain socket on which the next bytes are the TLS handshake, or undefined for implicit TLS (connect anew). */
export async function beforeTls(ep: Endpoint, timeoutMs: number): Promise<net.Socket | undefined> {
  if (ep.start === 'implicit') return undefined;
  const w = await Wire.connect(ep.host, ep.port, timeoutMs);
  try {
    await startTls(w, ep);
    return w.detach();
  } catch (e) {
    w.close();
    throw e;
  }
}

/** Runs the STARTTLS dialog of `ep` on a fresh connection; the greeting is read here. */
export async function startTls(w: Wire, ep: Endpoint): Promise<void> {
  const expect = (reply: string, ok: RegExp, what: string): void => {
    if (!ok.test(reply)) throw new NoStartTls(`${what}: ${reply.trim().slice(0, 120)}`);
  };
  switch (ep.start) {
    case 'smtp': {
      expect(await w.ask(null, smtpReply), /^220/, 'greeting');
      const ehlo = await w.ask('EHLO posture-audit.invalid', smtpReply);
      expect(ehlo, /^250[ -]STARTTLS\r?$/im, 'STARTTLS not offered');
      expect(await w.ask('STARTTLS', smtpReply), /^220/, 'STARTTLS refused');
      return;
    }
    case 'imap':
      expect(await w.ask(null, oneLine), /^\* OK/, 'greeting');
      expect(await w.ask('s1 STARTTLS', imapTagged('s1')), /^s1 OK/m, 'STARTTLS refused');
      return;
    case 'pop3':
      expect(await w.ask(null, oneLine), /^\+OK/, 'greeting');
      expect(await w.ask('STLS', oneLine), /^\+OK/, 'STLS refused');
      return;
    case 'implicit':
      return;
  }
}
