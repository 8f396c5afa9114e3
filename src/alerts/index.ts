/**
 * Alerts: wiring of the tailer, its two channels and the periodic checks,
 * from [alerts]. `startAlerts` reads the webhook key (a clear error naming
 * the key when it cannot) and returns what stops it all.
 */
import { readFileSync } from 'node:fs';
import type { Config } from '../config/index.js';
import type { Clock } from '../core/clock.js';
import { PosternError } from '../core/errors.js';
import type { Directory } from '../directory/directory.js';
import type { Logger } from '../metrics/logger.js';
import type { Spool } from '../queue/spool.js';
import type { EventRepo, QueueRepo } from '../store/types.js';
import { Alerter, type AlertChannel } from './alerter.js';
import { MailChannel, WebhookChannel } from './channels.js';
import { checkCert, checkQueue, StateCheck, type EventSink } from './checks.js';

export { ALERT_KINDS, ALERT_RULES, matchRule } from './rules.js';
export { AlertRateLimiter } from './rate-limit.js';
export { signWebhook, verifyWebhook, SIGNATURE_HEADER } from './signature.js';

export interface AlertDeps {
  readonly events: EventRepo;
  readonly queue: QueueRepo;
  readonly spool: Spool;
  readonly directory: Directory;
  /** Where alert and check events are recorded; must not throw (the store's event outbox). */
  readonly sink: EventSink;
  readonly clock: Clock;
  readonly log: Logger;
}

/** Intervals a test may shorten. */
export interface AlertTuning {
  readonly certCheckMs?: number;
  readonly queueCheckMs?: number;
  readonly webhookRetryDelaysMs?: readonly number[];
}

export interface RunningAlerts {
  stop(): Promise<void>;
}

const MIN_SECRET = 16;

export function readWebhookSecret(file: string): Buffer {
  let raw: Buffer;
  try {
    raw = readFileSync(file);
  } catch (e) {
    throw new PosternError('CONFIG_INVALID', `alerts.webhook_secret_file: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  const secret = Buffer.from(raw.toString('utf8').replace(/\r?\n$/, ''), 'utf8');
  if (secret.length < MIN_SECRET) throw new PosternError('CONFIG_INVALID', `alerts.webhook_secret_file: ${file} holds ${secret.length} bytes; at least ${MIN_SECRET} are needed`);
  return secret;
}

export function startAlerts(config: Config, d: AlertDeps, tuning: AlertTuning = {}): RunningAlerts {
  const a = config.alerts;
  const host = config.server.hostname;
  const windowNote = `at most ${a.rate.max_per_window} per kind every ${a.rate.window} s`;
  const channels: AlertChannel[] = [];
  if (a.mail_to.length > 0) {
    const from = a.mail_from === '' ? `postmaster@${host}` : a.mail_from;
    channels.push(new MailChannel(d.spool, d.directory, { from, to: a.mail_to, host, windowNote }, d.sink, d.clock, d.log.child({ channel: 'mail' })));
  }
  let webhook: WebhookChannel | null = null;
  if (a.webhook_url !== '') {
    const secret = readWebhookSecret(a.webhook_secret_file);
    const retry = tuning.webhookRetryDelaysMs ? { retryDelaysMs: tuning.webhookRetryDelaysMs } : {};
    webhook = new WebhookChannel({ url: a.webhook_url, secret, ...retry }, d.sink, d.clock, d.log.child({ channel: 'webhook' }));
    channels.push(webhook);
  }
  const alerter = new Alerter(
    d.events,
    channels,
    { host, minSeverity: a.min_severity, pollMs: a.poll_interval * 1000, maxPerWindow: a.rate.max_per_window, windowMs: a.rate.window * 1000 },
    d.clock,
    d.log,
  );
  alerter.start();

  const cert = new StateCheck('tls.cert_expiring', d.sink, d.clock);
  const queue = new StateCheck('queue.old', d.sink, d.clock);
  const timers: NodeJS.Timeout[] = [];
  let stopped = false;
  const every = (ms: number, what: string, fn: () => Promise<void>): void => {
    const run = () => void fn().catch((err: unknown) => d.log.warn({ err }, `alert check failed: ${what}`));
    run();
    timers.push(setInterval(run, ms));
  };
  // The checks start once the alerter knows its cursor: on a first start an event recorded earlier would count as history.
  alerter.ready.then(
    () => {
      if (stopped) return;
      every(tuning.certCheckMs ?? 3_600_000, 'certificate expiry', () => checkCert(cert, config.tls.cert, a.cert_warn_days, d.clock.now()));
      every(tuning.queueCheckMs ?? 300_000, 'queue age', () => checkQueue(queue, d.queue, a.queue_age_warn * 1000, d.clock.now()));
    },
    () => undefined, // never rejects
  );
  return {
    async stop() {
      stopped = true;
      for (const t of timers) clearInterval(t);
      await alerter.stop();
      await webhook?.stop();
    },
  };
}
