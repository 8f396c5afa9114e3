import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statSync, writeFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { cli, makeInstallation, MAIN, type Installation } from '../process/postern-process.js';
import { spawnSync } from 'node:child_process';

describe('postern command line', () => {
  let inst: Installation;
  beforeAll(async () => {
    inst = await makeInstallation('cli.test');
  });
  afterAll(() => inst.cleanup());

  it('init wrote keys with mode 0600 and registered the domain', () => {
    for (const f of ['tls/key.pem', 'dkim/cli.test.postern.key.pem']) {
      expect(statSync(path.join(inst.dir, f)).mode & 0o777).toBe(0o600);
    }
    const r = cli(inst, ['domain', 'list']);
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual(['cli.test']);
  });

  it('init refuses to overwrite an existing installation', () => {
    const r = spawnSync(process.execPath, [MAIN, 'init', '--domain', 'cli.test', '--dir', inst.dir], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/exists|overwrite/i);
  });

  it('adds, lists, disables users; reads the password from stdin, never argv', () => {
    let r = cli(inst, ['user', 'add', 'Alice@CLI.test', '--name', 'Alice', '--role', 'user', 'auditor'], 'correct horse battery\n');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    r = cli(inst, ['user', 'add', 'bob@cli.test'], 'short\n');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/at least 12/);
    r = cli(inst, ['user', 'add', 'carol@elsewhere.test'], 'long enough password\n');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/not a local domain/);
    r = cli(inst, ['user', 'disable', 'alice@cli.test']);
    expect(r.status).toBe(0);
    r = cli(inst, ['user', 'list']);
    expect(r.stdout).toMatch(/^alice@cli\.test\tdisabled\tuser,auditor\tAlice$/m);
    // The database holds a scrypt hash, not the password.
    const db = readFileSync(path.join(inst.dir, 'data', 'meta.sqlite'));
    expect(db.includes('correct horse battery')).toBe(false);
  });

  it('manages groups and their members', () => {
    cli(inst, ['user', 'add', 'dave@cli.test'], 'another long password\n');
    expect(cli(inst, ['group', 'add', 'finance', '--description', 'Finance']).status).toBe(0);
    const r = cli(inst, ['group', 'members', 'finance', '--add', 'dave@cli.test']);
    expect(r.stdout.trim()).toBe('dave@cli.test');
    expect(cli(inst, ['group', 'members', 'nosuch', '--add', 'dave@cli.test']).stderr).toMatch(/no group nosuch/);
  });

  it('shows an empty queue', () => {
    const r = cli(inst, ['queue', 'list']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/queue is empty/);
  });

  it('names every wrong key of a broken config at once and exits 2', () => {
    const bad = path.join(inst.dir, 'bad.toml');
    writeFileSync(bad, '[server]\nhostname = "x.test"\nport_offset = -5\n[smtp]\nmax_recipients = "lots"\nbare_newlines = "reject"\n');
    const r = spawnSync(process.execPath, [MAIN, '-c', bad, 'user', 'list'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/server\.port_offset/);
    expect(r.stderr).toMatch(/smtp\.max_recipients/);
    expect(r.stderr).toMatch(/smtp\.bare_newlines.*did you mean "bare_newline"/);
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/); // no stack trace
  });

  it('reports a TOML syntax error with its line', () => {
    const bad = path.join(inst.dir, 'syntax.toml');
    writeFileSync(bad, '[server]\nhostname = "x.test"\n[smtp\n');
    const r = spawnSync(process.execPath, [MAIN, '-c', bad, 'start'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/syntax\.toml:3:/);
  });
});
