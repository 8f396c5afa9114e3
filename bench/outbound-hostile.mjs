#!/usr/bin/env node
// Outbound delivery against hostile peers and a dead resolver: how long a
// peer that answers 354 and stops reading holds the connection, how many
// bytes a peer flooding an idle session gets in and what that costs in memory
// and event-loop delay, and what a resolver that never answers does to a pass.
// Run after a build: npm run build && node bench/outbound-hostile.mjs
// DIST=/path/to/other/dist compares another build (e.g. an older commit).
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setInterval, clearInterval } from 'node:timers';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.resolve(process.env.DIST ?? path.join(here, '..', 'dist'));
const imp = (p) => import(path.join(dist, p));
const { openStore } = await imp('store/index.js');
const { Spool } = await imp('queue/spool.js');
const { systemClock } = await imp('core/clock.js');
const { newQueueId } = await imp('core/ids.js');
const { MemoryResolver } = await imp('net/dns/memory.js');
const { WireResolver } = await imp('net/dns/wire.js');
const { silentLogger } = await imp('metrics/logger.js');
const { TlsPolicyMap, TlsPolicyResolver } = await imp('policy/tls/index.js');
const { OutboundDelivery } = await imp('delivery/outbound/index.js');

const LIMIT_MS = Number(process.env.LIMIT_MS ?? 30_000); // stop watching after this long
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const mib = (b) => (b / 1048576).toFixed(1);

const children = new Set();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

function rawPeer() {
  const child = spawn('/usr/bin/python3', [path.join(here, '..', 'test', 'delivery', 'helpers', 'raw-peer.py')], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(child);
  const lines = [];
  let rest = '';
  child.stdout.setEncoding('utf8').on('data', (d) => {
    rest += d;
    let i;
    while ((i = rest.indexOf('\n')) !== -1) {
      lines.push({ line: rest.slice(0, i), at: performance.now() });
      rest = rest.slice(i + 1);
    }
  });
  const find = (re) => lines.find((l) => re.test(l.line));
  const wait = async (re, ms) => {
    const end = performance.now() + ms;
    while (!find(re) && performance.now() < end) await sleep(10);
    return find(re) ?? null;
  };
  return { lines, find, wait, kill: () => child.kill('SIGKILL') };
}

async function setup(resolver, port, options = {}) {
  const dir = mkdtempSync(path.join(process.env.BENCH_DIR ?? tmpdir(), 'postern-bench-hostile-'));
  const store = await openStore({ backend: 'sqlite', dataDir: dir });
  const spool = new Spool(store.blobs, store.meta.queue, systemClock);
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
      routeBounce: async () => null,
    },
    {
      heloName: 'bench.test', port, maxConnections: 20, perDestination: 4, batch: 64, leaseMs: 600_000, pollMs: 100,
      retryMinMs: 60_000, retryMaxMs: 60_000, maxLifetimeMs: 86_400_000,
      connectTimeoutMs: 10_000, commandTimeoutMs: 10_000, dataTimeoutMs: 10_000, ...options,
    },
  );
  const enqueue = async (to, body) => {
    const queueId = newQueueId();
    await spool.accept({ queueId, data: Buffer.from(body), sender: 'a@bench.test', recipients: to.map((address) => ({ address, transport: 'remote' })), source: 'local', clientAddress: '127.0.0.1', authUser: null, meta: {} });
    return queueId;
  };
  const close = async () => {
    await agent.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  };
  return { store, agent, enqueue, close };
}

const msg = (tag, extraBytes = 0) => `From: a@bench.test\r\nSubject: ${tag}\r\n\r\n${tag}\r\n` + ('x'.repeat(78) + '\r\n').repeat(Math.ceil(extraBytes / 80));

async function stall() {
  const peer = rawPeer();
  const port = Number((await peer.wait(/^PORT /, 10_000)).line.slice(5));
  const zone = new MemoryResolver({ 'stall.test': { A: ['127.0.0.1'] }, 'other.test': { A: ['127.0.0.1'] } });
  const s = await setup(zone, port, { dataBlockTimeoutMs: 2000 });
  const id = await s.enqueue(['bob@stall.test'], msg('stall', 8 << 20));
  await s.enqueue(['carol@other.test'], msg('other'));
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  const pass = s.agent.pass();
  const stalled = await peer.wait(/^STALLED$/, 10_000);
  let deferredAt = null;
  const end = performance.now() + LIMIT_MS;
  while (performance.now() < end) {
    const [r] = await s.store.meta.queue.listRecipients(id);
    if (r?.state === 'deferred') {
      deferredAt = performance.now();
      break;
    }
    await sleep(20);
  }
  h.disable();
  const other = peer.find(/^DELIVERED carol@other\.test/);
  console.log(
    `stall (354, then reads nothing; data_block_timeout 2 s): ${deferredAt && stalled ? `deferred ${((deferredAt - stalled.at) / 1000).toFixed(2)} s after the stall` : `still held after ${LIMIT_MS / 1000} s`}; ` +
      `other destination delivered meanwhile: ${other ? 'yes' : 'no'}; event-loop delay max ${(h.max / 1e6).toFixed(1)} ms`,
  );
  peer.kill();
  if (deferredAt) {
    await pass;
    await s.close();
  } // else: a build without deadlines is still stuck in that pass; leave its store open

}

async function flood() {
  const peer = rawPeer();
  const port = Number((await peer.wait(/^PORT /, 10_000)).line.slice(5));
  const zone = new MemoryResolver({ 'flood.test': { A: ['127.0.0.1'] } });
  const s = await setup(zone, port, { sessionIdleMs: 10_000 });
  await s.enqueue(['bob@flood.test'], msg('flood'));
  const rss0 = process.memoryUsage().rss;
  let peak = rss0;
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const t0 = performance.now();
  await s.agent.pass();
  const done = await peer.wait(/^FLOOD \d+$/, 12_000);
  clearInterval(sampler);
  h.disable();
  console.log(
    `flood (endless "250-" lines on an idle session, idle 10 s): peer sent ${done ? `${mib(Number(done.line.slice(6)))} MiB before we closed, ${((done.at - t0) / 1000).toFixed(2)} s` : 'still sending after 12 s'}; ` +
      `peak RSS +${mib(peak - rss0)} MiB; event-loop delay max ${(h.max / 1e6).toFixed(1)} ms, p99 ${(h.percentile(99) / 1e6).toFixed(1)} ms`,
  );
  peer.kill();
  if (done) await s.close();
}

async function deadDns() {
  const sock = createSocket('udp4'); // takes queries, never answers
  await new Promise((r) => sock.bind(0, '127.0.0.1', r));
  const resolver = new WireResolver({ server: `127.0.0.1:${sock.address().port}`, timeoutMs: 1000, tries: 2 });
  const s = await setup(resolver, 25);
  const ids = [];
  for (let i = 0; i < 50; i++) ids.push(await s.enqueue([`u${i}@d${i}.test`], msg(`dns-${i}`)));
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  const t0 = performance.now();
  const leased = await s.agent.pass();
  const ms = performance.now() - t0;
  h.disable();
  const states = {};
  for (const id of ids) for (const r of await s.store.meta.queue.listRecipients(id)) states[r.state] = (states[r.state] ?? 0) + 1;
  const events = await s.store.meta.events.count('delivery.dns_failure');
  console.log(
    `dead resolver (1 s timeout x 2 tries), 50 domains: pass ${(ms / 1000).toFixed(2)} s for ${leased} recipients; states ${JSON.stringify(states)}; ` +
      `delivery.dns_failure events ${events}; event-loop delay max ${(h.max / 1e6).toFixed(1)} ms`,
  );
  sock.close();
  await s.close();
}

console.log(`dist: ${dist}`);
await stall();
await flood();
await deadDns();
process.exit(0);
