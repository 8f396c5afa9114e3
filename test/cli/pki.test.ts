/**
 * `postern pki` and role separation as an administrator runs them (the built
 * CLI; npm test builds dist first) against an installation from `postern
 * init`, judged by the OpenSSL 3 CLI: a CA made by a pkiofficer (a mailadmin
 * and a wrong password refused) whose key file is encrypted and private, a
 * certificate issued from an `openssl req` request that `openssl verify`
 * accepts, a PKCS#12 that `openssl pkcs12` opens, and a revocation that the
 * signed CRL makes `openssl verify -crl_check` refuse.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.js';
import { cli, makeInstallation, type Installation } from '../process/postern-process.js';

const PW = 'correct horse battery staple';
const CA_PASS = 'the CA key passphrase, long';
const P12_PASS = 'the bundle passphrase 123';
const OFFICER = 'pki@example.test';
const ADMIN = 'admin@example.test';

let inst: Installation;
const at = (name: string) => path.join(inst.dir, name);
const caPem = () => at('pki/ca.pem');

function openssl(args: string[], input?: string) {
  const r = spawnSync('openssl', args, { encoding: 'utf8', input: input ?? '', timeout: 60_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

async function certificates() {
  const s = await openStore({ backend: 'sqlite', dataDir: at('data') });
  try {
    return await s.meta.certificates.list();
  } finally {
    await s.close();
  }
}

async function auditActions(): Promise<{ action: string; subject: string; data: unknown }[]> {
  const s = await openStore({ backend: 'sqlite', dataDir: at('data') });
  try {
    return (await s.meta.audit.list({ limit: 10_000 })).map((e) => ({ action: e.action, subject: e.subject, data: e.data }));
  } finally {
    await s.close();
  }
}

beforeAll(async () => {
  inst = await makeInstallation('example.test');
  expect(cli(inst, ['user', 'add', OFFICER, '--role', 'pkiofficer'], `${PW}\n`).status).toBe(0);
  expect(cli(inst, ['user', 'add', ADMIN, '--role', 'mailadmin'], `${PW}\n`).status).toBe(0);
  for (const who of ['alice', 'bob']) expect(cli(inst, ['user', 'add', `${who}@example.test`], `${PW}\n`).status).toBe(0);
}, 120_000);
afterAll(() => inst?.cleanup());

describe('role separation', () => {
  it('refuses an account with both mailadmin and pkiofficer, in user add and user roles', () => {
    const add = cli(inst, ['user', 'add', 'both@example.test', '--role', 'mailadmin', 'pkiofficer'], `${PW}\n`);
    expect(add.status).toBe(2);
    expect(add.stderr).toMatch(/may not hold both mailadmin and pkiofficer.*allow_pki_and_mail_admin/);
    expect(cli(inst, ['user', 'list']).stdout).not.toContain('both@example.test');
    const roles = cli(inst, ['user', 'roles', ADMIN, 'mailadmin', 'pkiofficer']);
    expect(roles.status).toBe(2);
    expect(roles.stderr).toContain('separation of duties');
    expect(cli(inst, ['user', 'list']).stdout).toMatch(/admin@example\.test\tactive\tmailadmin\t/);
    // Each role alone, or with others, is fine.
    expect(cli(inst, ['user', 'roles', 'bob@example.test', 'user', 'pkiofficer']).status).toBe(0);
    expect(cli(inst, ['user', 'roles', 'bob@example.test', 'user']).status).toBe(0);
  });
});

describe('postern pki init', () => {
  it('is refused to a mailadmin, a wrong password and an unknown account, and creates nothing', () => {
    const admin = cli(inst, ['pki', 'init', '--as', ADMIN, '--key', 'p-256'], `${PW}\n${CA_PASS}\n`);
    expect(admin.status).toBe(2);
    expect(admin.stderr).toContain('needs the pkiofficer role');
    const wrong = cli(inst, ['pki', 'init', '--as', OFFICER, '--key', 'p-256'], `not the password\n${CA_PASS}\n`);
    expect(wrong.status).toBe(2);
    expect(wrong.stderr).toContain('authentication failed');
    expect(cli(inst, ['pki', 'init', '--as', 'nobody@example.test'], `${PW}\n${CA_PASS}\n`).status).toBe(2);
    expect(cli(inst, ['pki', 'init', '--as', OFFICER], `${PW}\nshort\n`).stderr).toContain('at least 12');
    expect(existsSync(at('pki/ca.key.pem'))).toBe(false);
  });

  it('creates the CA with an encrypted private key file, and never overwrites it', () => {
    const r = cli(inst, ['pki', 'init', '--as', OFFICER, '--key', 'p-256', '--name', 'Example Org S/MIME CA', '--days', '3650'], `${PW}\n${CA_PASS}\n`);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const key = readFileSync(at('pki/ca.key.pem'), 'utf8');
    expect(key).toContain('-----BEGIN ENCRYPTED PRIVATE KEY-----');
    expect(key).not.toContain('BEGIN PRIVATE KEY');
    expect(statSync(at('pki/ca.key.pem')).mode & 0o777).toBe(0o600);
    expect(statSync(caPem()).mode & 0o777).toBe(0o644);
    // The passphrase opens it; without it openssl cannot.
    expect(openssl(['pkey', '-in', at('pki/ca.key.pem'), '-passin', `pass:${CA_PASS}`, '-noout']).status).toBe(0);
    expect(openssl(['pkey', '-in', at('pki/ca.key.pem'), '-passin', 'pass:wrong passphrase!', '-noout']).status).not.toBe(0);
    const text = openssl(['x509', '-in', caPem(), '-noout', '-subject', '-ext', 'basicConstraints']).out;
    expect(text).toContain('Example Org S/MIME CA');
    expect(text).toContain('CA:TRUE');
    const again = cli(inst, ['pki', 'init', '--as', OFFICER], `${PW}\n${CA_PASS}\n`);
    expect(again.status).toBe(2);
    expect(again.stderr).toContain('not overwritten');
    expect(readFileSync(at('pki/ca.key.pem'), 'utf8')).toBe(key);
  });
});

describe('postern pki issue, list, revoke, crl', () => {
  let aliceSerial = '';

  it('issues from an openssl req CSR a certificate openssl verify accepts, stored as issued', async () => {
    const csr = at('alice.csr');
    const req = openssl(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', at('alice.key'), '-subj', '/CN=Alice/emailAddress=alice@example.test', '-out', csr]);
    expect(req.status).toBe(0);
    // The CA passphrase must be right.
    const badPass = cli(inst, ['pki', 'issue', '--as', OFFICER, '--email', 'alice@example.test', '--csr', csr], `${PW}\nwrong passphrase here\n`);
    expect(badPass.status).toBe(2);
    expect(badPass.stderr).toContain('wrong CA key passphrase');
    // A mailadmin may not issue.
    expect(cli(inst, ['pki', 'issue', '--as', ADMIN, '--email', 'alice@example.test', '--csr', csr], `${PW}\n${CA_PASS}\n`).status).toBe(2);
    // A request naming another address is refused.
    expect(cli(inst, ['pki', 'issue', '--as', OFFICER, '--email', 'bob@example.test', '--csr', csr], `${PW}\n${CA_PASS}\n`).status).toBe(2);
    expect(await certificates()).toHaveLength(0);

    const r = cli(inst, ['pki', 'issue', '--as', OFFICER, '--email', 'alice@example.test', '--csr', csr], `${PW}\n${CA_PASS}\n`);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^-----BEGIN CERTIFICATE-----/);
    writeFileSync(at('alice.pem'), r.stdout);
    const v = openssl(['verify', '-purpose', 'smimesign', '-CAfile', caPem(), at('alice.pem')]);
    expect(v.out).toContain('OK');
    expect(v.status).toBe(0);
    const certs = await certificates();
    expect(certs.map((c) => [c.address, c.source, c.revoked])).toEqual([['alice@example.test', 'issued', false]]);
    aliceSerial = openssl(['x509', '-in', at('alice.pem'), '-noout', '-serial']).out.trim().replace('serial=', '');
    const issue = (await auditActions()).filter((e) => e.action === 'pki.issue');
    expect(issue).toHaveLength(1);
    expect(issue[0]!.subject).toBe('alice@example.test');
    expect(issue[0]!.data).toMatchObject({ serial: aliceSerial });
    expect(JSON.stringify(issue)).not.toContain('PRIVATE');
  });

  it('--p12 makes the key and writes a PKCS#12 that openssl pkcs12 opens with the passphrase', async () => {
    const out = at('bob.p12');
    const r = cli(inst, ['pki', 'issue', '--as', OFFICER, '--email', 'bob@example.test', '--p12', out, '--key', 'p-256'], `${PW}\n${CA_PASS}\n${P12_PASS}\n`);
    expect(r.stderr).toContain('issued');
    expect(r.status).toBe(0);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const p = openssl(['pkcs12', '-in', out, '-nodes', '-passin', `pass:${P12_PASS}`]);
    expect(p.status).toBe(0);
    expect(p.out).toContain('-----BEGIN PRIVATE KEY-----');
    expect(p.out).toContain('bob@example.test');
    expect(openssl(['pkcs12', '-in', out, '-nodes', '-passin', 'pass:not it at all']).status).not.toBe(0);
    // An existing file is refused before anything is signed.
    const again = cli(inst, ['pki', 'issue', '--as', OFFICER, '--email', 'bob@example.test', '--p12', out], `${PW}\n${CA_PASS}\n${P12_PASS}\n`);
    expect(again.status).toBe(2);
    expect(again.stderr).toContain('not overwritten');
    const bobs = (await certificates()).filter((c) => c.address === 'bob@example.test');
    expect(bobs.map((c) => c.source)).toEqual(['issued']);
    // The server keeps no copy of the key.
    expect(JSON.stringify(await auditActions())).not.toMatch(/PRIVATE KEY|MII/);
  });

  it('list shows both; revoke marks one; the CRL makes openssl verify -crl_check refuse it', async () => {
    const list = JSON.parse(cli(inst, ['pki', 'list', '--json']).stdout) as { serial: string; address: string; revoked: boolean }[];
    expect(list.map((c) => [c.address, c.revoked]).sort()).toEqual([
      ['alice@example.test', false],
      ['bob@example.test', false],
    ]);
    expect(list.find((c) => c.address === 'alice@example.test')!.serial.replace(/^0+/, '')).toBe(aliceSerial.replace(/^0+/, ''));

    expect(cli(inst, ['pki', 'revoke', '--as', ADMIN, aliceSerial], `${PW}\n`).status).toBe(2);
    expect(cli(inst, ['pki', 'revoke', '--as', OFFICER, 'ABCDEF0123'], `${PW}\n`).status).toBe(2);
    const rv = cli(inst, ['pki', 'revoke', '--as', OFFICER, aliceSerial], `${PW}\n`);
    expect(rv.status).toBe(0);
    expect((await certificates()).find((c) => c.address === 'alice@example.test')!.revoked).toBe(true);
    expect(cli(inst, ['pki', 'list']).stdout).toMatch(/alice@example\.test\s+\S+\s+revoked/);

    expect(cli(inst, ['pki', 'crl', '--as', OFFICER], `${PW}\nwrong passphrase here\n`).status).toBe(2);
    const crl = cli(inst, ['pki', 'crl', '--as', OFFICER], `${PW}\n${CA_PASS}\n`);
    expect(crl.status).toBe(0);
    const crlFile = at('pki/crl.pem');
    expect(openssl(['crl', '-in', crlFile, '-noout', '-CAfile', caPem(), '-verify']).out).toContain('verify OK');
    expect(openssl(['crl', '-in', crlFile, '-noout', '-text']).out).toContain(aliceSerial.replace(/^0+/, ''));
    const refused = openssl(['verify', '-crl_check', '-CAfile', caPem(), '-CRLfile', crlFile, at('alice.pem')]);
    expect(refused.status).not.toBe(0);
    expect(refused.out).toContain('revoked');
    // Bob's, not revoked, still passes the same check.
    writeFileSync(at('bob.pem'), openssl(['pkcs12', '-in', at('bob.p12'), '-nokeys', '-clcerts', '-passin', `pass:${P12_PASS}`]).out.replace(/^[\s\S]*?(-----BEGIN CERTIFICATE-----)/, '$1'));
    expect(openssl(['verify', '-crl_check', '-CAfile', caPem(), '-CRLfile', crlFile, at('bob.pem')]).status).toBe(0);
    const actions = (await auditActions()).map((e) => e.action);
    for (const a of ['pki.init', 'pki.issue', 'pki.revoke', 'pki.crl']) expect(actions).toContain(a);
  });
});

describe('[pki] crl_url', () => {
  it('goes into issued certificates as their CRL distribution point', () => {
    const before = readFileSync(inst.config, 'utf8');
    expect(before).not.toMatch(/^\[pki\]$/m);
    writeFileSync(inst.config, `${before}\n[pki]\ncrl_url = "https://mail.example.test/pki/crl.crl"\n`);
    try {
      const csr = at('alice2.csr');
      expect(openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', at('alice2.key'), '-subj', '/CN=Alice', '-addext', 'subjectAltName=email:alice@example.test', '-out', csr]).status).toBe(0);
      const r = cli(inst, ['pki', 'issue', '--as', OFFICER, '--email', 'alice@example.test', '--csr', csr], `${PW}\n${CA_PASS}\n`);
      expect(r.status).toBe(0);
      const text = openssl(['x509', '-noout', '-text'], r.stdout).out;
      expect(text).toContain('X509v3 CRL Distribution Points');
      expect(text).toContain('URI:https://mail.example.test/pki/crl.crl');
    } finally {
      writeFileSync(inst.config, before);
    }
    // Without the setting, no distribution point.
    const csr = at('alice3.csr');
    expect(openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', at('alice3.key'), '-subj', '/CN=Alice', '-out', csr]).status).toBe(0);
    const plain = cli(inst, ['pki', 'issue', '--as', OFFICER, '--email', 'alice@example.test', '--csr', csr], `${PW}\n${CA_PASS}\n`);
    expect(plain.status).toBe(0);
    expect(openssl(['x509', '-noout', '-text'], plain.stdout).out).not.toContain('CRL Distribution Points');
  });
});

describe('role separation allowed by the configuration', () => {
  it('lets an account hold both roles with [auth] allow_pki_and_mail_admin = true, and warns', () => {
    appendFileSync(inst.config, '\n[auth]\nallow_pki_and_mail_admin = true\n');
    const r = cli(inst, ['user', 'roles', ADMIN, 'mailadmin', 'pkiofficer']);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/^warning: .*holds both mailadmin and pkiofficer/);
    const add = cli(inst, ['user', 'add', 'both@example.test', '--role', 'mailadmin', 'pkiofficer'], `${PW}\n`);
    expect(add.status).toBe(0);
    expect(add.stderr).toContain('warning');
  });
});
