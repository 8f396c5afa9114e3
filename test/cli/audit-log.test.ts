/**
 * `postern audit-log`: administrative commands leave records, verify names
 * the first tampered record, and checkpoints signed with an auditor key
 * verify (npm test builds dist first).
 */
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, makeInstallation, type Installation } from '../process/postern-process.js';

interface Shown {
  seq: number;
  actor: string;
  action: string;
  subject: string;
  data: Record<string, unknown>;
}

describe('postern audit-log', () => {
  let inst: Installation;
  const PASSWORD = 'correct horse battery staple';
  beforeAll(async () => {
    inst = await makeInstallation('audit.test');
  });
  afterAll(() => inst.cleanup());

  it('records administrative actions, verifies, and names an edited record', () => {
    const me = `cli:${userInfo().username}`;
    expect(cli(inst, ['user', 'add', 'alice@audit.test', '--role', 'user'], `${PASSWORD}\n`).status).toBe(0);
    expect(cli(inst, ['user', 'roles', 'alice@audit.test', 'user', 'auditor']).status).toBe(0);
    expect(cli(inst, ['user', 'passwd', 'alice@audit.test'], `${PASSWORD} again\n`).status).toBe(0);
    expect(cli(inst, ['alias', 'add', 'postmaster@audit.test', 'alice@audit.test']).status).toBe(0);
    expect(cli(inst, ['user', 'disable', 'alice@audit.test']).status).toBe(0);

    let r = cli(inst, ['audit-log', 'show', '--json', '--actor', me]);
    expect(r.status, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout) as Shown[];
    const mine = rows.filter((x) => x.subject.endsWith('@audit.test'));
    expect(mine.map((x) => x.action)).toEqual(['user.add', 'user.roles', 'user.passwd', 'alias.add', 'user.disable']);
    expect(mine[1]!.data).toEqual({ from: ['user'], to: ['user', 'auditor'] });
    // Neither the password nor its hash is ever written to the log.
    expect(r.stdout).not.toContain('correct horse');
    expect(r.stdout).not.toContain('$scrypt');

    r = cli(inst, ['audit-log', 'show', '--action', 'user.roles', '--since', '1d']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('user.roles\talice@audit.test');
    expect(r.stdout).toContain('1 record(s)');

    r = cli(inst, ['audit-log', 'verify']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/audit log intact: \d+ record\(s\)/);

    const target = mine[2]!.seq;
    const db = new Database(path.join(inst.dir, 'data', 'meta.sqlite'));
    try {
      db.prepare(`UPDATE audit_log SET data = '{"note":"nothing happened"}' WHERE seq = ?`).run(target);
    } finally {
      db.close();
    }
    r = cli(inst, ['audit-log', 'verify']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`record ${target}: hash does not match (edited)`);
    r = cli(inst, ['audit-log', 'verify', '--json']);
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, firstBad: { seq: target } });
  });

  it('signs checkpoints with a key made by keygen and verifies them with its public half', async () => {
    const other = await makeInstallation('audit2.test');
    try {
      const keys = mkdtempSync(path.join(tmpdir(), 'postern-auditor-'));
      let r = cli(other, ['audit-log', 'keygen', '--out', keys]);
      expect(r.status, r.stderr).toBe(0);
      const priv = path.join(keys, 'audit-key.pem');
      const pub = path.join(keys, 'audit-key.pub.pem');
      expect(statSync(priv).mode & 0o777).toBe(0o600);
      expect(readFileSync(pub, 'utf8')).toContain('BEGIN PUBLIC KEY');
      // A second keygen never overwrites the auditor's key.
      expect(cli(other, ['audit-log', 'keygen', '--out', keys]).status).toBe(2);

      expect(cli(other, ['domain', 'add', 'second.test']).status).toBe(0);
      r = cli(other, ['audit-log', 'checkpoint', '--key', priv]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^checkpoint at record \d+ [0-9a-f]{64} signed by key [0-9a-f]{16}/);
      expect(cli(other, ['group', 'add', 'sales']).status).toBe(0);

      r = cli(other, ['audit-log', 'verify', '--public-key', pub]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain('1 checkpoint(s), 1 signature(s) verified');

      // Another key does not vouch for this log.
      const forger = mkdtempSync(path.join(tmpdir(), 'postern-forger-'));
      expect(cli(other, ['audit-log', 'keygen', '--out', forger]).status).toBe(0);
      r = cli(other, ['audit-log', 'verify', '--public-key', path.join(forger, 'audit-key.pub.pem')]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/^record \d+: checkpoint signature: signed by key/);
    } finally {
      other.cleanup();
    }
  });
});
