/**
 * Real clients for the admin listener: curl over HTTPS (and plain HTTP), a
 * raw TCP socket, openssl for a client CA, and Python's prometheus_client
 * parser for the exposition format.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { run } from '../support/procs.js';

export interface CurlResult {
  code: number | null;
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** One request with curl; `-i` headers and the body split apart. */
export async function curl(url: string, opts: { ca?: string; resolve?: string; args?: string[] } = {}): Promise<CurlResult> {
  const args = ['-sS', '-i', '--max-time', '20'];
  if (opts.ca) args.push('--cacert', opts.ca);
  if (opts.resolve) args.push('--resolve', opts.resolve);
  const r = await run('curl', [...args, ...(opts.args ?? []), url], { timeoutMs: 30_000 });
  const end = r.stdout.startsWith('HTTP/') ? r.stdout.indexOf('\r\n\r\n') : -1;
  const head = end < 0 ? '' : r.stdout.slice(0, end);
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    if (i > 0) headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
  }
  return { code: r.code, status: Number(statusLine.split(' ')[1] ?? 0), headers, body: end < 0 ? r.stdout : r.stdout.slice(end + 4) };
}

/** Writes raw bytes to a port and returns everything received until the peer closes, or we give up after `giveUpMs`. */
export function rawExchange(port: number, data: string, giveUpMs = 10_000): Promise<{ data: Buffer; closedByPeer: boolean }> {
  return new Promise((resolve) => {
    const got: Buffer[] = [];
    let gaveUp = false;
    const s = connect(port, '127.0.0.1', () => s.write(data));
    const done = () => resolve({ data: Buffer.concat(got), closedByPeer: !gaveUp });
    const timer = setTimeout(() => {
      gaveUp = true;
      s.destroy();
    }, giveUpMs);
    s.on('close', () => clearTimeout(timer));
    s.on('data', (b: Buffer) => got.push(b));
    s.on('error', done);
    s.on('close', done);
  });
}

export interface Family {
  name: string;
  type: string;
  samples: { name: string; labels: Record<string, string>; value: number }[];
}

const PARSE = String.raw`
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = []
for f in text_string_to_metric_families(sys.stdin.read()):
    out.append({'name': f.name, 'type': f.type, 'samples': [{'name': s.name, 'labels': s.labels, 'value': s.value} for s in f.samples]})
print(json.dumps(out))
`;

/** The exposition parsed by the reference Python parser; throws what it says when the text is invalid. */
export async function parseExposition(text: string): Promise<Family[]> {
  const r = await run('/usr/bin/python3', ['-c', PARSE], { input: text, timeoutMs: 30_000 });
  if (r.code !== 0) throw new Error(`prometheus_client refused the exposition: ${r.stderr.slice(0, 2000)}`);
  return JSON.parse(r.stdout) as Family[];
}

/** A CA and a client certificate it signed (clientAuth), and a self-signed stranger. */
export function makeClientCerts(dir: string): { ca: string; cert: string; key: string; strangerCert: string; strangerKey: string } {
  const f = (n: string) => path.join(dir, n);
  const ossl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe', timeout: 30_000 });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  ossl('req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '2', '-subj', '/CN=postern test scrape CA');
  ossl('req', ...ec, '-keyout', f('client.key'), '-out', f('client.csr'), '-subj', '/CN=prometheus');
  writeFileSync(f('client.ext'), 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n');
  ossl('x509', '-req', '-in', f('client.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('client.pem'), '-days', '2', '-extfile', f('client.ext'));
  ossl('req', '-x509', ...ec, '-keyout', f('stranger.key'), '-out', f('stranger.pem'), '-days', '2', '-subj', '/CN=prometheus', '-addext', 'extendedKeyUsage=clientAuth');
  return { ca: f('ca.pem'), cert: f('client.pem'), key: f('client.key'), strangerCert: f('stranger.pem'), strangerKey: f('stranger.key') };
}
