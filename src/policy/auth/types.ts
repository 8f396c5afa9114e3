/**
 * Inputs and outcomes of sender authentication. Everything here is plain data
 * (structured-clone-able): verification runs in a worker thread and its
 * outcome crosses back to the main thread and into the stored verdict.
 */

export interface AuthInput {
  /** The message bytes as received (trace headers included). */
  readonly raw: Uint8Array;
  /** MAIL FROM, '' for the null sender. */
  readonly sender: string;
  readonly helo: string | null;
  /** The SMTP client's address. */
  readonly ip: string;
  /** Our authserv-id (RFC 8601), usually the host name of the receiving MTA. */
  readonly authservId: string;
  /** The host name used in SPF explanations. */
  readonly mta: string;
}

export type SpfResult = 'pass' | 'fail' | 'softfail' | 'neutral' | 'none' | 'temperror' | 'permerror';
export type DkimResult = 'pass' | 'fail' | 'neutral' | 'none' | 'policy' | 'temperror' | 'permerror';
export type DmarcResult = 'pass' | 'fail' | 'none' | 'temperror' | 'permerror';
export type ArcResult = 'pass' | 'fail' | 'none' | 'temperror';
export type DmarcPolicy = 'none' | 'quarantine' | 'reject';
export type AlignmentMode = 'r' | 's';

export interface SpfOutcome {
  /** Result for the MAIL FROM identity (for the null sender: postmaster@HELO, RFC 7208 §2.4). */
  readonly result: SpfResult;
  /** The domain checked for MAIL FROM. */
  readonly domain: string;
  /** Result for the HELO identity (RFC 7208 §2.3); 'none' when HELO was missing or an address literal. */
  readonly helo: SpfResult;
  readonly heloDomain: string | null;
  /** mailauth's explanation, for logs. */
  readonly comment: string;
}

export interface DkimSignatureOutcome {
  readonly result: DkimResult;
  /** d= */
  readonly domain: string;
  /** s= */
  readonly selector: string;
  /** d= aligns with the From domain under the published adkim (relaxed when there is no record). */
  readonly aligned: boolean;
  /** Body bytes after the l= limit, which the signature does not cover (0 without l=). */
  readonly unsignedBodyBytes: number;
  /** The Authentication-Results method text for this signature. */
  readonly info: string;
}

export interface DmarcOutcome {
  readonly result: DmarcResult;
  /** The policy that applies: sp for a subdomain whose record was found at the org domain, else p. */
  readonly policy: DmarcPolicy | null;
  /** The RFC5322.From domain ('' when the message has none or several). */
  readonly domain: string;
  readonly alignment: {
    readonly spf: boolean;
    readonly dkim: boolean;
    readonly aspf: AlignmentMode;
    readonly adkim: AlignmentMode;
  };
  /** pct= (100 when absent or invalid). */
  readonly pct: number;
  /** 0..99 from a hash of Message-ID (or the whole header when there is none): the pct sample. */
  readonly sample: number;
  /** Why the result is what it is, for logs ("no record", "multiple From"). */
  readonly comment: string;
}

/** What the newest ARC set's ARC-Authentication-Results said. */
export interface ArcUpstream {
  readonly dmarc: string | null;
  /** A dkim=pass there whose header.d aligns (relaxed) with our From domain. */
  readonly dkimAligned: boolean;
  /** An spf=pass there whose smtp.mailfrom domain aligns (relaxed) with our From domain. */
  readonly spfAligned: boolean;
}

export interface ArcOutcome {
  readonly result: ArcResult;
  /** Number of ARC sets (highest i=), 0 when none. */
  readonly length: number;
  /** d= of each ARC-Seal, newest first. */
  readonly sealers: readonly string[];
  readonly upstream: ArcUpstream | null;
  readonly comment: string;
}

export interface AuthOutcome {
  readonly spf: SpfOutcome;
  readonly dkim: readonly DkimSignatureOutcome[];
  readonly dmarc: DmarcOutcome;
  readonly arc: ArcOutcome;
  /** The Authentication-Results value (RFC 8601) under our authserv-id, folded, no field name. */
  readonly header: string;
  /** Forged Authentication-Results fields with our authserv-id removed before verification. */
  readonly strippedAuthResults: number;
  /** DNS lookups made for this message. */
  readonly lookups: number;
}
