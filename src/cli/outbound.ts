/**
 * Builds the outbound delivery agent from the configuration: DNS resolver,
 * TLS policies (with the MTA-STS cache under the data folder), DKIM keys,
 * relay and bounce routing.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/index.js';
import { durationSeconds } from '../config/schema.js';
import type { Clock } from '../core/clock.js';
import type { Directory } from '../directory/directory.js';
import type { Logger } from '../metrics/logger.js';
import { WireResolver } from '../net/dns/wire.js';
import { TlsPolicyMap, TlsPolicyResolver, StsResolver, FileStsCache, httpsStsFetcher, weakRelayRoutes } from '../policy/tls/index.js';
import { DkimKeyDir, DkimSigner } from '../policy/dkim/index.js';
import type { Spool } from '../queue/spool.js';
import type { Store } from '../store/index.js';
import { OutboundDelivery, TlsReportSender, directoryBounceRouter, type RelayOptions } from '../delivery/outbound/index.js';

export function createOutbound(config: Config, store: Store, spool: Spool, directory: Directory, clock: Clock, log: Logger): OutboundDelivery {
  const d = config.delivery;
  const resolver = new WireResolver({ ...(d.resolver ? { server: d.resolver } : {}), timeoutMs: d.resolver_timeout * 1000 });
  const extraCa = d.tls_ca_file ? [readFileSync(d.tls_ca_file, 'utf8')] : [];
  const sts = new StsResolver(resolver, httpsStsFetcher({ resolver, extraCa }), new FileStsCache(path.join(config.server.data_dir, 'mta-sts-cache.json')), clock);
  const policies = new TlsPolicyResolver(new TlsPolicyMap(d.tls_policy, d.tls_default), resolver, sts);
  const r = d.relay;
  const relay: RelayOptions | null = r
    ? {
        host: r.host,
        port: r.port,
        level: r.level,
        domains: r.domains,
        ...(r.cert && r.key ? { clientCert: { cert: readFileSync(r.cert), key: readFileSync(r.key) } } : {}),
        ...(r.ca_file ? { extraCa: [readFileSync(r.ca_file, 'utf8')] } : {}),
      }
    : null;
  // Mail for these waits unless the relay meets the destination's policy: say so at start, not in the queue.
  for (const w of weakRelayRoutes(d)) {
    log.warn({ ...w }, `relay ${w.relay} (level ${w.relayLevel}) is weaker than the TLS policy of ${w.destination} (${w.destinationLevel}): that mail is sent to it only with ${w.required}`);
  }
  const q = config.queue;
  const s = (x: number) => x * 1000;
  const timeouts = {
    connectTimeoutMs: s(d.connect_timeout),
    commandTimeoutMs: s(d.command_timeout),
    dataTimeoutMs: s(d.data_timeout),
    greetingTimeoutMs: s(d.greeting_timeout),
    mailTimeoutMs: s(d.mail_timeout),
    rcptTimeoutMs: s(d.rcpt_timeout),
    dataInitTimeoutMs: s(d.data_init_timeout),
    dataBlockTimeoutMs: s(d.data_block_timeout),
  };
  // A lease covers a whole one-recipient transaction whose every step takes its full deadline; the
  // agent renews it while a longer one (many recipients, a large message) still makes progress.
  const t = timeouts;
  const leaseMs =
    t.connectTimeoutMs + t.greetingTimeoutMs + 4 * t.commandTimeoutMs + t.mailTimeoutMs + t.rcptTimeoutMs + t.dataInitTimeoutMs + t.dataBlockTimeoutMs + t.dataTimeoutMs;
  return new OutboundDelivery(
    {
      queue: store.meta.queue,
      blobs: store.blobs,
      events: store.meta.events,
      spool,
      clock,
      log,
      resolver,
      policies,
      signer: new DkimSigner(
        new DkimKeyDir(config.dkim.key_dir, config.dkim.selector, clock),
        () => clock.now(),
        config.policy.auth.enabled ? config.policy.authserv_id || config.server.hostname : null,
      ),
      routeBounce: directoryBounceRouter(directory),
    },
    {
      heloName: config.server.hostname,
      port: d.port,
      maxConnections: d.max_connections,
      perDestination: d.per_destination,
      batch: Math.max(64, d.max_connections * 2),
      leaseMs,
      pollMs: 1000,
      retryMinMs: q.retry_min * 1000,
      retryMaxMs: q.retry_max * 1000,
      maxLifetimeMs: q.max_lifetime * 1000,
      delayWarningMs: (durationSeconds(d.delay_warning) ?? 0) * 1000,
      ...timeouts,
      extraCa,
      relay,
    },
  );
}

/** The TLS-RPT report sender of `[delivery] tlsrpt_mail`, for the server's daily timer and `postern tlsrpt --send`. */
export function createTlsReportSender(config: Config, store: Store, spool: Spool, directory: Directory, clock: Clock, log: Logger): TlsReportSender {
  const d = config.delivery;
  const resolver = new WireResolver({ ...(d.resolver ? { server: d.resolver } : {}), timeoutMs: d.resolver_timeout * 1000 });
  return new TlsReportSender(
    { events: store.meta.events, resolver, spool, directory, clock, log },
    {
      hostname: config.server.hostname,
      ...(d.tlsrpt_from ? { from: d.tlsrpt_from } : {}),
      extraCa: d.tls_ca_file ? [readFileSync(d.tls_ca_file, 'utf8')] : [],
    },
  );
}
