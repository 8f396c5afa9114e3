// Throughput of the blob container codec: encode, verify, decode and plain
// SHA-256 (the floor for verify), over blobs of 64 KiB to 1 MiB.
//
//   npm run build && node bench/blockcodec.mjs
//   BLOCKCODEC_MODULE=/path/to/blockcodec.js node bench/blockcodec.mjs
//
// BENCH_MIB sets the volume per round (default 256); each operation runs three
// rounds and reports the best, and stops after BENCH_SECONDS (default 10) so
// the run stays bounded.
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const modulePath = process.env.BLOCKCODEC_MODULE
  ? pathToFileURL(process.env.BLOCKCODEC_MODULE).href
  : new URL('../dist/crypto/blockcodec.js', import.meta.url).href;
const { encodeBlob, verifyBlob, decodeBlob } = await import(modulePath);

const MiB = 1024 * 1024;
const volume = Number(process.env.BENCH_MIB ?? 256) * MiB;
const maxSeconds = Number(process.env.BENCH_SECONDS ?? 10);
const POOL = 32 * MiB; // distinct data, cycled until `volume` bytes are processed

const blobs = [];
for (let total = 0; total < POOL; ) {
  const size = randomInt(64 * 1024, MiB + 1);
  blobs.push(new Uint8Array(randomBytes(size)));
  total += size;
}

/**
 * Runs `fn` over the pool until `volume` bytes or the time limit, three
 * times; returns the best MB/s, since other load on the machine only slows a round.
 */
function measure(items, fn) {
  for (const item of items.slice(0, 8)) fn(item); // warm-up
  let best = 0;
  let mib = 0;
  for (let round = 0; round < 3; round++) {
    let bytes = 0;
    const start = performance.now();
    let elapsed = 0;
    outer: for (;;) {
      for (const item of items) {
        bytes += fn(item);
        elapsed = (performance.now() - start) / 1000;
        if (bytes >= volume || elapsed >= maxSeconds / 3) break outer;
      }
    }
    best = Math.max(best, bytes / 1e6 / elapsed);
    mib += bytes / MiB;
  }
  return { mbps: best, mib };
}

const rows = [];
const sha = measure(blobs, (b) => {
  createHash('sha256').update(b).digest();
  return b.length;
});
rows.push(['sha256 (node:crypto)', '-', sha]);

for (const blockSize of [4096, 65536]) {
  const containers = blobs.map((b) => encodeBlob(b, blockSize));
  const dataBytes = blobs.reduce((s, b) => s + b.length, 0);
  const stored = containers.reduce((s, c) => s + c.length, 0);
  const overhead = (((stored - dataBytes) / dataBytes) * 100).toFixed(3);
  // Each container is paired with its data length so MB/s counts data bytes.
  const pairs = containers.map((c, i) => [c, blobs[i].length]);
  const enc = measure(blobs, (b) => {
    encodeBlob(b, blockSize);
    return b.length;
  });
  const ver = measure(pairs, ([c, n]) => {
    if (!verifyBlob(c).ok) throw new Error('verify failed');
    return n;
  });
  const dec = measure(pairs, ([c, n]) => {
    if (!decodeBlob(c).ok) throw new Error('decode failed');
    return n;
  });
  // One flipped bit per blob: the repair path, including the corrected copy.
  const damaged = pairs.map(([c, n]) => {
    const d = c.slice();
    d[randomInt(112, d.length)] ^= 1 << randomInt(8);
    return [d, n];
  });
  const rep = measure(damaged, ([c, n]) => {
    const r = decodeBlob(c);
    if (!r.ok || r.corrections.length !== 1) throw new Error('repair failed');
    return n;
  });
  rows.push([`encode`, blockSize, enc, overhead]);
  rows.push([`verify`, blockSize, ver, overhead]);
  rows.push([`decode`, blockSize, dec, overhead]);
  rows.push([`decode + repair 1 bit`, blockSize, rep, overhead]);
}

console.log(`blobs: ${blobs.length} of 64 KiB..1 MiB (${(POOL / MiB).toFixed(0)} MiB pool), node ${process.version}`);
console.log('operation               block   MB/s   MiB done  overhead %');
for (const [name, bs, r, overhead = ''] of rows) {
  console.log(
    `${name.padEnd(22)} ${String(bs).padStart(6)} ${r.mbps.toFixed(0).padStart(6)} ${r.mib.toFixed(0).padStart(10)}  ${overhead}`,
  );
}
