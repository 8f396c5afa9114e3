/**
 * Builds a real store (SQLite + blobs in a temp folder), a spool, an
 * in-memory DNS zone and the outbound agent, and helps tests queue messages
 * and inspect the result. Local domain: ours.test with alice@ours.test.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openStore, type Store, type QueueRecipient } from '../../../src/store/index.js';
import type { QueueRepo } from '../../../src/store/types.js';
import { Spool } from '../../../src/queue/spool.js';
import { ManualClock, systemClock, type Clock } from '../../../src/core/clock.js';
import { newQueueId } from '../../../src/core/ids.js';
import { Directory } from '../../../src/directory/directory.js';
import { MemoryResolver, type ZoneEntry } from '../../../src/net/dns/memory.js';
import type { DnsResolver } from '../../../src/net/dns/types.js';
import { silentLogger } from '../../../src/metrics/logger.js';
import { TlsPolicyMap, TlsPolicyResolver, StsResolver, MemoryStsCache, type StsFetcher, type TlsLevel } from '../../../src/policy/tls/index.js';
import type { DkimSigner } from '../../../src/policy/dkim/index.js';
import { OutboundDelivery, directoryBounceRouter, type OutboundOptions, type RelayOptions } from '../../../src/delivery/outbound/index.js';

export interface HarnessOptions {
  zone?: Record<string, ZoneEntry>;
  resolver?: DnsResolver;
  port: number;
  policies?: Record<string, string>;
  defaultLevel?: TlsLevel;
  extraCa?: string[];
  clock?: Clock;
  relay?: RelayOptions;
  /** MTA-STS policy fetcher, built over the harness's resolver. */
  sts?: (resolver: DnsResolver) => StsFetcher;
  signer?: DkimSigner;
  options?: Partial<OutboundOptions>;
  dir?: string;
  /** Wraps the queue the agent sees (a test injects store failures). */
  wrapQueue?: (q: QueueRepo) => QueueRepo;
}

export interface Harness {
  store: Store;
  spool: Spool;
  dns: MemoryResolver;
  agent: OutboundDelivery;
  clock: Clock;
  dir: string;
  enqueue(m: { sender?: string; to: string[]; body: string; meta?: Record<string, unknown>; source?: 'mx' | 'submission' | 'local' }): Promise<string>;
  recipients(queueId: string): Promise<QueueRecipient[]>;
  /** Another agent over the same store and DNS, as a second node would run. */
  anotherAgent(options?: Partial<OutboundOptions>): OutboundDelivery;
  close(): Promise<void>;
}

export const TEST_OPTIONS: OutboundOptions = {
  heloName: 'mail.ours.test',
  port: 25,
  maxConnections: 10,
  perDestination: 4,
  batch: 50,
  leaseMs: 60_000,
  pollMs: 50,
  retryMinMs: 1000,
  retryMaxMs: 4000,
  maxLifetimeMs: 86_400_000,
  // Upper bounds only: generous so a loaded CI machine does not turn into deferrals.
  connectTimeoutMs: 20_000,
  commandTimeoutMs: 20_000,
  dataTimeoutMs: 20_000,
};

export async function makeHarness(o: HarnessOptions): Promise<Harness> {
  const dir = o.dir ?? mkdtempSync(path.join(tmpdir(), 'postern-out-'));
  const store = await openStore({ backend: 'sqlite', dataDir: path.join(dir, 'data') });
  const clock = o.clock ?? systemClock;
  if (!(await store.meta.directory.hasDomain('ours.test'))) {
    await store.meta.directory.addDomain('ours.test', clock.now());
    await store.meta.directory.addAccount({ address: 'alice@ours.test', passwordHash: '$scrypt$unused' }, clock.now());
  }
  const spool = new Spool(store.blobs, store.meta.queue, clock);
  const dns = new MemoryResolver(o.zone ?? {});
  const resolver = o.resolver ?? dns;
  const sts = o.sts ? new StsResolver(resolver, o.sts(resolver), new MemoryStsCache(), clock) : null;
  const policies = new TlsPolicyResolver(new TlsPolicyMap(o.policies ?? {}, o.defaultLevel ?? 'may'), resolver, sts);
  const newAgent = (extra: Partial<OutboundOptions> = {}) =>
    new OutboundDelivery(
      {
        queue: o.wrapQueue ? o.wrapQueue(store.meta.queue) : store.meta.queue,
        blobs: store.blobs,
        events: store.meta.events,
        spool,
        clock,
        log: silentLogger(),
        resolver,
        policies,
        signer: o.signer ?? null,
        routeBounce: directoryBounceRouter(new Directory(store.meta.directory)),
      },
      { ...TEST_OPTIONS, port: o.port, ...(o.extraCa ? { extraCa: o.extraCa } : {}), ...(o.relay ? { relay: o.relay } : {}), ...o.options, ...extra },
    );
  const agent = newAgent();

  return {
    store,
    spool,
    dns,
    agent,
    clock,
    dir,
    async enqueue(m) {
      const queueId = newQueueId(clock.now());
      await spool.accept({
        queueId,
        data: Buffer.from(m.body),
        sender: m.sender ?? 'alice@ours.test',
        recipients: m.to.map((address) => ({ address, transport: 'remote' as const })),
        source: m.source ?? 'submission',
        clientAddress: '127.0.0.1',
        authUser: 'alice@ours.test',
        meta: m.meta ?? {},
      });
      return queueId;
    },
    recipients: (id) => store.meta.queue.listRecipients(id),
    anotherAgent: (extra) => newAgent(extra),
    async close() {
      await agent.stop();
      await store.close();
      if (!o.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function message(marker: string, extra = ''): string {
  return `From: Alice <alice@ours.test>\r\nTo: <bob@dest.test>\r\nSubject: test ${marker}\r\nMessage-ID: <${marker}@ours.test>\r\nDate: Thu, 2 Jan 2025 03:04:05 +0000\r\n${extra}\r\nHello Bob,\r\n\r\nthe marker is ${marker}.\r\n.leading dot line\r\n`;
}

export { ManualClock };
