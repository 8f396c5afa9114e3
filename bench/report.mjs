// `postern report` over a store of 1,000,000 events spread over 60 days (the
// kinds the report reads, plus heartbeats as noise) and 200,000 delivery
// times: fills the store with batched inserts, then times the built command
// `postern report --since 30d` in each format (the best of three runs).
//
//   npm run build && node bench/report.mjs            # SQLite
//   BENCH_PG=1 node bench/report.mjs                  # PostgreSQL too (127.0.0.1:5432, user postgres)
//
// BENCH_EVENTS changes the number of events.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import pg from 'pg';

const root = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(root, '..', 'dist');
const MAIN = path.join(dist, 'cli/main.js');
const { openStore } = await import(path.join(dist, 'store/index.js'));
const { buildReport, renderText, renderJson, renderHtml } = await import(path.join(dist, 'admin/report/index.js'));

const TOTAL = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const DELIVERIES = 200_000;
const DAY = 86_400_000;
const NOW = Date.now();
const START = NOW - 60 * DAY;

// Share of the events per kind (sums to 1), and how to make each one's subject and data.
const pick = (xs, r) => xs[Math.floor(r * xs.length)];
const weighted = (pairs) => {
  const r = Math.random();
  let acc = 0;
  for (const [v, w] of pairs) if ((acc += w) >= r) return v;
  return pairs.at(-1)[0];
};
const TLS = [['TLSv1.3', 0.8], ['TLSv1.2', 0.15], ['none', 0.05]];
const LISTENER = [['mx', 0.7], ['submission', 0.2], ['submissions', 0.1]];
const DOMAINS = Array.from({ length: 500 }, (_, i) => `d${i}.example`);
const MIX = [
  ['smtp.session', 0.2, () => ['c', { listener: weighted(LISTENER), tls: weighted(TLS) }]],
  ['smtp.message', 0.3, () => ['q', { listener: weighted(LISTENER), tls: weighted(TLS) }]],
  ['relay.message', 0.15, () => ['q', { tls: weighted(TLS), policy: pick(['opportunistic', 'dane', 'mta-sts', 'verify'], Math.random()) }]],
  ['auth.result', 0.15, () => ['q', { spf: 'pass', dkim: weighted([['pass', 0.9], ['fail', 0.1]]), dmarc: weighted([['pass', 0.93], ['fail', 0.07]]), arc: 'none', action: 'accept' }]],
  ['tls.failure', 0.03, () => [pick(DOMAINS, Math.random() ** 3), { policy: 'dane', resultType: pick(['validation-failure', 'certificate-expired', 'starttls-not-supported'], Math.random()) }]],
  ['auth.plaintext_refused', 0.02, () => ['c', { protocol: pick(['smtp', 'imap', 'pop3'], Math.random()) }]],
  ['dlp.match', 0.02, () => ['q', { rule: pick(['iban', 'card', 'ssn'], Math.random()), group: 'finance', direction: 'outbound', action: 'quarantine' }]],
  ['smime.message', 0.03, () => ['q', { signed: Math.random() < 0.8, encrypted: Math.random() < 0.3 }]],
  ['spoof.detected', 0.02, () => ['q', { detector: pick(['lookalike', 'display-name', 'own-domain'], Math.random()), origin: 'outside', result: 'fail', action: 'tag' }]],
  ['malware.detected', 0.01, () => ['q', { engine: 'clamav', direction: pick(['inbound', 'outbound'], Math.random()) }]],
  ['integrity.corrected', 0.02, () => ['blob', { area: 'data', block: 1, bit: 7 }]],
  ['server.heartbeat', 0.05, () => ['node', {}]],
];

/** [at, kind, subject, data] rows, plus rare outages, scrubs and verified backups, in time order as a server appends them. */
function events() {
  return [...randomEvents()].sort((a, b) => a[0] - b[0]);
}

function* randomEvents() {
  for (let i = 0; i < TOTAL; i++) {
    const r = Math.random();
    let acc = 0;
    let spec = MIX.at(-1);
    for (const m of MIX) if ((acc += m[1]) >= r) { spec = m; break; }
    const [subject, data] = spec[2]();
    yield [START + Math.floor(Math.random() * 60 * DAY), spec[0], subject, JSON.stringify(data)];
  }
  for (let d = 0; d < 60; d++) {
    const at = START + d * DAY + 3 * 3_600_000;
    yield [at, 'integrity.scrub_completed', 'store', '{"clean":true}'];
    yield [at + 3_600_000, 'integrity.backup_verified', 'store', '{}'];
    for (let k = 0; k < 3; k++) {
      const from = START + d * DAY + Math.floor(Math.random() * DAY);
      const ms = Math.floor(Math.random() * 600_000);
      yield [from + ms, 'availability.downtime', 'node', JSON.stringify({ cause: 'probe', planned: k === 0, from, to: from + ms, ms })];
    }
  }
}

function* deliveries() {
  for (let i = 0; i < DELIVERIES; i++) {
    const delivered = START + Math.floor(Math.random() * 60 * DAY);
    const ms = Math.floor(50 + Math.random() ** 4 * 120_000);
    yield [`Q${i}`, pick(['inbound', 'internal', 'outbound'], Math.random()), delivered - ms, delivered, ms];
  }
}

function time(args, config) {
  let best = Infinity;
  let out = '';
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    const r = spawnSync(process.execPath, [MAIN, '-c', config, ...args], { encoding: 'utf8', timeout: 600_000, maxBuffer: 64 << 20 });
    const ms = performance.now() - t;
    if (r.status !== 0) throw new Error(`postern ${args.join(' ')} failed: ${r.stderr}`);
    best = Math.min(best, ms);
    out = r.stdout;
  }
  return { ms: best, out };
}

/** The report built inside this process (no start-up): best of three, and each renderer. */
async function inProcess(label, opts) {
  const s = await openStore(opts);
  try {
    let best = Infinity;
    let report;
    for (let i = 0; i < 3; i++) {
      const t = performance.now();
      const now = Date.now();
      report = await buildReport({ events: s.meta.events, deliveryTimes: s.meta.deliveryTimes, queue: s.meta.queue }, { since: now - 30 * DAY, until: now, now, slaTargetPct: 99.9 });
      best = Math.min(best, performance.now() - t);
    }
    const r = (fn) => {
      const t = performance.now();
      fn(report);
      return (performance.now() - t).toFixed(0);
    };
    console.log(`\n${label}: buildReport over 30 d in-process ${(best / 1000).toFixed(2)} s (best of 3); render text ${r(renderText)} ms, json ${r(renderJson)} ms, html ${r(renderHtml)} ms`);
    console.log(`  ${report.confidentiality.inbound.messages.value.toLocaleString('en-US')} inbound messages, ${report.availability.outages.value} outages in the window`);
  } finally {
    await s.close();
  }
}

function runReports(label, config, dir) {
  console.log(`${label}: postern report --since 30d (best of 3, whole process)`);
  for (const format of ['text', 'json', 'html']) {
    const file = path.join(dir, `report.${format === 'text' ? 'txt' : format}`);
    const { ms } = time(['report', '--since', '30d', '--format', format, '--output', file], config);
    console.log(`  ${format.padEnd(5)} ${(ms / 1000).toFixed(2).padStart(6)} s   ${(statSync(file).size / 1024).toFixed(1)} KiB`);
  }
  const { ms } = time(['--help'], config);
  console.log(`  (node start-up alone: ${(ms / 1000).toFixed(2)} s)`);
}

const out = path.join(root, 'out', 'report');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

// SQLite
{
  const config = path.join(out, 'sqlite.toml');
  writeFileSync(config, '[server]\nhostname = "mail.bench.test"\ndata_dir = "sqlite-data"\n');
  const dataDir = path.join(out, 'sqlite-data');
  await (await openStore({ backend: 'sqlite', dataDir })).close();
  const db = new Database(path.join(dataDir, 'meta.sqlite'));
  db.pragma('journal_mode = WAL');
  const t = performance.now();
  const ins = db.prepare('INSERT INTO events (at, kind, subject, data) VALUES (?, ?, ?, ?)');
  const batch = db.transaction((rows) => { for (const r of rows) ins.run(...r); });
  let rows = [];
  let n = 0;
  for (const r of events()) {
    rows.push(r);
    if (rows.length === 50_000) { batch(rows); n += rows.length; rows = []; }
  }
  batch(rows);
  n += rows.length;
  const dins = db.prepare('INSERT INTO delivery_times (queue_id, direction, received_at, delivered_at, ms) VALUES (?, ?, ?, ?, ?)');
  db.transaction(() => { for (const r of deliveries()) dins.run(...r); })();
  db.exec('ANALYZE');
  db.close();
  console.log(`SQLite: ${n.toLocaleString('en-US')} events and ${DELIVERIES.toLocaleString('en-US')} delivery times written in ${((performance.now() - t) / 1000).toFixed(1)} s; meta.sqlite ${(statSync(path.join(dataDir, 'meta.sqlite')).size / 2 ** 20).toFixed(0)} MiB`);
  await inProcess('SQLite', { backend: 'sqlite', dataDir });
  runReports('SQLite', config, out);
}

// PostgreSQL
if (process.env.BENCH_PG) {
  const server = 'postgres://postgres@127.0.0.1:5432';
  const name = 'postern_bench_report';
  const admin = new pg.Client({ connectionString: `${server}/postgres` });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name}`);
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = `${server}/${name}`;
  await (await openStore({ backend: 'postgres', url, dataDir: out })).close();
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const t = performance.now();
  const flush = async (rows) => {
    if (rows.length === 0) return;
    await c.query('INSERT INTO events (at, kind, subject, data) SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[])', [0, 1, 2, 3].map((k) => rows.map((r) => r[k])));
  };
  let rows = [];
  let n = 0;
  for (const r of events()) {
    rows.push(r);
    if (rows.length === 20_000) { await flush(rows); n += rows.length; rows = []; }
  }
  await flush(rows);
  n += rows.length;
  const ds = [...deliveries()];
  for (let i = 0; i < ds.length; i += 20_000) {
    const part = ds.slice(i, i + 20_000);
    await c.query('INSERT INTO delivery_times (queue_id, direction, received_at, delivered_at, ms) SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[])', [0, 1, 2, 3, 4].map((k) => part.map((r) => r[k])));
  }
  await c.query('VACUUM ANALYZE events');
  await c.query('VACUUM ANALYZE delivery_times');
  await c.end();
  console.log(`\nPostgreSQL: ${n.toLocaleString('en-US')} events and ${DELIVERIES.toLocaleString('en-US')} delivery times written in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  const config = path.join(out, 'pg.toml');
  writeFileSync(config, `[server]\nhostname = "mail.bench.test"\ndata_dir = "pg-data"\n[store]\nbackend = "postgres"\nurl = "${url}"\n`);
  await inProcess('PostgreSQL', { backend: 'postgres', url, dataDir: out });
  runReports('PostgreSQL', config, out);
}
