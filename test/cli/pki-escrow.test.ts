/**
 * Key escrow and M-of-N recovery end to end, with the built CLI against an
 * installation from `postern init`, judged by the OpenSSL 3 CLI: three
 * key-recovery officers with certificates from the CA (keys made by `openssl
 * req`), threshold 2. A key issued with --p12 is escrowed; one approval
 * recovers nothing; the same officer twice counts once; a mailadmin is refused
 * at every step; an expired window is refused (the test moves the request's
 * expiresAt into the past before anyone approves — the request file is the
 * only clock input, and approvals bind its digest); two approvals give a
 * PKCS#12 that `openssl pkcs12` opens with the user's new passphrase and whose
 * key matches the certificate; a second collect is refused; the audit log
 * holds every attempt and no secret.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.js';
import { cli, makeInstallation, type Installation } from '../process/postern-process.js';

const PW = 'correct horse battery staple';
const CA_PASS = 'the CA key passphrase, long';
const P12_PASS = 'the bundle passphrase 123';
const NEW_PASS = 'my recovered key passphrase';
const O1_KEY_PASS = 'officer one key passphrase';
const CA_OFFICER = 'pki@example.test';
const ADMIN = 'admin@example.test';
const ALICE = 'alice@example.test';
const O = ['o1@example.test', 'o2@example.test', 'o3@example.test'] as const;

let inst: Installation;
const at = (name: string) => path.join(inst.dir, name);

function openssl(args: string[], input?: string) {
  const r = spawnSync('openssl', args, { encoding: 'utf8', input: input ?? '', timeout: 60_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}`, stdout: r.stdout };
}

interface AuditRow {
  actor: string;
  action: string;
  subject: string;
  data: Record<string, unknown>;
}

async function audit(): Promise<AuditRow[]> {
  const s = await openStore({ backend: 'sqlite', dataDir: at('data') });
  try {
    return (await s.meta.audit.list({ limit: 10_000 })).map((e) => ({ actor: e.actor, action: e.action, subject: e.subject, data: e.data as Record<string, unknown> }));
  } finally {
    await s.close();
  }
}

/** The newest audit record of an action (the store lists ascending). */
const last = async (action: string): Promise<AuditRow> => (await audit()).filter((e) => e.action === action).at(-1)!;

/** The approval stdin: the officer's password, then its key passphrase (empty for o2, whose key is unencrypted). */
const approveInput = (officer: string) => `${PW}\n${officer === O[0] ? O1_KEY_PASS : ''}\n`;
const keyOf = (officer: string) => at(`${officer.split('@')[0]}.key`);
const approve = (id: string, officer: string, key = keyOf(officer), input = approveInput(officer)) => cli(inst, ['pki', 'recover', 'approve', id, '--as', officer, '--key', key], input);
const collect = (id: string, who: string, file: string, pass = NEW_PASS) => cli(inst, ['pki', 'recover', 'collect', id, '--as', who, '--p12', file], `${PW}\n${pass}\n`);
const listJson = () => JSON.parse(cli(inst, ['pki', 'recover', 'list', '--json']).stdout) as { id: string; state: string; approvals: number; threshold: number }[];

beforeAll(async () => {
  inst = await makeInstallation('example.test');
  for (const u of [CA_OFFICER, ...O]) expect(cli(inst, ['user', 'add', u, '--role', 'pkiofficer'], `${PW}\n`).status).toBe(0);
  expect(cli(inst, ['user', 'add', ADMIN, '--role', 'mailadmin'], `${PW}\n`).status).toBe(0);
  for (const u of [ALICE, 'bob@example.test']) expect(cli(inst, ['user', 'add', u], `${PW}\n`).status).toBe(0);
  expect(cli(inst, ['pki', 'init', '--as', CA_OFFICER, '--key', 'p-256'], `${PW}\n${CA_PASS}\n`).status).toBe(0);
  // Officers' keys from openssl req (o1 RSA with an encrypted key, o2 P-256, o3 RSA), certificates from the CA.
  const keys: Record<string, string[]> = {
    [O[0]]: ['-newkey', 'rsa:2048', '-passout', `pass:${O1_KEY_PASS}`],
    [O[1]]: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'],
    [O[2]]: ['-newkey', 'rsa:2048', '-nodes'],
  };
  for (const o of O) {
    const name = o.split('@')[0]!;
    const req = openssl(['req', '-new', ...keys[o]!, '-keyout', keyOf(o), '-subj', `/CN=${name}/emailAddress=${o}`, '-out', at(`${name}.csr`)]);
    expect(req.status, req.out).toBe(0);
    const r = cli(inst, ['pki', 'issue', '--as', CA_OFFICER, '--email', o, '--csr', at(`${name}.csr`), '--out', at(`${name}.pem`)], `${PW}\n${CA_PASS}\n`);
    expect(r.status, r.stderr).toBe(0);
  }
}, 180_000);
afterAll(() => inst?.cleanup());

let serial = '';
let requestId = '';

describe('escrow setup and deposit', { timeout: 180_000 }, () => {
  it('without escrow set up, issue --p12 still works, warns, and records escrowed: false', async () => {
    const r = cli(inst, ['pki', 'issue', '--as', CA_OFFICER, '--email', 'bob@example.test', '--p12', at('bob.p12'), '--key', 'p-256'], `${PW}\n${CA_PASS}\n${P12_PASS}\n`);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/warning: key escrow is not set up/);
    expect((await last('pki.issue')).data).toMatchObject({ escrowed: false });
    expect(existsSync(at('pki/escrow'))).toBe(false);
  });

  it('setup is refused to a mailadmin, and for bad thresholds, officers without the role or without a certificate', async () => {
    const setup = (as: string, threshold: string, officers: readonly string[]) => cli(inst, ['pki', 'escrow', 'setup', '--as', as, '--threshold', threshold, ...officers.flatMap((o) => ['--officer', o])], `${PW}\n`);
    const admin = setup(ADMIN, '2', O);
    expect(admin.status).toBe(2);
    expect(admin.stderr).toContain('needs the pkiofficer role');
    expect((await last('pki.escrow.setup')).data).toMatchObject({ result: 'refused' });
    expect(setup(CA_OFFICER, '1', O).stderr).toContain('--threshold takes a whole number from 2 to 3');
    expect(setup(CA_OFFICER, '4', O).stderr).toContain('--threshold takes a whole number from 2 to 3');
    expect(setup(CA_OFFICER, '2', [O[0]]).stderr).toContain('give 2 to 16 --officer');
    expect(setup(CA_OFFICER, '2', [O[0], O[0]]).stderr).toContain('given once');
    expect(setup(CA_OFFICER, '2', [O[0], ALICE]).stderr).toContain(`${ALICE} cannot hold a share: it needs the pkiofficer role`);
    expect(setup(CA_OFFICER, '2', [O[0], CA_OFFICER]).stderr).toContain(`${CA_OFFICER} has no valid certificate`);
    expect(existsSync(at('pki/escrow.json'))).toBe(false);
    const ok = setup(CA_OFFICER, '2', O);
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    expect(statSync(at('pki/escrow.json')).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(at('pki/escrow.json'), 'utf8'))).toMatchObject({ threshold: 2, officers: O.map((address) => ({ address })) });
  });

  it('issue --p12 escrows the key: a record per certificate, audited without key material', async () => {
    const r = cli(inst, ['pki', 'issue', '--as', CA_OFFICER, '--email', ALICE, '--p12', at('alice.p12')], `${PW}\n${CA_PASS}\n${P12_PASS}\n`);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('warning');
    const files = readdirSync(at('pki/escrow'));
    expect(files).toHaveLength(1);
    serial = files[0]!.replace(/\.json$/, '');
    expect(statSync(at(`pki/escrow/${files[0]}`)).mode & 0o777).toBe(0o600);
    const issue = await last('pki.issue');
    expect(issue.data).toMatchObject({ escrowed: true, serial });
    const dep = await last('pki.escrow.deposit');
    expect(dep.subject).toBe(ALICE);
    expect(dep.data).toMatchObject({ serial, threshold: 2, officers: [...O] });
    // o2's share opens with openssl cms -decrypt and o2's own key.
    const rec = JSON.parse(readFileSync(at(`pki/escrow/${files[0]}`), 'utf8')) as { record: { shares: { address: string; envelope: string }[]; certFingerprint: string } };
    writeFileSync(at('o2-share.der'), Buffer.from(rec.record.shares.find((s) => s.address === O[1])!.envelope, 'base64'));
    const opened = openssl(['cms', '-decrypt', '-inform', 'DER', '-in', at('o2-share.der'), '-inkey', keyOf(O[1])]);
    expect(opened.status, opened.out).toBe(0);
    expect(JSON.parse(opened.stdout)).toMatchObject({ postern: 'escrow-share', certFingerprint: rec.record.certFingerprint });
    expect(JSON.stringify(await audit())).not.toMatch(/PRIVATE KEY|"share"|envelope/);
  });
});

describe('recovery', { timeout: 180_000 }, () => {
  it('request: only the owner may ask; a mailadmin, an officer and someone without an escrowed key are refused', async () => {
    const request = (as: string, extra: string[] = [], pass = NEW_PASS) => cli(inst, ['pki', 'recover', 'request', '--as', as, ...extra], `${PW}\n${pass}\n`);
    const admin = request(ADMIN, ['--serial', serial]);
    expect(admin.status).toBe(2);
    expect(admin.stderr).toContain("only the certificate's owner may request its key");
    expect(request(O[0], ['--serial', serial]).stderr).toContain("only the certificate's owner");
    expect(request('bob@example.test').stderr).toContain('has no escrowed key');
    expect(request(ALICE, [], 'short').stderr).toContain('PKCS#12 passphrase');
    expect(request(ALICE, ['--hours', '169']).stderr).toContain('--hours takes a whole number from 1 to 168');
    // Without --serial: the owner's newest escrowed key. This request is left pending.
    const first = request(ALICE);
    expect(first.status, first.stderr).toBe(0);
    const r = request(ALICE, ['--serial', serial.toLowerCase()]);
    expect(r.status, r.stderr).toBe(0);
    requestId = r.stdout.trim();
    expect(requestId).toMatch(/^[0-9a-f]{24}$/);
    expect(statSync(at(`pki/recovery/${requestId}/request.json`)).mode & 0o777).toBe(0o600);
    expect(readFileSync(at(`pki/recovery/${requestId}/request.json`), 'utf8')).not.toContain('PRIVATE');
    const refused = (await audit()).filter((e) => e.action === 'pki.recover.request' && e.data.result === 'refused');
    expect(refused.length).toBeGreaterThanOrEqual(5);
    expect(refused.some((e) => e.actor === ADMIN)).toBe(true);
  });

  it('approve: a mailadmin, the requester and a wrong key are refused; the same officer twice counts once', async () => {
    const admin = approve(requestId, ADMIN, keyOf(O[0]), `${PW}\n${O1_KEY_PASS}\n`);
    expect(admin.status).toBe(2);
    expect(admin.stderr).toContain('needs the pkiofficer role');
    expect(approve(requestId, ALICE, keyOf(O[2]), `${PW}\n\n`).stderr).toContain('needs the pkiofficer role');
    expect(approve(requestId, CA_OFFICER, keyOf(O[2]), `${PW}\n\n`).stderr).toContain('holds no share of this key');
    expect(approve(requestId, O[0], keyOf(O[0]), `${PW}\nnot the key passphrase\n`).stderr).toContain('wrong passphrase');
    expect(approve(requestId, O[0], keyOf(O[2]), `${PW}\n\n`).stderr).toContain('the share does not open with this key');
    expect(approve('../../etc', O[0]).stderr).toContain('not a recovery request id');
    expect(readdirSync(at(`pki/recovery/${requestId}`))).toEqual(['request.json']);
    const ok = approve(requestId, O[0]);
    expect(ok.stderr).toBe('');
    expect(ok.stdout).toContain('1 of 2 approvals');
    const twice = approve(requestId, O[0]);
    expect(twice.status).toBe(2);
    expect(twice.stderr).toContain('already approved');
    expect(twice.stderr).toContain('counts once');
    expect(listJson().find((r) => r.id === requestId)).toMatchObject({ state: 'pending', approvals: 1, threshold: 2 });
  });

  it('collect with M-1 approvals recovers nothing and writes nothing; others may not collect', async () => {
    const one = collect(requestId, ALICE, at('alice-recovered.p12'));
    expect(one.status).toBe(2);
    expect(one.stderr).toContain('1 of 2 approvals; nothing recovered');
    expect(existsSync(at('alice-recovered.p12'))).toBe(false);
    expect(existsSync(at(`pki/recovery/${requestId}/collected.json`))).toBe(false);
    expect((await last('pki.recover.collect')).data).toMatchObject({ result: 'refused', approvals: [O[0]], threshold: 2 });
    expect(approve(requestId, O[1]).stdout).toContain('2 of 2 approvals');
    for (const who of [ADMIN, O[0], 'bob@example.test']) {
      const r = collect(requestId, who, at('stolen.p12'));
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(`only the requester (${ALICE}) may collect`);
    }
    expect(collect(requestId, ALICE, at('alice-recovered.p12'), 'not the passphrase given').stderr).toContain('wrong passphrase');
    expect(existsSync(at('stolen.p12')) || existsSync(at('alice-recovered.p12'))).toBe(false);
  });

  it('with M approvals from distinct officers, collect writes a PKCS#12 whose key is the certificate\'s; once only', async () => {
    const r = collect(requestId, ALICE, at('alice-recovered.p12'));
    expect(r.status, r.stderr).toBe(0);
    expect(statSync(at('alice-recovered.p12')).mode & 0o777).toBe(0o600);
    const p = openssl(['pkcs12', '-in', at('alice-recovered.p12'), '-nodes', '-passin', `pass:${NEW_PASS}`]);
    expect(p.status, p.out).toBe(0);
    writeFileSync(at('rec.pem'), p.stdout);
    const certPub = openssl(['x509', '-in', at('rec.pem'), '-noout', '-pubkey']);
    const keyPub = openssl(['pkey', '-in', at('rec.pem'), '-pubout']);
    expect(certPub.status).toBe(0);
    expect(keyPub.status).toBe(0);
    expect(keyPub.stdout).toContain('BEGIN PUBLIC KEY');
    expect(keyPub.stdout).toBe(certPub.stdout);
    expect(p.out).toContain(ALICE);
    // The very key handed out at issue.
    const orig = openssl(['pkcs12', '-in', at('alice.p12'), '-nodes', '-nocerts', '-passin', `pass:${P12_PASS}`]);
    writeFileSync(at('orig.pem'), orig.stdout);
    expect(openssl(['pkey', '-in', at('orig.pem')]).stdout).toBe(openssl(['pkey', '-in', at('rec.pem')]).stdout);
    expect(openssl(['pkcs12', '-in', at('alice-recovered.p12'), '-nodes', '-passin', 'pass:wrong one entirely']).status).not.toBe(0);
    // The chain carries the CA.
    expect(openssl(['pkcs12', '-in', at('alice-recovered.p12'), '-nokeys', '-cacerts', '-passin', `pass:${NEW_PASS}`]).stdout).toContain('BEGIN CERTIFICATE');

    const again = collect(requestId, ALICE, at('alice-again.p12'));
    expect(again.status).toBe(2);
    expect(again.stderr).toContain('already collected');
    expect(existsSync(at('alice-again.p12'))).toBe(false);
    expect(approve(requestId, O[2]).stderr).toContain('is collected');
    expect(listJson().find((x) => x.id === requestId)).toMatchObject({ state: 'collected', approvals: 2 });
    expect((await last('pki.recover.collect')).data).toMatchObject({ result: 'refused' });
  });

  it('an expired window is refused to approvers and to the requester', async () => {
    const r = cli(inst, ['pki', 'recover', 'request', '--as', ALICE, '--hours', '1'], `${PW}\n${NEW_PASS}\n`);
    expect(r.status, r.stderr).toBe(0);
    const id = r.stdout.trim();
    const file = at(`pki/recovery/${id}/request.json`);
    const req = JSON.parse(readFileSync(file, 'utf8')) as { expiresAt: number; createdAt: number };
    expect(req.expiresAt - req.createdAt).toBe(3_600_000);
    req.expiresAt = Date.now() - 1000;
    writeFileSync(file, JSON.stringify(req));
    const ap = approve(id, O[2]);
    expect(ap.status).toBe(2);
    expect(ap.stderr).toContain('is expired');
    const col = collect(id, ALICE, at('late.p12'));
    expect(col.status).toBe(2);
    expect(col.stderr).toContain('expired');
    expect(existsSync(at('late.p12'))).toBe(false);
    expect(listJson().find((x) => x.id === id)).toMatchObject({ state: 'expired', approvals: 0 });
  });

  it('every attempt is in the audit log, refusals with their reason, and no secret', async () => {
    const rows = await audit();
    const count = (action: string, result: string) => rows.filter((e) => e.action === action && e.data.result === result).length;
    expect(count('pki.escrow.setup', 'ok')).toBe(1);
    expect(count('pki.escrow.setup', 'refused')).toBe(7);
    expect(rows.filter((e) => e.action === 'pki.escrow.deposit')).toHaveLength(1);
    expect(count('pki.recover.request', 'ok')).toBe(3);
    expect(count('pki.recover.request', 'refused')).toBe(5);
    expect(count('pki.recover.approve', 'ok')).toBe(2);
    // admin, alice, pki@, wrong passphrase, wrong key, bad id, twice, after collect, expired
    expect(count('pki.recover.approve', 'refused')).toBe(9);
    expect(count('pki.recover.collect', 'ok')).toBe(1);
    // 1 of 2, admin, o1, bob, wrong passphrase, second collect, expired
    expect(count('pki.recover.collect', 'refused')).toBe(7);
    const adminRows = rows.filter((e) => e.actor === ADMIN && e.action.startsWith('pki.'));
    expect(new Set(adminRows.map((e) => e.action))).toEqual(new Set(['pki.escrow.setup', 'pki.recover.request', 'pki.recover.approve', 'pki.recover.collect']));
    expect(adminRows.every((e) => e.data.result === 'refused')).toBe(true);
    const text = JSON.stringify(rows);
    for (const secret of [PW, NEW_PASS, O1_KEY_PASS, CA_PASS, P12_PASS, 'PRIVATE KEY']) expect(text).not.toContain(secret);
    // The audit-log command sees them too, and the chain verifies.
    expect(cli(inst, ['audit-log', 'verify']).status).toBe(0);
  });
});
