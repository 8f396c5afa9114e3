// One self-signed certificate (RSA 2048, openssl) that every server of a run
// presents, so a STARTTLS cell compares servers, not key types.
import path from 'node:path';
import { run } from './procs.mjs';

export async function benchCert(dir) {
  const cert = path.join(dir, 'bench-cert.pem');
  const key = path.join(dir, 'bench-key.pem');
  const r = await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=mail.bench.test', '-addext', 'subjectAltName=DNS:mail.bench.test,DNS:localhost'], { timeoutMs: 60_000 });
  if (r.status !== 0) throw new Error(`openssl req: ${r.stderr}`);
  return { cert, key, describe: 'RSA 2048 self-signed (openssl), the same for every server' };
}
