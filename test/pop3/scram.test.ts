/**
 * POP3 AUTH SCRAM-SHA-256 and -PLUS (RFC 5034), driven by Python's poplib
 * with a SCRAM client written in the script from RFC 5802 (hashlib/hmac).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Directory } from '../../src/directory/directory.js';
import { run } from '../support/procs.js';
import { startPop3Fixture, type Pop3Fixture } from './harness.js';

const PASSWORD = 'pop3 scram password';
let fx: Pop3Fixture;
beforeAll(async () => {
  fx = await startPop3Fixture({ users: 2 });
  await new Directory(fx.store.meta.directory).setPassword(fx.users[0]!.address, PASSWORD);
});
afterAll(async () => {
  await fx?.close();
});

const SCRIPT = String.raw`
import base64, hashlib, hmac, json, os, poplib, secrets, ssl
cfg = json.loads(os.environ['POP_CFG'])
b64 = lambda b: base64.b64encode(b).decode()
out = []
for a in cfg['attempts']:
    p = poplib.POP3_SSL('127.0.0.1', cfg['port'], context=ssl.create_default_context(cafile=cfg['ca']), timeout=20)
    caps = p.capa()
    mech = a.get('mech', 'SCRAM-SHA-256')
    cb = hashlib.sha256(p.sock.getpeercert(binary_form=True)).digest() if a.get('cb') == 'good' else bytes(32) if a.get('cb') else b''
    gs2 = 'p=tls-server-end-point,,' if a.get('cb') else 'n,,'
    bare = 'n=%s,r=%s' % (a['user'], secrets.token_urlsafe(18))
    res = {'sasl': ' '.join(caps.get('SASL', []))}
    try:
        r = p._shortcmd('AUTH %s %s' % (mech, b64((gs2 + bare).encode())))
        sf = base64.b64decode(r[2:]).decode()
        s = dict(kv.split('=', 1) for kv in sf.split(','))
        salted = hashlib.pbkdf2_hmac('sha256', a['password'].encode(), base64.b64decode(s['s']), int(s['i']))
        ck = hmac.digest(salted, b'Client Key', 'sha256')
        head = 'c=%s,r=%s' % (b64(gs2.encode() + cb), s['r'])
        am = ('%s,%s,%s' % (bare, sf, head)).encode()
        sig = hmac.digest(hashlib.sha256(ck).digest(), am, 'sha256')
        r = p._shortcmd(b64((head + ',p=' + b64(bytes(x ^ y for x, y in zip(ck, sig)))).encode()))
        v = base64.b64decode(r[2:]).decode()
        res['verified'] = v == 'v=' + b64(hmac.digest(hmac.digest(salted, b'Server Key', 'sha256'), am, 'sha256'))
        res['ok'] = p._shortcmd('').decode()
        res['stat'] = list(p.stat())
    except poplib.error_proto as e:
        res['error'] = e.args[0].decode()
    out.append(res)
    p.close()
print(json.dumps(out))
`;

async function attempts(list: Record<string, unknown>[]): Promise<Record<string, unknown>[]> {
  const cfg = { port: fx.ports.tls, ca: fx.caFile, attempts: list };
  const r = await run('/usr/bin/python3', ['-c', SCRIPT], { env: { POP_CFG: JSON.stringify(cfg) }, timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`python failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, unknown>[];
}

describe('POP3 AUTH SCRAM-SHA-256', () => {
  it('offers SCRAM and -PLUS, logs in (plain and bound), and fails wrong password, unknown and key-less accounts alike', async () => {
    const [u, legacy] = [fx.users[0]!, fx.users[1]!];
    const r = await attempts([
      { user: u.address, password: PASSWORD },
      { user: u.address, password: PASSWORD, mech: 'SCRAM-SHA-256-PLUS', cb: 'good' },
      { user: u.address, password: 'wrong password!' },
      { user: 'nobody@example.test', password: PASSWORD },
      { user: legacy.address, password: legacy.password },
      { user: u.address, password: PASSWORD, mech: 'SCRAM-SHA-256-PLUS', cb: 'bad' },
    ]);
    expect(r[0]!.sasl).toBe('SCRAM-SHA-256-PLUS SCRAM-SHA-256 PLAIN');
    for (const ok of r.slice(0, 2)) expect(ok).toMatchObject({ verified: true, ok: expect.stringMatching(/^\+OK Logged in/), stat: [0, 0] });
    for (const bad of r.slice(2)) expect(bad).toEqual({ sasl: r[0]!.sasl, error: '-ERR [AUTH] Authentication failed' });
  });
});
