/**
 * The admin HTTPS listener: node:https under Hono, with the certificate,
 * key and minimum version of [tls], client certificates requested only when
 * [admin] client_ca is set (and then checked per request, never required for
 * the handshake), plus the optional plain-HTTP redirect listener.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SecureContextOptions } from 'node:tls';
import { createAdaptorServer } from '@hono/node-server';
import type { Clock } from '../core/clock.js';
import { PosternError } from '../core/errors.js';
import type { Logger } from '../metrics/logger.js';
import type { PosternMetrics } from '../metrics/prometheus.js';
import type { MaintenanceSchedule } from '../store/maintenance.js';
import type { MtaStsSettings } from '../crypto/mta-sts-policy.js';
import type { MetaStore } from '../store/types.js';
import { loadToken, type AccessRules } from './access.js';
import { createAdminApp, type ListenerInfo } from './app.js';
import { registerStatusGauges } from './gauges.js';
import { ADMIN_LIMITS, applyHttpLimits } from './limits.js';
import { createRedirectServer } from './redirect.js';
import { StatusSource } from './status.js';
import type { ConsoleDeps } from './console/index.js';

export interface AdminOptions {
  readonly address: string;
  /** After the port offset; 0 picks a free port. */
  readonly port: number;
  readonly redirectPort?: number;
  readonly tokenFile?: string;
  readonly clientCa?: string;
  /** Server certificate and key ([tls], loadTlsOptions). */
  readonly tls: SecureContextOptions;
  /** Host name used in redirects when the request's Host is unusable, and the one client configuration points at. */
  readonly hostname: string;
  /** The MTA-STS policy to serve as mta-sts.<local domain>; null or absent: none. */
  readonly mtaSts?: MtaStsSettings | null;
  /** The pki/ folder whose ca.pem and crl.pem are published; absent: none. */
  readonly pkiDir?: string;
}

export interface AdminDeps {
  readonly metrics: PosternMetrics;
  readonly meta: Pick<MetaStore, 'queue' | 'events' | 'deliveryTimes' | 'integrity'>;
  readonly node: string;
  readonly listeners: () => readonly ListenerInfo[];
  readonly clock: Clock;
  readonly log: Logger;
  readonly schedule?: MaintenanceSchedule;
  /** Whether a domain is one of ours: the public routes answer only for those. Absent: no public routes. */
  readonly isLocalDomain?: (domain: string) => Promise<boolean>;
  /** The web console; absent: /console is not served. Host name, origins, clock and log come from here. */
  readonly console?: Omit<ConsoleDeps, 'rpId' | 'origins' | 'clock' | 'log'>;
}

export interface AdminListener {
  readonly port: number;
  readonly redirectPort: number | null;
  close(): Promise<void>;
}

function packageVersion(): string {
  try {
    return String((createRequire(import.meta.url)('../../package.json') as { version?: unknown }).version ?? 'unknown');
  } catch {
    return 'unknown';
  }
}

function readCa(file: string): Buffer {
  try {
    const pem = readFileSync(file);
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new Error('no PEM certificate in it');
    return pem;
  } catch (e) {
    throw new PosternError('CONFIG_INVALID', `admin.client_ca: cannot use ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function listen(server: Server | HttpsServer, port: number, address: string, key: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => reject(new PosternError('CONFIG_INVALID', `${key}: cannot listen on ${address}:${port}: ${e.code ?? e.message}`));
    server.once('error', onError);
    server.listen(port, address, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: Server | HttpsServer): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** The token and client CA files, read and checked; a config error names the key. Call it before anything is recorded. */
export interface AdminFiles {
  readonly token: ReturnType<typeof loadToken> | null;
  readonly ca: Buffer | null;
}

export function loadAdminFiles(opts: Pick<AdminOptions, 'tokenFile' | 'clientCa'>): AdminFiles {
  return { token: opts.tokenFile ? loadToken(opts.tokenFile) : null, ca: opts.clientCa ? readCa(opts.clientCa) : null };
}

export async function startAdminListener(opts: AdminOptions, deps: AdminDeps, files: AdminFiles = loadAdminFiles(opts)): Promise<AdminListener> {
  const { token, ca } = files;
  if (token?.groupOrWorldReadable) deps.log.warn({ file: opts.tokenFile }, 'admin.metrics_token_file can be read by other users; chmod 600 it');
  const access: AccessRules = { tokenDigest: token?.digest ?? null, clientCa: ca !== null };
  if (!token && !ca) deps.log.warn('admin: neither metrics_token_file nor client_ca is set; /metrics and /api/v1 answer 403');

  const status = new StatusSource(deps.meta, deps.clock, { ttlMs: 5000, ...(deps.schedule ? { schedule: deps.schedule } : {}) });
  const gauges = registerStatusGauges(deps.metrics.registry, status, deps.node, deps.log);
  let port = 0;
  // Browsers send the port in Origin; a proxy on 443 in front of the listener makes it the bare host name.
  const origins = () => [`https://${opts.hostname}:${port}`, `https://${opts.hostname}`];
  const app = createAdminApp({
    metrics: deps.metrics,
    status,
    events: deps.meta.events,
    deliveryTimes: deps.meta.deliveryTimes,
    access,
    node: deps.node,
    version: packageVersion(),
    listeners: deps.listeners,
    clock: deps.clock,
    log: deps.log,
    ...(deps.isLocalDomain
      ? { public: { hostname: opts.hostname, isLocalDomain: deps.isLocalDomain, mtaSts: opts.mtaSts ?? null, pkiDir: opts.pkiDir ?? null } }
      : {}),
    ...(deps.console
      ? { console: { ...deps.console, rpId: opts.hostname, origins, clock: deps.clock, log: deps.log.child({ part: 'console' }) } }
      : {}),
  });

  const https = createAdaptorServer({
    fetch: app.fetch,
    createServer: createHttpsServer,
    serverOptions: {
      ...opts.tls,
      ...(ca ? { ca, requestCert: true, rejectUnauthorized: false } : {}),
      handshakeTimeout: ADMIN_LIMITS.handshakeTimeoutMs,
      maxHeaderSize: ADMIN_LIMITS.maxHeaderBytes,
      connectionsCheckingInterval: ADMIN_LIMITS.checkIntervalMs,
    },
  }) as HttpsServer;
  applyHttpLimits(https);
  https.on('tlsClientError', (err: Error) => deps.log.debug({ err: err.message }, 'admin: TLS handshake failed'));

  let redirect: Server | null = null;
  let redirectPort: number | null = null;
  try {
    port = await listen(https, opts.port, opts.address, 'admin.port');
    if (opts.redirectPort !== undefined) {
      redirect = createRedirectServer(opts.hostname, () => port);
      redirectPort = await listen(redirect, opts.redirectPort, opts.address, 'admin.redirect_port');
    }
  } catch (e) {
    gauges.remove();
    await closeServer(https);
    throw e;
  }
  return {
    port,
    redirectPort,
    async close() {
      await Promise.all([closeServer(https), redirect ? closeServer(redirect) : Promise.resolve()]);
      gauges.remove();
    },
  };
}
