/**
 * DMARC aggregate reports (RFC 7489 section 7.2, Appendix C) as plain data:
 * what other receivers tell us about mail that claims our domains. Plain
 * objects only, so a parser running in a worker thread can hand them back.
 */

export type AuthResult = 'pass' | 'fail';
export type Disposition = 'none' | 'quarantine' | 'reject' | 'pass';
export type Alignment = 'r' | 's';
export type PolicyP = 'none' | 'quarantine' | 'reject';

export interface PolicyPublished {
  readonly adkim: Alignment;
  readonly aspf: Alignment;
  readonly p: PolicyP;
  /** Defaults to p when the report leaves it out. */
  readonly sp: PolicyP;
  /** Defaults to 100; DMARCbis reports have no pct. */
  readonly pct: number;
}

export interface DkimAuth {
  readonly domain: string;
  /** none, pass, fail, policy, neutral, temperror, permerror (RFC 7489 DKIMResultType). */
  readonly result: string;
  readonly selector?: string;
}

export interface SpfAuth {
  readonly domain: string;
  /** none, neutral, pass, fail, softfail, temperror, permerror (SPFResultType). */
  readonly result: string;
  /** mfrom or helo. */
  readonly scope?: string;
}

export interface ReportRecord {
  readonly sourceIp: string;
  readonly count: number;
  readonly disposition: Disposition;
  /** DMARC-aligned DKIM result as the reporter evaluated it. */
  readonly dkim: AuthResult;
  /** DMARC-aligned SPF result as the reporter evaluated it. */
  readonly spf: AuthResult;
  readonly headerFrom: string;
  readonly envelopeFrom?: string;
  readonly authDkim: readonly DkimAuth[];
  readonly authSpf: readonly SpfAuth[];
}

export interface AggregateReport {
  /** The reporting organisation (may be empty: some reporters leave it out). */
  readonly orgName: string;
  readonly email: string;
  readonly reportId: string;
  /** Unix seconds. */
  readonly begin: number;
  readonly end: number;
  /** The policy domain the report is about (policy_published/domain). */
  readonly domain: string;
  readonly policy: PolicyPublished;
  readonly records: readonly ReportRecord[];
}

/** A report that could not be read, and why. */
export interface ReportError {
  readonly error: string;
}

export interface ReportLimits {
  /** Report parts taken from one message (default 5). */
  readonly maxParts?: number;
  /** Largest compressed (or plain) part after transfer decoding, in bytes (default 10 MiB). */
  readonly maxCompressedBytes?: number;
  /** Largest decompressed report, in bytes (default 20 MiB). */
  readonly maxXmlBytes?: number;
  /** Most entries read from one zip archive (default 5). */
  readonly maxZipEntries?: number;
  /** Most <record> rows in one report (default 100,000). */
  readonly maxRecords?: number;
}

export const DEFAULT_LIMITS: Required<ReportLimits> = {
  maxParts: 5,
  maxCompressedBytes: 10 * 1024 * 1024,
  maxXmlBytes: 20 * 1024 * 1024,
  maxZipEntries: 5,
  maxRecords: 100_000,
};

export function withDefaults(l: ReportLimits | undefined): Required<ReportLimits> {
  return { ...DEFAULT_LIMITS, ...(l ?? {}) };
}
