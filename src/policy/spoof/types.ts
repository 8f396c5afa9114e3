/**
 * Shapes of the spoof detectors. MessageFacts crosses a worker-thread
 * boundary, so it holds plain data only (strings, numbers, booleans, arrays).
 */
import type { Origin, Reason } from '../../core/verdict.js';

export type DetectorName =
  | 'own-domain'
  | 'internal-forgery'
  | 'display-name'
  | 'lookalike'
  | 'reply-to'
  | 'bogus-transaction'
  | 'malformed-from';

export const DETECTOR_NAMES: readonly DetectorName[] = [
  'own-domain',
  'internal-forgery',
  'display-name',
  'lookalike',
  'reply-to',
  'bogus-transaction',
  'malformed-from',
];

/** One mailbox of an address field, as far as it could be read. */
export interface MailboxFact {
  /** Display name, RFC 2047 decoded, at most MAX_NAME_CHARS characters. */
  readonly name: string;
  /** The display name was written with encoded-words. */
  readonly nameEncoded: boolean;
  /** Addresses that appear inside the display name (lower-cased, at most 3). */
  readonly nameAddresses: readonly string[];
  /** `local@domain` lower-cased; '' when the mailbox had no address. */
  readonly address: string;
  /** Domain lower-cased as written (may be a U-label or an A-label); '' when none. */
  readonly domain: string;
}

export type AddressProblem =
  | 'unparseable'
  | 'no-address'
  | 'group'
  | 'too-long'
  | 'line-too-long'
  | 'control-chars'
  | 'encoded-address'
  | 'too-many-mailboxes';

/** All fields of one name (From, Sender or Reply-To) taken together. */
export interface AddressFieldFact {
  /** How many fields of this name the header holds. */
  readonly count: number;
  /** Raw bytes of all these fields together. */
  readonly rawLength: number;
  /** Longest physical line of these fields, in bytes. */
  readonly maxLineLength: number;
  readonly mailboxes: readonly MailboxFact[];
  readonly problems: readonly AddressProblem[];
}

export interface MessageFacts {
  readonly from: AddressFieldFact;
  readonly sender: AddressFieldFact | null;
  readonly replyTo: AddressFieldFact | null;
  /** Address of the first Return-Path field, lower-cased, '' for `<>`; null when absent. */
  readonly returnPath: string | null;
  /** Decoded, control characters removed, at most MAX_SUBJECT_CHARS. */
  readonly subject: string | null;
  readonly messageId: string | null;
  readonly hasDate: boolean;
  /** Lower-cased names of single-instance fields (RFC 5322 section 3.6) that occur more than once. */
  readonly duplicates: readonly string[];
  /** Mailing-list markers. */
  readonly listId: string | null;
  readonly listPost: string | null;
  readonly listUnsubscribe: boolean;
  readonly precedence: string | null;
  readonly autoSubmitted: string | null;
  /** Text of the first text/plain and text/html parts (HTML tags stripped), at most maxBodyChars. */
  readonly bodyText: string;
  /** The header section was larger than the limit; facts cover its start only. */
  readonly headerTruncated: boolean;
}

export interface FactLimits {
  /** Header bytes read (default 1 MiB). */
  readonly maxHeaderBytes?: number;
  /** Characters of body text kept (default 64 Ki). */
  readonly maxBodyChars?: number;
  /** Bytes of one part decoded for its text (default 256 KiB). */
  readonly maxPartBytes?: number;
}

export type Listener = 'mx' | 'submission' | 'submissions' | 'local';

/** What the SMTP session knows about the message. */
export interface DetectInput {
  /** MAIL FROM; '' for the null sender. */
  readonly envelopeSender: string;
  readonly helo: string | null;
  readonly clientAddress: string;
  readonly listener: Listener;
  readonly authUser: string | null;
  /** Results of the auth stage, when it ran. */
  readonly auth?: { readonly spf: string; readonly dmarc: string; readonly dkimAlignedPass: boolean };
}

export interface SpoofContext {
  readonly localDomains: readonly string[];
  readonly partnerDomains: readonly string[];
  readonly people: readonly { readonly displayName: string; readonly address: string }[];
  /** CIDRs, e.g. "10.0.0.0/8", "fd00::/8"; a bad entry is ignored. */
  readonly internalNetworks: readonly string[];
  /** Per account (lower case): the aliases that reach only it, which it may send as (as SMTP AUTH allows). */
  readonly sendAs?: ReadonlyMap<string, readonly string[]>;
  /** Largest Damerau-Levenshtein distance that counts as a lookalike label (default 1). */
  readonly maxEditDistance?: number;
}

export interface Finding {
  readonly detector: DetectorName;
  readonly origin: Origin;
  /** A word from each detector's fixed vocabulary (safe as a metric label). */
  readonly result: string;
  readonly reasons: readonly Reason[];
  /** The address the message claims, sanitised, at most 80 characters (for a banner). */
  readonly claimed?: string;
}

export type SpoofAction = 'off' | 'tag' | 'quarantine' | 'reject';
