/** Failed logins, throttling, damaged messages, limits, idle timeout and shutdown. */
import { unlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { sampleMessage, startPop3Fixture, type Pop3Fixture } from './harness.js';
import { LineClient, loggedIn } from './line-client.js';

let fx: Pop3Fixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

async function tlsSession(f: Pop3Fixture, localAddress?: string): Promise<LineClient> {
  const c = await LineClient.connect(f.ports.tls, { tls: true, ca: f.caFile, localAddress });
  expect(await c.status()).toMatch(/^\+OK/);
  return c;
}

async function pass(c: LineClient, user: string, password: string): Promise<string> {
  expect(await c.command(`USER ${user}`)).toMatch(/^\+OK/);
  return c.command(`PASS ${password}`);
}

describe('failed logins', () => {
  it('answers -ERR [AUTH] to a wrong password and an unknown user, and closes after three failures', async () => {
    fx = await startPop3Fixture({ users: 1, throttle: { maxSourceFailures: 100 } });
    const u = fx.users[0]!;
    const c = await tlsSession(fx);
    expect(await pass(c, u.address, 'wrong password')).toMatch(/^-ERR \[AUTH\]/);
    expect(await pass(c, 'nobody@example.test', u.password)).toMatch(/^-ERR \[AUTH\]/);
    expect(await c.command('PASS without user')).toMatch(/^-ERR/);
    expect(await pass(c, u.address, `${u.password}x`)).toMatch(/^-ERR \[AUTH\]/);
    await c.waitClosed();
    // The right password still works in a new session: the throttle limit was not reached.
    const d = await tlsSession(fx);
    expect(await pass(d, u.address, u.password)).toMatch(/^\+OK/);
    d.close();
  });

  it('locks the failing client address after the limit without checking the password, never the account', async () => {
    fx = await startPop3Fixture({ users: 2, throttle: { maxSourceFailures: 4 } });
    const [u, other] = [fx.users[0]!, fx.users[1]!];
    const c = await tlsSession(fx);
    for (let i = 0; i < 3; i++) expect(await pass(c, u.address, `guess ${i}`)).toMatch(/^-ERR \[AUTH\]/);
    await c.waitClosed();
    const d = await tlsSession(fx);
    expect(await pass(d, u.address, 'guess 4')).toMatch(/^-ERR \[AUTH\]/);
    // Now this address is locked: the right password is refused as a temporary failure.
    expect(await pass(d, u.address, u.password)).toMatch(/^-ERR \[SYS\/TEMP\]/);
    // Whoever it tries.
    const e = await tlsSession(fx);
    const plain = Buffer.from(`\0${other.address}\0${other.password}`).toString('base64');
    expect(await e.command(`AUTH PLAIN ${plain}`)).toMatch(/^-ERR \[SYS\/TEMP\]/);
    d.close();
    e.close();
    // The account itself is not locked: from another address its owner gets in.
    const f = await tlsSession(fx, '127.0.0.2');
    expect(await pass(f, u.address, u.password)).toMatch(/^\+OK/);
    f.close();
  });
});

describe('damaged messages', () => {
  it('refuses RETR and TOP of a damaged or missing blob with [SYS/PERM] and carries on', async () => {
    fx = await startPop3Fixture({ users: 1 });
    const u = fx.users[0]!;
    const good = sampleMessage(1);
    await fx.deliver(u, good);
    const broken = await fx.deliver(u, sampleMessage(2, 'to be damaged\r\n'));
    const missing = await fx.deliver(u, sampleMessage(3, 'to be lost\r\n'));
    writeFileSync(fx.blobPath(broken.blobId), randomBytes(broken.size + 200));
    unlinkSync(fx.blobPath(missing.blobId));

    const c = await loggedIn(fx.ports.tls, fx.caFile, u.address, u.password);
    expect(await c.command('RETR 2')).toBe('-ERR [SYS/PERM] message is damaged');
    expect(await c.command('TOP 2 0')).toBe('-ERR [SYS/PERM] message is damaged');
    expect(await c.command('RETR 3')).toBe('-ERR [SYS/PERM] message is damaged');
    expect(await c.command('NOOP')).toBe('+OK');
    expect(await c.command('RETR 1')).toMatch(/^\+OK/);
    const lines = await c.multi();
    expect(Buffer.from(lines.join('\r\n') + '\r\n', 'latin1').equals(good)).toBe(true);
    c.close();
  });
});

describe('limits', () => {
  it('refuses connections beyond the per-client limit with [SYS/TEMP], on both ports', async () => {
    fx = await startPop3Fixture({ users: 1, limits: { maxConnectionsPerClient: 2 } });
    const f = fx;
    const open = [await tlsSession(f), await tlsSession(f)];
    const refused = await LineClient.connect(f.ports.tls, { tls: true, ca: f.caFile });
    expect(await refused.status()).toMatch(/^-ERR \[SYS\/TEMP\]/);
    await refused.waitClosed();
    // Each listener counts its own sessions.
    const plain = [await LineClient.connect(f.ports.stls), await LineClient.connect(f.ports.stls)];
    for (const p of plain) expect(await p.status()).toMatch(/^\+OK/);
    const refusedPlain = await LineClient.connect(f.ports.stls);
    expect(await refusedPlain.status()).toMatch(/^-ERR \[SYS\/TEMP\]/);
    await refusedPlain.waitClosed();
    // A slot is free again once a session has gone.
    open[0]!.close();
    let admitted = false;
    for (let i = 0; i < 50 && !admitted; i++) {
      const c = await LineClient.connect(f.ports.tls, { tls: true, ca: f.caFile });
      admitted = (await c.status()).startsWith('+OK');
      c.close();
      if (!admitted) await new Promise((r) => setTimeout(r, 50));
    }
    expect(admitted).toBe(true);
    for (const c of [...open, ...plain]) c.close();
  });

  it('closes a session after too many bad commands', async () => {
    fx = await startPop3Fixture({ users: 1 });
    const c = await tlsSession(fx);
    let replies = 0;
    for (let i = 0; i < 20 && !c.isClosed; i++) {
      c.send(`XYZZY${i}\r\n`);
      const l = await c.line();
      if (l === null) break;
      expect(l).toMatch(/^-ERR/);
      replies++;
    }
    await c.waitClosed();
    expect(replies).toBeLessThan(20);
  });

  it('closes an idle session without a reply and without expunging', async () => {
    fx = await startPop3Fixture({ users: 1, limits: { idleTimeoutMs: 300 } });
    const u = fx.users[0]!;
    await fx.deliver(u, sampleMessage(1));
    const c = await loggedIn(fx.ports.tls, fx.caFile, u.address, u.password);
    expect(await c.command('DELE 1')).toMatch(/^\+OK/);
    expect(await c.line()).toBeNull(); // closed, nothing said
    expect(await fx.inbox(u)).toHaveLength(1);
  });
});

describe('shutdown', () => {
  it('closes open sessions and expunges nothing for sessions that did not QUIT', async () => {
    fx = await startPop3Fixture({ users: 1 });
    const u = fx.users[0]!;
    await fx.deliver(u, sampleMessage(1));
    const c = await loggedIn(fx.ports.tls, fx.caFile, u.address, u.password);
    const idle = await LineClient.connect(fx.ports.stls);
    await idle.status();
    expect(await c.command('DELE 1')).toMatch(/^\+OK/);
    await fx.stopListeners();
    await c.waitClosed();
    await idle.waitClosed();
    expect(await fx.inbox(u)).toHaveLength(1);
  });
});
