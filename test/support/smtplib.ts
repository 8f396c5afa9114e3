/**
 * Drives Python's smtplib (the system interpreter, /usr/bin/python3) against
 * a listener and reports every reply as JSON. The script stops at the first
 * step that fails and records why.
 */
import { run } from './procs.js';

const SCRIPT = String.raw`
import json, os, smtplib, ssl, sys
cfg = json.loads(os.environ['SMTP_CFG'])
out = {}
def rec(name, r):
    out[name] = [r[0], r[1].decode('utf-8', 'replace') if isinstance(r[1], bytes) else str(r[1])]
    return r[0]
ctx = ssl.create_default_context(cafile=cfg['ca'])
helo = cfg.get('helo', 'client.example.test')
try:
    if cfg['mode'] == 'ssl':
        s = smtplib.SMTP_SSL('127.0.0.1', cfg['port'], context=ctx, timeout=20)
    else:
        s = smtplib.SMTP('127.0.0.1', cfg['port'], timeout=20)
    rec('ehlo', s.ehlo(helo))
    out['features'] = dict(s.esmtp_features)
    if cfg['mode'] == 'starttls':
        rec('starttls', s.starttls(context=ctx))
        rec('ehlo_tls', s.ehlo(helo))
        out['features_tls'] = dict(s.esmtp_features)
    for attempt in cfg.get('logins', []):
        s.user, s.password = attempt['user'], attempt['password']
        mech = attempt.get('mech', 'PLAIN')
        try:
            r = s.auth(mech, s.auth_plain if mech == 'PLAIN' else s.auth_login, initial_response_ok=True)
            out.setdefault('auth', []).append([r[0], r[1].decode('utf-8', 'replace')])
        except smtplib.SMTPAuthenticationError as e:
            out.setdefault('auth', []).append([e.smtp_code, e.smtp_error.decode('utf-8', 'replace')])
    if 'from' in cfg:
        if rec('mail', s.mail(cfg['from'], cfg.get('mail_options', []))) == 250:
            out['rcpt'] = []
            for r in cfg['to']:
                c, m = s.rcpt(r, cfg.get('rcpt_options', []))
                out['rcpt'].append([c, m.decode('utf-8', 'replace')])
            if any(c in (250, 251) for c, _ in out['rcpt']) and 'msgFile' in cfg:
                with open(cfg['msgFile'], 'rb') as f:
                    msg = f.read()
                try:
                    rec('data', s.data(msg))
                except smtplib.SMTPDataError as e:
                    out['data'] = [e.smtp_code, e.smtp_error.decode('utf-8', 'replace')]
    try:
        rec('quit', s.quit())
    except Exception as e:
        out['quit_error'] = repr(e)
except Exception as e:
    out['error'] = type(e).__name__ + ': ' + str(e)
print(json.dumps(out))
`;

export interface SmtplibLogin {
  user: string;
  password: string;
  mech?: 'PLAIN' | 'LOGIN';
}

export interface SmtplibConfig {
  port: number;
  mode: 'starttls' | 'ssl' | 'plain';
  ca: string;
  helo?: string;
  logins?: SmtplibLogin[];
  from?: string;
  to?: string[];
  msgFile?: string;
  /** ESMTP parameters for MAIL and for every RCPT (e.g. "NOTIFY=SUCCESS"). */
  mail_options?: string[];
  rcpt_options?: string[];
}

type Reply = [number, string];

export interface SmtplibResult {
  ehlo?: Reply;
  features?: Record<string, string>;
  starttls?: Reply;
  features_tls?: Record<string, string>;
  auth?: Reply[];
  mail?: Reply;
  rcpt?: Reply[];
  data?: Reply;
  quit?: Reply;
  error?: string;
}

export async function smtplib(cfg: SmtplibConfig): Promise<SmtplibResult> {
  const r = await run('/usr/bin/python3', ['-c', SCRIPT], { env: { SMTP_CFG: JSON.stringify(cfg) }, timeoutMs: 45_000 });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as SmtplibResult;
  } catch {
    throw new Error(`smtplib script failed (code ${r.code}): ${r.stderr.slice(0, 2000)}`);
  }
}
