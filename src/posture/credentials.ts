/**
 * Credentials only inside TLS: each plaintext listener is asked, before
 * STARTTLS, what a client would see (IMAP LOGINDISABLED and a refused LOGIN,
 * no AUTH in the submission EHLO and a refused AUTH, POP3 refusing USER), and
 * the HTTP port of the admin listener must only redirect. The MX is asked
 * for REQUIRETLS inside TLS. No real credential is ever sent.
 */
import http from 'node:http';
import tls from 'node:tls';
import type { CheckResult } from './types.js';
import type { PostureContext } from './context.js';
import { redirectEndpoint, tlsEndpoints, type Endpoint } from './listeners.js';
import { startTls } from './starttls.js';
import { imapTagged, oneLine, smtpReply, Wire } from './wire.js';

// A login no account has ("posture-audit@invalid", password "x"): only whether the server evaluates it matters.
const SASL_PLAIN = Buffer.from('\0posture-audit@invalid\0x').toString('base64');
const FIX_LISTENER = 'Postern refuses this by design; a listener answering otherwise is not postern or runs a modified build: check what listens on the port.';

const first = (s: string): string => s.split('\r\n')[0]!.slice(0, 100);

async function withWire<T>(ep: Endpoint, ctx: PostureContext, fn: (w: Wire) => Promise<T>): Promise<T> {
  const w = await Wire.connect(ep.host, ep.port, ctx.timeoutMs);
  try {
    return await fn(w);
  } finally {
    w.close();
  }
}

async function imapPlain(ep: Endpoint, ctx: PostureContext): Promise<CheckResult> {
  const base = { id: 'auth.imap.before-starttls', area: 'auth' };
  return withWire(ep, ctx, async (w) => {
    await w.ask(null, oneLine);
    const caps = await w.ask('c1 CAPABILITY', imapTagged('c1'));
    const login = await w.ask('c2 LOGIN posture-audit@invalid x', imapTagged('c2'));
    await w.ask('c3 LOGOUT', imapTagged('c3')).catch(() => '');
    const problems: string[] = [];
    if (!/\bLOGINDISABLED\b/i.test(caps)) problems.push('does not advertise LOGINDISABLED');
    if (/\bAUTH=/i.test(caps)) problems.push('advertises AUTH= mechanisms');
    if (!/\bSTARTTLS\b/i.test(caps)) problems.push('does not offer STARTTLS');
    if (!/^c2 (NO|BAD)/m.test(login) || /^c2 NO \[AUTHENTICATIONFAILED\]/m.test(login)) problems.push(`evaluates LOGIN before STARTTLS (${first(login.slice(login.indexOf('c2 ')))})`);
    if (problems.length) return { ...base, grade: 'fail', reason: `IMAP ${ep.host}:${ep.port} ${problems.join('; ')}`, fix: FIX_LISTENER };
    return { ...base, grade: 'pass', reason: 'advertises LOGINDISABLED and STARTTLS, refuses LOGIN before STARTTLS', fix: '' };
  });
}

async function pop3Plain(ep: Endpoint, ctx: PostureContext): Promise<CheckResult> {
  const base = { id: 'auth.pop3.before-stls', area: 'auth' };
  return withWire(ep, ctx, async (w) => {
    await w.ask(null, oneLine);
    const user = await w.ask('USER posture-audit@invalid', oneLine);
    const pass = /^\+OK/.test(user) ? await w.ask('PASS x', oneLine) : null;
    const auth = await w.ask(`AUTH PLAIN ${SASL_PLAIN}`, oneLine);
    await w.ask('QUIT', oneLine).catch(() => '');
    const problems: string[] = [];
    if (/^\+OK/.test(user)) problems.push(`accepts USER before STLS${pass ? ` (PASS: ${first(pass)})` : ''}`);
    if (/^\+/.test(auth)) problems.push(`takes AUTH before STLS (${first(auth)})`);
    if (problems.length) return { ...base, grade: 'fail', reason: `POP3 ${ep.host}:${ep.port} ${problems.join('; ')}`, fix: FIX_LISTENER };
    return { ...base, grade: 'pass', reason: `refuses USER and AUTH before STLS (${first(user)})`, fix: '' };
  });
}

async function smtpPlain(ep: Endpoint, ctx: PostureContext): Promise<CheckResult> {
  const base = { id: `auth.${ep.name}.before-starttls`, area: 'auth' };
  return withWire(ep, ctx, async (w) => {
    await w.ask(null, smtpReply);
    const ehlo = await w.ask('EHLO posture-audit.invalid', smtpReply);
    const auth = await w.ask(`AUTH PLAIN ${SASL_PLAIN}`, smtpReply);
    await w.ask('QUIT', smtpReply).catch(() => '');
    const problems: string[] = [];
    if (/^250[ -]AUTH\b/im.test(ehlo)) problems.push('advertises AUTH before STARTTLS');
    if (!/^250[ -]STARTTLS\r?$/im.test(ehlo)) problems.push('does not offer STARTTLS');
    // 530/538 (encryption required) or 503/502/504 (no AUTH here) refuse; 235, 334 or 535 mean the credentials were looked at.
    if (/^(235|334|535)/.test(auth)) problems.push(`evaluates AUTH before STARTTLS (${first(auth)})`);
    if (problems.length) return { ...base, grade: 'fail', reason: `SMTP ${ep.name} ${ep.host}:${ep.port} ${problems.join('; ')}`, fix: FIX_LISTENER };
    return { ...base, grade: 'pass', reason: `offers STARTTLS, no AUTH before it (AUTH answered ${first(auth)})`, fix: '' };
  });
}

/** The MX inside TLS: REQUIRETLS (RFC 8689) must be advertised so senders can demand TLS end to end. */
async function mxRequireTls(ep: Endpoint, ctx: PostureContext): Promise<CheckResult> {
  const base = { id: 'outbound.requiretls', area: 'outbound' };
  const w = await Wire.connect(ep.host, ep.port, ctx.timeoutMs);
  let socket: tls.TLSSocket | null = null;
  try {
    await startTls(w, ep);
    const plain = w.detach();
    socket = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const s = tls.connect({ socket: plain, servername: ctx.config.server.hostname, rejectUnauthorized: false, minVersion: 'TLSv1.2' });
      const t = setTimeout(() => reject(new Error(`no handshake in ${ctx.timeoutMs} ms`)), ctx.timeoutMs);
      s.once('secureConnect', () => {
        clearTimeout(t);
        resolve(s);
      });
      s.once('error', (e) => {
        clearTimeout(t);
        reject(e);
      });
    });
    const inner = Wire.over(socket, ctx.timeoutMs);
    const ehlo = await inner.ask('EHLO posture-audit.invalid', smtpReply);
    await inner.ask('QUIT', smtpReply).catch(() => '');
    if (/^250[ -]REQUIRETLS\r?$/im.test(ehlo)) return { ...base, grade: 'pass', reason: 'the MX advertises REQUIRETLS inside TLS', fix: '' };
    return { ...base, grade: 'fail', reason: 'the MX does not advertise REQUIRETLS after STARTTLS', fix: FIX_LISTENER };
  } finally {
    socket?.destroy();
    w.close();
  }
}

/** The admin listener's plain HTTP port, when configured, must answer every path with a redirect to https. */
async function httpRedirect(ctx: PostureContext): Promise<CheckResult> {
  const base = { id: 'auth.http.redirect-only', area: 'auth' };
  const r = redirectEndpoint(ctx.config);
  if (!r) return { ...base, grade: 'pass', reason: 'no plain HTTP listener ([admin] redirect_port is not set)', fix: '' };
  const answers = await Promise.all(['/metrics', '/api/v1/status', '/console/login'].map((p) => httpGet(r.host, r.port, p, ctx.config.server.hostname, ctx.timeoutMs)));
  const bad = answers.filter((a) => !([301, 302, 307, 308].includes(a.status) && /^https:\/\//.test(a.location)));
  if (bad.length) return { ...base, grade: 'fail', reason: `plain HTTP on ${r.host}:${r.port} answers ${bad.map((b) => `${b.path} with ${b.status}`).join(', ')}`, fix: 'The redirect port must only redirect to https; check what listens on [admin] redirect_port.' };
  return { ...base, grade: 'pass', reason: `plain HTTP on ${r.host}:${r.port} only redirects to https`, fix: '' };
}

function httpGet(host: string, port: number, path: string, hostHeader: string, timeoutMs: number): Promise<{ path: string; status: number; location: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host, port, path, headers: { Host: hostHeader }, timeout: timeoutMs }, (res) => {
      res.resume();
      resolve({ path, status: res.statusCode ?? 0, location: String(res.headers.location ?? '') });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

const failed = (id: string, area: string, what: string) => (e: unknown): CheckResult => ({ id, area, grade: 'fail', reason: `${what}: ${(e as Error).message}`, fix: 'Start postern and run the audit on the machine it runs on; check the listener in the config.' });

export async function credentialChecks(ctx: PostureContext): Promise<CheckResult[]> {
  const eps = tlsEndpoints(ctx.config);
  const jobs: Promise<CheckResult>[] = [];
  for (const ep of eps) {
    if (ep.name === 'imap') jobs.push(imapPlain(ep, ctx).catch(failed('auth.imap.before-starttls', 'auth', `IMAP ${ep.host}:${ep.port} could not be asked`)));
    if (ep.name === 'pop3') jobs.push(pop3Plain(ep, ctx).catch(failed('auth.pop3.before-stls', 'auth', `POP3 ${ep.host}:${ep.port} could not be asked`)));
    if (ep.name === 'submission' || ep.name === 'mx') jobs.push(smtpPlain(ep, ctx).catch(failed(`auth.${ep.name}.before-starttls`, 'auth', `SMTP ${ep.name} ${ep.host}:${ep.port} could not be asked`)));
    if (ep.name === 'mx') jobs.push(mxRequireTls(ep, ctx).catch(failed('outbound.requiretls', 'outbound', `the MX ${ep.host}:${ep.port} could not be asked`)));
  }
  jobs.push(httpRedirect(ctx).catch(failed('auth.http.redirect-only', 'auth', 'the plain HTTP port could not be asked')));
  return Promise.all(jobs);
}
