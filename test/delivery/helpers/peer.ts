/**
 * A receiving SMTP server on 127.0.0.1 (smtp-server), standing in for a
 * remote MX. It records what it received and answers as a test scripts it.
 */
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import type { AddressInfo } from 'node:net';

export interface Received {
  from: string;
  to: string[];
  data: Buffer;
  secure: boolean;
  requireTls: boolean;
  /** When the message was acknowledged (ms since the epoch). */
  at?: number;
}

export interface PeerOptions {
  /** PEM key and certificate for STARTTLS; null: STARTTLS not offered. */
  tls: { keyPem: string; certPem: string } | null;
  /** Reply for RCPT TO: return an Error with responseCode to refuse. */
  onRcpt?: (address: string) => Error | null;
  /** Reply after DATA: return an Error with responseCode to refuse. */
  onData?: (r: Received) => Error | null;
  /** Hold the final reply to DATA forever (a peer that hangs after the message); read at each message, so a test can flip it. */
  hangAfterData?: boolean;
  /** Wait this long before answering each RCPT TO. */
  delayRcptMs?: number;
  /** Wait this long before the final reply to DATA (a slow but legitimate server). */
  delayDataMs?: number;
  requireTlsExtension?: boolean;
  /** Offer DSN (RFC 3461); each MAIL and RCPT's parameters are kept in `params`. */
  dsn?: boolean;
  /** Client certificate checks (mutual TLS): the CA to trust; clients without a valid cert are refused. */
  clientCa?: string;
  /** Offer SMTPUTF8 (RFC 6531; smtp-server's default is to offer it). */
  smtputf8?: boolean;
  /** Loopback address and port to listen on (default 127.0.0.1 and any free port). */
  host?: string;
  port?: number;
}

export interface Peer {
  port: number;
  received: Received[];
  /** Messages received while hanging (never acknowledged). */
  hung: Received[];
  /** Every MAIL FROM the peer saw, accepted or not. */
  mailFroms: string[];
  /** Client certificates' subjects seen on TLS sessions. */
  clientCerts: string[];
  /** Parameters of every MAIL and RCPT ("MAIL RET=HDRS ENVID=x", "RCPT bob@x NOTIFY=SUCCESS"), as parsed. */
  params: string[];
  close(): Promise<void>;
}

export function smtpError(code: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode: code });
}

export async function startPeer(o: PeerOptions): Promise<Peer> {
  const received: Received[] = [];
  const mailFroms: string[] = [];
  const hung: Received[] = [];
  const clientCerts: string[] = [];
  const params: string[] = [];
  const argsOf = (a: { args?: unknown }) => Object.entries((a.args ?? {}) as Record<string, unknown>).map(([k, v]) => `${k}=${String(v)}`).join(' ');
  const opts: SMTPServerOptions = {
    name: 'peer.test',
    authOptional: true,
    disabledCommands: ['AUTH'],
    logger: false,
    closeTimeout: 200,
    hideREQUIRETLS: !o.requireTlsExtension,
    hideDSN: !o.dsn,
    hideSMTPUTF8: o.smtputf8 === false,
    onMailFrom(addr, _s, cb) {
      mailFroms.push(addr.address);
      params.push(`MAIL ${argsOf(addr)}`.trim());
      cb();
    },
    onRcptTo(addr, _s, cb) {
      params.push(`RCPT ${addr.address} ${argsOf(addr)}`.trim());
      const err = o.onRcpt?.(addr.address) ?? null;
      if (o.delayRcptMs) setTimeout(() => cb(err ?? undefined), o.delayRcptMs);
      else cb(err ?? undefined);
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const r: Received = {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((x) => x.address),
          data: Buffer.concat(chunks),
          secure: session.secure,
          requireTls: (session.envelope as { requireTLS?: boolean }).requireTLS === true,
        };
        if (o.hangAfterData) {
          hung.push(r);
          return; // never answer
        }
        const err = o.onData?.(r) ?? null;
        const answer = () => {
          if (!err) received.push({ ...r, at: Date.now() });
          cb(err ?? undefined);
        };
        if (o.delayDataMs) setTimeout(answer, o.delayDataMs);
        else answer();
      });
    },
  };
  if (o.tls) {
    opts.key = o.tls.keyPem;
    opts.cert = o.tls.certPem;
  } else {
    opts.hideSTARTTLS = true;
  }
  if (o.clientCa) {
    Object.assign(opts, { requestCert: true, rejectUnauthorized: false, ca: o.clientCa });
    opts.onSecure = (socket, _session, cb) => {
      const s = socket as unknown as { authorized: boolean; getPeerCertificate(): { subject?: { CN?: string } } };
      if (!s.authorized) return cb(smtpError(530, 'client certificate required'));
      clientCerts.push(s.getPeerCertificate().subject?.CN ?? '');
      cb();
    };
  }
  const server = new SMTPServer(opts);
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(o.port ?? 0, o.host ?? '127.0.0.1', () => resolve()));
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    received,
    hung,
    mailFroms,
    clientCerts,
    params,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
