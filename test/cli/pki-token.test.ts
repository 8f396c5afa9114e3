/**
 * `postern pki` with the CA key in a PKCS#11 token (a real SoftHSM2 in a temp
 * folder; the built CLI inherits SOFTHSM2_CONF): `init --token` generates the
 * key in the token and writes only the certificate and pki/ca.token.json (no
 * key file, no PIN); issue and crl sign there with the PIN, judged by
 * `openssl verify` and `openssl crl -verify`; a wrong PIN writes nothing.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.js';
import { SOFTHSM_MODULE, type SoftHsm, softHsm } from '../crypto/ca/softhsm.js';
import { MAIN, cli, makeInstallation, type Installation } from '../process/postern-process.js';

const PW = 'correct horse battery staple';
const TOKEN = 'postern-ca-token';
const PIN = 'token-user-pin-42';
const P12_PASS = 'the bundle passphrase 123';
const OFFICER = 'pki@example.test';
const ADMIN = 'admin@example.test';

let inst: Installation;
let hsm: SoftHsm;
const at = (name: string) => path.join(inst.dir, name);
const caPem = () => at('pki/ca.pem');

function openssl(args: string[]) {
  const r = spawnSync('openssl', args, { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

async function fromStore<T>(f: (s: Awaited<ReturnType<typeof openStore>>) => Promise<T>): Promise<T> {
  const s = await openStore({ backend: 'sqlite', dataDir: at('data') });
  try {
    return await f(s);
  } finally {
    await s.close();
  }
}
const audit = () => fromStore(async (s) => (await s.meta.audit.list({ limit: 10_000 })).map((e) => ({ action: e.action, data: e.data })));
const certificates = () => fromStore((s) => s.meta.certificates.list());

/** The private keys on the token, by label (pkcs11-tool, independent of postern). */
function tokenKeys(): string[] {
  const r = hsm.pkcs11Tool(['--token-label', TOKEN, '--login', '--pin', PIN, '--list-objects', '--type', 'privkey']);
  expect(r.status).toBe(0);
  return [...r.out.matchAll(/label:\s+(\S+)/g)].map((m) => m[1]!);
}

beforeAll(async () => {
  hsm = softHsm();
  hsm.initToken(TOKEN, PIN);
  inst = await makeInstallation('example.test');
  expect(cli(inst, ['user', 'add', OFFICER, '--role', 'pkiofficer'], `${PW}\n`).status).toBe(0);
  expect(cli(inst, ['user', 'add', ADMIN, '--role', 'mailadmin'], `${PW}\n`).status).toBe(0);
  for (const who of ['alice', 'bob']) expect(cli(inst, ['user', 'add', `${who}@example.test`], `${PW}\n`).status).toBe(0);
}, 120_000);
afterAll(() => {
  inst?.cleanup();
  hsm?.cleanup();
});

/**
 * The built postern on a machine without the native binding: dist/ and
 * package.json copied beside a node_modules that links every package but pkcs11js.
 */
function withoutBinding<T>(f: (main: string) => T): T {
  const root = mkdtempSync(path.join(tmpdir(), 'postern-nop11-'));
  try {
    const dist = path.dirname(path.dirname(MAIN));
    cpSync(dist, path.join(root, 'dist'), { recursive: true });
    cpSync(path.join(path.dirname(dist), 'package.json'), path.join(root, 'package.json'));
    const modules = path.join(path.dirname(dist), 'node_modules');
    mkdirSync(path.join(root, 'node_modules'));
    for (const name of readdirSync(modules)) if (name !== 'pkcs11js') symlinkSync(path.join(modules, name), path.join(root, 'node_modules', name));
    return f(path.join(root, 'dist', 'cli', 'main.js'));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

describe('postern pki init --token', () => {
  it('without the native binding, says so clearly when a token is used, and writes nothing', () => {
    withoutBinding((main) => {
      const run = (args: string[], input: string) => spawnSync(process.execPath, [main, '-c', inst.config, ...args], { input, encoding: 'utf8', timeout: 60_000 });
      const r = run(['pki', 'init', '--as', OFFICER, '--key', 'p-256', '--token', TOKEN], `${PW}\n${PIN}\n`);
      expect(r.stderr).toContain('PKCS#11 is not available: the pkcs11js native module could not be loaded');
      expect(r.status).toBe(2);
      // The rest of postern runs there: the CA commands that need no token answer.
      const list = run(['pki', 'list'], '');
      expect(list.stderr).toContain('run postern pki init first');
      expect(list.stderr).not.toContain('pkcs11js');
    });
    for (const f of ['pki/ca.pem', 'pki/ca.token.json', 'pki/ca.key.pem']) expect(existsSync(at(f))).toBe(false);
  });

  const init = (extra: string[], input: string) => cli(inst, ['pki', 'init', '--as', OFFICER, '--key', 'p-256', '--name', 'Token S/MIME CA', '--token', TOKEN, ...extra], input);

  it('refuses a wrong PIN, an unknown token, a missing module, a mailadmin and stray options, and writes nothing', () => {
    const wrong = init([], `${PW}\nnot-the-pin\n`);
    expect(wrong.stderr).toContain('wrong token PIN');
    expect(wrong.stderr).not.toContain('not-the-pin');
    expect(wrong.status).toBe(2);
    const unknown = cli(inst, ['pki', 'init', '--as', OFFICER, '--token', 'no-such-token'], `${PW}\n${PIN}\n`);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('no token labelled "no-such-token"');
    const module = init(['--module', '/nonexistent/pkcs11.so'], `${PW}\n${PIN}\n`);
    expect(module.status).toBe(2);
    expect(module.stderr).toContain('/nonexistent/pkcs11.so does not exist');
    const admin = cli(inst, ['pki', 'init', '--as', ADMIN, '--token', TOKEN], `${PW}\n${PIN}\n`);
    expect(admin.status).toBe(2);
    expect(admin.stderr).toContain('needs the pkiofficer role');
    const stray = cli(inst, ['pki', 'init', '--as', OFFICER, '--key-label', 'x'], `${PW}\nsome long passphrase here\n`);
    expect(stray.status).toBe(2);
    expect(stray.stderr).toContain('go with --token');
    for (const f of ['pki/ca.pem', 'pki/ca.token.json', 'pki/ca.key.pem']) expect(existsSync(at(f))).toBe(false);
    expect(tokenKeys()).toEqual([]);
  });

  it('generates the key in the token and writes the certificate and the token reference, no key file', async () => {
    const r = init(['--module', SOFTHSM_MODULE, '--key-label', 'org-ca-2026'], `${PW}\n${PIN}\n`);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('key "org-ca-2026" in token "postern-ca-token"');
    expect(existsSync(at('pki/ca.key.pem'))).toBe(false);
    const ref = readFileSync(at('pki/ca.token.json'), 'utf8');
    expect(JSON.parse(ref)).toEqual({ module: SOFTHSM_MODULE, token: TOKEN, keyLabel: 'org-ca-2026' });
    expect(ref).not.toContain(PIN);
    expect(tokenKeys()).toEqual(['org-ca-2026']);
    const text = openssl(['x509', '-in', caPem(), '-noout', '-subject', '-ext', 'basicConstraints']).out;
    expect(text).toContain('Token S/MIME CA');
    expect(text).toContain('CA:TRUE');
    // The certificate's key is the token's (read by pkcs11-tool), and the self-signature verifies.
    const pub = at('token-pub.der');
    expect(hsm.pkcs11Tool(['--token-label', TOKEN, '--read-object', '--type', 'pubkey', '--label', 'org-ca-2026', '--output-file', pub]).status).toBe(0);
    const certPub = spawnSync('openssl', ['x509', '-in', caPem(), '-noout', '-pubkey'], { encoding: 'utf8' }).stdout;
    const tokenPub = spawnSync('openssl', ['pkey', '-pubin', '-inform', 'DER', '-in', pub], { encoding: 'utf8' }).stdout;
    expect(tokenPub).toContain('BEGIN PUBLIC KEY');
    expect(certPub).toBe(tokenPub);
    expect(openssl(['verify', '-CAfile', caPem(), caPem()]).status).toBe(0);
    const entries = (await audit()).filter((e) => e.action === 'pki.init');
    expect(entries).toHaveLength(1);
    expect(entries[0]!.data).toMatchObject({ caKey: 'token', token: TOKEN, keyLabel: 'org-ca-2026', module: SOFTHSM_MODULE, key: 'p-256' });
    expect(JSON.stringify(await audit())).not.toContain(PIN);

    const again = init(['--key-label', 'another'], `${PW}\n${PIN}\n`);
    expect(again.status).toBe(2);
    expect(again.stderr).toContain('not overwritten');
    expect(tokenKeys()).toEqual(['org-ca-2026']);
  });
});

describe('postern pki issue and crl with the token key', () => {
  it('issues from an openssl req CSR with the PIN (a wrong PIN issues nothing); openssl verify accepts it', async () => {
    const csr = at('alice.csr');
    expect(openssl(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', at('alice.key'), '-subj', '/CN=Alice/emailAddress=alice@example.test', '-out', csr]).status).toBe(0);
    const bad = cli(inst, ['pki', 'issue', '--as', OFFICER, '--email', 'alice@example.test', '--csr', csr], `${PW}\nwrong-pin-0000\n`);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('wrong token PIN');
    expect(await certificates()).toHaveLength(0);

    const r = cli(inst, ['pki', 'issue', '--as', OFFICER, '--email', 'alice@example.test', '--csr', csr, '--out', at('alice.pem')], `${PW}\n${PIN}\n`);
    expect(r.stderr).toContain('issued');
    expect(r.status).toBe(0);
    const v = openssl(['verify', '-purpose', 'smimesign', '-CAfile', caPem(), at('alice.pem')]);
    expect(v.out).toContain('OK');
    expect(v.status).toBe(0);
    expect((await certificates()).map((c) => [c.address, c.source])).toEqual([['alice@example.test', 'issued']]);
    const issue = (await audit()).filter((e) => e.action === 'pki.issue');
    expect(issue.map((e) => e.data)).toEqual([expect.objectContaining({ caKey: 'token', from: 'csr' })]);
  });

  it('issues a PKCS#12 with the token key too', () => {
    const out = at('bob.p12');
    const r = cli(inst, ['pki', 'issue', '--as', OFFICER, '--email', 'bob@example.test', '--p12', out, '--key', 'p-256'], `${PW}\n${PIN}\n${P12_PASS}\n`);
    expect(r.status).toBe(0);
    const p = spawnSync('openssl', ['pkcs12', '-in', out, '-nokeys', '-clcerts', '-passin', `pass:${P12_PASS}`], { encoding: 'utf8' });
    expect(p.status).toBe(0);
    writeFileSync(at('bob.pem'), p.stdout.replace(/^[\s\S]*?(-----BEGIN CERTIFICATE-----)/, '$1'));
    expect(openssl(['verify', '-CAfile', caPem(), at('bob.pem')]).status).toBe(0);
  });

  it('revoke, then a CRL signed in the token: openssl crl -verify accepts it and verify -crl_check refuses the revoked one', async () => {
    const serial = openssl(['x509', '-in', at('alice.pem'), '-noout', '-serial']).out.trim().replace('serial=', '');
    expect(cli(inst, ['pki', 'revoke', '--as', OFFICER, serial], `${PW}\n`).status).toBe(0);
    const wrong = cli(inst, ['pki', 'crl', '--as', OFFICER], `${PW}\nwrong-pin-0000\n`);
    expect(wrong.status).toBe(2);
    expect(wrong.stderr).toContain('wrong token PIN');
    expect(existsSync(at('pki/crl.pem'))).toBe(false);
    const crl = cli(inst, ['pki', 'crl', '--as', OFFICER], `${PW}\n${PIN}\n`);
    expect(crl.stderr).toBe('');
    expect(crl.status).toBe(0);
    const crlFile = at('pki/crl.pem');
    expect(openssl(['crl', '-in', crlFile, '-noout', '-CAfile', caPem(), '-verify']).out).toContain('verify OK');
    const refused = openssl(['verify', '-crl_check', '-CAfile', caPem(), '-CRLfile', crlFile, at('alice.pem')]);
    expect(refused.status).not.toBe(0);
    expect(refused.out).toContain('revoked');
    expect(openssl(['verify', '-crl_check', '-CAfile', caPem(), '-CRLfile', crlFile, at('bob.pem')]).status).toBe(0);
    const crlAudit = (await audit()).filter((e) => e.action === 'pki.crl');
    expect(crlAudit.map((e) => e.data)).toEqual([expect.objectContaining({ caKey: 'token' })]);
    expect(JSON.stringify(await audit())).not.toContain(PIN);
  });

  it('refuses to act when both a key file and a token reference exist', async () => {
    writeFileSync(at('pki/ca.key.pem'), '-----BEGIN ENCRYPTED PRIVATE KEY-----\n-----END ENCRYPTED PRIVATE KEY-----\n');
    try {
      const r = cli(inst, ['pki', 'crl', '--as', OFFICER, '--out', at('other-crl.pem')], `${PW}\n${PIN}\n`);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/both .*ca\.key\.pem and .*ca\.token\.json exist/);
      expect(existsSync(at('other-crl.pem'))).toBe(false);
      const i = cli(inst, ['pki', 'issue', '--as', OFFICER, '--email', 'alice@example.test', '--csr', at('alice.csr')], `${PW}\n${PIN}\n`);
      expect(i.status).toBe(2);
      expect(i.stderr).toContain('must be in one place');
      expect(await certificates()).toHaveLength(2);
    } finally {
      rmSync(at('pki/ca.key.pem'));
    }
  });
});
