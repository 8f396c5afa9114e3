/** Keys, an independent DKIM signer (python3-dkim) and a message builder for the sender-authentication tests. */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';

export interface TestKey {
  readonly privatePem: string;
  /** The DKIM TXT record for the public key. */
  readonly txt: string;
}

export function rsaKey(bits = 2048): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  const spki = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  return { privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), txt: `v=DKIM1; k=rsa; p=${spki}` };
}

const PY = '/usr/bin/python3';

const SIGN = `
import sys, dkim, json
args = json.loads(sys.argv[1])
msg = sys.stdin.buffer.read()
sig = dkim.sign(msg, args['selector'].encode(), args['domain'].encode(), args['key'].encode(),
                include_headers=[h.encode() for h in args['headers']])
sys.stdout.buffer.write(sig + msg)
`;

/** Signs with Debian's python3-dkim (relaxed/simple, rsa-sha256), returning the signed message. */
export function pythonDkimSign(message: Buffer, domain: string, selector: string, privatePem: string, headers = ['from', 'to', 'subject', 'date', 'message-id']): Buffer {
  return execFileSync(PY, ['-c', SIGN, JSON.stringify({ domain, selector, key: privatePem, headers })], { input: message, timeout: 30_000 });
}

const ARC_VERIFY = `
import sys, dkim, json
zone = json.loads(sys.argv[1])
def dnsfunc(name, timeout=5):
    n = name.decode() if isinstance(name, bytes) else name
    v = zone.get(n.rstrip('.').lower())
    return v.encode() if v is not None else None
msg = sys.stdin.buffer.read()
cv, results, reason = dkim.arc_verify(msg, dnsfunc=dnsfunc)
sys.stdout.write(json.dumps({'cv': cv.decode() if isinstance(cv, bytes) else str(cv), 'reason': str(reason)}))
`;

/** python3-dkim's ARC chain validation with a fixed zone (name → TXT). */
export function pythonArcVerify(message: Buffer, zone: Record<string, string>): { cv: string; reason: string } {
  const out = execFileSync(PY, ['-c', ARC_VERIFY, JSON.stringify(zone)], { input: message, timeout: 30_000 });
  return JSON.parse(out.toString()) as { cv: string; reason: string };
}

export function pythonDkimAvailable(): boolean {
  try {
    execFileSync(PY, ['-c', 'import dkim'], { timeout: 10_000, stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function message(from: string, body = 'Hello.\r\nThis is a test.\r\n', extra = ''): Buffer {
  return Buffer.from(
    `From: Sender <${from}>\r\nTo: rcpt@postern.example\r\nSubject: test\r\nDate: Thu, 03 Dec 2026 10:00:00 +0000\r\nMessage-ID: <m1@${from.split('@')[1] ?? 'x'}>\r\n${extra}\r\n${body}`,
    'latin1',
  );
}
