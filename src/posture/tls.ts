/**
 * TLS on every enabled listener, as a client sees it: which protocol
 * versions are accepted, whether weak suites are, forward secrecy, and the
 * certificate (validity, chain, name, days to expiry). Suites this client's
 * OpenSSL cannot offer at all are named as not tested.
 */
import tls from 'node:tls';
import type { CheckResult } from './types.js';
import type { PostureContext } from './context.js';
import { tlsEndpoints, type Endpoint } from './listeners.js';
import { beforeTls } from './starttls.js';
import { handshake, type Handshake, type TlsAttempt } from './wire.js';

const VERSIONS: readonly tls.SecureVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

/** Suites that must never be negotiated, as OpenSSL cipher lists (TLS 1.2 and older). */
export const WEAK_SUITES: readonly { readonly name: string; readonly ciphers: string }[] = [
  { name: 'NULL (no encryption)', ciphers: 'eNULL' },
  { name: 'anonymous (no authentication)', ciphers: 'aNULL' },
  { name: 'RSA key exchange (no forward secrecy)', ciphers: 'kRSA' },
  { name: 'RC4', ciphers: 'RC4' },
  { name: '3DES', ciphers: '3DES' },
  { name: 'EXPORT', ciphers: 'EXP' },
];

const DAY = 86_400_000;

interface Probe {
  readonly ep: Endpoint;
  readonly versions: ReadonlyMap<tls.SecureVersion, Handshake>;
  readonly weak: readonly { readonly name: string; readonly h: Handshake }[];
  /** The handshake with the client's defaults (best version, best suite). */
  readonly best: Handshake;
}

async function attempt(ep: Endpoint, servername: string, a: TlsAttempt, timeoutMs: number): Promise<Handshake> {
  try {
    const socket = await beforeTls(ep, timeoutMs);
    return await handshake({ host: ep.host, port: ep.port, servername, ...(socket ? { socket } : {}) }, a, timeoutMs);
  } catch (e) {
    return { ok: false, error: `no connection: ${(e as Error).message}`, untestable: false };
  }
}

const UNREACHABLE = /^no connection|ECONNREFUSED|EHOSTUNREACH|ENETUNREACH/;

/** One connection at a time per listener, so per-client connection limits never distort the answer. */
async function probe(ep: Endpoint, ctx: PostureContext): Promise<Probe> {
  const host = ctx.config.server.hostname;
  const best = await attempt(ep, host, { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3', ciphers: 'DEFAULT' }, ctx.timeoutMs);
  const versions = new Map<tls.SecureVersion, Handshake>();
  const weak: { name: string; h: Handshake }[] = [];
  if (!best.ok && UNREACHABLE.test(best.error)) return { ep, versions, weak, best };
  for (const v of VERSIONS) versions.set(v, await attempt(ep, host, { minVersion: v, maxVersion: v }, ctx.timeoutMs));
  for (const s of WEAK_SUITES) weak.push({ name: s.name, h: await attempt(ep, host, { minVersion: 'TLSv1', maxVersion: 'TLSv1.2', ciphers: s.ciphers }, ctx.timeoutMs) });
  return { ep, versions, weak, best };
}

const id = (ep: Endpoint, what: string): string => `tls.${ep.name}.${what}`;
const where = (ep: Endpoint): string => `${ep.name} (${ep.host}:${ep.port}${ep.start === 'implicit' ? '' : `, STARTTLS`})`;

function protocolCheck(p: Probe, min: string): CheckResult {
  const accepted = VERSIONS.filter((v) => p.versions.get(v)?.ok);
  const untested = VERSIONS.filter((v) => {
    const h = p.versions.get(v);
    return h && !h.ok && h.untestable;
  });
  const old = accepted.filter((v) => v === 'TLSv1' || v === 'TLSv1.1');
  const modern = accepted.filter((v) => v === 'TLSv1.2' || v === 'TLSv1.3');
  const note = untested.length ? `; not tested (this OpenSSL cannot offer them): ${untested.join(', ')}` : '';
  const base = { id: id(p.ep, 'protocols'), area: 'tls' };
  if (old.length) return { ...base, grade: 'fail', reason: `${where(p.ep)} accepts ${old.join(', ')}${note}`, fix: `Set [tls] min_version = "${min}" or newer; TLS 1.0 and 1.1 are broken (RFC 8996).` };
  if (!modern.length) return { ...base, grade: 'fail', reason: `${where(p.ep)} completes no TLS 1.2 or 1.3 handshake`, fix: 'Check the [tls] cert and key and that the listener is up.' };
  const refused = VERSIONS.filter((v) => !accepted.includes(v) && !untested.includes(v));
  return { ...base, grade: 'pass', reason: `accepts ${modern.join(', ')}; refuses ${refused.join(', ') || 'nothing older'}${note}`, fix: '' };
}

function cipherCheck(p: Probe): CheckResult {
  const bad = p.weak.filter((w) => w.h.ok);
  const untested = p.weak.filter((w) => !w.h.ok && w.h.untestable).map((w) => w.name);
  const note = untested.length ? `; not tested (this OpenSSL has no such suites): ${untested.join(', ')}` : '';
  const base = { id: id(p.ep, 'ciphers'), area: 'tls' };
  if (bad.length) {
    const names = bad.map((b) => `${b.name}: ${b.h.ok ? b.h.cipher : ''}`).join('; ');
    return { ...base, grade: 'fail', reason: `${where(p.ep)} negotiates weak suites (${names})${note}`, fix: 'Serve only forward-secret AEAD suites (src/net/tls.ts): ECDHE with AES-GCM or ChaCha20-Poly1305.' };
  }
  const refused = p.weak.filter((w) => !w.h.ok && !w.h.untestable).map((w) => w.name);
  return { ...base, grade: 'pass', reason: `refuses ${refused.join(', ')}${note}`, fix: '' };
}

function secrecyCheck(p: Probe): CheckResult {
  const base = { id: id(p.ep, 'forward-secrecy'), area: 'tls' };
  const tried = [p.best, p.versions.get('TLSv1.2')].filter((h): h is Extract<Handshake, { ok: true }> => !!h && h.ok);
  const without = tried.filter((h) => h.ephemeral === null);
  if (without.length) return { ...base, grade: 'fail', reason: `${where(p.ep)} negotiated ${without.map((h) => `${h.protocol} ${h.cipher}`).join(', ')} without an ephemeral key exchange`, fix: 'Serve only ECDHE suites (src/net/tls.ts).' };
  return { ...base, grade: 'pass', reason: tried.map((h) => `${h.protocol} ${h.cipher} (${h.ephemeral})`).join('; '), fix: '' };
}

const RENEW = 'Renew the certificate ([tls] cert and key) and restart postern.';

/** Certificate findings for one certificate, served on `eps`. */
export function certificateChecks(prefix: string, eps: string, cert: tls.DetailedPeerCertificate, chainError: string | null, hostname: string, now: number): CheckResult[] {
  const out: CheckResult[] = [];
  const from = Date.parse(cert.valid_from);
  const to = Date.parse(cert.valid_to);
  const days = Math.floor((to - now) / DAY);
  const base = (what: string) => ({ id: `${prefix}.${what}`, area: 'tls' });
  if (!(from <= now)) out.push({ ...base('expiry'), grade: 'fail', reason: `the certificate on ${eps} is not valid before ${cert.valid_from}`, fix: RENEW });
  else if (to <= now) out.push({ ...base('expiry'), grade: 'fail', reason: `the certificate on ${eps} expired on ${cert.valid_to}`, fix: RENEW });
  else if (days < 7) out.push({ ...base('expiry'), grade: 'fail', reason: `the certificate on ${eps} expires in ${days} day(s) (${cert.valid_to})`, fix: RENEW });
  else if (days < 30) out.push({ ...base('expiry'), grade: 'warn', reason: `the certificate on ${eps} expires in ${days} days (${cert.valid_to})`, fix: RENEW });
  else out.push({ ...base('expiry'), grade: 'pass', reason: `valid until ${cert.valid_to} (${days} days)`, fix: '' });

  const mismatch = tls.checkServerIdentity(hostname, cert);
  out.push(
    mismatch
      ? { ...base('name'), grade: 'fail', reason: `the certificate on ${eps} does not name ${hostname}: ${mismatch.message}`, fix: `Use a certificate whose subjectAltName includes ${hostname} ([server] hostname).` }
      : { ...base('name'), grade: 'pass', reason: `names ${hostname}`, fix: '' },
  );

  const selfSigned = chainError !== null && /SELF_SIGNED|self.signed|UNABLE_TO_GET_ISSUER_CERT_LOCALLY|unable to get local issuer/i.test(chainError);
  if (chainError === null) out.push({ ...base('chain'), grade: 'pass', reason: `chains to a trusted CA (issuer ${cert.issuer?.CN ?? '?'})`, fix: '' });
  else if (/EXPIRED|expired/i.test(chainError)) out.push({ ...base('chain'), grade: 'fail', reason: `the chain on ${eps} does not verify: ${chainError}`, fix: RENEW });
  else if (selfSigned)
    out.push({ ...base('chain'), grade: 'warn', reason: `the certificate on ${eps} is not issued by a CA this system trusts (${chainError}): clients will warn unless configured to trust it`, fix: 'Use a certificate from a public CA (e.g. ACME) for listeners that unmanaged clients and other servers reach.' });
  else out.push({ ...base('chain'), grade: 'fail', reason: `the chain on ${eps} does not verify: ${chainError}`, fix: 'Put the whole chain (certificate, then intermediates) in the [tls] cert file.' });
  return out;
}

/** Certificate checks once per distinct certificate, naming the listeners that serve it. */
function certificateGroups(probes: readonly Probe[], ctx: PostureContext): CheckResult[] {
  const byPrint = new Map<string, { eps: string[]; h: Extract<Handshake, { ok: true }> }>();
  for (const p of probes) {
    if (!p.best.ok || !p.best.cert) continue;
    const k = p.best.cert.fingerprint256;
    const e = byPrint.get(k) ?? { eps: [], h: p.best };
    e.eps.push(p.ep.name);
    byPrint.set(k, e);
  }
  const out: CheckResult[] = [];
  const several = byPrint.size > 1;
  for (const { eps, h } of byPrint.values()) {
    const prefix = several ? `tls.certificate.${eps[0]}` : 'tls.certificate';
    out.push(...certificateChecks(prefix, eps.join(', '), h.cert!, h.chainError, ctx.config.server.hostname, ctx.now));
  }
  return out;
}

export async function tlsChecks(ctx: PostureContext): Promise<CheckResult[]> {
  const eps = tlsEndpoints(ctx.config);
  const probes = await Promise.all(eps.map((ep) => probe(ep, ctx)));
  const out: CheckResult[] = [];
  for (const p of probes) {
    if (p.versions.size === 0 && !p.best.ok) {
      out.push({ id: id(p.ep, 'reachable'), area: 'tls', grade: 'fail', reason: `no TLS session with ${where(p.ep)}: ${p.best.error}`, fix: 'Start postern (postern start) and run the audit on the machine it runs on; check the listener in the config.' });
      continue;
    }
    out.push(protocolCheck(p, ctx.config.tls.min_version), cipherCheck(p), secrecyCheck(p));
  }
  out.push(...certificateGroups(probes, ctx));
  return out;
}
