/**
 * The shape of a report: what `postern report --format json` prints, and what
 * the text and HTML renderers read. Times are Unix milliseconds, durations
 * milliseconds, percentages 0–100. A figure with a trend carries its value in
 * the window and in the previous window of equal length; `null` means there
 * was nothing to measure (no messages, so no TLS share) or nothing to
 * compare with. The shape only grows: fields are added, never renamed.
 */
export const REPORT_SCHEMA = 'postern.report/1';

/** A value in the window, the same value over the previous window, and the change. */
export interface Figure {
  readonly value: number | null;
  readonly previous: number | null;
  /** value − previous; null when either is null. */
  readonly change: number | null;
  /** Change in percent of previous; null when either is null or previous is 0. */
  readonly changePct: number | null;
}

export interface Span {
  readonly since: number;
  readonly until: number;
}

/** Messages or sessions of one listener group, by TLS version ('none' = plaintext). */
export interface TlsBreakdown {
  readonly sessions: Figure;
  readonly messages: Figure;
  /** Share of messages that arrived over TLS. */
  readonly tlsSharePct: Figure;
  readonly byTls: readonly { readonly tls: string; readonly sessions: number; readonly messages: number }[];
}

export interface Count {
  readonly labels: Readonly<Record<string, string>>;
  readonly count: number;
}

export interface Confidentiality {
  /** listener = mx */
  readonly inbound: TlsBreakdown;
  /** listener = submission or submissions */
  readonly submission: TlsBreakdown;
  readonly outbound: {
    readonly messages: Figure;
    readonly tlsSharePct: Figure;
    /** labels: tls (version or none), verified (how the peer was authenticated: dane, mta-sts, pkix, none) */
    readonly byTls: readonly Count[];
  };
  readonly tlsFailures: {
    readonly total: Figure;
    /** Destination domains with the most failures, at most 20. */
    readonly byDomain: readonly { readonly domain: string; readonly count: number }[];
    /** labels: policyType, resultType */
    readonly byPolicy: readonly Count[];
  };
  readonly plaintextAuthRefused: { readonly total: Figure; /** labels: protocol */ readonly byProtocol: readonly Count[] };
  readonly dlp: { readonly total: Figure; /** labels: rule, group, direction, action */ readonly byRule: readonly Count[] };
  readonly smime: {
    readonly signed: Figure;
    readonly encrypted: Figure;
    /** Shares of all messages accepted over SMTP (inbound and submission); null without any. */
    readonly signedPct: Figure;
    readonly encryptedPct: Figure;
  };
}

export interface Integrity {
  /** Flipped bits repaired. */
  readonly corrected: Figure;
  /** labels: area */
  readonly correctedByArea: readonly Count[];
  /** Blobs damaged beyond repair or missing. */
  readonly uncorrectable: Figure;
  /** Newest complete scrub at or before the end of the window (even long before it). */
  readonly lastScrub: { readonly at: number | null; readonly ageMs: number | null };
  readonly lastVerifiedBackup: { readonly at: number | null; readonly ageMs: number | null };
  readonly backupVerifyFailures: Figure;
  readonly spoofed: { readonly total: Figure; /** labels: detector, origin */ readonly byDetector: readonly Count[] };
  readonly malware: { readonly total: Figure; /** labels: engine, direction */ readonly byEngine: readonly Count[] };
  readonly dkimFailed: Figure;
  readonly dmarcFailed: Figure;
}

export interface Outage {
  readonly node: string;
  readonly cause: string;
  readonly planned: boolean;
  /** As recorded. */
  readonly from: number;
  readonly to: number;
  /** The part inside the window. */
  readonly msInWindow: number;
}

export interface DeliveryFigures {
  readonly direction: 'internal' | 'outbound' | 'inbound';
  readonly count: Figure;
  readonly avgMs: Figure;
  readonly p50Ms: Figure;
  readonly p95Ms: Figure;
  readonly p99Ms: Figure;
}

export interface Availability {
  readonly outages: Figure;
  readonly plannedOutages: Figure;
  readonly unplannedOutages: Figure;
  /** Overlapping outages (several nodes, or two detectors of one outage) count once. */
  readonly plannedMs: Figure;
  readonly unplannedMs: Figure;
  /** 100 × (1 − unplanned downtime / window length). */
  readonly availabilityPct: Figure;
  readonly sla: { readonly targetPct: number; readonly met: boolean; readonly allowedMs: number; readonly remainingMs: number };
  /** The outages that touch the window, oldest first, at most 100. */
  readonly outageList: readonly Outage[];
  readonly maintenance: readonly { readonly from: number; readonly to: number | null; readonly reason: string; readonly source: string }[];
  readonly delivery: readonly DeliveryFigures[];
  /** The queue when the report was made (not the end of the window). */
  readonly queueNow: { readonly messages: number; readonly recipients: number; readonly oldestAgeMs: number | null };
}

/** Per-bucket series for charts; every array has one entry per bucket. */
export interface Series {
  readonly bucketMs: number;
  /** Bucket starts. */
  readonly starts: readonly number[];
  /** Messages accepted over SMTP (inbound and submission), per TLS version. */
  readonly messagesByTls: readonly { readonly tls: string; readonly counts: readonly number[] }[];
  readonly corrections: readonly number[];
  readonly outages: readonly number[];
  /** Unplanned downtime inside each bucket. */
  readonly unplannedMs: readonly number[];
}

export interface Report {
  readonly schema: typeof REPORT_SCHEMA;
  readonly generatedAt: number;
  readonly window: Span;
  readonly previous: Span;
  readonly confidentiality: Confidentiality;
  readonly integrity: Integrity;
  readonly availability: Availability;
  readonly series: Series;
}
