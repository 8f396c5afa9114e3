/** Python's poplib (Debian's /usr/bin/python3) against both POP3 listeners. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleMessage, startPop3Fixture, type Pop3Fixture, type TestUser } from './harness.js';
import { b64, ok, poplibSession, type PyResult, type PySession } from './python-client.js';

let fx: Pop3Fixture;
beforeAll(async () => {
  fx = await startPop3Fixture({ users: 4 });
});
afterAll(async () => {
  await fx?.close();
});

const ssl = (u: TestUser): PySession => ({ mode: 'ssl', port: fx.ports.tls, ca: fx.caFile, user: u.address, password: u.password });
const stls = (u: TestUser): PySession => ({ mode: 'stls', port: fx.ports.stls, ca: fx.caFile, user: u.address, password: u.password });

async function fill(u: TestUser, n: number): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (let i = 1; i <= n; i++) {
    const m = sampleMessage(i, `${u.address} #${i}\r\n`);
    await fx.deliver(u, m);
    out.push(m);
  }
  return out;
}

describe('poplib', () => {
  it('POP3_SSL: stat, list, uidl, retr byte for byte, top', async () => {
    const u = fx.users[0]!;
    const msgs = await fill(u, 3);
    const r = await poplibSession(ssl(u), [['login'], ['stat'], ['list'], ['uidl'], ['retr', 1], ['retr', 2], ['retr', 3], ['top', 2, 1], ['quit']]);
    expect(r.welcome).toMatch(/^\+OK/);
    expect(ok(r.results[0])).toMatch(/^\+OK/);
    expect(ok(r.results[1])).toEqual([3, msgs.reduce((s, m) => s + m.length, 0)]);
    expect(ok(r.results[2])).toEqual(msgs.map((m, i) => `${i + 1} ${m.length}`));
    const uidl = ok<string[]>(r.results[3]);
    expect(uidl).toHaveLength(3);
    expect(new Set(uidl.map((l) => l.split(' ')[1])).size).toBe(3);
    for (let i = 0; i < 3; i++) expect(b64(ok(r.results[4 + i])).equals(msgs[i]!)).toBe(true);
    const top = b64(ok(r.results[7])).toString('latin1');
    const [head, body] = msgs[1]!.toString('latin1').split('\r\n\r\n') as [string, string];
    expect(top).toBe(`${head}\r\n\r\n${body.split('\r\n')[0]}\r\n`);
    // Nothing was deleted.
    expect(await fx.inbox(u)).toHaveLength(3);
  });

  it('POP3 + stls(): refuses credentials before STLS, serves them after', async () => {
    const u = fx.users[1]!;
    const msgs = await fill(u, 2);
    const before = await poplibSession(stls(u), [['capa'], ['user', u.address], ['quit']]);
    const caps = ok<string[]>(before.results[0]);
    expect(caps).toContain('STLS');
    expect(caps).not.toContain('USER');
    expect(caps).not.toContain('SASL');
    expect((before.results[1] as { error: string }).error).toMatch(/^-ERR \[AUTH\]/);

    const r = await poplibSession(stls(u), [['stls'], ['capa'], ['login'], ['stat'], ['retr', 2], ['quit']]);
    expect(ok(r.results[0])).toMatch(/^\+OK/);
    expect(ok<string[]>(r.results[1])).toEqual(expect.arrayContaining(['USER', 'SASL', 'TOP', 'UIDL', 'PIPELINING']));
    expect(ok<string[]>(r.results[1])).not.toContain('STLS');
    expect(ok(r.results[2])).toMatch(/^\+OK/);
    expect(ok(r.results[3])).toEqual([2, msgs[0]!.length + msgs[1]!.length]);
    expect(b64(ok(r.results[4])).equals(msgs[1]!)).toBe(true);
  });

  it('dele + quit removes exactly the marked messages; rset undoes dele; a dropped connection removes nothing', async () => {
    const u = fx.users[2]!;
    await fill(u, 5);
    const stored = await fx.inbox(u);

    const dropped = await poplibSession(ssl(u), [['login'], ['dele', 1], ['dele', 2], ['drop']]);
    expect(ok(dropped.results[1])).toMatch(/^\+OK/);
    const afterDrop = await retryWhileLocked(() => poplibSession(ssl(u), [['login'], ['dele', 3], ['rset'], ['stat'], ['quit']]));
    expect(ok(afterDrop.results[3])).toEqual([5, stored.reduce((s, m) => s + m.bytes.length, 0)]);
    expect((await fx.inbox(u)).map((m) => m.uid)).toEqual(stored.map((m) => m.uid));

    const r = await poplibSession(stls(u), [['stls'], ['login'], ['dele', 2], ['dele', 4], ['stat'], ['retr', 2], ['quit']]);
    expect(ok(r.results[4])).toEqual([3, stored[0]!.bytes.length + stored[2]!.bytes.length + stored[4]!.bytes.length]);
    expect('error' in r.results[5]!).toBe(true);
    expect(ok(r.results[6])).toMatch(/^\+OK/);
    expect((await fx.inbox(u)).map((m) => m.uid)).toEqual([stored[0]!.uid, stored[2]!.uid, stored[4]!.uid]);
  });

  it('wrong password gives -ERR [AUTH]', async () => {
    const u = fx.users[3]!;
    const r = await poplibSession({ ...ssl(u), password: 'not the password' }, [['login'], ['quit']]);
    expect((r.results[0] as { error: string }).error).toMatch(/^-ERR \[AUTH\]/);
  });
});

/** A dropped session's lock goes when the server has seen the close; retry [IN-USE] briefly. */
type PyRun = { welcome: string; results: PyResult[] };
async function retryWhileLocked(fn: () => Promise<PyRun>): Promise<PyRun> {
  for (let i = 0; ; i++) {
    const r = await fn();
    const first = r.results[0];
    if (!(first && 'error' in first && first.error.includes('[IN-USE]')) || i >= 50) return r;
    await new Promise((res) => setTimeout(res, 50));
  }
}
