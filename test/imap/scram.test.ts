/**
 * SCRAM-SHA-256 and SCRAM-SHA-256-PLUS over IMAP AUTHENTICATE, driven by
 * Python's imaplib with a SCRAM client written in the script from RFC 5802
 * (hashlib/hmac: nothing of postern's). -PLUS binds to tls-server-end-point,
 * the hash of the certificate the client received.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness, type TestUser } from './harness.js';
import { pyParams, runPython } from './python.js';

let h: Harness;
let alice: TestUser;
let legacy: TestUser;

beforeAll(async () => {
  h = await startHarness();
  alice = await h.addUser('alice');
  // The password is set again, which stores SCRAM keys beside the scrypt hash.
  await h.deps.directory.setPassword(alice.address, alice.password);
  legacy = await h.addUser('legacy', { legacy: true }); // scrypt hash only, as before SCRAM keys were kept
});

afterAll(async () => {
  await h?.close();
});

const SCRAM = String.raw`
import hashlib, hmac, secrets
def scram(user, password, mech='SCRAM-SHA-256', cb_name=None, cb_data=b''):
    gs2 = ('p=%s,,' % cb_name) if cb_name else 'n,,'
    cnonce = secrets.token_urlsafe(18)
    bare = 'n=%s,r=%s' % (user.replace('=', '=3D').replace(',', '=2C'), cnonce)
    st = {'step': 0}
    def step(challenge):
        st['step'] += 1
        if st['step'] == 1:
            return (gs2 + bare).encode()
        if st['step'] == 2:
            sf = challenge.decode()
            a = dict(kv.split('=', 1) for kv in sf.split(','))
            assert a['r'].startswith(cnonce)
            salted = hashlib.pbkdf2_hmac('sha256', password.encode(), base64.b64decode(a['s']), int(a['i']))
            ck = hmac.digest(salted, b'Client Key', 'sha256')
            sk = hashlib.sha256(ck).digest()
            head = 'c=%s,r=%s' % (b64(gs2.encode() + cb_data), a['r'])
            am = ('%s,%s,%s' % (bare, sf, head)).encode()
            sig = hmac.digest(sk, am, 'sha256')
            st['server'] = hmac.digest(hmac.digest(salted, b'Server Key', 'sha256'), am, 'sha256')
            return (head + ',p=' + b64(bytes(x ^ y for x, y in zip(ck, sig)))).encode()
        v = challenge.decode()
        st['verified'] = v == 'v=' + b64(st['server'])
        return b''
    return step, st

def attempt(m, user, password, **kw):
    step, st = scram(user, password, **kw)
    try:
        typ, data = m.authenticate(kw.get('mech', 'SCRAM-SHA-256'), step)
        return {'typ': typ, 'verified': st.get('verified', False)}
    except imaplib.IMAP4.error as e:
        return {'typ': 'NO', 'error': str(e)}
`;

describe('IMAP AUTHENTICATE SCRAM-SHA-256', () => {
  it('advertises SCRAM-SHA-256 and -PLUS inside TLS, logs in, and the client verifies the server', async () => {
    const r = await runPython(
      `${SCRAM}
m = tls()
emit('caps', [c.decode() if isinstance(c, bytes) else c for c in m.capabilities])
emit('login', attempt(m, P['user']['address'], P['user']['password']))
emit('list', ok(m.list(), 'list')[0].decode())
m.logout()
`,
      pyParams(h, alice),
    );
    expect(r.caps).toEqual(expect.arrayContaining(['AUTH=SCRAM-SHA-256', 'AUTH=SCRAM-SHA-256-PLUS', 'AUTH=PLAIN']));
    expect(r.login).toEqual({ typ: 'OK', verified: true });
    expect(String(r.list)).toContain('INBOX');
  });

  it('fails a wrong password, an unknown account and an account without keys identically; PLAIN still works for the latter', async () => {
    const r = await runPython(
      `${SCRAM}
for key, user, pw in [('wrong', P['user']['address'], 'not the password'), ('unknown', 'nobody@example.test', P['user']['password']), ('legacy', P['legacy']['address'], P['legacy']['password'])]:
    m = tls()
    emit(key, attempt(m, user, pw))
    m.logout()
m = tls()
emit('legacyPlain', ok(m.login(P['legacy']['address'], P['legacy']['password']), 'login')[0].decode())
m.logout()
`,
      pyParams(h, alice, { legacy: { address: legacy.address, password: legacy.password } }),
    );
    const failed = { typ: 'NO', error: expect.stringContaining('[AUTHENTICATIONFAILED] Authentication failed') };
    expect(r.wrong).toEqual(failed);
    expect(r.unknown).toEqual(r.wrong);
    expect(r.legacy).toEqual(r.wrong);
    expect(String(r.legacyPlain)).toContain('Logged in');
  });

  it('-PLUS with tls-server-end-point succeeds; another certificate hash or an unknown binding type fails', async () => {
    const r = await runPython(
      `${SCRAM}
def endpoint(m):
    return hashlib.sha256(m.sock.getpeercert(binary_form=True)).digest()
user, pw = P['user']['address'], P['user']['password']
m = tls()
emit('plus', attempt(m, user, pw, mech='SCRAM-SHA-256-PLUS', cb_name='tls-server-end-point', cb_data=endpoint(m)))
m.logout()
m = tls()
emit('badcb', attempt(m, user, pw, mech='SCRAM-SHA-256-PLUS', cb_name='tls-server-end-point', cb_data=bytes(32)))
m.logout()
m = tls()
emit('unique', attempt(m, user, pw, mech='SCRAM-SHA-256-PLUS', cb_name='tls-unique', cb_data=m.sock.get_channel_binding('tls-unique') or b''))
m.logout()
m = starttls()
emit('starttlsPlus', attempt(m, user, pw, mech='SCRAM-SHA-256-PLUS', cb_name='tls-server-end-point', cb_data=endpoint(m)))
m.logout()
`,
      pyParams(h, alice),
    );
    expect(r.plus).toEqual({ typ: 'OK', verified: true });
    expect(r.badcb).toMatchObject({ typ: 'NO' });
    expect(r.unique).toMatchObject({ typ: 'NO' });
    expect(r.starttlsPlus).toEqual({ typ: 'OK', verified: true });
  });
});

/** GNU SASL's client (gsasl --imap, GnuTLS): over STARTTLS it binds -PLUS to tls-exporter on TLS 1.3. */
function gsasl(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/gsasl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

describe.runIf(existsSync('/usr/bin/gsasl'))('IMAP SCRAM-SHA-256-PLUS with gsasl (tls-exporter)', () => {
  const run = (mech: string, password: string, extra: string[] = []) =>
    gsasl(['--imap', '127.0.0.1', String(h.ports.starttls), '--starttls', '--x509-ca-file', h.caFile, '-m', mech, '-a', alice.address, '-p', password, '--verbose', ...extra]);

  it('logs in with tls-exporter binding, and fails a wrong password', async () => {
    const good = await run('SCRAM-SHA-256-PLUS', alice.password);
    // The client-first-message, base64 on the wire, starts "p=tls-exporter,".
    expect(good.out).toContain(Buffer.from('p=tls-exporter,').toString('base64'));
    expect(good.out).toMatch(/OK \[CAPABILITY [^\]]*\] Logged in/);
    expect(good.code, good.out).toBe(0);
    const bad = await run('SCRAM-SHA-256-PLUS', 'not the password');
    expect(bad.code, bad.out).not.toBe(0);
  });
});
