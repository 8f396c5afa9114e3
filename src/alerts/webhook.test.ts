/**
 * The webhook sender against a real HTTP server on loopback: signed posts,
 * retries of 5xx and of a server that does not answer in time, a final
 * failure for 4xx, and a bounded waiting line.
 */
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../core/clock.js';
import { silentLogger } from '../metrics/logger.js';
import { WebhookSender, type WebhookFailure } from './webhook.js';

const SECRET = Buffer.from('0123456789abcdef-secret');
let server: Server | null = null;

async function receiver(answer: (n: number, req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; got: { body: string; sig: string }[] }> {
  const got: { body: string; sig: string }[] = [];
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      got.push({ body, sig: String(req.headers['x-postern-signature'] ?? '') });
      answer(got.length, req, res);
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  const a = server.address();
  return { url: `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}/hook`, got };
}

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r) ?? r(undefined));
  server = null;
});

function sender(url: string, extra: { timeoutMs?: number; maxPending?: number } = {}) {
  const outcome: { sent: string[]; failed: { meta: string; cause: WebhookFailure }[] } = { sent: [], failed: [] };
  let done: () => void = () => undefined;
  const settled = new Promise<void>((r) => (done = r));
  const s = new WebhookSender<string>(
    { url, secret: SECRET, retryDelaysMs: [10, 10], ...extra },
    { onSent: (m) => (outcome.sent.push(m), done()), onFailed: (meta, cause) => (outcome.failed.push({ meta, cause }), done()) },
    systemClock,
    silentLogger(),
  );
  return { s, outcome, settled };
}

const hmac = (t: string, body: string) => createHmac('sha256', SECRET).update(`${t}.${body}`).digest('hex');

describe('WebhookSender', () => {
  it('posts the body with a signature the receiver can check, retrying a 5xx', async () => {
    const r = await receiver((n, _req, res) => res.writeHead(n < 3 ? 503 : 204).end());
    const { s, outcome, settled } = sender(r.url);
    s.send('{"kind":"x"}', 'a1');
    await settled;
    expect(outcome).toEqual({ sent: ['a1'], failed: [] });
    expect(r.got).toHaveLength(3);
    for (const g of r.got) {
      const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(g.sig);
      expect(m).not.toBeNull();
      expect(g.body).toBe('{"kind":"x"}');
      expect(m![2]).toBe(hmac(m![1]!, g.body));
    }
  });

  it('gives up on a 4xx at once and after the last retry otherwise', async () => {
    const r = await receiver((_n, _req, res) => res.writeHead(400).end());
    const a = sender(r.url);
    a.s.send('{}', 'bad');
    await a.settled;
    expect(a.outcome.failed).toEqual([{ meta: 'bad', cause: 'status' }]);
    expect(r.got).toHaveLength(1);
  });

  it('times out a receiver that never answers, and retries it a bounded number of times', async () => {
    const r = await receiver(() => undefined); // holds every request open
    const a = sender(r.url, { timeoutMs: 200 });
    a.s.send('{}', 'slow');
    await a.settled;
    expect(a.outcome.failed).toEqual([{ meta: 'slow', cause: 'timeout' }]);
    expect(r.got).toHaveLength(3); // 1 + 2 retries
  });

  it('reports a refused connection as a network failure', async () => {
    const r = await receiver((_n, _req, res) => res.end());
    const url = r.url;
    await new Promise((done) => server!.close(done));
    server = null;
    const a = sender(url);
    a.s.send('{}', 'down');
    await a.settled;
    expect(a.outcome.failed).toEqual([{ meta: 'down', cause: 'network' }]);
  });

  it('drops what does not fit the waiting line, and fails what is left when stopped', async () => {
    const r = await receiver(() => undefined);
    const a = sender(r.url, { maxPending: 3, timeoutMs: 60_000 });
    for (let i = 0; i < 10; i++) a.s.send('{}', `m${i}`);
    // Two in flight, three waiting, five refused.
    expect(a.outcome.failed.filter((f) => f.cause === 'overflow').map((f) => f.meta)).toEqual(['m5', 'm6', 'm7', 'm8', 'm9']);
    await a.s.stop();
    expect(a.outcome.failed.filter((f) => f.cause === 'stopped')).toHaveLength(5);
    expect(a.outcome.sent).toEqual([]);
  });
});
