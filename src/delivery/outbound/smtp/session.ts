/**
 * Opens an SMTP session to one address under a host TLS policy, and runs
 * mail transactions on it. The order is fixed: greeting, EHLO, STARTTLS when
 * the policy allows it, the policy's verdict on the peer, EHLO again — and
 * only a session that passed can run MAIL FROM. A policy failure ends the
 * session before any envelope or message byte is sent.
 */
import { connect, isIP } from 'node:net';
import { rootCertificates, type TLSSocket } from 'node:tls';
import { judgePeer, type HostPolicy, type TlsFailure } from '../../../policy/tls/index.js';
import { SmtpWire } from './wire.js';
import { ehloExtensions, replyText, type SmtpReply } from './reply.js';
import { dataPayload } from './dotstuff.js';

export interface SessionTarget {
  readonly host: string; // MX or relay name, for SNI and certificate checks
  readonly address: string;
  readonly port: number;
}

/**
 * Deadlines (RFC 5321 4.5.3.2). `commandTimeoutMs` covers what the RFC does
 * not name (EHLO, STARTTLS and the TLS handshake, RSET, QUIT); the others
 * default to it, except the data block (3 minutes).
 */
export interface SessionOptions {
  readonly heloName: string;
  readonly connectTimeoutMs: number;
  readonly commandTimeoutMs: number;
  /** The final reply to the message (DATA termination, RFC: 10 minutes). */
  readonly dataTimeoutMs: number;
  /** The 220 greeting (RFC: 5 minutes). */
  readonly greetingTimeoutMs?: number;
  /** MAIL FROM (RFC: 5 minutes). */
  readonly mailTimeoutMs?: number;
  /** Each RCPT TO (RFC: 5 minutes). */
  readonly rcptTimeoutMs?: number;
  /** The 354 reply to DATA (RFC: 2 minutes). */
  readonly dataInitTimeoutMs?: number;
  /** Each block of message bytes the peer must take (RFC: 3 minutes). */
  readonly dataBlockTimeoutMs?: number;
  /** Extra PEM trust anchors for PKIX verification (an internal CA). */
  readonly extraCa?: readonly string[];
  /** Client certificate for mutual TLS (a relay that wants one). */
  readonly clientCert?: { readonly cert: string | Buffer; readonly key: string | Buffer };
  /** The peer must advertise REQUIRETLS (RFC 8689) after TLS. */
  readonly needRequireTls?: boolean;
  readonly now: () => number;
}

export interface TlsInfo {
  readonly protocol: string | null;
  readonly cipher: string | null;
  readonly verified: 'pkix' | 'dane' | 'none';
}

/** The policy stopped the session before any mail was sent. */
export class TlsPolicyError extends Error {
  override readonly name = 'TlsPolicyError';
  constructor(
    readonly failure: TlsFailure,
    readonly permanent = false,
  ) {
    super(`${failure.resultType}: ${failure.reason}`);
  }
}

/** The peer could not be reached or would not talk (connect error, 4xx/5xx greeting, EHLO refused). */
export class ConnectError extends Error {
  override readonly name = 'ConnectError';
  constructor(
    message: string,
    readonly reply: SmtpReply | null = null,
  ) {
    super(message);
  }
}

/** Opportunistic STARTTLS failed in the handshake: the caller may retry this address in clear. */
export class HandshakeError extends Error {
  override readonly name = 'HandshakeError';
}

export interface Transaction {
  readonly sender: string;
  readonly recipients: readonly string[];
  readonly message: Buffer;
  readonly requireTls: boolean;
  readonly eightBit: boolean;
  /** The message needs SMTPUTF8 (RFC 6531); a UTF-8 address in the envelope needs it whatever this says. */
  readonly smtputf8?: boolean;
  /**
   * Asked right before the final "." that commits the message: false (the
   * recipients' leases were lost, so another attempt may be under way)
   * drops the connection instead, and the peer discards the message.
   */
  readonly mayCommit?: () => boolean;
  /**
   * RFC 3461 parameters passed on when the server offers DSN: RET and ENVID
   * on MAIL, NOTIFY and ORCPT per recipient (values as the sender gave them, decoded).
   */
  readonly dsn?: {
    readonly ret?: 'FULL' | 'HDRS';
    readonly envid?: string;
    readonly rcpt: (address: string) => { notify?: readonly string[]; orcpt?: string; orcptType?: string };
  };
}

/** The message was not committed because the caller no longer held its recipients. */
export class NotCommittedError extends Error {
  override readonly name = 'NotCommittedError';
}

export interface RecipientReply {
  readonly address: string;
  readonly reply: SmtpReply;
  /** True when this reply is the server's acceptance of the message for this recipient. */
  readonly delivered: boolean;
}

export interface Opened {
  readonly session: SmtpSession;
  readonly tls: TlsInfo | null;
  /** Failures to report that did not stop the session (MTA-STS testing). */
  readonly warnings: readonly TlsFailure[];
}

function connectSocket(t: SessionTarget, timeoutMs: number): Promise<SmtpWire> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: t.address, port: t.port });
    const timer = setTimeout(() => (s.destroy(), reject(new ConnectError(`connect to ${t.address}:${t.port} timed out`))), timeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      s.removeAllListeners('error');
      resolve(new SmtpWire(s));
    });
    s.once('error', (e) => (clearTimeout(timer), reject(new ConnectError(`connect to ${t.address}:${t.port}: ${e.message}`))));
  });
}

export async function openSession(t: SessionTarget, policy: HostPolicy, o: SessionOptions, allowTls = true): Promise<Opened> {
  const wire = await connectSocket(t, o.connectTimeoutMs);
  // From here on, MAIL/RCPT/DATA in clear are refused by the wire itself.
  wire.tlsOnly = policy.tls === 'required' || o.needRequireTls === true;
  const warnings: TlsFailure[] = [];
  try {
    const greeting = await wire.read(o.greetingTimeoutMs ?? o.commandTimeoutMs);
    if (greeting.code !== 220) throw new ConnectError(`greeting: ${replyText(greeting)}`, greeting);
    let ehlo = await hello(wire, o);
    let exts = ehloExtensions(ehlo);
    let tls: TlsInfo | null = null;
    const wantTls = policy.tls !== 'off' && allowTls;
    if (wantTls && exts.has('STARTTLS')) {
      const r = await wire.command('STARTTLS', o.commandTimeoutMs);
      if (r.code !== 220) {
        if (policy.tls === 'required') throw new TlsPolicyError({ resultType: 'starttls-not-supported', reason: `STARTTLS refused: ${replyText(r)}` });
      } else {
        let sock: TLSSocket;
        try {
          sock = await wire.upgrade(tlsOptions(t, o), o.commandTimeoutMs);
        } catch (e) {
          const reason = `TLS handshake failed: ${e instanceof Error ? e.message : String(e)}`;
          if (policy.tls === 'required') throw new TlsPolicyError({ resultType: 'validation-failure', reason });
          throw new HandshakeError(reason);
        }
        const verdict = judgePeer(policy, { authorized: sock.authorized, authorizationError: errText(sock.authorizationError), chain: peerChain(sock) }, o.now());
        if (!verdict.ok && policy.enforce) throw new TlsPolicyError(verdict.failure);
        if (!verdict.ok) warnings.push(verdict.failure);
        tls = { protocol: sock.getProtocol(), cipher: sock.getCipher()?.name ?? null, verified: verdict.ok ? verdict.verified : 'none' };
        ehlo = await hello(wire, o);
        exts = ehloExtensions(ehlo);
      }
    } else if (wantTls && policy.tls === 'required') {
      throw new TlsPolicyError({ resultType: 'starttls-not-supported', reason: `${t.host} did not offer STARTTLS` });
    } else if (wantTls && policy.auth !== 'none') {
      warnings.push({ resultType: 'starttls-not-supported', reason: `${t.host} did not offer STARTTLS` });
    }
    if (o.needRequireTls) {
      if (!tls || tls.verified === 'none') throw new TlsPolicyError({ resultType: 'validation-failure', reason: 'REQUIRETLS: no verified TLS' });
      if (!exts.has('REQUIRETLS')) throw new TlsPolicyError({ resultType: 'validation-failure', reason: `REQUIRETLS: ${t.host} does not support REQUIRETLS` }, true);
    }
    return { session: new SmtpSession(wire, exts, o, tls), tls, warnings };
  } catch (e) {
    wire.close();
    throw e;
  }
}

async function hello(wire: SmtpWire, o: SessionOptions): Promise<SmtpReply> {
  const ehlo = await wire.command(`EHLO ${o.heloName}`, o.commandTimeoutMs);
  if (ehlo.code === 250) return ehlo;
  if (wire.tlsOnly) throw new TlsPolicyError({ resultType: 'starttls-not-supported', reason: `EHLO refused: ${replyText(ehlo)}` });
  const helo = await wire.command(`HELO ${o.heloName}`, o.commandTimeoutMs);
  if (helo.code !== 250) throw new ConnectError(`HELO: ${replyText(helo)}`, helo);
  return { code: 250, enhanced: null, lines: [helo.lines[0] ?? ''] };
}

function tlsOptions(t: SessionTarget, o: SessionOptions) {
  return {
    // SNI only for names (RFC 6066 forbids IP literals); `host` is what Node checks the certificate against.
    host: t.host,
    ...(isIP(t.host) ? {} : { servername: t.host }),
    rejectUnauthorized: false, // judged by the policy, with the reason reported
    minVersion: 'TLSv1.2' as const,
    ...(o.extraCa?.length ? { ca: [...rootCertificates, ...o.extraCa] } : {}),
    ...(o.clientCert ? { cert: o.clientCert.cert, key: o.clientCert.key } : {}),
  };
}

function errText(e: Error | string | null | undefined): string | null {
  if (!e) return null;
  return typeof e === 'string' ? e : ((e as NodeJS.ErrnoException).code ?? e.message);
}

/** The peer's chain as sent, leaf first, DER. */
function peerChain(s: TLSSocket): Buffer[] {
  const out: Buffer[] = [];
  const seen = new Set<string>();
  let c = s.getPeerCertificate(true) as (ReturnType<TLSSocket['getPeerCertificate']> & { issuerCertificate?: unknown }) | null;
  while (c && c.raw && !seen.has(c.fingerprint256) && out.length < 10) {
    seen.add(c.fingerprint256);
    out.push(c.raw);
    c = (c.issuerCertificate ?? null) as typeof c;
  }
  return out;
}

const synthetic = (code: number, enhanced: string, text: string): SmtpReply => ({ code, enhanced, lines: [`${enhanced} ${text}`] });

export class SmtpSession {
  /** Transactions sent on this session; the first one pays for the connection. */
  transactions = 0;

  constructor(
    private readonly wire: SmtpWire,
    readonly extensions: ReadonlyMap<string, string>,
    private readonly o: SessionOptions,
    readonly tls: TlsInfo | null,
  ) {}

  get localAddress(): string | null {
    return this.wire.localAddress;
  }

  get alive(): boolean {
    return this.wire.alive;
  }

  /** One mail transaction. Throws when the connection breaks; replies (any code) are returned. */
  async send(tx: Transaction): Promise<RecipientReply[]> {
    this.transactions++;
    const all = (r: SmtpReply) => tx.recipients.map((address) => ({ address, reply: r, delivered: false }));
    const limit = Number(this.extensions.get('SIZE') ?? '0');
    if (limit > 0 && tx.message.length > limit) return all(synthetic(552, '5.3.4', `message size ${tx.message.length} exceeds the server's limit of ${limit}`));
    const utf8 = tx.smtputf8 === true || !isAscii(tx.sender) || tx.recipients.some((r) => !isAscii(r));
    // RFC 6531 3.2: no downgrade; the message cannot go to this server at all, so the failure is permanent.
    if (utf8 && !this.extensions.has('SMTPUTF8')) return all(synthetic(553, '5.6.7', 'the receiving server does not support SMTPUTF8'));
    if (tx.requireTls && (!this.tls || this.tls.verified === 'none' || !this.extensions.has('REQUIRETLS'))) {
      // openSession checked this already; this guard keeps it true whatever calls us.
      return all(synthetic(550, '5.7.30', 'REQUIRETLS support required'));
    }
    const params: string[] = [];
    if (this.extensions.has('SIZE')) params.push(`SIZE=${tx.message.length}`);
    if (tx.eightBit && this.extensions.has('8BITMIME')) params.push('BODY=8BITMIME');
    if (utf8) params.push('SMTPUTF8');
    if (tx.requireTls) params.push('REQUIRETLS');
    const dsn = tx.dsn && this.extensions.has('DSN') ? tx.dsn : null;
    if (dsn?.ret) params.push(`RET=${dsn.ret}`);
    if (dsn?.envid) params.push(`ENVID=${xtextEncode(dsn.envid)}`);
    const o = this.o;
    const t = o.commandTimeoutMs;
    const mail = await this.wire.command(`MAIL FROM:<${tx.sender}>${params.length ? ' ' + params.join(' ') : ''}`, o.mailTimeoutMs ?? t);
    if (mail.code !== 250) return all(mail);
    const replies: RecipientReply[] = [];
    for (const address of tx.recipients) {
      const r = await this.wire.command(`RCPT TO:<${address}>${dsn ? rcptDsnParams(dsn.rcpt(address)) : ''}`, o.rcptTimeoutMs ?? t);
      replies.push({ address, reply: r, delivered: false });
    }
    const accepted = replies.filter((r) => r.reply.code === 250 || r.reply.code === 251);
    if (accepted.length === 0) {
      await this.wire.command('RSET', t);
      return replies;
    }
    const data = await this.wire.command('DATA', o.dataInitTimeoutMs ?? t);
    if (data.code !== 354) return replies.map((r) => (accepted.includes(r) ? { ...r, reply: data } : r));
    const payload = dataPayload(tx.message);
    const block = o.dataBlockTimeoutMs ?? Math.min(t, 180_000);
    // Everything but the terminating ".\r\n" (dataPayload always ends with it), then the commit check, then the dot.
    await this.wire.write(payload.subarray(0, payload.length - 3), 'DATA', block);
    if (tx.mayCommit && !tx.mayCommit()) {
      this.wire.close();
      throw new NotCommittedError('recipients no longer held: connection dropped before the end of data, message not committed');
    }
    await this.wire.write(payload.subarray(payload.length - 3), 'DATA', block);
    const final = await this.wire.read(o.dataTimeoutMs);
    const delivered = final.code >= 200 && final.code < 300;
    return replies.map((r) => (accepted.includes(r) ? { address: r.address, reply: final, delivered } : r));
  }

  /** Whether the session can carry another transaction. */
  reset(): Promise<boolean> {
    return this.wire.command('RSET', this.o.commandTimeoutMs).then(
      (r) => r.code === 250,
      () => false,
    );
  }

  quit(): Promise<void> {
    return this.wire.quit(this.o.commandTimeoutMs);
  }

  close(): void {
    this.wire.close();
  }
}

function isAscii(s: string): boolean {
  return /^[\x20-\x7e]*$/.test(s);
}

/** " NOTIFY=... ORCPT=type;xtext" for one recipient, or "". */
function rcptDsnParams(r: { notify?: readonly string[]; orcpt?: string; orcptType?: string }): string {
  let out = '';
  if (r.notify) out += ` NOTIFY=${r.notify.length === 0 ? 'NEVER' : r.notify.join(',')}`;
  if (r.orcpt !== undefined) out += ` ORCPT=${r.orcptType ?? 'rfc822'};${xtextEncode(r.orcpt)}`;
  return out;
}

/** xtext (RFC 3461 4): "+", "=", controls, space and non-ASCII as "+XX". */
function xtextEncode(s: string): string {
  return s.replace(/[^\x21-\x2a\x2c-\x3c\x3e-\x7e]/g, (c) => `+${(c.charCodeAt(0) & 0xff).toString(16).toUpperCase().padStart(2, '0')}`);
}
