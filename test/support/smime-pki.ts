/**
 * A throw-away S/MIME PKI made with the openssl CLI for the S/MIME tests:
 * root CA -> intermediate CA -> leaves (RSA-2048, P-256, P-384) with
 * emailProtection, plus an unrelated root for "untrusted" checks. Nothing
 * here is committed; each run makes fresh keys in a temp directory.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Party {
  name: string;
  email: string;
  certPem: string;
  keyPem: string;
  certFile: string;
  keyFile: string;
}

export interface Pki {
  dir: string;
  rootPem: string;
  rootFile: string;
  interPem: string;
  interFile: string;
  otherRootFile: string;
  otherRootPem: string;
  rsa: Party;
  p256: Party;
  p384: Party;
  cleanup(): void;
}

export function openssl(args: readonly string[], input?: Uint8Array | string): Buffer {
  return execFileSync('openssl', args, { input, stdio: ['pipe', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
}

/** Runs openssl and returns its exit status and output instead of throwing. */
export function opensslStatus(args: readonly string[], input?: Uint8Array | string): { status: number; stdout: Buffer; stderr: string } {
  try {
    return { status: 0, stdout: openssl(args, input), stderr: '' };
  } catch (err) {
    const e = err as { status?: number; stdout?: Buffer; stderr?: Buffer };
    return { status: e.status ?? 1, stdout: e.stdout ?? Buffer.alloc(0), stderr: String(e.stderr ?? '') };
  }
}

const CA_EXT = 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n';
const leafExt = (email: string): string =>
  `basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation,keyEncipherment,keyAgreement\nextendedKeyUsage=emailProtection\nsubjectAltName=email:${email}\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n`;

export function makePki(): Pki {
  const dir = mkdtempSync(join(tmpdir(), 'postern-smime-'));
  const f = (n: string): string => join(dir, n);
  const key = (name: string, kind: 'rsa' | 'P-256' | 'P-384'): void => {
    const args = kind === 'rsa' ? ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'] : ['-algorithm', 'EC', '-pkeyopt', `ec_paramgen_curve:${kind}`];
    openssl(['genpkey', ...args, '-out', f(`${name}.key`)]);
  };
  const selfSigned = (name: string, cn: string): void => {
    key(name, 'rsa');
    writeFileSync(f(`${name}.ext`), CA_EXT);
    openssl(['req', '-new', '-x509', '-key', f(`${name}.key`), '-subj', `/CN=${cn}`, '-days', '3650', '-sha256', '-out', f(`${name}.crt`),
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  };
  const issue = (name: string, subj: string, issuer: string, ext: string, kind: 'rsa' | 'P-256' | 'P-384'): void => {
    key(name, kind);
    writeFileSync(f(`${name}.ext`), ext);
    openssl(['req', '-new', '-key', f(`${name}.key`), '-subj', subj, '-out', f(`${name}.csr`)]);
    openssl(['x509', '-req', '-in', f(`${name}.csr`), '-CA', f(`${issuer}.crt`), '-CAkey', f(`${issuer}.key`), '-set_serial', `0x7${randomBytes(8).toString('hex')}`,
      '-days', '825', '-sha256', '-extfile', f(`${name}.ext`), '-out', f(`${name}.crt`)]);
  };
  selfSigned('root', 'postern test root');
  selfSigned('other', 'some other root');
  issue('inter', '/CN=postern test intermediate', 'root', CA_EXT, 'rsa');
  const party = (name: string, kind: 'rsa' | 'P-256' | 'P-384'): Party => {
    const email = `${name}@example.test`;
    issue(name, `/CN=${name} tester/emailAddress=${email}`, 'inter', leafExt(email), kind);
    return { name, email, certFile: f(`${name}.crt`), keyFile: f(`${name}.key`), certPem: readFileSync(f(`${name}.crt`), 'utf8'), keyPem: readFileSync(f(`${name}.key`), 'utf8') };
  };
  return {
    dir,
    rootFile: f('root.crt'),
    rootPem: readFileSync(f('root.crt'), 'utf8'),
    interFile: f('inter.crt'),
    interPem: readFileSync(f('inter.crt'), 'utf8'),
    otherRootFile: f('other.crt'),
    otherRootPem: readFileSync(f('other.crt'), 'utf8'),
    rsa: party('rsa', 'rsa'),
    p256: party('p256', 'P-256'),
    p384: party('p384', 'P-384'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
