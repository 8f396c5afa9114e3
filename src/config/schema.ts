/**
 * The configuration schema. TOML keys are snake_case and so are the fields of
 * the parsed Config, so a key in an error message is the key in the file.
 * Every section is optional and filled with defaults; only server.hostname
 * must be given. Cross-field rules run even when other keys are wrong, so one
 * run reports every mistake.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { bool, dnsName, filePath, hostname, int, listenAddress, oneOf, secretString, table } from './values.js';
import { normalizeAddress, normalizeDomain } from '../core/address.js';
import { policySection } from './policy.js';
import { maintenanceSection } from './maintenance.js';
import { metricsSection } from './metrics.js';
import { alertsSection } from './alerts.js';
import { probeSection } from './probe.js';
import { adminSection } from './admin.js';
import { reportSection } from './report.js';
import { encryptionAtRestSection } from './encryption-at-rest.js';
import { mtaStsSection, pkiSection } from './public-https.js';
import { postureSection } from './posture.js';

const MAX_PORT = 65535;
const MAX_OFFSET = 50_000;
const DAY = 86_400;

function listenerShape(port: number) {
  return {
    enabled: bool().default(true),
    address: listenAddress().default('0.0.0.0'),
    port: int(1, MAX_PORT).default(port),
  };
}

const listener = (port: number) => table(listenerShape(port)).prefault({});

/**
 * IMAP and POP3: a STARTTLS port and an implicit-TLS port on one address, and
 * the session limits. The idle timeout may not go below what the protocol's
 * RFC promises clients (IMAP 30 minutes, POP3 10 minutes).
 */
const listenerWithTls = (port: number, tlsPort: number, limits: { connections: number; perClient: number; idleMin: number; login: number }) => ({
  ...listenerShape(port),
  tls_port: int(1, MAX_PORT).default(tlsPort),
  max_connections: int(1, 100_000).default(limits.connections),
  max_connections_per_client: int(1, 100_000).default(limits.perClient),
  idle_timeout: int(limits.idleMin, 86_400).default(limits.idleMin),
  ...slotGuards(limits.login, 10),
});

/**
 * Guards against clients that hold connection slots without using them
 * (slowloris, idle floods): the same keys in [smtp], [imap], [pop3] and [managesieve].
 */
const slotGuards = (loginTimeout: number, pendingPerClient: number) => ({
  // Connections from one address that have not logged in yet (mx: not started a transaction).
  max_pending_per_client: int(1, 100_000).default(pendingPerClient),
  // Percent of max_connections kept for addresses holding fewer than 2 connections or that logged in before.
  reserved_percent: int(0, 90).default(10),
  // Seconds from connect to a successful login (mx: to MAIL FROM), however busy the client looks.
  login_timeout: int(1, 3600).default(loginTimeout),
  // Seconds a command line may take from its first byte to its end; also how long a client may leave output unread.
  command_timeout: int(1, 3600).default(60),
});

// Bytes per second a message (DATA) or literal must average once command_timeout has passed.
const minTransferRate = () => int(1, 1024 ** 3).default(1024);

export function configSchema(baseDir: string) {
  return table({
    server: table({
      hostname: hostname(true),
      data_dir: filePath(baseDir).prefault('data'),
      port_offset: int(0, MAX_OFFSET).default(0),
      // Seconds between heartbeats; after a crash, downtime is measured from the last one.
      heartbeat_interval: int(1, 3600).default(30),
      // Deliberately incomplete: a missing [server] reports "server.hostname: is required".
    }).prefault({} as { hostname: string }),

    store: table({
      backend: oneOf(['sqlite', 'postgres']).default('sqlite'),
      url: secretString().default(''),
      // MiB of recently written and read message bytes kept in memory (0: none).
      read_cache_mb: int(0, 65536).default(64),
      // KiB: a message up to this size is kept inside the SQLite database rather than as a file (0: every one a file).
      inline_blob_kb: int(0, 1024).default(32),
    })
      .superRefine((s, ctx) => {
        if (s.backend !== 'postgres' || typeof s.url !== 'string') return;
        // The URL may carry a password: it is never echoed back.
        if (s.url === '') {
          ctx.addIssue({ code: 'custom', path: ['url'], message: 'is required when backend = "postgres" (postgres://user:password@host/db)' });
        } else if (!/^postgres(ql)?:\/\/./.test(s.url)) {
          ctx.addIssue({ code: 'custom', path: ['url'], message: 'expected a postgres:// or postgresql:// URL' });
        }
      })
      .prefault({}),

    tls: table({
      cert: filePath(baseDir).prefault('tls/cert.pem'),
      key: filePath(baseDir).prefault('tls/key.pem'),
      min_version: oneOf(['TLSv1.2', 'TLSv1.3']).default('TLSv1.2'),
    }).prefault({}),

    dkim: table({
      selector: dnsName().default('postern'),
      key_dir: filePath(baseDir).prefault('dkim'),
    }).prefault({}),

    smtp: table({
      max_message_size: int(1024, 1024 ** 3).default(25 * 1024 * 1024),
      max_recipients: int(1, 10_000).default(100),
      max_connections: int(1, 100_000).default(500),
      max_connections_per_client: int(1, 100_000).default(20),
      bare_newline: oneOf(['reject', 'normalize']).default('reject'),
      socket_timeout: int(1, 3600).default(300),
      // A sending MTA opens up to 20 sessions at once (Postfix's default), all pending at first.
      ...slotGuards(300, 20),
      min_transfer_rate: minTransferRate(),
      // Milliseconds mx waits before its greeting; a client that talks first is refused (554 5.5.1). 0: greet at once.
      greet_pause_ms: int(0, 30_000).default(0),
      mx: listener(25),
      submission: listener(587),
      submissions: listener(465),
    })
      .superRefine(
        (s, ctx) => {
          const all = s.max_connections;
          const one = s.max_connections_per_client;
          if (typeof all === 'number' && typeof one === 'number' && one > all) {
            ctx.addIssue({ code: 'custom', path: ['max_connections_per_client'], message: `${one} exceeds smtp.max_connections (${all})` });
          }
        },
        { when: () => true },
      )
      .prefault({}),

    imap: table({ ...listenerWithTls(143, 993, { connections: 10_000, perClient: 100, idleMin: 1800, login: 60 }), min_transfer_rate: minTransferRate() }).prefault({}),
    pop3: table(listenerWithTls(110, 995, { connections: 500, perClient: 20, idleMin: 600, login: 120 })).prefault({}),
    // ManageSieve (RFC 5804): users upload and activate their Sieve scripts; STARTTLS only, like the RFC's port 4190.
    managesieve: table({
      ...listenerShape(4190),
      max_connections: int(1, 100_000).default(200),
      max_connections_per_client: int(1, 100_000).default(10),
      idle_timeout: int(60, 86_400).default(1800),
      ...slotGuards(60, 5),
    }).prefault({}),

    // Login throttling: lockout per client address only; per account a growing delay.
    auth: table({
      max_failures: int(1, 1000).default(20), // per client address, across accounts
      window: int(1, DAY).default(300),
      lockout: int(0, 7 * DAY).default(900),
      delay_min: int(0, 3600).default(1),
      delay_max: int(1, 3600).default(30),
      known_sources: int(0, 1000).default(16),
      // Separation of duties: one account may not be both mailadmin and pkiofficer unless this says so.
      allow_pki_and_mail_admin: bool().optional(), // absent = false
    })
      .superRefine(
        (a, ctx) => {
          if (typeof a.delay_min === 'number' && typeof a.delay_max === 'number' && a.delay_max < a.delay_min) {
            ctx.addIssue({ code: 'custom', path: ['delay_max'], message: `${a.delay_max} is less than auth.delay_min (${a.delay_min})` });
          }
        },
        { when: () => true },
      )
      .prefault({}),

    // Who receives the mail of the required addresses (postmaster@, abuse@, the report addresses); "" = the first enabled mailadmin.
    directory: table({
      postmaster: z
        .custom<string>((v) => typeof v === 'string' && (v === '' || normalizeAddress(v) !== null), {
          abort: false,
          error: () => 'expected "" (the first enabled mailadmin) or a local account or alias, e.g. "admin@example.org"',
        })
        .default(''),
    }).prefault({}),

    queue: table({
      retry_min: int(1, DAY).default(60),
      retry_max: int(1, 7 * DAY).default(3600),
      max_lifetime: int(60, 30 * DAY).default(5 * DAY),
    })
      .superRefine(
        (q, ctx) => {
          if (typeof q.retry_min === 'number' && typeof q.retry_max === 'number' && q.retry_max < q.retry_min) {
            ctx.addIssue({ code: 'custom', path: ['retry_max'], message: `${q.retry_max} is less than queue.retry_min (${q.retry_min})` });
          }
        },
        { when: () => true },
      )
      .prefault({}),

    delivery: deliverySection(baseDir),

    integrity: table({
      scrub_interval: int(0, 24 * 365).default(24), // hours between background scrubs; 0 = off
      scrub_rate: int(1, 100_000).default(20), // MB/s the background scrubber may read
      gc_interval: int(0, 24 * 365).default(24), // hours between garbage collections; 0 = off
      events_retention_days: int(0, 100 * 365).default(90), // events older than this are removed; 0 = keep all
    }).prefault({}),

    limits: table({
      // MiB of message data all listeners together may hold in memory while receiving (SMTP DATA, IMAP APPEND).
      memory_budget: int(16, 1024 * 1024).default(512),
    }).prefault({}),

    policy: policySection(baseDir),

    maintenance: maintenanceSection(),

    metrics: metricsSection(),

    alerts: alertsSection(baseDir),
    probe: probeSection(baseDir),
    admin: adminSection(baseDir),
    mta_sts: mtaStsSection(),
    pki: pkiSection(),
    report: reportSection(),
    encryption_at_rest: encryptionAtRestSection(),
    posture: postureSection(),

    log: table({
      level: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    }).prefault({}),
  }).superRefine(
    (c, ctx) => {
      for (const i of listenerIssues(c)) ctx.addIssue({ code: 'custom', ...i });
      for (const i of budgetIssues(c)) ctx.addIssue({ code: 'custom', ...i });
    },
    { when: () => true },
  );
}

type ParsedConfig = z.output<ReturnType<typeof configSchema>>;

export interface ListenerPort {
  /** Key path of the port, e.g. ["imap", "tls_port"]. */
  readonly key: readonly string[];
  readonly address: string;
  /** As configured, before server.port_offset. */
  readonly port: number;
}

/** Every enabled listener port, in config order. */
export function listenerPorts(config: Config): ListenerPort[] {
  return collectListeners(config);
}

const LISTENERS = [['smtp', 'mx'], ['smtp', 'submission'], ['smtp', 'submissions'], ['imap'], ['pop3'], ['managesieve'], ['admin']] as const;

// Takes unknown: the cross-field check also runs on input that failed other checks.
function collectListeners(c: unknown): ListenerPort[] {
  const out: ListenerPort[] = [];
  for (const section of LISTENERS) {
    let l: unknown = c;
    for (const k of section) l = field(l, k);
    if (field(l, 'enabled') !== true) continue;
    const address = field(l, 'address');
    if (typeof address !== 'string') continue;
    for (const k of ['port', 'tls_port', 'redirect_port']) {
      const port = field(l, k);
      if (typeof port === 'number') out.push({ key: [...section, k], address, port });
    }
  }
  return out;
}

function field(v: unknown, k: string): unknown {
  return typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[k] : undefined;
}

/** Whether two listen addresses would collide on one port (Node binds "::" dual-stack). */
function overlaps(a: string, b: string): boolean {
  if (a === b || a === '::' || b === '::') return true;
  return (a === '0.0.0.0' && isIP(b) === 4) || (b === '0.0.0.0' && isIP(a) === 4);
}

/**
 * The offset must not push a port past 65535, and two listeners must not ask
 * for the same port on overlapping addresses: both would fail at bind time,
 * long after the operator read the config.
 */
function listenerIssues(c: unknown): { path: string[]; message: string }[] {
  const o = field(field(c, 'server'), 'port_offset');
  // A wrong offset is reported on its own key; checking sums with it would only add noise.
  const offset = typeof o === 'number' && Number.isInteger(o) && o >= 0 && o <= MAX_OFFSET ? o : 0;
  const issues: { path: string[]; message: string }[] = [];
  const seen: ListenerPort[] = [];
  for (const use of collectListeners(c)) {
    if (use.port + offset > MAX_PORT) {
      issues.push({ path: [...use.key], message: `${use.port} + server.port_offset ${offset} = ${use.port + offset}, above ${MAX_PORT}` });
    }
    const clash = seen.find((s) => s.port === use.port && overlaps(s.address, use.address));
    if (clash) issues.push({ path: [...use.key], message: `port ${use.port} is also used by ${clash.key.join('.')}` });
    seen.push(use);
  }
  return issues;
}

type DeepReadonly<T> = T extends (infer E)[] ? readonly DeepReadonly<E>[] : T extends object ? { readonly [K in keyof T]: DeepReadonly<T[K]> } : T;

/** The validated configuration: absolute paths, defaults filled in, deeply frozen. */
export type Config = DeepReadonly<ParsedConfig>;

/** Outbound TLS levels (the same list as policy/tls, which config may not import). */
export const TLS_POLICY_LEVELS = ['none', 'may', 'encrypt', 'verify', 'dane', 'dane-only', 'mta-sts'] as const;

const isDomainKey = (k: string): boolean => {
  const d = k.startsWith('.') ? k.slice(1) : k;
  return normalizeDomain(d) === d;
};

/** "IP" or "IP:port" or "[IPv6]:port": the address of a DNS resolver. */
const resolverAddress = () =>
  z.custom<string>(
    (v) => {
      if (typeof v !== 'string') return false;
      if (v === '') return true;
      const m = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(v) ?? /^([^:]+)(?::(\d{1,5}))?$/.exec(v) ?? (isIP(v) === 6 ? [v, v, undefined] : null);
      return !!m && isIP(m[1]!) !== 0 && (m[2] === undefined || (Number(m[2]) >= 1 && Number(m[2]) <= MAX_PORT));
    },
    { abort: false, error: (iss) => `expected "" or a resolver address such as "127.0.0.1" or "127.0.0.1:5353", got ${JSON.stringify(iss.input)}` },
  );

const domainList = () =>
  z.custom<string[]>((v) => Array.isArray(v) && v.every((d) => typeof d === 'string' && isDomainKey(d.toLowerCase())), {
    abort: false,
    error: () => 'expected a list of domains, e.g. ["example.org", ".example.org"]',
  });

/**
 * [delivery]: outbound SMTP. TLS policy per destination in
 * [delivery.tls_policy] ("example.org" = "verify"; ".example.org" covers
 * subdomains), an optional smart host in [delivery.relay].
 */
const DURATION_UNITS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** A duration as "30s", "15m", "4h", "2d", or 0 (off); at most 30 days. */
function delayWarning() {
  return z.union([z.string(), z.number()]).superRefine((v, ctx) => {
    if (durationSeconds(v) === null) ctx.addIssue({ code: 'custom', message: 'expected 0 (off) or a duration such as "30m", "4h" or "1d" (at most 30 days)' });
  });
}

/** Seconds of a delay_warning value; null when it is not one. */
export function durationSeconds(v: string | number): number | null {
  if (v === 0 || v === '0') return 0;
  const m = typeof v === 'string' ? /^([1-9][0-9]{0,6})([smhd])$/.exec(v) : null;
  if (!m) return null;
  const secs = Number(m[1]) * DURATION_UNITS[m[2]!]!;
  return secs <= 30 * 86_400 ? secs : null;
}

function deliverySection(baseDir: string) {
  const level = oneOf(TLS_POLICY_LEVELS);
  return table({
    enabled: bool().default(true),
    port: int(1, MAX_PORT).default(25),
    max_connections: int(1, 10_000).default(100),
    per_destination: int(1, 1000).default(10),
    connect_timeout: int(1, 600).default(30),
    command_timeout: int(1, 3600).default(300),
    data_timeout: int(1, 3600).default(600),
    // RFC 5321 4.5.3.2 deadlines, in seconds; data_timeout above is "DATA termination".
    greeting_timeout: int(1, 3600).default(300),
    mail_timeout: int(1, 3600).default(300),
    rcpt_timeout: int(1, 3600).default(300),
    data_init_timeout: int(1, 3600).default(120),
    data_block_timeout: int(1, 3600).default(180),
    // A recipient still deferred this long after arrival gets one delay warning (RFC 3464 Action: delayed); 0 = off.
    delay_warning: delayWarning().default('4h'),
    resolver: resolverAddress().default(''),
    resolver_timeout: int(1, 60).default(5),
    tls_default: level.default('may'),
    tls_ca_file: filePath(baseDir).optional(),
    tlsrpt_dir: filePath(baseDir).prefault('tlsrpt'),
    // Mail (or POST) each day's TLS-RPT reports to the rua of each recipient domain's _smtp._tls record.
    tlsrpt_mail: bool().default(true),
    tlsrpt_from: z
      .custom<string>((v) => typeof v === 'string' && (v === '' || normalizeAddress(v) !== null), { abort: false, error: () => 'expected "" (tls-reports@<server.hostname>) or a mail address' })
      .default(''),
    tls_policy: z
      .record(z.string(), level)
      .superRefine((m, ctx) => {
        for (const k of Object.keys(m)) {
          if (!isDomainKey(k.toLowerCase())) ctx.addIssue({ code: 'custom', path: [k], message: 'expected a domain ("example.org") or a parent (".example.org")' });
        }
      })
      .prefault({}),
    relay: table({
      host: listenAddress(),
      port: int(1, MAX_PORT).default(25),
      level: level.default('verify'),
      domains: domainList().default([]),
      cert: filePath(baseDir).optional(),
      key: filePath(baseDir).optional(),
      ca_file: filePath(baseDir).optional(),
    })
      .superRefine(
        (r, ctx) => {
          if ((r.cert === undefined) !== (r.key === undefined)) ctx.addIssue({ code: 'custom', path: [r.cert === undefined ? 'cert' : 'key'], message: 'cert and key go together (mutual TLS)' });
        },
        { when: () => true },
      )
      .optional(),
  }).prefault({});
}

/**
 * A message of the largest size is held twice for a moment (as received and
 * as stored, Received header first), so a budget below that would refuse it
 * every time.
 */
function budgetIssues(c: unknown): { path: string[]; message: string }[] {
  const mib = field(field(c, 'limits'), 'memory_budget');
  const max = field(field(c, 'smtp'), 'max_message_size');
  if (typeof mib !== 'number' || typeof max !== 'number') return [];
  const need = Math.ceil((2 * max) / 1024 / 1024) + 1;
  return mib >= need ? [] : [{ path: ['limits', 'memory_budget'], message: `${mib} MiB cannot hold one message of smtp.max_message_size (${max} bytes) twice; at least ${need}` }];
}
