// Cost of S/MIME on one message: encrypt a 50 KiB message to an RSA-3072 and
// to a P-256 certificate (AES-256-GCM and AES-256-CBC), with the certificate
// parsed per call and parsed once, sign it, and verify a real 209 KiB
// Thunderbird message with its three-certificate chain.
//
//   npm run build && node bench/smime.mjs
//   SMIME_MODULE=/path/to/crypto/smime/index.js node bench/smime.mjs
//
// Keys are made with the openssl CLI in a temp directory. Each figure is the
// best of three rounds of BENCH_ROUNDS operations (default 100).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const modulePath = process.env.SMIME_MODULE
  ? pathToFileURL(process.env.SMIME_MODULE).href
  : new URL('../dist/crypto/smime/index.js', import.meta.url).href;
const { encryptMessage, parseCertificate, signMessage, verifySmime } = await import(modulePath);

const rounds = Number(process.env.BENCH_ROUNDS ?? 100);
const dir = mkdtempSync(join(tmpdir(), 'smime-bench-'));
const make = (name, args) => {
  execFileSync('openssl', ['req', '-x509', '-newkey', ...args, '-nodes', '-keyout', join(dir, `${name}.key`), '-out', join(dir, `${name}.crt`), '-subj', `/CN=${name}`, '-days', '30'], { stdio: 'ignore' });
  return { cert: readFileSync(join(dir, `${name}.crt`), 'utf8'), key: readFileSync(join(dir, `${name}.key`), 'utf8') };
};
const rsa = make('rsa3072', ['rsa:3072']);
const ec = make('p256', ['ec', '-pkeyopt', 'ec_paramgen_curve:P-256']);
rmSync(dir, { recursive: true, force: true });

const body = randomBytes(38 * 1024).toString('base64').replace(/.{76}/g, '$&\r\n');
const message = Buffer.from(
  'From: a@example.test\r\nTo: b@example.test\r\nSubject: bench\r\nDate: Fri, 4 Dec 2026 10:00:00 +0000\r\nMessage-ID: <b@example.test>\r\n' +
    `MIME-Version: 1.0\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n${body}`,
);

function measure(label, fn) {
  for (let i = 0; i < 10; i++) fn();
  let best = Infinity;
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now();
    for (let i = 0; i < rounds; i++) fn();
    best = Math.min(best, (performance.now() - t0) / rounds);
  }
  console.log(`${label.padEnd(62)} ${best.toFixed(2).padStart(7)} ms  (${Math.round(1000 / best)}/s)`);
}

console.log(`message: ${(message.length / 1024).toFixed(1)} KiB`);
const rsaCert = parseCertificate(rsa.cert);
const ecCert = parseCertificate(ec.cert);
for (const cipher of ['aes-256-gcm', 'aes-256-cbc']) {
  measure(`encrypt -> RSA-3072 (OAEP), ${cipher}, PEM each time`, () => encryptMessage(message, { recipients: [{ certificate: rsa.cert }], cipher }));
  measure(`encrypt -> RSA-3072 (OAEP), ${cipher}, parsed once`, () => encryptMessage(message, { recipients: [{ certificate: rsaCert }], cipher }));
  measure(`encrypt -> P-256 (ECDH), ${cipher}, PEM each time`, () => encryptMessage(message, { recipients: [{ certificate: ec.cert }], cipher }));
  measure(`encrypt -> P-256 (ECDH), ${cipher}, parsed once`, () => encryptMessage(message, { recipients: [{ certificate: ecCert }], cipher }));
}
measure('sign (multipart/signed), RSA-3072', () => signMessage(message, { certificate: rsaCert, key: rsa.key }));
measure('sign (multipart/signed), P-256', () => signMessage(message, { certificate: ecCert, key: ec.key }));

const fixtures = new URL('../test/fixtures/smime/', import.meta.url);
const thunderbird = readFileSync(new URL('mimekit-thunderbird-signed.eml', fixtures));
const anchors = [readFileSync(new URL('StartComCertificationAuthority.crt', fixtures), 'utf8')];
const at = new Date('2013-11-02T20:28:04Z');
measure('verify Thunderbird 209 KiB, 3-certificate chain', () => verifySmime(thunderbird, { anchors, at }));
