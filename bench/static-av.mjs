// Throughput of the two engines that need no ClamAV, and of the attachments
// stage, on clean mail: 50 KiB messages (a text body, a 30 KiB PDF-like
// attachment in base64, a small zip). Messages per second and MB/s of
// message bytes, one message at a time and several in flight.
//
//   npm run build && node bench/static-av.mjs
//
// BENCH_SECONDS bounds each measurement (default 3); the yara engine gets
// a small rule set (20 string rules) written to a temp folder. Each
// measurement runs three rounds and reports the best.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { zipSync } from 'fflate';

const dist = (p) => import(new URL(`../dist/${p}`, import.meta.url).href);
const { PolicyPool } = await dist('policy/pool/index.js');
const { StaticEngine, YaraEngine, HashListFile } = await dist('policy/av/static/index.js');
const { attachmentsStage } = await dist('policy/av/attachments.js');
const { DEFAULT_EXTRACT_LIMITS } = await dist('policy/av/parts.js');
const { DEFAULT_BLOCK_EXTENSIONS, DEFAULT_BLOCK_TYPES } = await dist('config/malware-static.js');

const seconds = Number(process.env.BENCH_SECONDS ?? 3);
const dir = mkdtempSync(path.join(tmpdir(), 'postern-bench-av-'));

function cleanMessage(i) {
  const words = 'the quarterly figures are attached please review them before the meeting on thursday '.repeat(600);
  const pdf = Buffer.from(`%PDF-1.7\n${words.slice(0, 34 * 1024)}\n%%EOF\n`);
  const z = zipSync({ 'notes.txt': Buffer.from(words.slice(0, 8000)), 'data.csv': Buffer.from('a,b,c\n1,2,3\n'.repeat(300)) });
  const b64 = (b) => Buffer.from(b).toString('base64').replace(/.{76}/g, '$&\r\n');
  const body = words.slice(0, 3500);
  const text = `From: a@partner.test\r\nTo: b@example.test\r\nSubject: Figures ${i}\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\n${body}\r\n--B\r\nContent-Type: application/pdf; name=q3.pdf\r\nContent-Disposition: attachment; filename=q3.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64(pdf)}\r\n--B\r\nContent-Type: application/zip; name=q3.zip\r\nContent-Disposition: attachment; filename=q3.zip\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64(z)}\r\n--B--\r\n`;
  return new Uint8Array(Buffer.from(text));
}

const messages = Array.from({ length: 16 }, (_, i) => cleanMessage(i));
const size = messages[0].length;

const rules = path.join(dir, 'rules');
const hashes = path.join(dir, 'bad-hashes.txt');
const { mkdirSync } = await import('node:fs');
mkdirSync(rules);
writeFileSync(
  path.join(rules, 'bench.yar'),
  Array.from({ length: 20 }, (_, i) => `rule Bench_${i} { strings: $a = "marker-${i}-never-present" $b = { 4D 5A 90 00 0${i % 10} } condition: $a or $b }`).join('\n'),
);
writeFileSync(hashes, Array.from({ length: 10_000 }, (_, i) => `${i.toString(16).padStart(64, '0')} sample-${i}`).join('\n'));

const pool = PolicyPool.open({});
const threads = 2;
const engines = {
  static: new StaticEngine({ pool, limits: DEFAULT_EXTRACT_LIMITS, budgetMs: 30_000, hashes: new HashListFile(hashes) }),
  yara: new YaraEngine({ pool, limits: DEFAULT_EXTRACT_LIMITS, rulesDir: rules, timeoutMs: 30_000, tmpRoot: dir }),
};
const rulesFor = { enabled: true, action: 'reject', blockExtensions: new Set(DEFAULT_BLOCK_EXTENSIONS), blockTypes: new Set(DEFAULT_BLOCK_TYPES), blockUnreadableArchives: true };
const stage = attachmentsStage({ pool, phase: 'inline', budgetMs: 30_000, limits: DEFAULT_EXTRACT_LIMITS, rules: { inbound: rulesFor, outbound: rulesFor, internal: rulesFor } });
const envelope = { sender: 'a@partner.test', recipients: ['b@example.test'], helo: 'x', clientAddress: '127.0.0.1', listener: 'mx', authUser: null, tls: false };

// A signal that never aborts (the engines want one).
const never = new globalThis.AbortController().signal;
const subjects = {
  static: (raw) => engines.static.scan(raw, never).then((r) => r.detections.length),
  yara: (raw) => engines.yara.scan(raw, never).then((r) => r.detections.length),
  attachments: (raw) => stage.run({ queueId: 'b', raw, envelope, direction: 'inbound', earlier: [] }, { signal: never, now: Date.now }).then((v) => (v.action === 'pass' ? 0 : 1)),
};

async function measure(fn, concurrency) {
  if ((await fn(messages[0])) !== 0) throw new Error('a clean message was flagged');
  let best = 0;
  for (let round = 0; round < 3; round++) {
    const start = performance.now();
    const end = start + (seconds * 1000) / 3;
    let done = 0;
    const lane = async (k) => {
      while (performance.now() < end) {
        await fn(messages[(done + k) % messages.length]);
        done++;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, (_, k) => lane(k)));
    best = Math.max(best, done / ((performance.now() - start) / 1000));
  }
  return best;
}

const rows = [];
for (const [name, fn] of Object.entries(subjects)) {
  for (const concurrency of [1, threads * 2]) {
    const perSec = await measure(fn, concurrency);
    rows.push({ engine: name, 'in flight': concurrency, 'messages/s': Math.round(perSec * 10) / 10, 'ms/message': +(1000 / perSec).toFixed(1), 'MB/s': +((perSec * size) / 1e6).toFixed(2) });
  }
}
await engines.yara.close();
await pool.close();
rmSync(dir, { recursive: true, force: true });
console.log(`clean ${(size / 1024).toFixed(1)} KiB messages, ${threads} pool threads, node ${process.version}`);
console.table(rows);
