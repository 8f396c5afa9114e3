/**
 * Builds the policy pipeline from [policy]: the worker pool, the stages in
 * their order (auth, spoof in-line; attachments, malware, DLP; DMARC reports after the queue), the
 * directory view the detectors read (refreshed once a minute), and the
 * sanitizer that removes Authentication-Results fields claiming our name.
 */
import type { Config } from '../config/index.js';
import type { Clock } from '../core/clock.js';
import type { DnsResolver } from '../net/dns/types.js';
import type { Logger } from '../metrics/logger.js';
import { exemptRequired, PolicyPipeline, type ConfiguredStage, type EventSink, type RequiredAddress } from '../policy/pipeline/index.js';
import { Directory } from '../directory/directory.js';
import { directoryOptions } from '../directory/options.js';
import { normalizeAddress } from '../core/address.js';
import { PolicyPool } from '../policy/pool/index.js';
import { PoolBatch } from '../policy/pool/batch.js';
import { authStage } from '../policy/auth/stage.js';
import { stripForged, VERDICT_FIELDS } from '../policy/auth/index.js';
import { spoofStage } from '../policy/spoof/stage.js';
import type { SpoofContext } from '../policy/spoof/index.js';
import { dmarcReportStage } from '../policy/dmarc-report/stage.js';
import type { Store } from '../store/types.js';
import { ClamdEngine } from '../policy/av/clamav.js';
import type { ScanEngine } from '../policy/av/engine.js';
import { malwareStage } from '../policy/av/stage.js';
import { EngineWatch } from '../policy/av/watch.js';
import type { Direction, Notice } from '../core/verdict.js';
import { attachmentsFromConfig, extractLimits, staticEngines } from '../policy/av/static/index.js';
import { dlpStage } from '../policy/dlp/stage.js';
import { directorySnapshots } from '../policy/dlp/attribution.js';
import { WatchedRules } from '../policy/dlp/rules/index.js';
import { DEFAULT_CONTENT_LIMITS } from '../policy/dlp/extract/index.js';
import type { ContentLimits } from '../policy/dlp/types.js';
import { learnCertificate, readTrustAnchors, smimeStage } from '../policy/smime/index.js';
import { sealedMessage } from '../crypto/smime/index.js';

export interface BuiltPolicy {
  readonly pipeline: PolicyPipeline;
  readonly pool: PolicyPool;
  /** The malware engines [policy.malware] configures (empty when it is off). */
  readonly engines: readonly ScanEngine[];
  close(): Promise<void>;
}

const DIRECTORY_REFRESH_MS = 60_000;

/** The malware engines of [policy.malware]; none when it is off. */
export function malwareEngines(config: Config): ScanEngine[] {
  const m = config.policy.malware;
  if (!m.enabled || !m.clamav) return [];
  const c = m.clamav;
  return [new ClamdEngine({ ...(c.socket ? { socket: c.socket } : { host: c.host, port: c.port }), maxConnections: c.max_connections, timeoutMs: c.timeout_ms })];
}

/**
 * The engines of [policy.malware] for a command that runs beside the server
 * (`av status`, `av rescan`): clamd, and the static and YARA engines in a
 * worker pool of its own. close() stops the engines and the pool.
 */
export function commandEngines(config: Config): { engines: ScanEngine[]; close(): Promise<void> } {
  const m = config.policy.malware;
  const pool = m.enabled && (m.static.enabled || m.yara.enabled) ? PolicyPool.open({ threads: 1, maxQueue: 64 }) : null;
  const engines = [...malwareEngines(config), ...(pool ? staticEngines(config, pool) : [])];
  return {
    engines,
    close: async () => {
      await Promise.allSettled(engines.map((e) => e.close()));
      await pool?.close();
    },
  };
}

/** Aliases with exactly one target, by that target: what Directory.sendableAddresses allows at submission. */
export function sendAsAliases(rows: readonly { address: string; target: string }[]): Map<string, string[]> {
  const targets = new Map<string, Set<string>>();
  for (const r of rows) {
    const alias = r.address.toLowerCase();
    const set = targets.get(alias) ?? new Set<string>();
    set.add(r.target.toLowerCase());
    targets.set(alias, set);
  }
  const out = new Map<string, string[]>();
  for (const [alias, set] of targets) {
    if (set.size !== 1) continue;
    const [target] = set;
    out.set(target!, [...(out.get(target!) ?? []), alias]);
  }
  return out;
}

/** The directory as the detectors see it, re-read at most once a minute. */
function directoryView(store: Store, config: Config, clock: Clock, log: Logger) {
  let cached: { at: number; ctx: SpoofContext; domains: Set<string> } | null = null;
  let loading: Promise<void> | null = null;
  const load = async (): Promise<void> => {
    const domains = (await store.meta.directory.listDomains()).map((d) => d.name.toLowerCase());
    const people = (await store.meta.directory.listAccounts())
      .filter((a) => !a.disabled && a.displayName.trim() !== '')
      .map((a) => ({ displayName: a.displayName, address: a.address }));
    const sendAs = sendAsAliases(await store.meta.directory.listAliases());
    cached = {
      at: clock.now(),
      domains: new Set(domains),
      ctx: { localDomains: domains, partnerDomains: config.policy.spoof.partner_domains, people, internalNetworks: config.policy.spoof.internal_networks, sendAs },
    };
  };
  const fresh = async (): Promise<NonNullable<typeof cached>> => {
    if (!cached || clock.now() - cached.at > DIRECTORY_REFRESH_MS) {
      loading ??= load().finally(() => (loading = null));
      try {
        await loading;
      } catch (e) {
        // Keep the last view when the store hiccups; without one the stage fails closed.
        if (!cached) throw e;
        log.warn({ err: e instanceof Error ? e.message : String(e) }, 'directory view not refreshed');
      }
    }
    return cached!;
  };
  return { context: async () => (await fresh()).ctx, domains: () => cached?.domains ?? new Set<string>(), warm: fresh };
}

/**
 * The `dlp` stages of [policy.dlp] (one per phase in use), or none when it is
 * off. The rules file is read now: a bad one throws RulesError and start stops
 * with its message; later versions are picked up within a minute.
 */
export async function dlpStages(config: Config, store: Store, pool: PolicyPool, clock: Clock, log: Logger): Promise<ConfiguredStage[]> {
  const d = config.policy.dlp;
  if (!d.enabled || d.rules === undefined) return [];
  const rules = await WatchedRules.open({
    path: d.rules,
    now: () => clock.now(),
    onError: (message) => log.error({ rules: d.rules, reason: message }, 'DLP rules file not reloaded: the previous rules stay in force'),
    onReload: (r) => log.info({ rules: d.rules, key: r.key.slice(0, 12), count: r.rules.length }, 'DLP rules reloaded'),
  });
  const limits = dlpContentLimits(config);
  const directory = directorySnapshots(store.meta.directory, () => clock.now(), DIRECTORY_REFRESH_MS);
  await directory();
  const out: ConfiguredStage[] = [];
  for (const phase of ['inline', 'after-queue'] as const) {
    const directions = (['inbound', 'outbound', 'internal'] as const).filter((x: Direction) => d.phase[x] === phase);
    if (directions.length === 0) continue;
    out.push({
      stage: dlpStage({ pool, phase, directions, budgetMs: d.budget_ms, limits, rules: () => rules.current(), directory, certificates: store.meta.certificates }),
      settings: { budgetMs: d.budget_ms, failOpen: d.fail_open },
    });
  }
  return out;
}

/**
 * What the DLP stage reads of a message: the archive bounds of
 * [policy.attachments] (which the malware engines share) when those stages
 * open archives, and [policy.dlp]'s text and PDF bounds. `postern dlp scan`
 * and `dlp test` use the same, so they judge as the server does.
 */
export function dlpContentLimits(config: Config): ContentLimits {
  const p = config.policy;
  const archives = p.attachments.enabled || p.malware.enabled ? extractLimits(p) : DEFAULT_CONTENT_LIMITS;
  return {
    maxArchiveDepth: archives.maxArchiveDepth,
    maxTotalBytes: archives.maxTotalBytes,
    maxRatio: archives.maxRatio,
    maxEntries: archives.maxEntries,
    maxTextChars: p.dlp.max_text_chars,
    maxPdfPages: p.dlp.max_pdf_pages,
  };
}

export async function buildPolicy(
  config: Config,
  store: Store,
  resolver: DnsResolver,
  clock: Clock,
  log: Logger,
  events: EventSink,
  notify?: (queueId: string, notices: readonly Notice[]) => void,
): Promise<BuiltPolicy> {
  const p = config.policy;
  const authservId = p.authserv_id || config.server.hostname;
  const pool = PolicyPool.open({ threads: p.worker_threads, maxQueue: p.max_queued });
  const view = directoryView(store, config, clock, log);
  // The DLP rules first: a bad file stops start before any engine or thread is left running.
  let dlp: ConfiguredStage[];
  let anchorsPem: string;
  try {
    await view.warm();
    dlp = await dlpStages(config, store, pool, clock, log);
    // [policy.smime] trust anchors: a missing or unreadable file stops start with its name.
    anchorsPem = p.smime.enabled ? await readTrustAnchors(p.smime.trust_anchors) : '';
  } catch (e) {
    await pool.close();
    throw e;
  }
  const stages: ConfiguredStage[] = [];
  const settings = (s: { budget_ms: number; fail_open: boolean }) => ({ budgetMs: s.budget_ms, failOpen: s.fail_open });
  // RFC 5321 4.5.1: sender authentication never refuses mail to postmaster@ (and the other required addresses).
  const required = new Directory(store.meta.directory, { ...directoryOptions(config), loginCache: null });
  const isRequired: RequiredAddress = async (a) => {
    const n = normalizeAddress(a);
    return n !== null && (await required.isRequiredAddress(n));
  };
  if (p.auth.enabled) {
    stages.push({
      stage: exemptRequired(authStage({
        pool,
        resolver,
        budgetMs: p.auth.budget_ms,
        authservId,
        mta: config.server.hostname,
        decision: { temperror: p.auth.temperror === 'accept' ? 'pass' : 'tempfail', overrides: p.auth.dmarc_overrides, trustedArcSealers: p.auth.trusted_arc_sealers },
        withSpoofFacts: p.spoof.enabled && p.spoof.phase === 'inline',
      }), isRequired),
      settings: settings(p.auth),
    });
  }
  if (p.spoof.enabled) {
    stages.push({
      stage: exemptRequired(spoofStage({ pool, budgetMs: p.spoof.budget_ms, phase: p.spoof.phase, context: view.context, actions: p.spoof.actions }), isRequired),
      settings: settings(p.spoof),
    });
  }
  // [policy.attachments]: cheap, in-line by default, before the content scanners.
  if (p.attachments.enabled) stages.push({ stage: attachmentsFromConfig(config, pool), settings: settings(p.attachments) });
  // clamd, then the engines of another kind (static checks, YARA) in the worker pool: two kinds see more than one.
  const engines = [...malwareEngines(config), ...(p.malware.enabled ? staticEngines(config, pool) : [])];
  if (engines.length > 0) {
    const watch = new EngineWatch(events);
    const m = p.malware;
    // Said at start rather than at the first message: mail would wait (or get 451) until clamd answers.
    for (const e of engines) {
      e.health(AbortSignal.timeout(5000))
        .then((h) => {
          if (h.up) log.info({ engine: h.engine, version: h.version }, 'malware engine answers');
          else {
            log.warn({ engine: h.engine, detail: h.detail }, 'malware engine does not answer: mail it should scan waits or is refused with 451');
            watch.failed(h.engine, h.detail ?? 'down');
          }
        })
        .catch(() => undefined);
    }
    const dirs = (phase: 'inline' | 'after-queue') => (['inbound', 'outbound', 'internal'] as const).filter((d: Direction) => m.phase[d] === phase);
    // In-line after the cheaper stages (a refusal there spares the scan); after the queue before anything that reads attachments.
    for (const phase of ['inline', 'after-queue'] as const) {
      if (dirs(phase).length === 0) continue;
      const action = phase === 'inline' ? m.action.inline : m.action.after_queue;
      stages.push({ stage: malwareStage(engines, { phase, directions: dirs(phase), action, watch }), settings: settings(m) });
    }
  }
  // After attachments and malware: a refused virus is not classified.
  stages.push(...dlp);
  if (p.smime.enabled) {
    const s = p.smime;
    const learn = s.learn_certificates ? learnCertificate(store, clock, log, view.domains) : undefined;
    stages.push({
      stage: smimeStage({ pool, phase: s.phase, directions: s.directions, budgetMs: s.budget_ms, anchorsPem, onTampered: s.on_tampered, onInvalid: s.on_invalid, ...(learn ? { learn } : {}) }),
      settings: settings(s),
    });
  }
  if (p.dmarc_reports.enabled) {
    stages.push({
      stage: dmarcReportStage({ pool, repo: store.meta.dmarcReports, budgetMs: p.dmarc_reports.budget_ms, localPart: p.dmarc_reports.local_part, localDomains: view.domains, now: () => clock.now() }),
      settings: settings(p.dmarc_reports),
    });
  }
  if (p.dmarc_reports.enabled && !(await store.meta.directory.listAccounts()).some((a) => a.roles.includes('mailadmin') && !a.disabled)) {
    log.warn({ address: `${p.dmarc_reports.local_part}@<domain>` }, 'no enabled mailadmin account: mail to the DMARC report address is refused until there is one');
  }
  for (const s of stages) if (s.settings.failOpen) log.warn({ stage: s.stage.name }, 'policy stage fails open: mail passes unchecked when it cannot decide');
  const pipeline = new PolicyPipeline(stages, {
    now: () => clock.now(),
    events,
    ...(notify ? { notify } : {}),
    // Fields that state our verdicts are ours alone: any that arrive with the message are removed before the stages run.
    sanitize: (raw) => stripForged(raw, p.auth.enabled ? authservId : null, VERDICT_FIELDS).raw,
    banner: async (raw, text, signal) => pool.run<Uint8Array | null>('spoof.banner', { raw, text }, { budgetMs: 5000, signal }),
    // DLP "encrypt": the same worker task as encryption at rest; the header fields stay readable outside
    // (a mail server on the way needs them), the whole message including them is what the recipient decrypts.
    // [policy.dlp] encrypt_cipher: AES-256-GCM by default (authEnveloped-data: the content cannot be altered unnoticed on the way).
    encrypt: async (raw, certs, signal) =>
      sealedMessage(raw, await pool.run<Uint8Array>('smime.encrypt', { raw, certs: [...certs], cipher: p.dlp.encrypt_cipher }, { budgetMs: p.dlp.budget_ms, signal }), 'all'),
    encryptBudgetMs: p.dlp.budget_ms,
    // The pool work of a phase's stages crosses to a worker as one task: one copy of the message, one round trip.
    batch: (raw, works) => PoolBatch.start(pool, raw, works),
  });
  return {
    pipeline,
    pool,
    engines,
    close: async () => {
      await Promise.allSettled(engines.map((e) => e.close()));
      await pool.close();
    },
  };
}
