/**
 * Installations for the posture tests: `postern init` in a temp folder, a
 * config with every listener (MX, submission, submissions, IMAP, IMAPS,
 * POP3, POP3S, admin HTTPS and its HTTP redirect) on free loopback ports,
 * and certificates made with openssl: an expiring self-signed one, or one
 * issued by a throwaway CA (with a CRL distribution point, as a public CA
 * would issue it).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, MAIN } from '../process/postern-process.js';

export const DOMAIN = 'posture.test';
export const HOST = `mail.${DOMAIN}`;

export interface PostureInstallation {
  readonly dir: string;
  readonly config: string;
  readonly ports: Readonly<Record<'mx' | 'submission' | 'submissions' | 'imap' | 'imaps' | 'pop3' | 'pop3s' | 'admin' | 'redirect', number>>;
  /** The CA that issued the certificate, when one did. */
  readonly ca?: string;
  cleanup(): void;
}

function openssl(args: string[], cwd: string): void {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`);
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
const SAN = `subjectAltName=DNS:${HOST},IP:127.0.0.1`;

/** A self-signed certificate for HOST valid for `days` days, as tls/cert.pem and tls/key.pem. */
export function selfSignedCert(dir: string, days: number): void {
  openssl(['req', '-x509', ...EC, '-keyout', 'tls/key.pem', '-out', 'tls/cert.pem', '-days', String(days), '-subj', `/CN=${HOST}`, '-addext', SAN], dir);
}

/** A CA (ca.pem) and a 90-day certificate it issued for HOST; tls/cert.pem holds the leaf and then the CA. */
export function caIssuedCert(dir: string): string {
  openssl(['req', '-x509', ...EC, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '30', '-subj', '/CN=Posture Test CA', '-addext', 'basicConstraints=critical,CA:true', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  openssl(['req', '-new', ...EC, '-keyout', 'tls/key.pem', '-out', 'leaf.csr', '-subj', `/CN=${HOST}`], dir);
  writeFileSync(
    path.join(dir, 'leaf.ext'),
    `${SAN}\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\ncrlDistributionPoints=URI:http://pki.${DOMAIN}/ca.crl\n`,
  );
  openssl(['x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '90', '-sha256', '-extfile', 'leaf.ext', '-out', 'leaf.pem'], dir);
  const chain = spawnSync('sh', ['-c', 'cat leaf.pem ca.pem > tls/cert.pem'], { cwd: dir });
  if (chain.status !== 0) throw new Error('could not write the chain');
  return path.join(dir, 'ca.pem');
}

export function cliIn(inst: Pick<PostureInstallation, 'config'>, args: string[], input = '') {
  const r = spawnSync(process.execPath, [MAIN, '-c', inst.config, ...args], { input, encoding: 'utf8', timeout: 180_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * `postern init`, then `extra` config lines (sections not written here) and
 * the certificate: the one init made, `{ days }` self-signed, or 'ca'.
 */
export async function postureInstallation(extra = '', cert: 'init' | 'ca' | { days: number } = 'init'): Promise<PostureInstallation> {
  const dir = mkdtempSync(path.join(tmpdir(), 'postern-posture-'));
  const init = spawnSync(process.execPath, [MAIN, 'init', '--domain', DOMAIN, '--dir', dir, '--hostname', HOST], { encoding: 'utf8', timeout: 60_000 });
  if (init.status !== 0) throw new Error(`postern init failed: ${init.stderr}`);
  let ca: string | undefined;
  if (cert === 'ca') ca = caIssuedCert(dir);
  else if (cert !== 'init') selfSignedCert(dir, cert.days);
  const ports = {
    mx: await freePort(),
    submission: await freePort(),
    submissions: await freePort(),
    imap: await freePort(),
    imaps: await freePort(),
    pop3: await freePort(),
    pop3s: await freePort(),
    admin: await freePort(),
    redirect: await freePort(),
  };
  const config = path.join(dir, 'test.toml');
  writeFileSync(
    config,
    `[server]
hostname = "${HOST}"
data_dir = "data"
[tls]
cert = "tls/cert.pem"
key = "tls/key.pem"
[smtp.mx]
address = "127.0.0.1"
port = ${ports.mx}
[smtp.submission]
address = "127.0.0.1"
port = ${ports.submission}
[smtp.submissions]
address = "127.0.0.1"
port = ${ports.submissions}
[imap]
address = "127.0.0.1"
port = ${ports.imap}
tls_port = ${ports.imaps}
[pop3]
address = "127.0.0.1"
port = ${ports.pop3}
tls_port = ${ports.pop3s}
[managesieve]
enabled = false
[admin]
address = "127.0.0.1"
port = ${ports.admin}
redirect_port = ${ports.redirect}
[log]
level = "warn"
${extra.includes('[delivery]') ? '' : `[delivery]\nresolver = "127.0.0.1:${await freePort()}"\n`}
${extra}
`,
  );
  return { dir, config, ports, ...(ca ? { ca } : {}), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
