/**
 * Which recorded events need a human, how urgently, and what to do about
 * them. Only kinds in this table are read from the events table; everything
 * else postern records is for reports and metrics.
 */
export type AlertSeverity = 'warning' | 'critical';

export interface AlertRule {
  readonly kind: string;
  /** Fixed, or decided by the event's data. */
  readonly severity: AlertSeverity | ((data: Readonly<Record<string, unknown>>) => AlertSeverity);
  /** When set, only events whose data passes alert. */
  readonly when?: (data: Readonly<Record<string, unknown>>) => boolean;
  /** One or two sentences for the alert mail: what the operator should do. */
  readonly advice: string;
}

const RESTORE = 'Run `postern scrub --status` to see which messages are affected, then restore them from a verified backup (`postern backup verify`, `postern restore`).';

const rule = (kind: string, severity: AlertRule['severity'], advice: string, when?: AlertRule['when']): AlertRule => ({ kind, severity, advice, ...(when ? { when } : {}) });

export const ALERT_RULES: readonly AlertRule[] = [
  rule('integrity.uncorrectable', 'critical', `A stored message blob is damaged beyond repair and is no longer served. ${RESTORE}`),
  rule('integrity.missing', 'critical', `A message blob the store references is missing. ${RESTORE}`),
  rule('integrity.metadata_damaged', 'critical', 'The metadata database failed its check. Stop postern and restore from the last verified backup; see docs/integrity.md.'),
  rule('integrity.backup_failed', 'critical', 'A backup could not be written. Check the destination (space, permissions) and run `postern backup` again.'),
  rule('integrity.backup_verify_failed', 'critical', 'A backup failed its verification and must not be relied on. Take a new backup and verify it (`postern backup verify`).'),
  rule(
    'availability.downtime',
    'warning',
    'A node was down outside a maintenance window (see cause and ms). Check the logs of the previous run; an unclean stop means a crash or a kill.',
    (d) => d.planned === false,
  ),
  rule('probe.outage_started', 'critical', 'The synthetic probe cannot send or read mail. Check the listeners, the queue (`postern queue list`) and the logs.'),
  rule('engine.down', 'critical', 'A scanning engine is not answering; mail that needs it waits or is refused. Restart the engine and check its logs.'),
  rule(
    'malware.detected',
    'warning',
    'Malware was found (engine, signature and part in the data) and the message refused or held. Look at it with `postern quarantine show ID`; a detection in stored mail (stage rescan) means it was delivered before the signature existed.',
    (d) => d.action !== 'tag',
  ),
  rule('policy.stage_failed', 'warning', 'A policy stage threw or ran out of time; mail it checks is deferred (fail closed). Check the logs for the stage named in the data.'),
  rule('storage.full', 'critical', 'Mail is refused with 4xx because the disk or a quota is full. Free space now (`postern gc`), then grow the volume.'),
  rule('events.dropped', 'warning', 'Events the store could not take were dropped, so reports and metrics miss some. Check the store (disk space, database reachability).'),
  rule(
    'tls.cert_expiring',
    (d) => (typeof d.days === 'number' && d.days <= 3 ? 'critical' : 'warning'),
    'The [tls] certificate expires soon (days in the data). Renew it and restart postern so clients keep connecting.',
  ),
  rule('queue.old', 'warning', 'Mail has waited in the queue longer than alerts.queue_age_warn. Look at `postern queue list` and the last errors (`postern queue show ID`).'),
  rule('posture.failed', 'warning', 'A `postern audit` check failed (the check ids and the first reason in the data). Run `postern audit` for each reason and its fix.'),
];

const BY_KIND = new Map(ALERT_RULES.map((r) => [r.kind, r]));

/** The kinds the alerter reads from the events table. */
export const ALERT_KINDS: readonly string[] = ALERT_RULES.map((r) => r.kind);

const RANK: Record<AlertSeverity, number> = { warning: 1, critical: 2 };

export function atLeast(severity: AlertSeverity, min: AlertSeverity): boolean {
  return RANK[severity] >= RANK[min];
}

export function higher(a: AlertSeverity, b: AlertSeverity): AlertSeverity {
  return RANK[a] >= RANK[b] ? a : b;
}

/** The rule and severity an event alerts with, or null when it does not (filtered, or below `min`). */
export function matchRule(e: { kind: string; data: Readonly<Record<string, unknown>> }, min: AlertSeverity): { rule: AlertRule; severity: AlertSeverity } | null {
  const rule = BY_KIND.get(e.kind);
  if (!rule || (rule.when && !rule.when(e.data))) return null;
  const severity = typeof rule.severity === 'function' ? rule.severity(e.data) : rule.severity;
  return atLeast(severity, min) ? { rule, severity } : null;
}

export function ruleFor(kind: string): AlertRule | undefined {
  return BY_KIND.get(kind);
}
