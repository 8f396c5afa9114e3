/**
 * AUTH SCRAM-SHA-256 and SCRAM-SHA-256-PLUS on submission, driven by Python's
 * smtplib with a SCRAM client written in the script from RFC 5802
 * (hashlib/hmac), and by GNU SASL's gsasl (GnuTLS), which binds -PLUS to
 * tls-exporter on TLS 1.3.
 */
import { existsSync } from 'node:fs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { useHarness, type Harness } from '../support/harness.js';
import { killAll, run } from '../support/procs.js';

let h: Harness;
useHarness({}, (x) => (h = x));
afterEach(() => killAll());

beforeAll(async () => {
  // Set again, so SCRAM keys are stored beside the scrypt hash; bob keeps only his hash, as accounts made before SCRAM.
  await h.directory.setPassword(h.users.alice.address, h.users.alice.password);
  const bob = await h.store.meta.directory.getAccount(h.users.bob.address);
  await h.store.meta.directory.setPasswordHash(h.users.bob.address, bob!.passwordHash, null);
});

const SCRIPT = String.raw`
import base64, hashlib, hmac, json, os, secrets, smtplib, ssl
cfg = json.loads(os.environ['SMTP_CFG'])
b64 = lambda b: base64.b64encode(b).decode()
def scram(user, password, cb_name=None, cb_data=b''):
    gs2 = ('p=%s,,' % cb_name) if cb_name else 'n,,'
    cnonce = secrets.token_urlsafe(18)
    bare = 'n=%s,r=%s' % (user, cnonce)
    st = {'step': 0}
    def step(challenge=None):
        st['step'] += 1
        if st['step'] == 1:
            return gs2 + bare
        if st['step'] == 2:
            sf = challenge.decode()
            a = dict(kv.split('=', 1) for kv in sf.split(','))
            salted = hashlib.pbkdf2_hmac('sha256', password.encode(), base64.b64decode(a['s']), int(a['i']))
            ck = hmac.digest(salted, b'Client Key', 'sha256')
            head = 'c=%s,r=%s' % (b64(gs2.encode() + cb_data), a['r'])
            am = ('%s,%s,%s' % (bare, sf, head)).encode()
            sig = hmac.digest(hashlib.sha256(ck).digest(), am, 'sha256')
            st['server'] = hmac.digest(hmac.digest(salted, b'Server Key', 'sha256'), am, 'sha256')
            return head + ',p=' + b64(bytes(x ^ y for x, y in zip(ck, sig)))
        st['verified'] = challenge.decode() == 'v=' + b64(st['server'])
        return ''
    return step, st
ctx = ssl.create_default_context(cafile=cfg['ca'])
out = []
for a in cfg['attempts']:
    s = smtplib.SMTP('127.0.0.1', cfg['port'], timeout=20)
    s.starttls(context=ctx)
    s.ehlo('client.example.test')
    if not out:
        print(json.dumps({'auth': s.esmtp_features.get('auth', '')}))
    cb = hashlib.sha256(s.sock.getpeercert(binary_form=True)).digest() if a.get('cb') == 'good' else bytes(32) if a.get('cb') else b''
    step, st = scram(a['user'], a['password'], 'tls-server-end-point' if a.get('cb') else None, cb)
    try:
        r = s.auth(a.get('mech', 'SCRAM-SHA-256'), step, initial_response_ok=a.get('ir', True))
        res = {'code': r[0], 'verified': st.get('verified', False)}
        res['mail'] = s.mail(cfg['from'])[0]
    except smtplib.SMTPAuthenticationError as e:
        res = {'code': e.smtp_code, 'text': e.smtp_error.decode()}
    out.append(res)
    s.close()
print(json.dumps(out))
`;

async function smtplib(attempts: Record<string, unknown>[]): Promise<{ auth: string; results: Record<string, unknown>[] }> {
  const cfg = { port: h.ports.submission, ca: h.caFile, from: h.users.alice.address, attempts };
  const r = await run('/usr/bin/python3', ['-c', SCRIPT], { env: { SMTP_CFG: JSON.stringify(cfg) }, timeoutMs: 60_000 });
  const lines = r.stdout.trim().split('\n');
  if (r.code !== 0 || lines.length < 2) throw new Error(`python failed: ${r.stderr}`);
  return { auth: (JSON.parse(lines[0]!) as { auth: string }).auth, results: JSON.parse(lines[1]!) as Record<string, unknown>[] };
}

describe('submission: AUTH SCRAM-SHA-256', () => {
  it('offers both mechanisms inside TLS; logs in with and without an initial response, and the client verifies the server', async () => {
    const { alice } = h.users;
    const r = await smtplib([
      { user: alice.address, password: alice.password },
      { user: alice.address, password: alice.password, ir: false },
      { user: alice.address, password: alice.password, mech: 'SCRAM-SHA-256-PLUS', cb: 'good' },
    ]);
    expect(r.auth.split(' ')).toEqual(expect.arrayContaining(['SCRAM-SHA-256', 'SCRAM-SHA-256-PLUS', 'PLAIN']));
    for (const x of r.results) expect(x).toEqual({ code: 235, verified: true, mail: 250 });
  });

  it('fails a wrong password, an unknown account, an account without keys and a wrong channel binding identically', async () => {
    const { alice, bob } = h.users;
    const r = await smtplib([
      { user: alice.address, password: 'not the password' },
      { user: 'nobody@example.test', password: alice.password },
      { user: bob.address, password: bob.password }, // enabled, scrypt hash only
      { user: alice.address, password: alice.password, mech: 'SCRAM-SHA-256-PLUS', cb: 'bad' },
    ]);
    const failed = { code: 535, text: '5.7.8 Authentication credentials invalid' };
    for (const x of r.results) expect(x).toEqual(failed);
  });
});

describe.runIf(existsSync('/usr/bin/gsasl'))('submission: SCRAM-SHA-256-PLUS with gsasl (tls-exporter)', () => {
  it('logs in binding tls-exporter, and fails a wrong password', async () => {
    const { alice } = h.users;
    const gsasl = (password: string) =>
      run('/usr/bin/gsasl', ['--smtp', '127.0.0.1', String(h.ports.submission), '--starttls', '--x509-ca-file', h.caFile, '-m', 'SCRAM-SHA-256-PLUS', '-a', alice.address, '-p', password, '--verbose'], {
        timeoutMs: 60_000,
      });
    const good = await gsasl(alice.password);
    const trace = good.stdout + good.stderr;
    expect(trace).toContain(Buffer.from('p=tls-exporter,').toString('base64'));
    expect(trace).toMatch(/^235 /m);
    expect(good.code, trace).toBe(0);
    const bad = await gsasl('not the password');
    expect(bad.stdout + bad.stderr).toMatch(/^535 /m);
  });
});
