import type { MetaStore, Store } from '../../types.js';
import { openPool, type PgOptions, type Pool } from './db.js';
import { PgAudit } from './audit.js';
import { PgCertificates } from './certificates.js';
import { PgFactors } from './factors.js';
import { PgSieve } from './sieve.js';
import { PgUrlauthKeys } from './urlauth-keys.js';
import { PgBlobStore } from './blobs.js';
import { PgDirectory } from './directory.js';
import { PgDmarcReports } from './dmarc.js';
import { PgEvents } from './events.js';
import { PgIntegrity } from './integrity.js';
import { PgMailboxes } from './mailboxes.js';
import { PgQueue } from './queue.js';
import { PgQuarantine, PgVerdicts } from './quarantine.js';
import { PgDeliveryTimes } from './delivery-times.js';

export type { PgOptions } from './db.js';
export { PgBlobStore } from './blobs.js';

/** The metadata store over one pg.Pool; several nodes each open their own on the same database. */
export class PgMetaStore implements MetaStore {
  readonly directory: PgDirectory;
  readonly queue: PgQueue;
  readonly quarantine: PgQuarantine;
  readonly verdicts: PgVerdicts;
  readonly deliveryTimes: PgDeliveryTimes;
  readonly mailboxes: PgMailboxes;
  readonly events: PgEvents;
  readonly integrity: PgIntegrity;
  readonly dmarcReports: PgDmarcReports;
  readonly audit: PgAudit;
  readonly certificates: PgCertificates;
  readonly factors: PgFactors;
  readonly sieve: PgSieve;
  readonly urlauthKeys: PgUrlauthKeys;
  private closed = false;

  constructor(readonly pool: Pool) {
    this.directory = new PgDirectory(pool);
    this.queue = new PgQueue(pool);
    this.quarantine = new PgQuarantine(pool);
    this.verdicts = new PgVerdicts(pool);
    this.deliveryTimes = new PgDeliveryTimes(pool);
    this.mailboxes = new PgMailboxes(pool);
    this.events = new PgEvents(pool);
    this.integrity = new PgIntegrity(pool);
    this.dmarcReports = new PgDmarcReports(pool);
    this.audit = new PgAudit(pool);
    this.certificates = new PgCertificates(pool);
    this.factors = new PgFactors(pool);
    this.sieve = new PgSieve(pool);
    this.urlauthKeys = new PgUrlauthKeys(pool);
  }

  /** Connects, and creates or upgrades the schema (safe when several nodes start at once). */
  static async open(opts: PgOptions): Promise<PgMetaStore> {
    return new PgMetaStore(await openPool(opts));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue.drain();
    await this.pool.end();
  }
}

/** Metadata and blobs in one PostgreSQL database, over one pool. */
export async function openPgStore(opts: PgOptions): Promise<Store> {
  const meta = await PgMetaStore.open(opts);
  const blobs = new PgBlobStore(meta.pool);
  return {
    meta,
    blobs,
    async close() {
      await blobs.close();
      await meta.close();
    },
  };
}
