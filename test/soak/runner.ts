/**
 * The soak run: the built `postern` as a real process, mail sent without a
 * pause (MX and submission, some of it to a remote domain delivered to a
 * local sink through a loopback DNS server) and read without a pause (IMAP
 * and POP3), while faults are injected at seeded random moments. At the end,
 * after a clean restart and a drained queue, it checks every acknowledged
 * message against the store and returns the figures.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { MAIN, cli } from '../process/postern-process.js';
import { openStore } from '../../src/store/index.js';
import { seededRng } from '../integrity/helpers.js';
import { startPeer, type Peer } from '../delivery/helpers/peer.js';
import { DnsFront } from './dns-front.js';
import { makeSoakInstallation, type SoakInstallation } from './install.js';
import { messageIdOf, sha256, withoutOwnReceived } from './mail.js';
import { startReader, type Reader } from './readers.js';
import { newLedger, runSender, type ReplyClass, type SenderSpec } from './senders.js';
import { Supervisor, type Crash } from './server.js';
import { FAULT_KINDS, blobFiles, fillDisk, flipBlobs, freeDisk, leftoverTempFiles, type FaultKind, type FaultRecord } from './faults.js';

export interface SoakOptions {
  /** How long mail flows and faults are injected. */
  durationMs: number;
  seed: number;
  /** Pause between faults and how long a fault lasts, [min, max] ms. */
  gapMs: [number, number];
  holdMs: [number, number];
  /** Bound on the wait for the queue to drain at the end. */
  drainMs: number;
  tmpfsBytes: number;
  bitsPerFlip: number;
  log: (line: string) => void;
}

/** The event postern records for each fault (null: none). */
export const FAULT_EVENTS: Record<FaultKind, string | null> = {
  sigkill: 'server.unclean_stop', // recorded by the next start
  'disk-full': 'storage.full', // held in memory while the store cannot write, written once it can
  'dns-down': 'delivery.dns_failure', // only when a delivery was deferred for it (not required by the test)
  bitflip: 'integrity.corrected',
};

export interface SoakReport {
  seed: number;
  tmpfs: boolean;
  attempts: number;
  acknowledged: number;
  acknowledgedRemote: number;
  replies: Record<ReplyClass, number>;
  diskFullReplies: Record<ReplyClass, number>;
  anomalies: string[];
  faults: FaultRecord[];
  faultsByKind: Record<FaultKind, number>;
  crashes: Crash[];
  serverStarts: number;
  /** Acknowledged (message, local recipient) pairs. */
  expected: number;
  found: number;
  missing: string[];
  duplicates: string[];
  corrupt: string[];
  wrongQueueId: string[];
  unreadable: string[];
  storedWithoutAck: number;
  unknownStored: number;
  remoteDelivered: number;
  /** Remote mail acknowledged while the resolver was away that reached the sink only after it came back. */
  remoteDuringDnsDown: number;
  remoteMissing: string[];
  remoteCorrupt: string[];
  remoteCopies: number;
  pendingAtEnd: number;
  reads: Record<'imap' | 'pop3', { sessions: number; reads: number; no: number; errors: number }>;
  servedCorrupt: string[];
  readerErrors: string[];
  events: Record<string, number>;
  flippedBlobs: number;
  flippedStillStored: number;
  flippedWithoutEvent: string[];
  scrub: { status: number | null; out: string };
  integrityStatus: IntegrityStatus | null;
  /** postern's RSS sampled every second while mail flowed: the peak, and the last sample before the final restart. */
  memory: { peakRssKiB: number; lastRssKiB: number; samples: number };
  leftoverTempFiles: number;
  dnsQueries: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The CLI as a child process, without blocking this process's event loop (the sink and readers live here). */
function cliAsync(inst: SoakInstallation, args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [MAIN, '-c', inst.config, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const t = setTimeout(() => p.kill('SIGKILL'), 120_000);
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('close', (status) => {
      clearTimeout(t);
      resolve({ status, stdout, stderr });
    });
  });
}

const USERS = { alice: 'alice soak password 1', bob: 'bob soak password 2', carol: 'carol soak password 3' } as const;
const DOMAIN = 'soak.test';
const REMOTE = 'friend@remote.test';

export async function runSoak(o: SoakOptions): Promise<SoakReport> {
  const rng = seededRng(o.seed);
  const sink: Peer = await startPeer({ tls: null });
  const dns = await DnsFront.start({
    'remote.test': { MX: [{ exchange: 'mx.remote.test', preference: 10 }] },
    'mx.remote.test': { A: ['127.0.0.1'] },
  });
  let inst: SoakInstallation | null = null;
  let sup: Supervisor | null = null;
  const readers: Reader[] = [];
  let sampler: NodeJS.Timeout | null = null;
  const ballast = () => path.join(inst!.dataDir, 'ballast');
  try {
    inst = await makeSoakInstallation({ domain: DOMAIN, resolver: dns.address, sinkPort: sink.port, tmpfsBytes: o.tmpfsBytes });
    o.log(`soak: seed ${o.seed}, data folder ${inst.dataDir} ${inst.tmpfs ? `on a ${o.tmpfsBytes >> 20} MiB tmpfs` : 'NOT on a tmpfs (not root): the disk-full fault will NOT be exercised'}`);
    for (const [name, pw] of Object.entries(USERS)) {
      const r = cli(inst, ['user', 'add', `${name}@${DOMAIN}`], `${pw}\n`);
      if (r.status !== 0) throw new Error(`user add ${name}: ${r.stderr}`);
    }
    sup = new Supervisor(inst);
    await sup.start();

    const readerSeconds = Math.ceil((o.durationMs + o.drainMs) / 1000) + 120;
    readers.push(startReader('imap', { port: inst.imap, ca: inst.caFile, user: `alice@${DOMAIN}`, password: USERS.alice, seconds: readerSeconds }));
    readers.push(startReader('pop3', { port: inst.pop3s, ca: inst.caFile, user: `bob@${DOMAIN}`, password: USERS.bob, seconds: readerSeconds }));

    // postern's memory over the run, from /proc (each life of the process; the peak across lives).
    const memory = { peakRssKiB: 0, lastRssKiB: 0, samples: 0 };
    sampler = setInterval(() => {
      const pid = sup?.pid;
      if (!pid) return;
      try {
        const kb = Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
        memory.peakRssKiB = Math.max(memory.peakRssKiB, kb);
        memory.lastRssKiB = kb;
        memory.samples++;
      } catch {
        // the process is between lives
      }
    }, 1000);
    const ledger = newLedger();
    const diskFull: Record<ReplyClass, number> = { '2xx': 0, '4xx': 0, '5xx': 0, conn: 0 };
    const ledgerFile = path.join(inst.dir, 'acks.jsonl');
    const end = Date.now() + o.durationMs;
    const done = () => Date.now() >= end;
    const specs: SenderSpec[] = [
      { tag: 'mx1', via: 'mx', port: inst.ports.mx, from: 'someone@outside.test', local: [`alice@${DOMAIN}`, `bob@${DOMAIN}`], domain: 'outside.test' },
      { tag: 'mx2', via: 'mx', port: inst.ports.mx, from: 'other@outside.test', local: [`alice@${DOMAIN}`, `bob@${DOMAIN}`, `carol@${DOMAIN}`], domain: 'outside.test' },
      {
        tag: 'sub1', via: 'submission', port: inst.ports.submission, from: `carol@${DOMAIN}`, auth: { user: `carol@${DOMAIN}`, pass: USERS.carol },
        ca: inst.caPem, local: [`alice@${DOMAIN}`, `bob@${DOMAIN}`], remote: REMOTE, domain: DOMAIN,
      },
      {
        tag: 'sub2', via: 'submission', port: inst.ports.submission, from: `alice@${DOMAIN}`, auth: { user: `alice@${DOMAIN}`, pass: USERS.alice },
        ca: inst.caPem, local: [`bob@${DOMAIN}`, `carol@${DOMAIN}`], remote: REMOTE, domain: DOMAIN,
      },
    ];
    // Each sender draws from its own stream, so the fault schedule does not depend on how fast mail flows.
    const senders = specs.map((s, i) => runSender(s, seededRng(o.seed * 31 + i + 1), ledger, ledgerFile, done));

    // The schedule: every kind once in a seeded order, then seeded picks until the time is up.
    const faults: FaultRecord[] = [];
    const flipped = new Set<string>();
    const schedule = [...FAULT_KINDS];
    for (let i = schedule.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [schedule[i], schedule[j]] = [schedule[j]!, schedule[i]!];
    }
    const between = ([lo, hi]: [number, number]) => lo + rng.int(hi - lo + 1);
    for (let k = 0; k < 10_000; k++) {
      await sleep(between(o.gapMs));
      if (done()) break;
      const kind = schedule[k] ?? FAULT_KINDS[rng.int(FAULT_KINDS.length)]!;
      const hold = between(o.holdMs);
      const at = Date.now();
      const rec: FaultRecord = { kind, at, ms: 0, exercised: true, detail: '' };
      if (kind === 'sigkill') {
        await sup.stop('SIGKILL');
        await sleep(rng.int(1500));
        await sup.start();
        rec.detail = 'killed and restarted';
      } else if (kind === 'disk-full') {
        if (!inst.tmpfs) {
          rec.exercised = false;
          rec.detail = 'NOT exercised: the data folder is not on a tmpfs of its own (needs root)';
          o.log(`soak: disk-full fault ${rec.detail}`);
        } else {
          const window = { '2xx': 0, '4xx': 0, '5xx': 0, conn: 0 };
          ledger.window = window;
          try {
            const size = fillDisk(ballast());
            await sleep(hold);
            rec.detail = `ballast ${size >> 20} MiB; replies while full: ${JSON.stringify(window)}`;
          } finally {
            ledger.window = null;
            freeDisk(ballast());
          }
          for (const c of Object.keys(window) as ReplyClass[]) diskFull[c] += window[c];
        }
      } else if (kind === 'dns-down') {
        await dns.down();
        try {
          await sleep(hold);
        } finally {
          await dns.up();
        }
        rec.detail = `resolver away for ${hold} ms`;
      } else {
        const ids = flipBlobs(inst.dataDir, rng, o.bitsPerFlip, flipped);
        rec.exercised = ids.length > 0;
        rec.detail = `flipped one bit in ${ids.length} blob(s)`;
      }
      rec.ms = Date.now() - at;
      faults.push(rec);
      o.log(`soak: +${Math.round((at - (end - o.durationMs)) / 1000)}s ${kind}: ${rec.detail} (acked so far ${ledger.acks.length})`);
    }
    await Promise.all(senders);
    clearInterval(sampler);
    sampler = null;

    // Final clean restart, then let the queue drain.
    await sup.stop('SIGTERM');
    await sup.start();
    let pendingAtEnd = -1;
    const drainUntil = Date.now() + o.drainMs;
    while (Date.now() < drainUntil) {
      const q = await cliAsync(inst, ['queue', 'list', '--json']);
      pendingAtEnd = q.status === 0 ? (JSON.parse(q.stdout) as unknown[]).length : -1;
      if (pendingAtEnd === 0) break;
      await sleep(500);
    }
    await sleep(3000); // readers catch up with the last deliveries
    for (const r of readers) await r.stop();
    // An administrator's scrub finds and repairs the flips no reader came across.
    const scrubRun = await cliAsync(inst, ['scrub']);
    const status = await cliAsync(inst, ['scrub', '--status', '--json']);
    await sup.stop('SIGTERM');

    const report = await verify(inst, o, {
      ledger, diskFull, faults, crashes: sup.crashes, starts: sup.starts, sink, readers, flipped, pendingAtEnd,
      scrub: { status: scrubRun.status, out: (scrubRun.stdout + scrubRun.stderr).trim() },
      integrityStatus: parseStatus(status.stdout),
      memory,
      dnsQueries: dns.queries,
    });
    return report;
  } finally {
    if (sampler) clearInterval(sampler);
    for (const r of readers) await r.stop().catch(() => undefined);
    await sup?.stop('SIGKILL').catch(() => undefined);
    if (inst) {
      try {
        freeDisk(ballast());
      } catch {
        // the mount may already be gone
      }
      inst.cleanup();
    }
    await sink.close();
    await dns.stop();
  }
}

/** `postern scrub --status --json`, the administrator's view of the integrity events. */
export interface IntegrityStatus {
  corrected: number;
  uncorrectable: number;
  missing: number;
  damagedBlobs: number;
  damagedMessages: number;
}

function parseStatus(out: string): IntegrityStatus | null {
  try {
    return JSON.parse(out) as IntegrityStatus;
  } catch {
    return null;
  }
}

interface Observed {
  integrityStatus: IntegrityStatus | null;
  memory: { peakRssKiB: number; lastRssKiB: number; samples: number };
  diskFull: Record<ReplyClass, number>;
  ledger: ReturnType<typeof newLedger>;
  faults: FaultRecord[];
  crashes: Crash[];
  starts: number;
  sink: Peer;
  readers: Reader[];
  flipped: Set<string>;
  pendingAtEnd: number;
  scrub: { status: number | null; out: string };
  dnsQueries: number;
}

async function verify(inst: SoakInstallation, o: SoakOptions, x: Observed): Promise<SoakReport> {
  const { ledger } = x;
  const r: SoakReport = {
    seed: o.seed,
    tmpfs: inst.tmpfs,
    attempts: ledger.attempts.size,
    acknowledged: ledger.acks.length,
    acknowledgedRemote: ledger.acks.filter((a) => a.remote.length > 0).length,
    replies: { ...ledger.replies },
    diskFullReplies: { ...x.diskFull },
    anomalies: [...ledger.anomalies],
    faults: x.faults,
    faultsByKind: { sigkill: 0, 'disk-full': 0, 'dns-down': 0, bitflip: 0 },
    crashes: x.crashes,
    serverStarts: x.starts,
    expected: 0, found: 0, missing: [], duplicates: [], corrupt: [], wrongQueueId: [], unreadable: [],
    storedWithoutAck: 0, unknownStored: 0,
    remoteDelivered: 0, remoteDuringDnsDown: 0, remoteMissing: [], remoteCorrupt: [], remoteCopies: x.sink.received.length,
    pendingAtEnd: x.pendingAtEnd,
    reads: { imap: { sessions: 0, reads: 0, no: 0, errors: 0 }, pop3: { sessions: 0, reads: 0, no: 0, errors: 0 } },
    servedCorrupt: [], readerErrors: [],
    events: {},
    flippedBlobs: x.flipped.size, flippedStillStored: 0, flippedWithoutEvent: [],
    scrub: x.scrub,
    integrityStatus: x.integrityStatus,
    memory: x.memory,
    leftoverTempFiles: leftoverTempFiles(inst.dataDir),
    dnsQueries: x.dnsQueries,
  };
  for (const f of x.faults) if (f.exercised) r.faultsByKind[f.kind]++;
  const dnsDown = x.faults.filter((f) => f.kind === 'dns-down');
  // Remote mail acknowledged while the resolver was away that reached the sink only after it came
  // back: its delivery had to wait for DNS (a route still cached would have gone out at once).
  const sinkAt = new Map<string, number>();
  for (const m of x.sink.received) {
    const mid = messageIdOf(m.data);
    if (mid && m.at !== undefined) sinkAt.set(mid, Math.min(sinkAt.get(mid) ?? Infinity, m.at));
  }
  r.remoteDuringDnsDown = ledger.acks.filter(
    (a) => a.remote.length > 0 && dnsDown.some((f) => a.at >= f.at && a.at <= f.at + f.ms && (sinkAt.get(a.id) ?? Infinity) > f.at + f.ms),
  ).length;
  for (const rd of x.readers) {
    r.reads[rd.proto] = { sessions: rd.counts.session, reads: rd.counts.read, no: rd.counts.no, errors: rd.counts.error };
    for (const m of rd.reads) {
      const a = m.mid ? ledger.attempts.get(m.mid) : undefined;
      if (!a || a.digest !== m.sha) r.servedCorrupt.push(`${rd.proto} served ${m.mid ?? '(no Message-ID)'} with digest ${m.sha.slice(0, 12)}`);
    }
    r.readerErrors.push(...rd.errors.slice(0, 20).map((e) => `${rd.proto}: ${e}`));
  }

  const store = await openStore({ backend: 'sqlite', dataDir: inst.dataDir });
  try {
    // What each mailbox holds: "address|message-id" -> copies.
    const stored = new Map<string, { digest: string; queueId: string | null }[]>();
    for (const name of Object.keys(USERS)) {
      const address = `${name}@${DOMAIN}`;
      const acct = (await store.meta.directory.getAccount(address))!;
      const inbox = (await store.meta.mailboxes.getFolder(acct.id, 'INBOX'))!;
      for (const m of await store.meta.mailboxes.listMessages(inbox.id)) {
        let bytes: Buffer;
        try {
          bytes = Buffer.from(await store.blobs.get(m.blobId));
        } catch (e) {
          r.unreadable.push(`${address} uid ${m.uid} blob ${m.blobId}: ${(e as Error).message}`);
          continue;
        }
        const { body, queueId } = withoutOwnReceived(bytes);
        const mid = messageIdOf(body) ?? `(none:${m.blobId})`;
        const key = `${address}|${mid}`;
        const copies = stored.get(key) ?? [];
        copies.push({ digest: sha256(body), queueId });
        stored.set(key, copies);
      }
    }
    const acked = new Set<string>();
    for (const a of ledger.acks) {
      for (const rcpt of a.local) {
        const key = `${rcpt}|${a.id}`;
        acked.add(key);
        r.expected++;
        const copies = stored.get(key) ?? [];
        if (copies.length === 0) {
          r.missing.push(`${a.id} (queue id ${a.queueId}) for ${rcpt}`);
          continue;
        }
        r.found++;
        if (copies.some((c) => c.digest !== a.digest)) r.corrupt.push(`${a.id} for ${rcpt}`);
        if (copies.some((c) => c.queueId !== a.queueId)) r.wrongQueueId.push(`${a.id} for ${rcpt}: acked as ${a.queueId}, stored as ${copies.map((c) => c.queueId).join(',')}`);
      }
    }
    for (const [key, copies] of stored) {
      if (copies.length > 1) r.duplicates.push(`${key} x${copies.length}`);
      if (acked.has(key)) continue;
      const mid = key.slice(key.indexOf('|') + 1);
      const attempt = ledger.attempts.get(mid);
      // Stored but never acknowledged: the 250 was lost with a killed server. It must still be intact.
      if (!attempt) r.unknownStored++;
      else {
        r.storedWithoutAck++;
        if (copies.some((c) => c.digest !== attempt.digest)) r.corrupt.push(`${key} (unacknowledged)`);
      }
    }

    // Remote: at least once, intact after the headers postern adds (Received, DKIM-Signature).
    const byMid = new Map<string, Buffer[]>();
    for (const m of x.sink.received) {
      const mid = messageIdOf(m.data);
      if (mid) byMid.set(mid, [...(byMid.get(mid) ?? []), m.data]);
    }
    for (const a of ledger.acks.filter((y) => y.remote.length > 0)) {
      const got = byMid.get(a.id) ?? [];
      if (got.length === 0) r.remoteMissing.push(`${a.id} (queue id ${a.queueId})`);
      else {
        r.remoteDelivered++;
        if (!got.some((d) => d.length >= a.length && sha256(d.subarray(d.length - a.length)) === a.digest)) r.remoteCorrupt.push(a.id);
      }
    }

    if (r.pendingAtEnd !== 0) r.pendingAtEnd = (await store.meta.queue.listPending(100_000)).length;
    const events = await store.meta.events.list(undefined, 1_000_000);
    for (const e of events) r.events[e.kind] = (r.events[e.kind] ?? 0) + 1;
    const corrected = new Set(events.filter((e) => e.kind === 'integrity.corrected').map((e) => e.subject));
    const present = new Set(blobFiles(inst.dataDir).map((b) => b.id));
    for (const id of x.flipped) {
      if (!present.has(id)) continue; // deleted with its message: nothing left to repair
      r.flippedStillStored++;
      if (!corrected.has(`blob:${id}`)) r.flippedWithoutEvent.push(id);
    }
  } finally {
    await store.close();
  }
  return r;
}

/** The figures, for people. */
export function formatReport(r: SoakReport): string {
  const kinds = Object.entries(r.faultsByKind).map(([k, n]) => `${k} ${n}`).join(', ');
  const events = Object.entries(r.events).sort().map(([k, n]) => `${k} ${n}`).join(', ');
  const recorded = Object.entries(FAULT_EVENTS).map(([k, e]) => `${k}: ${e ?? 'NO EVENT RECORDED TODAY'}`).join('; ');
  return [
    `soak figures (seed ${r.seed}, disk-full ${r.tmpfs ? 'on tmpfs' : 'NOT exercised'})`,
    `  attempts ${r.attempts}, acknowledged ${r.acknowledged} (${r.acknowledgedRemote} also to the remote domain)`,
    `  replies ${JSON.stringify(r.replies)}; while the disk was full ${JSON.stringify(r.diskFullReplies)}`,
    `  faults by kind: ${kinds}; server starts ${r.serverStarts}; crashes ${r.crashes.length}`,
    `  local copies expected ${r.expected}, found ${r.found}, missing ${r.missing.length}, duplicates ${r.duplicates.length}, corrupt ${r.corrupt.length}, unreadable ${r.unreadable.length}`,
    `  stored without an acknowledgement (250 lost to SIGKILL) ${r.storedWithoutAck}, unknown ${r.unknownStored}`,
    `  remote: delivered ${r.remoteDelivered}/${r.acknowledgedRemote} (${r.remoteDuringDnsDown} acknowledged while DNS was down and delivered after it came back), copies at the sink ${r.remoteCopies}, corrupt ${r.remoteCorrupt.length}; DNS queries ${r.dnsQueries}`,
    `  readers: imap ${JSON.stringify(r.reads.imap)}, pop3 ${JSON.stringify(r.reads.pop3)}, served corrupt ${r.servedCorrupt.length}`,
    `  queue at the end ${r.pendingAtEnd}; blob temp files left ${r.leftoverTempFiles}`,
    `  postern RSS: peak ${r.memory.peakRssKiB >> 10} MiB, last ${r.memory.lastRssKiB >> 10} MiB (${r.memory.samples} samples)`,
    `  bits flipped in ${r.flippedBlobs} blobs (${r.flippedStillStored} still stored), without an integrity.corrected event: ${r.flippedWithoutEvent.length}`,
    `  events: ${events}`,
    `  postern scrub --status --json: ${JSON.stringify(r.integrityStatus)}`,
    `  fault -> event: ${recorded}`,
    ...r.crashes.map((c) => `  CRASH at ${new Date(c.at).toISOString()} code ${c.code} signal ${c.signal}: ${c.stderr.slice(-800)}`),
    ...r.readerErrors.slice(0, 8).map((e) => `  reader error (expected around kills): ${e}`),
    ...(r.leftoverTempFiles > 0 ? [`  NOTE: ${r.leftoverTempFiles} .tmp-* file(s) left in the blob store by failed writes (space never given back)`] : []),
  ].join('\n');
}
