/**
 * REQUIRETLS (RFC 8689) on the receiving side: offered only inside TLS,
 * refused with 555 elsewhere, and recorded in the queue entry together with
 * the sender's "TLS-Required: No" request.
 */
import { describe, expect, it } from 'vitest';
import { queueIdOf, useHarness, type Harness } from '../support/harness.js';
import { run } from '../support/procs.js';
import { plainToken, RawClient } from '../support/raw.js';

let h: Harness;
useHarness({ deliver: false }, (x) => (h = x)); // entries stay in the queue to be read back

const message = (from: string, extra = '') =>
  `From: ${from}\r\nTo: alice@example.test\r\nSubject: requiretls\r\n${extra}\r\nhello\r\n`;

async function mxTls(): Promise<RawClient> {
  const c = await RawClient.plain(h.ports.mx);
  await c.reply();
  await c.cmd('EHLO raw.example.test');
  expect((await c.cmd('STARTTLS'))?.code).toBe(220);
  await c.startTls(h.caPem);
  return c;
}

/** MAIL (with `params`), RCPT to alice, DATA; returns the queue id. */
async function sendVia(c: RawClient, from: string, params: string, body: string): Promise<string> {
  const mail = await c.cmd(`MAIL FROM:<${from}>${params}`);
  expect(mail?.code, JSON.stringify(mail)).toBe(250);
  expect((await c.cmd('RCPT TO:<alice@example.test>'))?.code).toBe(250);
  expect((await c.cmd('DATA'))?.code).toBe(354);
  const r = await c.cmd(`${body}.`);
  expect(r?.code, JSON.stringify(r)).toBe(250);
  return queueIdOf(r!.text);
}

async function metaOf(queueId: string): Promise<Record<string, unknown>> {
  const m = await h.store.meta.queue.getMessage(queueId);
  if (!m) throw new Error(`queue entry ${queueId} not found`);
  return m.meta;
}

function acceptedLine(queueId: string): Record<string, unknown> | undefined {
  return h.logs.find((l) => l.queueId === queueId && l.msg === 'message accepted');
}

describe('REQUIRETLS advertisement', () => {
  it('mx and submission list REQUIRETLS only after STARTTLS', async () => {
    for (const port of [h.ports.mx, h.ports.submission]) {
      const c = await RawClient.plain(port);
      await c.reply();
      const before = await c.cmd('EHLO raw.example.test');
      expect(before?.code).toBe(250);
      expect(before?.lines.map((l) => l.slice(4))).toContain('STARTTLS');
      expect(before?.lines.map((l) => l.slice(4))).not.toContain('REQUIRETLS');
      expect((await c.cmd('STARTTLS'))?.code).toBe(220);
      await c.startTls(h.caPem);
      const after = await c.cmd('EHLO raw.example.test');
      expect(after?.code).toBe(250);
      expect(after?.lines.map((l) => l.slice(4))).toContain('REQUIRETLS');
      c.close();
    }
  });

  it('submissions (implicit TLS) lists REQUIRETLS in its first EHLO', async () => {
    const c = await RawClient.tls(h.ports.submissions, h.caPem);
    await c.reply();
    const ehlo = await c.cmd('EHLO raw.example.test');
    expect(ehlo?.lines.map((l) => l.slice(4))).toContain('REQUIRETLS');
    c.close();
  });
});

describe('MAIL FROM ... REQUIRETLS', () => {
  it('is refused with 555 5.5.4 on a plaintext session, and nothing is queued', async () => {
    const pendingBefore = (await h.pending()).length;
    const c = await RawClient.plain(h.ports.mx);
    await c.reply();
    await c.cmd('EHLO raw.example.test');
    const r = await c.cmd('MAIL FROM:<a@elsewhere.test> REQUIRETLS');
    expect(r?.code).toBe(555);
    expect(r?.text).toMatch(/^5\.5\.4 REQUIRETLS /);
    // No transaction was opened: RCPT and DATA have no MAIL to belong to.
    expect((await c.cmd('RCPT TO:<alice@example.test>'))?.code).toBe(503);
    expect((await c.cmd('DATA'))?.code).toBe(503);
    // The session itself is fine: the same MAIL without the parameter is taken.
    expect((await c.cmd('MAIL FROM:<a@elsewhere.test>'))?.code).toBe(250);
    c.close();
    expect((await h.pending()).length).toBe(pendingBefore);
  });

  it('is refused after STARTTLS when the client said HELO, since nothing was offered', async () => {
    const c = await mxTls();
    expect((await c.cmd('HELO raw.example.test'))?.code).toBe(250);
    const r = await c.cmd('MAIL FROM:<a@elsewhere.test> REQUIRETLS');
    expect(r?.code).toBe(555);
    expect(r?.text).toMatch(/^5\.5\.4 /);
    c.close();
  });

  it('takes no value: REQUIRETLS=YES after TLS is a syntax error', async () => {
    const c = await mxTls();
    await c.cmd('EHLO raw.example.test');
    expect((await c.cmd('MAIL FROM:<a@elsewhere.test> REQUIRETLS=YES'))?.code).toBe(501);
    c.close();
  });

  it('is accepted on mx after STARTTLS and EHLO; the queue entry says requireTls and the log line too', async () => {
    const c = await mxTls();
    await c.cmd('EHLO raw.example.test');
    const queueId = await sendVia(c, 'a@elsewhere.test', ' REQUIRETLS', message('a@elsewhere.test'));
    c.close();
    const meta = await metaOf(queueId);
    expect(meta.requireTls).toBe(true);
    expect(meta.tlsRequiredNo).toBeUndefined();
    expect(acceptedLine(queueId)?.requireTls).toBe(true);
  });

  it('a message over TLS without the parameter is not marked', async () => {
    const c = await mxTls();
    await c.cmd('EHLO raw.example.test');
    const queueId = await sendVia(c, 'a@elsewhere.test', '', message('a@elsewhere.test'));
    c.close();
    expect((await metaOf(queueId)).requireTls).toBe(false);
    expect(acceptedLine(queueId)?.requireTls).toBe(false);
  });

  it('is accepted on submission (587) after STARTTLS and AUTH', async () => {
    const c = await RawClient.submissionTls(h.ports.submission, h.caPem);
    expect((await c.cmd(`AUTH PLAIN ${plainToken(h.users.alice.address, h.users.alice.password)}`))?.code).toBe(235);
    const queueId = await sendVia(c, h.users.alice.address, ' REQUIRETLS', message(h.users.alice.address));
    c.close();
    expect((await metaOf(queueId)).requireTls).toBe(true);
  });
});

describe('TLS-Required: No', () => {
  it('without REQUIRETLS it is recorded as tlsRequiredNo', async () => {
    const c = await RawClient.plain(h.ports.mx);
    await c.reply();
    await c.cmd('EHLO raw.example.test');
    const queueId = await sendVia(c, 'a@elsewhere.test', '', message('a@elsewhere.test', 'TLS-Required: No\r\n'));
    c.close();
    const meta = await metaOf(queueId);
    expect(meta.tlsRequiredNo).toBe(true);
    expect(meta.requireTls).toBe(false);
    expect(acceptedLine(queueId)?.tlsRequiredNo).toBe(true);
  });

  it('with REQUIRETLS it is ignored: only requireTls is recorded', async () => {
    const c = await mxTls();
    await c.cmd('EHLO raw.example.test');
    const queueId = await sendVia(c, 'a@elsewhere.test', ' REQUIRETLS', message('a@elsewhere.test', 'TLS-Required: No\r\n'));
    c.close();
    const meta = await metaOf(queueId);
    expect(meta.requireTls).toBe(true);
    expect(meta.tlsRequiredNo).toBeUndefined();
  });

  it('another value is not a request to relax anything', async () => {
    const c = await mxTls();
    await c.cmd('EHLO raw.example.test');
    const queueId = await sendVia(c, 'a@elsewhere.test', '', message('a@elsewhere.test', 'TLS-Required: Yes\r\n'));
    c.close();
    expect((await metaOf(queueId)).tlsRequiredNo).toBeUndefined();
  });
});

// Python's smtplib as a real client: MAIL options are sent as given.
const SCRIPT = String.raw`
import json, os, smtplib, ssl
cfg = json.loads(os.environ['SMTP_CFG'])
out = {}
try:
    ctx = ssl.create_default_context(cafile=cfg['ca'])
    if cfg['mode'] == 'ssl':
        s = smtplib.SMTP_SSL('127.0.0.1', cfg['port'], context=ctx, timeout=20)
    else:
        s = smtplib.SMTP('127.0.0.1', cfg['port'], timeout=20)
    s.ehlo('client.example.test')
    out['requiretls'] = s.has_extn('requiretls')
    if 'user' in cfg:
        s.login(cfg['user'], cfg['password'])
    c, m = s.mail(cfg['from'], ['REQUIRETLS'])
    out['mail'] = [c, m.decode()]
    if c == 250:
        s.rcpt(cfg['to'])
        c, m = s.data(cfg['msg'].encode())
        out['data'] = [c, m.decode()]
    s.quit()
except Exception as e:
    out['error'] = type(e).__name__ + ': ' + str(e)
print(json.dumps(out))
`;

interface PyResult {
  requiretls?: boolean;
  mail?: [number, string];
  data?: [number, string];
  error?: string;
}

async function python(cfg: Record<string, unknown>): Promise<PyResult> {
  const r = await run('/usr/bin/python3', ['-c', SCRIPT], { env: { SMTP_CFG: JSON.stringify({ ca: h.caFile, ...cfg }) }, timeoutMs: 45_000 });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as PyResult;
  } catch {
    throw new Error(`python smtplib failed (code ${r.code}): ${r.stderr.slice(0, 2000)}`);
  }
}

describe('REQUIRETLS with Python smtplib', () => {
  it('submissions (465): offered, accepted, and recorded', async () => {
    const msg = message(h.users.alice.address);
    const r = await python({ mode: 'ssl', port: h.ports.submissions, user: h.users.alice.address, password: h.users.alice.password, from: h.users.alice.address, to: 'alice@example.test', msg });
    expect(r.error).toBeUndefined();
    expect(r.requiretls).toBe(true);
    expect(r.mail?.[0]).toBe(250);
    expect(r.data?.[0]).toBe(250);
    expect((await metaOf(queueIdOf(r.data![1]))).requireTls).toBe(true);
  });

  it('mx in plaintext: not offered, and the MAIL is refused with 555', async () => {
    const r = await python({ mode: 'plain', port: h.ports.mx, from: 'a@elsewhere.test', to: 'alice@example.test', msg: message('a@elsewhere.test') });
    expect(r.error).toBeUndefined();
    expect(r.requiretls).toBe(false);
    expect(r.mail?.[0]).toBe(555);
    expect(r.data).toBeUndefined();
  });
});
