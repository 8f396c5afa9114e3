/** curl's POP3 client: pop3s:// (implicit TLS) and pop3:// with --ssl-reqd (STLS). */
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOST, sampleMessage, startPop3Fixture, type Pop3Fixture } from './harness.js';

let fx: Pop3Fixture;
let msgs: Buffer[];
beforeAll(async () => {
  fx = await startPop3Fixture({ users: 1 });
  msgs = [sampleMessage(1), sampleMessage(2, 'second\r\n'), sampleMessage(3, '.\r\n..\r\nthird\r\n')];
  for (const m of msgs) await fx.deliver(fx.users[0]!, m);
});
afterAll(async () => {
  await fx?.close();
});

function curl(url: string, extra: string[] = []): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  const u = fx.users[0]!;
  // The password goes through a config file on stdin, not the command line.
  const args = ['-sS', '--max-time', '30', '--cacert', fx.caFile, '-K', '-', ...extra, url];
  return new Promise((resolve) => {
    const child = execFile('curl', args, { encoding: 'buffer', timeout: 60_000, env: { PATH: '/usr/bin:/bin' } }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr: stderr.toString() });
    });
    child.stdin!.end(`user = "${u.address}:${u.password}"\n`);
  });
}

describe('curl', () => {
  it('pop3s:// lists the maildrop and retrieves each message byte for byte', async () => {
    const list = await curl(`pop3s://${HOST}:${fx.ports.tls}/`);
    expect(list.stderr).toBe('');
    expect(list.stdout.toString().trim().split(/\r?\n/)).toEqual(msgs.map((m, i) => `${i + 1} ${m.length}`));
    for (let i = 0; i < msgs.length; i++) {
      const r = await curl(`pop3s://${HOST}:${fx.ports.tls}/${i + 1}`);
      expect(r.stderr).toBe('');
      expect(r.stdout.equals(msgs[i]!)).toBe(true);
    }
  });

  it('pop3:// with --ssl-reqd upgrades with STLS, also with an initial SASL response', async () => {
    for (const extra of [['--ssl-reqd'], ['--ssl-reqd', '--sasl-ir']]) {
      const r = await curl(`pop3://${HOST}:${fx.ports.stls}/3`, extra);
      expect(r.stderr).toBe('');
      expect(r.stdout.equals(msgs[2]!)).toBe(true);
    }
  });

  it('without TLS, the login fails: credentials are not accepted in the clear', async () => {
    const r = await curl(`pop3://${HOST}:${fx.ports.stls}/1`);
    expect(r.code).not.toBe(0);
    expect(r.stdout.length).toBe(0);
  });

  it('a wrong password fails, and nothing was deleted by any of this', async () => {
    const u = fx.users[0]!;
    const args = ['-sS', '--max-time', '30', '--cacert', fx.caFile, '-u', `${u.address}:wrong-password`, `pop3s://${HOST}:${fx.ports.tls}/1`];
    const code = await new Promise<number>((resolve) => execFile('curl', args, { timeout: 60_000 }, (err) => resolve(err ? ((err as { code?: number }).code ?? 1) : 0)));
    expect(code).not.toBe(0);
    expect(await fx.inbox(u)).toHaveLength(3);
  });
});
