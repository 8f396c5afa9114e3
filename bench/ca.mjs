// Cost of the CA operations: issuing from a CSR and issuing with a fresh key
// under RSA-3072, P-256 and P-384 CA keys, renewing, building a CRL of 10 000
// entries, and writing a PKCS#12 at 100 000 iterations (the default).
//
//   npm run build && node bench/ca.mjs
//   CA_MODULE=/path/to/crypto/ca/index.js node bench/ca.mjs
//
// Each figure is the best of three rounds of BENCH_ROUNDS operations (default 20).
// With SoftHSM2 installed (Debian's softhsm2), the same issuing with the CA key
// in a token (a throw-away one in a temp folder) follows, to compare with the
// key in this process; SOFTHSM_MODULE names another module path.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const modulePath = process.env.CA_MODULE ? pathToFileURL(process.env.CA_MODULE).href : new URL('../dist/crypto/ca/index.js', import.meta.url).href;
const { buildCrl, createCa, generateTokenKey, issueFromCsr, issueWithKey, openToken, renew, toPkcs12, tokenSigner } = await import(modulePath);

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

const softhsm = process.env.SOFTHSM_MODULE ?? '/usr/lib/softhsm/libsofthsm2.so';
if (existsSync(softhsm)) {
  // The library reads SOFTHSM2_CONF when the module is initialised (the first openToken).
  mkdirSync(join(dir, 'tokens'));
  writeFileSync(join(dir, 'softhsm2.conf'), `directories.tokendir = ${join(dir, 'tokens')}\nlog.level = ERROR\n`);
  process.env.SOFTHSM2_CONF = join(dir, 'softhsm2.conf');
  execFileSync('softhsm2-util', ['--init-token', '--free', '--label', 'bench', '--pin', '1234', '--so-pin', '5678'], { stdio: 'ignore' });
  const session = await openToken({ module: softhsm, tokenLabel: 'bench', pin: '1234' });
  try {
    for (const keyAlgorithm of ['rsa-3072', 'p-256', 'p-384']) {
      const t0 = performance.now();
      await generateTokenKey(session, { label: keyAlgorithm, algorithm: keyAlgorithm });
      console.log(`${`SoftHSM2 ${keyAlgorithm}: key generation in the token`.padEnd(48)} ${(performance.now() - t0).toFixed(2).padStart(9)} ms`);
      const ca = await createCa({ subject: `bench token ${keyAlgorithm}`, keyAlgorithm, validityDays: 3650, signer: tokenSigner(session, { label: keyAlgorithm }) });
      await best(`SoftHSM2 ${keyAlgorithm}: issueFromCsr (P-256 CSR)`, rounds, () => issueFromCsr(ca, csrs.p256, { email, validityDays: 365 }));
    }
  } finally {
    session.close();
  }
} else {
  console.log(`(no ${softhsm}: the token figures need Debian's softhsm2)`);
}
rmSync(dir, { recursive: true, force: true });
