// Cost of the CA operations: issuing from a CSR and issuing with a fresh key
// under RSA-3072, P-256 and P-384 CA keys, renewing, building a CRL of 10 000
// entries, and writing a PKCS#12 at 100 000 iterations (the default).
//
//   npm run build && node bench/ca.mjs
//   CA_MODULE=/path/to/crypto/ca/index.js node bench/ca.mjs
//
// Each figure is the best of three rounds of BENCH_ROUNDS operations (default 20).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const modulePath = process.env.CA_MODULE ? pathToFileURL(process.env.CA_MODULE).href : new URL('../dist/crypto/ca/index.js', import.meta.url).href;
const { buildCrl, createCa, issueFromCsr, issueWithKey, renew, toPkcs12 } = await import(modulePath);

const rounds = Number(process.env.BENCH_ROUNDS ?? 20);
const dir = mkdtempSync(join(tmpdir(), 'ca-bench-'));
const csrFor = (name, args) => {
  execFileSync('openssl', ['req', '-new', '-newkey', ...args, '-nodes', '-keyout', join(dir, `${name}.key`), '-out', join(dir, `${name}.csr`), '-subj', '/CN=x'], { stdio: 'ignore' });
  return readFileSync(join(dir, `${name}.csr`), 'utf8');
};
const csrs = { rsa2048: csrFor('rsa', ['rsa:2048']), p256: csrFor('p256', ['ec', '-pkeyopt', 'ec_paramgen_curve:P-256']) };

async function best(label, n, fn) {
  let min = Infinity;
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await fn();
    min = Math.min(min, (performance.now() - t0) / n);
  }
  console.log(`${label.padEnd(48)} ${min.toFixed(2).padStart(9)} ms`);
}

const email = 'bench@example.test';
for (const keyAlgorithm of ['rsa-3072', 'p-256', 'p-384']) {
  const t0 = performance.now();
  const ca = await createCa({ subject: `bench ${keyAlgorithm}`, keyAlgorithm, validityDays: 3650 });
  console.log(`${`createCa ${keyAlgorithm} (key generation included)`.padEnd(48)} ${(performance.now() - t0).toFixed(2).padStart(9)} ms`);
  await best(`CA ${keyAlgorithm}: issueFromCsr (RSA-2048 CSR)`, rounds, () => issueFromCsr(ca, csrs.rsa2048, { email, validityDays: 365 }));
  await best(`CA ${keyAlgorithm}: issueFromCsr (P-256 CSR)`, rounds, () => issueFromCsr(ca, csrs.p256, { email, validityDays: 365 }));
  await best(`CA ${keyAlgorithm}: issueWithKey p-256`, rounds, () => issueWithKey(ca, { email, keyAlgorithm: 'p-256', validityDays: 365 }));
  const leaf = await issueWithKey(ca, { email, keyAlgorithm: 'p-256', validityDays: 365 });
  await best(`CA ${keyAlgorithm}: renew`, rounds, () => renew(ca, leaf.certificate, { validityDays: 365 }));
  const revoked = Array.from({ length: 10_000 }, (_, i) => ({ serial: BigInt(i + 1) * 7919n, at: new Date(), reason: 'superseded' }));
  await best(`CA ${keyAlgorithm}: buildCrl, 10 000 entries`, 3, () =>
    buildCrl(ca, revoked, { thisUpdate: new Date(), nextUpdate: new Date(Date.now() + 86_400_000), crlNumber: 1 }));
  if (keyAlgorithm === 'p-256') {
    const rsaLeaf = await issueWithKey(ca, { email, keyAlgorithm: 'rsa-2048', validityDays: 365 });
    await best('issueWithKey rsa-2048 (key generation included)', 5, () => issueWithKey(ca, { email, keyAlgorithm: 'rsa-2048', validityDays: 365 }));
    await best('toPkcs12, 100 000 iterations (default)', 3, () => toPkcs12({ certificate: rsaLeaf.certificate, privateKey: rsaLeaf.privateKey, chain: [ca.certificate], password: 'bench' }));
  }
}
rmSync(dir, { recursive: true, force: true });
