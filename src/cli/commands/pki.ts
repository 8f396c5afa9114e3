/**
 * `postern pki`: the organisation's S/MIME CA as a command. Every act that
 * uses or changes the CA is done by an account with the pkiofficer role,
 * proven by its password (stdin, never argv), and audited without key
 * material. The CA key lives only encrypted on disk or in a PKCS#11 token
 * (see ../pki-files.ts); the officer types its passphrase or the token PIN
 * each time. Issued certificates go into the
 * store's certificates (source 'issued'), where encryption at rest finds them.
 */
import { X509Certificate, createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { isAbsolute, join, dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { normalizeAddress } from '../../core/address.js';
import { verifyPassword, dummyVerify } from '../../crypto/password.js';
import { CaError, MAX_CSR_BYTES, buildCrl, createCa, issueFromCsr, issueWithKey, toPkcs12, type Ca, type CaKeyAlgorithm, type LeafKeyAlgorithm } from '../../crypto/ca/index.js';
import type { Store, StoredCertificate } from '../../store/types.js';
import { resolveConfigPath, UsageError, withStore } from '../context.js';
import { audited } from '../audit.js';
import { checkPasswordStrength } from '../password-input.js';
import {
  DEFAULT_KEY_LABEL, DEFAULT_PKCS11_MODULE, type LoadedCa, caKeyLocation, caKeyPrompt, encryptKeyPem, initTokenCa, loadCa, pkiPaths, readSecrets, writeNew,
} from '../pki-files.js';
import { depositEscrow, registerPkiEscrowCommands } from './pki-escrow.js';
import { crlDistributionPoint } from '../../config/index.js';

const cfg = (cmd: Command): string => resolveConfigPath((cmd.optsWithGlobals() as { config?: string }).config);
const CA_KEYS: readonly CaKeyAlgorithm[] = ['rsa-3072', 'p-256', 'p-384'];
const LEAF_KEYS: readonly LeafKeyAlgorithm[] = ['rsa-2048', 'rsa-3072', 'rsa-4096', 'p-256', 'p-384'];
const DAY = 86_400_000;

/** The acting account: a pkiofficer proven by its password. Nobody else, a mailadmin included. */
async function officer(s: Store, address: string, password: string): Promise<string> {
  const account = await s.meta.directory.getAccount(address.toLowerCase());
  const ok = account && !account.disabled ? await verifyPassword(password, account.passwordHash) : await dummyVerify(password);
  if (!account || !ok) throw new UsageError(`${address}: authentication failed`);
  if (!account.roles.includes('pkiofficer')) throw new UsageError(`${account.address} may not act on the CA: it needs the pkiofficer role (it has ${account.roles.join(', ')})`);
  return account.address;
}

function intArg(v: string, name: string, min: number, max: number): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`${name} takes a whole number from ${min} to ${max}`);
  return n;
}

function oneOf<T extends string>(v: string, list: readonly T[], name: string): T {
  if (!list.includes(v as T)) throw new UsageError(`${name} is one of ${list.join(', ')}`);
  return v as T;
}

const caErrors = async <T>(f: () => Promise<T>): Promise<T> => {
  try {
    return await f();
  } catch (e) {
    if (e instanceof CaError) throw new UsageError(e.message);
    throw e;
  }
};

const serialOf = (der: Uint8Array): string => new X509Certificate(der).serialNumber.toUpperCase();
const fingerprintOf = (der: Uint8Array): string => createHash('sha256').update(der).digest('hex');

/** Certificates in the store that this CA signed. */
async function issuedByCa(s: Store, caPem: string): Promise<StoredCertificate[]> {
  const ca = new X509Certificate(caPem);
  return (await s.meta.certificates.list()).filter((c) => {
    if (c.source !== 'issued') return false;
    try {
      const x = new X509Certificate(c.der);
      return x.checkIssued(ca) && x.verify(ca.publicKey);
    } catch {
      return false;
    }
  });
}

/** A path given by the officer: relative to the working directory; the default under pki/. */
const outPath = (p: string): string => (isAbsolute(p) ? p : resolve(p));

export function registerPkiCommands(program: Command): void {
  const pki = program
    .command('pki')
    .description("the organisation's S/MIME CA (pkiofficer only; stdin: the officer's password, then the CA key passphrase or token PIN, then a PKCS#12 passphrase)");

  pki
    .command('init')
    .description('create the CA: pki/ca.pem and the encrypted key pki/ca.key.pem (or, with --token, the key in a PKCS#11 token and pki/ca.token.json) beside the configuration')
    .requiredOption('--as <address>', 'the pkiofficer who acts; stdin: its password, then the new CA key passphrase (with --token: the token PIN)')
    .option('--key <algorithm>', `CA key: ${CA_KEYS.join(', ')}`, 'rsa-3072')
    .option('--name <common name>', 'the CA\'s name', 'S/MIME CA')
    .option('--days <n>', 'validity in days', '3650')
    .option('--token <label>', 'generate the CA key in this PKCS#11 token, where it stays (not exportable)')
    .option('--module <path>', `with --token: the PKCS#11 module (default ${DEFAULT_PKCS11_MODULE})`)
    .option('--key-label <label>', `with --token: the key's label in the token (default ${DEFAULT_KEY_LABEL})`)
    .action(async (o: { as: string; key: string; name: string; days: string; token?: string; module?: string; keyLabel?: string }, cmd: Command) => {
      const keyAlgorithm = oneOf(o.key, CA_KEYS, '--key');
      const days = intArg(o.days, '--days', 1, 10_950);
      if (o.name.trim() === '' || o.name.length > 64) throw new UsageError('--name takes 1 to 64 characters');
      if (o.token === undefined && (o.module !== undefined || o.keyLabel !== undefined)) throw new UsageError('--module and --key-label go with --token');
      const tokenRef = o.token === undefined ? undefined : { module: resolve(o.module ?? DEFAULT_PKCS11_MODULE), token: o.token, keyLabel: o.keyLabel ?? DEFAULT_KEY_LABEL };
      const [password, passphrase] = await readSecrets([`password for ${o.as}: `, tokenRef ? 'token PIN: ' : 'new CA key passphrase: ']);
      if (tokenRef && !passphrase) throw new UsageError('the token PIN is empty');
      const weak = tokenRef ? null : checkPasswordStrength(passphrase ?? '');
      if (weak) throw new UsageError(`CA key passphrase: ${weak.replace(/^password /, '')}`);
      const paths = pkiPaths(cfg(cmd));
      await withStore(cfg(cmd), async (s) => {
        const actor = await officer(s, o.as, password!);
        for (const f of [paths.cert, paths.key, paths.token]) {
          if (await fsp.stat(f).then(() => true, () => false)) throw new UsageError(`${f} exists; a CA is not overwritten`);
        }
        if (tokenRef) {
          const ca = await initTokenCa(paths, tokenRef, passphrase!, { subject: o.name, keyAlgorithm, validityDays: days });
          const x = new X509Certificate(ca.certificate);
          await audited(s, 'pki.init', x.subject.replace(/\n/g, ', '), { key: keyAlgorithm, days, serial: x.serialNumber.toUpperCase(), fingerprint: fingerprintOf(ca.certificate), caKey: 'token', ...tokenRef }, actor);
          console.log(`CA "${o.name}" created (${keyAlgorithm}, valid to ${new Date(x.validTo).toISOString().slice(0, 10)}): ${paths.cert}, key "${tokenRef.keyLabel}" in token "${tokenRef.token}" (${paths.token})`);
          return;
        }
        const ca = await caErrors(() => createCa({ subject: o.name, keyAlgorithm, validityDays: days }));
        await fsp.mkdir(paths.dir, { recursive: true, mode: 0o755 });
        await writeNew(paths.key, encryptKeyPem(ca.privateKey!, passphrase!), 0o600);
        await writeNew(paths.cert, ca.certificatePem, 0o644);
        const x = new X509Certificate(ca.certificate);
        await audited(s, 'pki.init', x.subject.replace(/\n/g, ', '), { key: keyAlgorithm, days, serial: x.serialNumber.toUpperCase(), fingerprint: fingerprintOf(ca.certificate), caKey: 'file' }, actor);
        console.log(`CA "${o.name}" created (${keyAlgorithm}, valid to ${new Date(x.validTo).toISOString().slice(0, 10)}): ${paths.cert}, key ${paths.key} (encrypted)`);
      });
    });

  pki
    .command('issue')
    .description("issue a user's certificate from their request (--csr) or with a new key in a PKCS#12 (--p12)")
    .requiredOption('--as <address>', 'the pkiofficer who acts; stdin: its password, the CA key passphrase or token PIN, and for --p12 the PKCS#12 passphrase')
    .requiredOption('--email <address>', 'the address the certificate is for (an account)')
    .option('--csr <file>', 'a PKCS#10 request (PEM or DER) made by the user')
    .option('--out <file>', 'with --csr: write the certificate here instead of stdout')
    .option('--p12 <file>', 'make the key here and write it with the certificate and the CA as a PKCS#12')
    .option('--key <algorithm>', `with --p12: ${LEAF_KEYS.join(', ')}`, 'rsa-3072')
    .option('--days <n>', 'validity in days (at most 825)', '365')
    .action(async (o: { as: string; email: string; csr?: string; out?: string; p12?: string; key: string; days: string }, cmd: Command) => {
      if ((o.csr === undefined) === (o.p12 === undefined)) throw new UsageError('give exactly one of --csr FILE and --p12 FILE');
      const email = normalizeAddress(o.email);
      if (!email) throw new UsageError(`not a valid address: ${JSON.stringify(o.email)}`);
      const days = intArg(o.days, '--days', 1, 825);
      const keyAlgorithm = oneOf(o.key, LEAF_KEYS, '--key');
      let csr: Uint8Array | string | undefined;
      if (o.csr !== undefined) {
        const st = await fsp.stat(o.csr).catch(() => null);
        if (!st?.isFile() || st.size > MAX_CSR_BYTES) throw new UsageError(`${o.csr} is not a certificate request file (at most ${MAX_CSR_BYTES / 1024} KiB)`);
        const bytes = await fsp.readFile(o.csr);
        // The library takes PEM as text and DER as bytes.
        csr = bytes.includes('-----BEGIN') ? bytes.toString('latin1') : new Uint8Array(bytes);
      }
      if (o.out !== undefined && o.csr === undefined) throw new UsageError('--out goes with --csr (--p12 names its own file)');
      // Refused before anything is signed: an issued certificate is never left without its file.
      for (const f of [o.out, o.p12]) if (f !== undefined && (await fsp.stat(outPath(f)).then(() => true, () => false))) throw new UsageError(`${f} exists; it is not overwritten`);
      const paths = pkiPaths(cfg(cmd));
      const where = await caKeyLocation(paths);
      const prompts = [`password for ${o.as}: `, caKeyPrompt(where), ...(o.p12 ? ['PKCS#12 passphrase: '] : [])];
      const [password, passphrase, p12pass] = await readSecrets(prompts);
      if (o.p12) {
        const weak = checkPasswordStrength(p12pass ?? '');
        if (weak) throw new UsageError(`PKCS#12 passphrase: ${weak.replace(/^password /, '')}`);
      }
      let caKey: LoadedCa | undefined;
      const pem = await withStore(cfg(cmd), async (s, config) => {
        const actor = await officer(s, o.as, password!);
        if (!(await s.meta.directory.getAccount(email))) throw new UsageError(`no account ${email}`);
        caKey = await loadCa(paths, where, passphrase!);
        const { certificatePem, signer } = caKey;
        const ca: Ca = { certificate: certificatePem, signer };
        const now = Date.now();
        let issued;
        let escrowed: boolean | undefined;
        // [pki] crl_url: where relying parties fetch the CRL (the HTTPS listener serves pki/crl.pem there).
        const crlUrl = crlDistributionPoint(config);
        const leaf = { email, validityDays: days, ...(crlUrl ? { crlUrl } : {}) };
        if (csr) {
          issued = await caErrors(() => issueFromCsr(ca, csr, leaf));
        } else {
          const withKey = await caErrors(() => issueWithKey(ca, { ...leaf, keyAlgorithm }));
          escrowed = await depositEscrow(cfg(cmd), s, withKey, email, actor); // before the key is forgotten
          const p12 = toPkcs12({ certificate: withKey.certificate, privateKey: withKey.privateKey, chain: [certificatePem], password: p12pass!, friendlyName: email });
          await writeNew(outPath(o.p12!), p12, 0o600);
          issued = withKey;
        }
        const x = new X509Certificate(issued.certificate);
        const fingerprint = fingerprintOf(issued.certificate);
        await s.meta.certificates.put({ address: email, der: issued.certificate, fingerprint, source: 'issued', notBefore: Date.parse(x.validFrom), notAfter: Date.parse(x.validTo) }, now);
        await audited(s, 'pki.issue', email, { serial: issued.serial, fingerprint, from: csr ? 'csr' : 'p12', notAfter: Date.parse(x.validTo), caKey: where, ...(escrowed === undefined ? {} : { escrowed }) }, actor);
        console.error(`issued ${issued.serial} for ${email} (valid to ${new Date(x.validTo).toISOString().slice(0, 10)})${o.p12 ? `: ${o.p12}` : ''}`);
        return issued.certificatePem;
      }).finally(() => caKey?.close());
      if (o.csr !== undefined) {
        if (o.out) await writeNew(outPath(o.out), pem, 0o644);
        else process.stdout.write(pem);
      }
    });

  pki
    .command('list')
    .description('certificates the CA issued: serial, address, notAfter, revoked')
    .option('--json', 'machine-readable output')
    .action(async (o: { json?: boolean }, cmd: Command) => {
      const paths = pkiPaths(cfg(cmd));
      const caPem = await fsp.readFile(paths.cert, 'latin1').catch(() => {
        throw new UsageError(`${paths.cert}: no CA certificate (run postern pki init first)`);
      });
      const rows = (await withStore(cfg(cmd), (s) => issuedByCa(s, caPem))).map((c) => ({ serial: serialOf(c.der), address: c.address, fingerprint: c.fingerprint, notAfter: new Date(c.notAfter).toISOString(), revoked: c.revoked }));
      if (o.json) return void console.log(JSON.stringify(rows, null, 2));
      if (rows.length === 0) return void console.log('no certificates issued');
      for (const r of rows) console.log(`${r.serial}  ${r.address}  ${r.notAfter.slice(0, 10)}  ${r.revoked ? 'revoked' : 'valid'}`);
    });

  pki
    .command('revoke <serial-or-fingerprint>')
    .description('mark an issued certificate revoked (then publish a new CRL with pki crl)')
    .requiredOption('--as <address>', 'the pkiofficer who acts; stdin: its password')
    .action(async (which: string, o: { as: string }, cmd: Command) => {
      const want = which.replace(/:/g, '').toUpperCase();
      if (!/^[0-9A-F]{1,64}$/.test(want)) throw new UsageError('give a serial (hex) or a SHA-256 fingerprint (64 hex digits)');
      const [password] = await readSecrets([`password for ${o.as}: `]);
      const paths = pkiPaths(cfg(cmd));
      await withStore(cfg(cmd), async (s) => {
        const actor = await officer(s, o.as, password!);
        const caPem = await fsp.readFile(paths.cert, 'latin1').catch(() => {
          throw new UsageError(`${paths.cert}: no CA certificate (run postern pki init first)`);
        });
        const strip = (h: string) => h.replace(/^0+/, '');
        const hit = (await issuedByCa(s, caPem)).filter((c) => c.fingerprint.toUpperCase() === want || strip(serialOf(c.der)) === strip(want));
        if (hit.length === 0) throw new UsageError(`no certificate issued by this CA has serial or fingerprint ${which}`);
        for (const c of hit) {
          const serial = serialOf(c.der);
          if (c.revoked) {
            console.log(`${serial} (${c.address}) was already revoked`);
            continue;
          }
          await s.meta.certificates.setRevoked(c.fingerprint, true);
          await audited(s, 'pki.revoke', c.fingerprint, { serial, address: c.address }, actor);
          console.log(`${serial} (${c.address}) revoked; publish a new CRL with postern pki crl`);
        }
      });
    });

  pki
    .command('crl')
    .description('sign a CRL of the revoked certificates')
    .requiredOption('--as <address>', 'the pkiofficer who acts; stdin: its password, then the CA key passphrase or token PIN')
    .option('--out <file>', 'where to write it (default pki/crl.pem beside the configuration)')
    .option('--days <n>', 'days until the next update', '7')
    .action(async (o: { as: string; out?: string; days: string }, cmd: Command) => {
      const days = intArg(o.days, '--days', 1, 365);
      const paths = pkiPaths(cfg(cmd));
      const where = await caKeyLocation(paths);
      const [password, passphrase] = await readSecrets([`password for ${o.as}: `, caKeyPrompt(where)]);
      const out = o.out ? outPath(o.out) : paths.crl;
      let caKey: LoadedCa | undefined;
      await withStore(cfg(cmd), async (s) => {
        const actor = await officer(s, o.as, password!);
        caKey = await loadCa(paths, where, passphrase!);
        const { certificatePem, signer } = caKey;
        const revoked = (await issuedByCa(s, certificatePem)).filter((c) => c.revoked);
        // When each was revoked: the audit record of the revocation (the store keeps only the mark).
        const when = new Map<string, number>();
        for (const e of await s.meta.audit.list({ action: 'pki.revoke', limit: 100_000 })) if (!when.has(e.subject)) when.set(e.subject, e.at);
        const now = new Date();
        const entries = revoked.map((c) => ({ serial: serialOf(c.der), at: new Date(when.get(c.fingerprint) ?? now.getTime()) }));
        // Seconds since 1970: increases from one CRL to the next without keeping a counter.
        const crlNumber = BigInt(Math.floor(now.getTime() / 1000));
        const { crlPem } = await caErrors(() => buildCrl({ certificate: certificatePem, signer }, entries, { thisUpdate: now, nextUpdate: new Date(now.getTime() + days * DAY), crlNumber }));
        await fsp.mkdir(dirname(out), { recursive: true });
        const tmp = join(dirname(out), `.crl.${process.pid}.tmp`);
        await fsp.writeFile(tmp, crlPem, { mode: 0o644 });
        await fsp.rename(tmp, out); // a CRL is republished: replacing the old one is the point
        await audited(s, 'pki.crl', out, { crlNumber: crlNumber.toString(), revoked: entries.map((e) => e.serial), caKey: where }, actor);
        console.log(`CRL ${crlNumber} with ${entries.length} revoked certificate(s): ${out}`);
      }).finally(() => caKey?.close());
    });

  registerPkiEscrowCommands(pki);
}
