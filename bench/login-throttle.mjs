// Login throttle under a guessing flood, in process (run after `npm run build`):
// 20,000 wrong-password attempts from 2,000 addresses on 50 accounts, plus the
// owners logging in from their known addresses. Prints how the attempts were
// answered, how long the owners waited, the event-loop delay meanwhile and the
// throttle's memory.
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { DEFAULT_LOGIN_THROTTLE, LoginThrottle } from '../dist/net/throttle.js';

const clock = { now: () => Date.now() };
const t = new LoginThrottle({ ...DEFAULT_LOGIN_THROTTLE, delayMinMs: 100, delayMaxMs: 1000 }, clock);
const owners = Array.from({ length: 50 }, (_, i) => `owner${i}@example.org`);
for (const o of owners) await t.attempt(`10.0.0.${owners.indexOf(o)}`, o, async () => o);

const h = monitorEventLoopDelay({ resolution: 10 });
h.enable();
const heap0 = process.memoryUsage().heapUsed;
const counts = { ok: 0, failed: 0, locked: 0, busy: 0 };
const started = performance.now();
const flood = [];
for (let i = 0; i < 20_000; i++) {
  const src = `198.51.${Math.floor(i / 250) % 8}.${i % 250}`;
  flood.push(t.attempt(src, owners[i % owners.length], async () => null).then((r) => counts[r.result]++));
}
// While the flood is queued, each owner logs in from its known address.
const ownerWaits = await Promise.all(
  owners.map(async (o, i) => {
    const t0 = performance.now();
    const r = await t.attempt(`10.0.0.${i}`, o, async () => o);
    return [r.result, performance.now() - t0];
  }),
);
await Promise.all(flood);
h.disable();
const worstOwner = Math.max(...ownerWaits.map(([, ms]) => ms));
console.log(`flood: ${JSON.stringify(counts)} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
console.log(`owners from known addresses: ${ownerWaits.filter(([r]) => r === 'ok').length}/${owners.length} ok, worst wait ${worstOwner.toFixed(1)} ms`);
console.log(`event-loop delay: p50 ${(h.percentile(50) / 1e6).toFixed(1)} ms, p99 ${(h.percentile(99) / 1e6).toFixed(1)} ms, max ${(h.max / 1e6).toFixed(1)} ms`);
console.log(`heap growth: ${((process.memoryUsage().heapUsed - heap0) / 1024 / 1024).toFixed(1)} MiB`);
