/**
 * Connection slots cannot be exhausted by a few addresses or by slow clients:
 * many connections from a handful of loopback addresses (127.0.x.y, all routed
 * to lo) stop at the per-address limit for clients that have not logged in,
 * the reserve keeps room for another address, and a client trickling bytes
 * (slowloris) or idling politely before login is cut at its deadline.
 * Deadlines are configured in seconds here; every wait is bounded.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness as startSmtp, type Harness as SmtpHarness } from '../support/harness.js';
import { plainToken, RawClient } from '../support/raw.js';
import { startPop3Fixture, type Pop3Fixture } from '../pop3/harness.js';
import { startHarness as startImap, type Harness as ImapHarness } from '../imap/harness.js';

const SLOTS = { maxConnections: 20, maxConnectionsPerClient: 20, maxPendingPerClient: 3, reservedConnections: 5 };
const COMMAND_MS = 1500;
const LOGIN_MS = 3000;

/** A plain TCP client from `localAddress` that collects what the server says. */
class Conn {
  text = '';
  closed = false;
  private readonly waiters = new Set<() => void>();
  private constructor(readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => {
      this.text += d.toString('latin1');
      this.wake();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }
  static openTls(port: number, ca: string, localAddress: string): Promise<Conn> {
    return new Promise((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', servername: 'localhost', ca, socket: net.connect({ host: '127.0.0.1', port, localAddress }) }, () => resolve(new Conn(s)));
      s.once('error', reject);
    });
  }
  static open(port: number, localAddress: string): Promise<Conn> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.1', port, localAddress }, () => resolve(new Conn(s)));
      s.once('error', reject);
    });
  }
  private wake(): void {
    for (const w of this.waiters) w();
  }
  /** Waits (bounded by the test timeout) until the text matches or the socket closed. */
  until(re: RegExp): Promise<string> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (re.test(this.text) || this.closed) {
          this.waiters.delete(check);
          resolve(this.text);
        }
      };
      this.waiters.add(check);
      check();
    });
  }
  waitClosed(): Promise<void> {
    return this.until(/(?!)/).then(() => undefined);
  }
  /** Sends `data` one byte every `everyMs` until the connection closes or `max` bytes went. */
  async trickle(data: string, everyMs: number, max = 200): Promise<number> {
    let sent = 0;
    while (!this.closed && sent < max) {
      this.socket.write(data[sent % data.length]!);
      sent++;
      await new Promise((r) => setTimeout(r, everyMs));
    }
    return sent;
  }
  close(): void {
    this.socket.destroy();
  }
}

const opened: Conn[] = [];
const open = async (port: number, ip: string): Promise<Conn> => {
  const c = await Conn.open(port, ip);
  opened.push(c);
  return c;
};

/** Five addresses each open four connections, greeting-phase only; returns how many were greeted. */
async function flood(port: number, greeting: RegExp): Promise<{ greeted: number; refused: number }> {
  let greeted = 0;
  let refused = 0;
  for (let a = 1; a <= 5; a++) {
    for (let i = 0; i < 4; i++) {
      const c = await open(port, `127.0.50.${a}`);
      const t = await c.until(/\r\n/);
      if (greeting.test(t)) greeted++;
      else refused++;
    }
  }
  return { greeted, refused };
}

afterAll(() => {
  for (const c of opened) c.close();
});

describe('SMTP (mx)', () => {
  let h: SmtpHarness;
  beforeAll(async () => {
    h = await startSmtp({ limits: { ...SLOTS, loginTimeoutMs: LOGIN_MS, commandTimeoutMs: COMMAND_MS, minTransferRate: 1024 }, deliver: false });
  });
  afterAll(async () => {
    for (const c of opened.splice(0)) c.close();
    await h?.close();
  });

  it('a flood from a few addresses leaves room for a client from another address', async () => {
    const { greeted, refused } = await flood(h.ports.mx, /^220 /);
    expect(greeted).toBe(15); // three pending per address, five addresses
    expect(refused).toBe(5);
    const legit = await open(h.ports.mx, '127.0.60.1');
    expect(await legit.until(/\r\n/)).toMatch(/^220 /);
    legit.socket.write('EHLO client.example.test\r\nMAIL FROM:<a@remote.test>\r\n');
    expect(await legit.until(/^250 .*\r\n250 /ms)).toMatch(/250 /);
    for (const c of opened.splice(0)) c.close();
  });

  it('cuts a client that trickles a command line one byte at a time', async () => {
    const c = await open(h.ports.mx, '127.0.61.1');
    await c.until(/\r\n/);
    const sent = await c.trickle('EHLO slow.example.test', 200);
    expect(c.text).toMatch(/421 4\.4\.2 Command not completed in time/);
    expect(sent).toBeLessThan(40);
  });

  it('cuts a client that idles politely (complete NOOPs) but never starts a transaction', async () => {
    const c = await open(h.ports.mx, '127.0.61.2');
    await c.until(/\r\n/);
    for (let i = 0; i < 40 && !c.closed; i++) {
      c.socket.write('NOOP\r\n');
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(c.text).toMatch(/421 4\.4\.2 Session not established in time/);
  });

  it('cuts a submission client that never authenticates, and not one that does', async () => {
    const idle = await open(h.ports.submission, '127.0.61.4');
    await idle.until(/\r\n/);
    // Slower than mx's test: submission also ends a session after ten commands without AUTH.
    for (let i = 0; i < 20 && !idle.closed; i++) {
      idle.socket.write('NOOP\r\n');
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(idle.text).toMatch(/421 4\.4\.2 Session not established in time/);
    // Logged in: the login deadline no longer applies.
    const c = await RawClient.submissionTls(h.ports.submission, h.caPem, '127.0.61.5');
    expect((await c.cmd(`AUTH PLAIN ${plainToken(h.users.alice.address, h.users.alice.password)}`))?.code).toBe(235);
    for (let i = 0; i < 16; i++) {
      expect((await c.cmd('NOOP'))?.code).toBe(250);
      await new Promise((r) => setTimeout(r, 250));
    }
    c.close();
  });

  it('cuts DATA that does not keep up the minimum rate', async () => {
    const c = await open(h.ports.mx, '127.0.61.3');
    await c.until(/\r\n/);
    c.socket.write(`EHLO c.example.test\r\nMAIL FROM:<a@remote.test>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n`);
    await c.until(/^354 /m);
    await c.trickle('Subject: slow\r\n', 100, 400);
    expect(c.text).toMatch(/421 4\.4\.2 Message data too slow/);
  });
});

describe('POP3', () => {
  let fx: Pop3Fixture;
  beforeAll(async () => {
    fx = await startPop3Fixture({ users: 1, limits: { ...SLOTS, loginTimeoutMs: LOGIN_MS, commandTimeoutMs: COMMAND_MS } });
  });
  afterAll(async () => {
    for (const c of opened.splice(0)) c.close();
    await fx?.close();
  });

  it('a flood from a few addresses leaves room for a client from another address', async () => {
    const { greeted, refused } = await flood(fx.ports.stls, /^\+OK/);
    expect(greeted).toBe(15);
    expect(refused).toBe(5);
    const legit = await open(fx.ports.stls, '127.0.60.2');
    expect(await legit.until(/\r\n/)).toMatch(/^\+OK/);
    for (const c of opened.splice(0)) c.close();
  });

  it('cuts a client that trickles a command line, and one that never logs in', async () => {
    const slow = await open(fx.ports.stls, '127.0.62.1');
    await slow.until(/\r\n/);
    await slow.trickle('CAPA', 300);
    expect(slow.text).toMatch(/-ERR \[SYS\/TEMP\] Command not completed in time/);
    const idle = await open(fx.ports.stls, '127.0.62.2');
    await idle.until(/\r\n/);
    for (let i = 0; i < 40 && !idle.closed; i++) {
      idle.socket.write('CAPA\r\n'); // valid before login, unlike NOOP (ten of those close the session)
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(idle.text).toMatch(/-ERR \[SYS\/TEMP\] Login not completed in time/);
  });
  it('cuts a client that stops reading while a large RETR is written', async () => {
    const u = fx.users[0]!;
    const size = 24 * 1024 * 1024;
    await fx.deliver(u, Buffer.concat([Buffer.from('Subject: big\r\n\r\n'), Buffer.alloc(size, 'z')]));
    const c = await Conn.openTls(fx.ports.tls, readFileSync(fx.caFile, 'utf8'), '127.0.62.3');
    opened.push(c);
    await c.until(/\r\n/);
    c.socket.write(`USER ${u.address}\r\nPASS ${u.password}\r\n`);
    await c.until(/^\+OK Logged in/m);
    c.socket.pause(); // stops reading
    c.socket.write('RETR 1\r\n');
    // Longer than the command timeout: the server gives up on the unread reply...
    await new Promise((r) => setTimeout(r, COMMAND_MS * 3));
    c.socket.resume();
    await c.waitClosed();
    // ...so the connection ends before the message was delivered in full.
    expect(c.text.length).toBeLessThan(size);
  });
});

describe('IMAP', () => {
  let h: ImapHarness;
  beforeAll(async () => {
    h = await startImap({ limits: { ...SLOTS, preAuthTimeoutMs: LOGIN_MS, commandTimeoutMs: COMMAND_MS, minTransferRate: 1024 } });
  });
  afterAll(async () => {
    for (const c of opened.splice(0)) c.close();
    await h?.close();
  });

  it('a flood from a few addresses leaves room for a client from another address', async () => {
    const { greeted, refused } = await flood(h.ports.starttls, /^\* OK/);
    expect(greeted).toBe(15);
    expect(refused).toBe(5);
    const legit = await open(h.ports.starttls, '127.0.60.3');
    expect(await legit.until(/\r\n/)).toMatch(/^\* OK/);
    for (const c of opened.splice(0)) c.close();
  });

  it('cuts a client that trickles a command line, and one that idles before login', async () => {
    const slow = await open(h.ports.starttls, '127.0.63.1');
    await slow.until(/\r\n/);
    await slow.trickle('a CAPABILITY', 300);
    expect(slow.text).toMatch(/\* BYE \[UNAVAILABLE\] Command not completed in time/);
    const idle = await open(h.ports.starttls, '127.0.63.2');
    await idle.until(/\r\n/);
    for (let i = 0; i < 40 && !idle.closed; i++) {
      idle.socket.write(`n${i} NOOP\r\n`);
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(idle.closed).toBe(true);
    expect(idle.text).toMatch(/\* BYE/);
  });

  it('cuts an APPEND literal that does not keep up the minimum rate', async () => {
    const user = await h.addUser('slowappend');
    const c = await Conn.openTls(h.ports.tls, h.ca, '127.0.63.3');
    opened.push(c);
    await c.until(/\r\n/);
    c.socket.write(`l LOGIN "${user.address}" "${user.password}"\r\n`);
    await c.until(/^l OK/m);
    c.socket.write('a APPEND INBOX {100000}\r\n');
    await c.until(/^\+ /m);
    // 500 bytes a second: half the configured minimum.
    for (let i = 0; i < 100 && !c.closed; i++) {
      c.socket.write('x'.repeat(50));
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(c.text).toMatch(/\* BYE \[UNAVAILABLE\] Literal data too slow/);
  });

  it('cuts a client that stops reading while a large FETCH is written', async () => {
    const user = await h.addUser('nonreader');
    await h.addMessage(user, 'INBOX', Buffer.from(`Subject: big\r\n\r\n${'y'.repeat(76)}\r\n`.repeat(1)+ 'z'.repeat(16 * 1024 * 1024)));
    const before = h.tls.connectionCount();
    const c = await Conn.openTls(h.ports.tls, h.ca, '127.0.63.4');
    opened.push(c);
    await c.until(/\r\n/);
    c.socket.write(`l LOGIN "${user.address}" "${user.password}"\r\ns SELECT INBOX\r\n`);
    await c.until(/^s OK/m);
    c.socket.pause(); // never reads again
    c.socket.write('f FETCH 1 BODY[]\r\n');
    expect(h.tls.connectionCount()).toBe(before + 1);
    // The server gives up on the unread output after the command timeout (bounded wait).
    for (let i = 0; i < 100 && h.tls.connectionCount() > before; i++) await new Promise((r) => setTimeout(r, 100));
    expect(h.tls.connectionCount()).toBe(before);
  });
});
