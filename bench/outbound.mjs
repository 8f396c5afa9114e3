#!/usr/bin/env node
// Outbound delivery benchmark: messages/second from postern's queue to a local
// smtp-server sink over STARTTLS with 20 connections, and the latency from
// acceptance (the queue entry is durable) to the sink's 250, median and p99.
// Run after a build: npm run build && node bench/outbound.mjs [messages] [size] [offered rate/s]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { SMTPServer } from 'smtp-server';
import { openStore } from '../dist/store/index.js';
import { Spool } from '../dist/queue/spool.js';
import { systemClock } from '../dist/core/clock.js';
import { newQueueId } from '../dist/core/ids.js';
import { MemoryResolver } from '../dist/net/dns/memory.js';
import { silentLogger } from '../dist/metrics/logger.js';
import { generateSelfSigned } from '../dist/crypto/selfsigned.js';
import { TlsPolicyMap, TlsPolicyResolver } from '../dist/policy/tls/index.js';
import { OutboundDelivery } from '../dist/delivery/outbound/index.js';

const COUNT = Number(process.argv[2] ?? 2000);
const SIZE = Number(process.argv[3] ?? 4096);
const CONNECTIONS = 20;
const RATE = Number(process.argv[4] ?? 200); // messages/second offered in the latency phase

const acked = new Map(); // bench id -> time the sink acknowledged it
const { certPem, keyPem } = await generateSelfSigned({ hostname: 'sink.bench.test' });
const sink = new SMTPServer({
  key: keyPem,
  cert: certPem,
  authOptional: true,
  disabledCommands: ['AUTH'],
  logger: false,
  maxClients: 100,
  onData(stream, session, cb) {
    let head = '';
    stream.on('data', (d) => {
      if (head.length < 512) head += d.toString('latin1');
    });
    stream.on('end', () => {
      const id = /^X-Bench-Id: (\S+)/m.exec(head)?.[1];
      if (!session.secure) console.error('sink: message arrived in clear!');
      cb();
      if (id) acked.set(id, performance.now());
    });
  },
});
await new Promise((r) => sink.listen(0, '127.0.0.1', r));
const port = sink.server.address().port;

const dir = mkdtempSync(path.join(process.env.BENCH_DIR ?? tmpdir(), 'postern-bench-out-'));
const store = await openStore({ backend: 'sqlite', dataDir: dir });
const spool = new Spool(store.blobs, store.meta.queue, systemClock);
const resolver = new MemoryResolver({ 'sink.bench.test': { A: ['127.0.0.1'] } });
const agent = new OutboundDelivery(
  {
    queue: store.meta.queue,
    blobs: store.blobs,
    events: store.meta.events,
    spool,
    clock: systemClock,
    log: silentLogger(),
    resolver,
    policies: new TlsPolicyResolver(new TlsPolicyMap({}, 'may'), resolver, null),
    signer: null,
    routeBounce: async (address) => ({ address, transport: 'remote' }),
  },
  {
    heloName: 'bench.postern.test',
    port,
    maxConnections: CONNECTIONS,
    perDestination: CONNECTIONS,
    batch: 400,
    leaseMs: 600_000,
    pollMs: 200,
    retryMinMs: 60_000,
    retryMaxMs: 600_000,
    maxLifetimeMs: 86_400_000,
    connectTimeoutMs: 10_000,
    commandTimeoutMs: 30_000,
    dataTimeoutMs: 60_000,
  },
);
spool.onEnqueued(() => agent.kick());

const filler = 'x'.repeat(76) + '\r\n';
function body(id) {
  const head = `From: bench@postern.test\r\nTo: sink@sink.bench.test\r\nSubject: bench ${id}\r\nX-Bench-Id: ${id}\r\n\r\n`;
  return Buffer.from(head + filler.repeat(Math.max(1, Math.ceil((SIZE - head.length) / filler.length))));
}
const accepted = new Map();
async function submit(id) {
  await spool.accept({
    queueId: newQueueId(),
    data: body(id),
    sender: 'bench@postern.test',
    recipients: [{ address: `sink@sink.bench.test`, transport: 'remote' }],
    source: 'local',
    clientAddress: '127.0.0.1',
    authUser: null,
    meta: {},
  });
  accepted.set(id, performance.now());
}
async function waitFor(n, ms) {
  const end = Date.now() + ms;
  while (acked.size < n && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  if (acked.size < n) throw new Error(`only ${acked.size} of ${n} messages arrived`);
}
const pct = (xs, p) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

try {
  // Phase 1: a backlog of COUNT messages, then delivery at full speed.
  await Promise.all(Array.from({ length: COUNT }, (_, i) => submit(`b${i}`)));
  const t0 = performance.now();
  agent.start();
  await waitFor(COUNT, 300_000);
  const secs = (performance.now() - t0) / 1000;
  const backlogRate = COUNT / secs;

  // Phase 2: messages offered at RATE/s while the agent runs; latency from durable acceptance to the sink's 250.
  acked.clear();
  const n2 = Math.min(COUNT, 1000);
  const start = performance.now();
  for (let i = 0; i < n2; i++) {
    const due = start + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    void submit(`l${i}`);
  }
  await waitFor(n2, 300_000);
  const lat = [...acked.entries()].map(([id, t]) => t - accepted.get(id)).sort((a, b) => a - b);

  const result = {
    messages: COUNT,
    sizeBytes: SIZE,
    connections: CONNECTIONS,
    tls: 'STARTTLS (may)',
    backlogMessagesPerSecond: Math.round(backlogRate),
    latencyMessages: n2,
    offeredRatePerSecond: RATE,
    latencyMs: { median: +pct(lat, 50).toFixed(1), p99: +pct(lat, 99).toFixed(1), max: +lat[lat.length - 1].toFixed(1) },
    stats: agent.stats.snapshot(),
  };
  console.log(`outbound: ${result.backlogMessagesPerSecond} messages/s over STARTTLS with ${CONNECTIONS} connections (${COUNT} x ${SIZE} bytes)`);
  console.log(`acceptance -> peer 250 at ${RATE}/s offered: median ${result.latencyMs.median} ms, p99 ${result.latencyMs.p99} ms`);
  console.log(JSON.stringify(result, null, 2));
} finally {
  await agent.stop();
  await store.close();
  await new Promise((r) => sink.close(r));
  rmSync(dir, { recursive: true, force: true });
}
