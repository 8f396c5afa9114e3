import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness.js';
import { closeAllRaw, RawClient } from '../support/raw.js';

const run = promisify(execFile);

/** Connects and sends EHLO before reading anything: the greeting cannot have been seen yet. */
async function talkFirst(port: number): Promise<RawClient> {
  const c = await RawClient.plain(port);
  c.write('EHLO early.example.test\r\n');
  return c;
}

describe('greeting without a pause (the default)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ deliver: false });
  });
  afterEach(() => closeAllRaw());
  afterAll(async () => {
    closeAllRaw();
    await h?.close();
  });

  it('serves a client that sends EHLO before reading the greeting, on every listener', async () => {
    for (const port of [h.ports.mx, h.ports.submission]) {
      const c = await talkFirst(port);
      expect((await c.reply())?.code).toBe(220);
      const ehlo = await c.reply();
      expect(ehlo?.code).toBe(250);
      expect(ehlo?.lines.join('\n')).toContain('STARTTLS');
      expect((await c.cmd('QUIT'))?.code).toBe(221);
    }
    expect(h.logs.some((l) => l.msg === 'refused: client talked before the greeting')).toBe(false);
  });

  it('takes a message from smtplib on a new connection', async () => {
    const script = [
      'import smtplib, sys',
      's = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=20)',
      `s.sendmail("a@elsewhere.test", ["${h.users.alice.address}"], "Subject: hi\\r\\n\\r\\nhello\\r\\n")`,
      's.quit()',
      'print("sent")',
    ].join('\n');
    const { stdout } = await run('/usr/bin/python3', ['-c', script, String(h.ports.mx)], { timeout: 30_000 });
    expect(stdout.trim()).toBe('sent');
  });
});

describe('greeting pause on mx (greetPauseMs)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ deliver: false, limits: { greetPauseMs: 4000 } });
  });
  afterEach(() => closeAllRaw());
  afterAll(async () => {
    closeAllRaw();
    await h?.close();
  });

  it('refuses a client that talks before the greeting with 554 5.5.1, logs it and closes', async () => {
    const c = await talkFirst(h.ports.mx);
    const r = await c.reply();
    expect(r?.code).toBe(554);
    expect(r?.text).toMatch(/^5\.5\.1 /);
    expect(await c.reply()).toBeNull(); // no greeting follows, and no reply to the EHLO
    expect(await c.closed()).toBe(true);
    expect(h.logs.filter((l) => l.msg === 'refused: client talked before the greeting' && l.listener === 'mx')).toHaveLength(1);
    expect(await h.pending()).toEqual([]);
  });

  it('greets a client that waits, which then sends mail as usual', async () => {
    const c = await RawClient.plain(h.ports.mx);
    expect((await c.reply())?.code).toBe(220);
    expect((await c.cmd('EHLO patient.example.test'))?.code).toBe(250);
    expect((await c.cmd('MAIL FROM:<a@elsewhere.test>'))?.code).toBe(250);
    expect((await c.cmd(`RCPT TO:<${h.users.alice.address}>`))?.code).toBe(250);
    expect((await c.cmd('DATA'))?.code).toBe(354);
    expect((await c.cmd('Subject: patient\r\n\r\nbody\r\n.'))?.code).toBe(250);
    expect((await c.cmd('QUIT'))?.code).toBe(221);
  });

  it('does not pause submission: a mail client is greeted at once', async () => {
    const c = await talkFirst(h.ports.submission);
    expect((await c.reply())?.code).toBe(220);
    expect((await c.reply())?.code).toBe(250);
  });
});
