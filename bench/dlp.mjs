// What data-loss prevention costs. Two measurements, each bounded:
//  (a) classification throughput of the 'dlp.classify' pool task with the
//      default rules (src/policy/dlp/rules/default.ts) on ONE worker thread,
//      over a mixed corpus the bench makes: plain text, HTML, a DOCX and a
//      PDF attachment (made with /usr/bin/python3 python3-docx/reportlab;
//      without them those two are left out and the bench says so). MB/s of
//      raw message per core, per kind and overall;
//  (b) the latency it adds at submission: two real postern processes,
//      [policy.dlp] on and off (sender checks off in both, so only DLP
//      differs), N messages of the same corpus submitted over SMTP AUTH
//      (implicit TLS) to a colleague (internal: classified in-line); the
//      time from the end of DATA (".") to the 250, median and p95. Rounds
//      alternate between the two servers so drift hits both.
//
//   npm run build && node bench/dlp.mjs [--seconds 10] [--messages 200] [--rounds 2]
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import { PolicyPool } from '../dist/policy/pool/index.js';
import { buildRules, DEFAULT_RULES_TOML } from '../dist/policy/dlp/rules/index.js';
import { DEFAULT_CONTENT_LIMITS } from '../dist/policy/dlp/extract/index.js';

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? Number(process.argv[i + 1]) : fallback;
}
const SECONDS = arg('seconds', 10);
const MESSAGES = arg('messages', 200);
const ROUNDS = arg('rounds', 2);
const MAIN = path.resolve('dist/cli/main.js');
const DOMAIN = 'bench.test';
const PY = '/usr/bin/python3';
const PASSWORD = 'bench-Secret-123456';
const work = mkdtempSync(path.join(os.tmpdir(), 'postern-dlp-bench-'));

// ---------------------------------------------------------------- corpus

const WORDS = 'the quarterly figures for the northern region show steady growth while costs remain within the agreed budget and the board will review the plan'.split(' ');
/** Deterministic prose of about `bytes` characters, with a few numbers the detectors look at. */
function prose(bytes, seed) {
  let x = seed >>> 0;
  const rnd = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const out = [];
  let n = 0;
  while (n < bytes) {
    const len = 8 + Math.floor(rnd() * 12);
    const s = Array.from({ length: len }, () => WORDS[Math.floor(rnd() * WORDS.length)]).join(' ');
    const extra = rnd() < 0.02 ? ' Card 4111 1111 1111 1111 expires 12/29.' : rnd() < 0.02 ? ' IBAN GB82 WEST 1234 5698 7654 32.' : rnd() < 0.03 ? ' Order 2026-0412-7781 shipped.' : '';
    const line = `${s[0].toUpperCase()}${s.slice(1)}.${extra}`;
    out.push(line);
    n += line.length + 1;
  }
  return out;
}

function b64lines(buf) {
  return buf.toString('base64').replace(/.{1,76}/g, '$&\r\n');
}

function mime(subject, parts) {
  const b = `b-${subject.replace(/\W/g, '')}`;
  const head = `From: sender@${DOMAIN}\r\nTo: rcpt@${DOMAIN}\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, '')}.${process.pid}@${DOMAIN}>\r\nMIME-Version: 1.0\r\n`;
  if (parts.length === 1 && !parts[0].filename) return Buffer.from(`${head}Content-Type: ${parts[0].type}; charset=utf-8\r\n\r\n${parts[0].text.replace(/\n/g, '\r\n')}\r\n`);
  let body = `${head}Content-Type: multipart/mixed; boundary="${b}"\r\n\r\n`;
  for (const p of parts) {
    if (p.filename) body += `--${b}\r\nContent-Type: ${p.type}\r\nContent-Disposition: attachment; filename="${p.filename}"\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64lines(p.bytes)}`;
    else body += `--${b}\r\nContent-Type: ${p.type}; charset=utf-8\r\n\r\n${p.text.replace(/\n/g, '\r\n')}\r\n`;
  }
  return Buffer.from(`${body}--${b}--\r\n`);
}

/** DOCX and PDF of the given paragraphs, or null when python3-docx/reportlab are missing. */
function documents(paragraphs) {
  const src = path.join(work, 'paras.json');
  writeFileSync(src, JSON.stringify(paragraphs));
  const script = `
import json, sys
from docx import Document
from reportlab.lib.pagesizes import A4
from reportlab.platypus import SimpleDocTemplate, Paragraph
from reportlab.lib.styles import getSampleStyleSheet
paras = json.load(open(sys.argv[1]))
d = Document()
for p in paras: d.add_paragraph(p)
d.save(sys.argv[2])
st = getSampleStyleSheet()
SimpleDocTemplate(sys.argv[3], pagesize=A4).build([Paragraph(p, st['Normal']) for p in paras])
`;
  const docx = path.join(work, 'plan.docx');
  const pdf = path.join(work, 'plan.pdf');
  const r = spawnSync(PY, ['-c', script, src, docx, pdf], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) return { error: (r.stderr || r.error?.message || 'python failed').trim().split('\n').pop() };
  return { docx: readFileSync(docx), pdf: readFileSync(pdf) };
}

function corpus() {
  const text = prose(40_000, 1).join('\n');
  const html = `<html><body>${prose(60_000, 2).map((l) => `<p style="margin:0">${l}</p>`).join('\n')}</body></html>`;
  const docs = documents(prose(50_000, 3));
  const out = [
    { kind: 'text', raw: mime('text', [{ type: 'text/plain', text }]) },
    { kind: 'html', raw: mime('html', [{ type: 'text/html', text: html }]) },
  ];
  if (docs.error) console.log(`note: no DOCX/PDF in the corpus: ${docs.error} (apt-get install python3-docx python3-reportlab)`);
  else {
    out.push({ kind: 'docx', raw: mime('docx', [{ type: 'text/plain', text: 'The plan is attached.' }, { type: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', filename: 'plan.docx', bytes: docs.docx }]) });
    out.push({ kind: 'pdf', raw: mime('pdf', [{ type: 'text/plain', text: 'The plan is attached.' }, { type: 'application/pdf', filename: 'plan.pdf', bytes: docs.pdf }]) });
  }
  return out;
}

// ---------------------------------------------------------------- (a) throughput

const pct = (xs, p) => {
  const a = [...xs].sort((x, y) => x - y);
  return a.length === 0 ? NaN : a[Math.min(a.length - 1, Math.floor((p / 100) * a.length))];
};
const median = (xs) => pct(xs, 50);

async function throughput(messages) {
  const rules = buildRules(DEFAULT_RULES_TOML, [], 'default-rules.toml');
  const pool = PolicyPool.open({ threads: 1, maxQueue: 8 });
  const run = (raw) => pool.run('dlp.classify', { raw, rules, limits: DEFAULT_CONTENT_LIMITS }, { budgetMs: 60_000 });
  const rows = [];
  try {
    for (const m of messages) await run(m.raw); // warm-up: JIT, compiled rules in the worker
    const per = Math.max(1, SECONDS / (messages.length + 1));
    for (const m of messages) {
      let n = 0;
      let matches = 0;
      const t0 = performance.now();
      while (performance.now() - t0 < per * 1000 && n < 10_000) {
        const c = await run(m.raw);
        matches = c.matches.length;
        n++;
      }
      const s = (performance.now() - t0) / 1000;
      rows.push({ kind: m.kind, bytes: m.raw.length, ms: (s * 1000) / n, mbps: (m.raw.length * n) / s / 1e6, matches });
    }
    // Mixed: the corpus round-robin, two in flight so the one thread never waits for the main thread.
    let bytes = 0;
    let i = 0;
    const t0 = performance.now();
    const lane = async () => {
      while (performance.now() - t0 < per * 1000) {
        const m = messages[i++ % messages.length];
        await run(m.raw);
        bytes += m.raw.length;
      }
    };
    await Promise.all([lane(), lane()]);
    const s = (performance.now() - t0) / 1000;
    rows.push({ kind: 'mixed', bytes: NaN, ms: NaN, mbps: bytes / s / 1e6, matches: NaN });
  } finally {
    await pool.close();
  }
  return rows;
}

// ---------------------------------------------------------------- (b) latency at submission

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function install(name, dlp) {
  const dir = mkdtempSync(path.join(work, `${name}-`));
  const init = spawnSync(process.execPath, [MAIN, 'init', '--domain', DOMAIN, '--dir', dir, '--hostname', `mail.${DOMAIN}`], { encoding: 'utf8', timeout: 60_000 });
  if (init.status !== 0) throw new Error(`postern init failed: ${init.stderr}`);
  writeFileSync(path.join(dir, 'bench-rules.toml'), DEFAULT_RULES_TOML);
  const [mx, sub, subs, dns] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const config = path.join(dir, 'bench.toml');
  writeFileSync(
    config,
    `[server]
hostname = "mail.${DOMAIN}"
data_dir = "data"
[tls]
cert = "tls/cert.pem"
key = "tls/key.pem"
[smtp.mx]
address = "127.0.0.1"
port = ${mx}
[smtp.submission]
address = "127.0.0.1"
port = ${sub}
[smtp.submissions]
address = "127.0.0.1"
port = ${subs}
[imap]
enabled = false
[pop3]
enabled = false
[admin]
enabled = false
[delivery]
resolver = "127.0.0.1:${dns}"
[policy.auth]
enabled = false
[policy.spoof]
enabled = false
[policy.dlp]
enabled = ${dlp}
rules = "bench-rules.toml"
[log]
level = "warn"
`,
  );
  for (const who of ['sender', 'rcpt']) {
    const add = spawnSync(process.execPath, [MAIN, '-c', config, 'user', 'add', `${who}@${DOMAIN}`], { input: `${PASSWORD}\n`, encoding: 'utf8' });
    if (add.status !== 0) throw new Error(`user add failed: ${add.stderr}`);
  }
  const proc = spawn(process.execPath, [MAIN, '-c', config, 'start'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`postern did not start:\n${err}`)), 30_000);
    proc.stderr.on('data', (d) => {
      err += d.toString();
      if (err.includes('postern is running')) {
        clearTimeout(t);
        resolve();
      }
    });
    proc.once('exit', (code) => reject(new Error(`postern exited with ${code}:\n${err}`)));
  });
  return { name, dir, config, port: subs, proc, stop: () => new Promise((r) => (proc.exitCode !== null ? r() : (proc.once('exit', r), proc.kill('SIGTERM')))) };
}

/** A minimal SMTP client over implicit TLS: one reply per command, multi-line replies joined. */
async function smtpSession(port) {
  const sock = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false });
  await new Promise((resolve, reject) => {
    sock.once('secureConnect', resolve);
    sock.once('error', reject);
  });
  let buf = '';
  let waiting = null;
  const lines = [];
  const pump = () => {
    if (!waiting) return;
    const last = lines.findIndex((l) => /^\d{3} /.test(l));
    if (last < 0) return;
    const reply = lines.splice(0, last + 1).join('\n');
    const w = waiting;
    waiting = null;
    w(reply);
  };
  sock.on('data', (d) => {
    buf += d.toString('latin1');
    let i;
    while ((i = buf.indexOf('\r\n')) >= 0) {
      lines.push(buf.slice(0, i));
      buf = buf.slice(i + 2);
    }
    pump();
  });
  const reply = () =>
    new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no SMTP reply in 60 s')), 60_000);
      waiting = (r) => {
        clearTimeout(t);
        resolve(r);
      };
      pump();
    });
  const cmd = async (line, want) => {
    sock.write(`${line}\r\n`);
    const r = await reply();
    if (want && !r.startsWith(want)) throw new Error(`${line.split(' ')[0]}: ${r}`);
    return r;
  };
  await reply(); // greeting
  await cmd(`EHLO bench.${DOMAIN}`, '250');
  await cmd(`AUTH PLAIN ${Buffer.from(`\0sender@${DOMAIN}\0${PASSWORD}`).toString('base64')}`, '235');
  return {
    /** Sends one message; resolves with the ms from the final "." to the reply, and the reply. */
    async send(raw) {
      await cmd(`MAIL FROM:<sender@${DOMAIN}>`, '250');
      await cmd(`RCPT TO:<rcpt@${DOMAIN}>`, '250');
      await cmd('DATA', '354');
      const body = raw.toString('latin1').replace(/^\./gm, '..');
      sock.write(body.endsWith('\r\n') ? body : `${body}\r\n`);
      const t0 = performance.now();
      sock.write('.\r\n');
      const r = await reply();
      return { ms: performance.now() - t0, reply: r };
    },
    close: () => sock.end('QUIT\r\n'),
  };
}

async function latencyRound(server, messages) {
  const s = await smtpSession(server.port);
  const times = [];
  const byKind = {};
  let refused = 0;
  try {
    for (let i = 0; i < MESSAGES; i++) {
      const m = messages[i % messages.length];
      const { ms, reply } = await s.send(m.raw);
      if (reply.startsWith('250')) {
        times.push(ms);
        (byKind[m.kind] ??= []).push(ms);
      } else refused++;
    }
  } finally {
    s.close();
  }
  return { times, byKind, refused };
}

// ---------------------------------------------------------------- main

const messages = corpus();
console.log(`corpus: ${messages.map((m) => `${m.kind} ${(m.raw.length / 1024).toFixed(0)} KiB`).join(', ')}; ${os.cpus().length} cores, node ${process.version}`);

const rows = await throughput(messages);
console.log('\n(a) classification, default rules, 1 worker thread');
console.log('  kind    size KiB   ms/msg    MB/s   rules matched');
for (const r of rows) {
  console.log(
    `  ${r.kind.padEnd(6)} ${Number.isNaN(r.bytes) ? '       -' : (r.bytes / 1024).toFixed(0).padStart(8)} ${Number.isNaN(r.ms) ? '       -' : r.ms.toFixed(2).padStart(8)} ${r.mbps.toFixed(2).padStart(7)}   ${Number.isNaN(r.matches) ? '-' : r.matches}`,
  );
}

const on = await install('on', true);
const off = await install('off', false);
const lat = { on: [], off: [] };
const latKind = { on: {}, off: {} };
const refused = { on: 0, off: 0 };
try {
  await latencyRound(on, messages); // warm-up, not counted
  await latencyRound(off, messages);
  for (let r = 0; r < ROUNDS; r++) {
    for (const s of r % 2 === 0 ? [off, on] : [on, off]) {
      const x = await latencyRound(s, messages);
      lat[s.name].push(...x.times);
      for (const [k, v] of Object.entries(x.byKind)) (latKind[s.name][k] ??= []).push(...v);
      refused[s.name] += x.refused;
    }
  }
} finally {
  await on.stop();
  await off.stop();
}
console.log(`\n(b) submission over SMTP AUTH (implicit TLS), ${ROUNDS} rounds x ${MESSAGES} messages, time from "." to 250`);
console.log('  dlp    median ms   p95 ms   messages   refused');
for (const k of ['off', 'on']) console.log(`  ${k.padEnd(4)} ${median(lat[k]).toFixed(1).padStart(11)} ${pct(lat[k], 95).toFixed(1).padStart(8)} ${String(lat[k].length).padStart(10)} ${String(refused[k]).padStart(9)}`);
for (const m of messages) console.log(`  ${m.kind.padEnd(6)} median off ${median(latKind.off[m.kind] ?? []).toFixed(1)} ms, on ${median(latKind.on[m.kind] ?? []).toFixed(1)} ms`);
console.log(`  added by dlp: median ${(median(lat.on) - median(lat.off)).toFixed(1)} ms, p95 ${(pct(lat.on, 95) - pct(lat.off, 95)).toFixed(1)} ms`);
// The proof that the stage ran: the "on" server counted its messages (dlp.message), the "off" one none.
for (const s of [on, off]) {
  const r = spawnSync(process.execPath, [MAIN, '-c', s.config, 'dlp', 'report', '--since', '1d', '--json'], { encoding: 'utf8' });
  const t = r.status === 0 ? JSON.parse(r.stdout).totals : null;
  console.log(`  ${s.name}: ${t ? `${t.messages} messages classified (${t.confidential} confidential)` : `dlp report failed: ${r.stderr.trim()}`}`);
}
rmSync(work, { recursive: true, force: true });
