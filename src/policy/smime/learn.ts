/**
 * Learning a correspondent's certificate from a valid signature (source
 * 'learned' in store.meta.certificates), so mail to them can be encrypted
 * later. Addresses of our own domains are never learned from mail: our users'
 * certificates are imported or issued, and a message must not be able to add
 * a key that their mail would then be encrypted to. A certificate already
 * kept from another source keeps that source.
 */
import { createHash, X509Certificate } from 'node:crypto';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../metrics/logger.js';
import type { Store } from '../../store/types.js';

export function learnCertificate(store: Pick<Store, 'meta'>, clock: Clock, log: Logger, localDomains: () => ReadonlySet<string>) {
  return async (address: string, der: Uint8Array): Promise<void> => {
    const domain = address.slice(address.lastIndexOf('@') + 1).toLowerCase();
    if (localDomains().has(domain)) return;
    try {
      const x = new X509Certificate(der);
      const fingerprint = createHash('sha256').update(der).digest('hex');
      const repo = store.meta.certificates;
      if ((await repo.list(address)).some((c) => c.fingerprint === fingerprint && c.source !== 'learned')) return;
      await repo.put({ address, der, fingerprint, source: 'learned', notBefore: Date.parse(x.validFrom), notAfter: Date.parse(x.validTo) }, clock.now());
    } catch (e) {
      log.warn({ reason: e instanceof Error ? e.message : String(e) }, 'S/MIME: a signer certificate could not be kept');
    }
  };
}
