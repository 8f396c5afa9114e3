/**
 * The shapes the DLP (data-loss prevention) parts share: what extraction
 * gives (text segments and findings), what a detector finds (hits), what the
 * rules file says (detectors, rules, actions) and what classifying a message
 * yields (rule matches, masked samples only). Types only, no code: the main
 * thread and the worker both import it.
 *
 * A matched value never leaves the worker in clear: hits carry it, but a
 * Classification carries masked samples only ("4111 **** **** 1111").
 */
import type { Direction } from '../../core/verdict.js';

/** How sure a detector is that a hit is what it looks for (Purview's low/medium/high). */
export type Confidence = 'low' | 'medium' | 'high';
export const CONFIDENCES: readonly Confidence[] = ['low', 'medium', 'high'];

// ---------------------------------------------------------------- extraction

export type SegmentKind = 'subject' | 'header' | 'body' | 'attachment';

/** A piece of text found in a message, decoded to Unicode. */
export interface TextSegment {
  readonly kind: SegmentKind;
  /**
   * Where it came from, printable and bounded, for explanations:
   * "subject", "header:X-Classification", "body:1" (MIME part, IMAP numbering),
   * "attachment:2/report.docx", "attachment:3/files.zip!plan.pdf".
   */
  readonly source: string;
  readonly text: string;
}

export type ExtractFindingKind =
  /** An archive or document whose content is encrypted (ZIP with encrypted entries, password-protected PDF/Office). */
  | 'encrypted'
  /** A message encrypted as a whole (S/MIME application/pkcs7-mime enveloped, multipart/encrypted, PGP). */
  | 'encrypted-message'
  /** Over the archive limits (depth, ratio, entries, bytes): not opened. */
  | 'archive-limit'
  /** A document that could not be parsed (corrupt DOCX/PDF). */
  | 'unreadable'
  /** The text limit was reached: what follows was not looked at. */
  | 'truncated';

export interface ExtractFinding {
  readonly kind: ExtractFindingKind;
  /** The part's source as in TextSegment.source. */
  readonly part: string;
  /** Short, printable, bounded (no content). */
  readonly detail: string;
}

/** A header field of the top-level message, decoded (RFC 2047), unfolded. */
export interface HeaderText {
  readonly name: string;
  readonly value: string;
}

export interface ExtractedContent {
  /** Top-level header fields, in order (bounded count and length). */
  readonly headers: readonly HeaderText[];
  /** The Subject, decoded; '' when none. */
  readonly subject: string;
  /** Text of bodies and attachments (and the subject, as kind 'subject'), in message order. */
  readonly segments: readonly TextSegment[];
  readonly findings: readonly ExtractFinding[];
  /** Characters of text produced, all segments together. */
  readonly chars: number;
}

export interface ContentLimits {
  /** Archive depth, total decoded bytes, ratio, entries: the same bounds as the malware stage's walker. */
  readonly maxArchiveDepth: number;
  readonly maxTotalBytes: number;
  readonly maxRatio: number;
  readonly maxEntries: number;
  /** Characters of text kept, all segments together (a 'truncated' finding past it). */
  readonly maxTextChars: number;
  /** PDF pages read per document. */
  readonly maxPdfPages: number;
}

// ---------------------------------------------------------------- detectors

/** One thing a detector found. `value` stays in the worker; only `mask(value)` leaves it. */
export interface Hit {
  readonly value: string;
  /** Offset of the match in the text it was found in. */
  readonly index: number;
  readonly length: number;
  readonly confidence: Confidence;
}

/** The built-in detectors (a rules file names them by `type`). */
export type BuiltinDetector =
  | 'credit_card'
  | 'iban'
  | 'us_ssn'
  | 'uk_nino'
  | 'aba_routing'
  | 'private_key'
  | 'cloud_key'
  | 'jwt'
  | 'password';

export type DetectorSpec =
  | { readonly type: BuiltinDetector }
  /**
   * Terms (words or phrases, matched on word boundaries, case-insensitive
   * unless case_sensitive); with `near`, a hit needs one of `near.terms`
   * within `near.words` words of it ("privileged" near "attorney-client").
   */
  | {
      readonly type: 'keywords';
      readonly terms: readonly string[];
      readonly case_sensitive?: boolean;
      readonly near?: { readonly terms: readonly string[]; readonly words: number };
    }
  /**
   * Sensitivity labels: header fields whose value contains one of the values
   * (X-Classification, msip_labels of Microsoft Information Protection), and
   * subject tags ("[Confidential]").
   */
  | {
      readonly type: 'label';
      readonly headers?: readonly { readonly name: string; readonly values: readonly string[] }[];
      readonly subject_tags?: readonly string[];
    }
  /** Registered documents (fingerprints by name); a hit when at least `threshold` (0..1) of a document's shingles are in the message. */
  | { readonly type: 'fingerprint'; readonly documents: readonly string[]; readonly threshold: number }
  /** A custom regular expression, run with a linear-time engine (RE2 semantics: no backreferences, no lookaround). */
  | { readonly type: 'regex'; readonly pattern: string; readonly case_insensitive?: boolean; readonly confidence?: Confidence };

/** A registered document's fingerprint: hashes of its word shingles, never its text. */
export interface Fingerprint {
  readonly name: string;
  /** Sorted, distinct 32-bit hashes of the winnowed shingles. */
  readonly hashes: Uint32Array;
  /** Words in the document when it was registered. */
  readonly words: number;
}

// ---------------------------------------------------------------- rules

/**
 * What a rule does when it matches, per direction:
 * log      record the match only;
 * tag      add X-Postern-DLP (and the subject tag, when the rules file sets one);
 * require_tls  deliver only over TLS with a verified certificate (`verify` floor), never in clear;
 * encrypt  S/MIME-encrypt to every recipient's certificate; when one has none, the rule's
 *          encrypt_fallback (hold or reject) applies: never sent in clear (outbound and internal only);
 * hold     quarantine for review;
 * reject   refuse (550 5.7.1 in-line with a clear text; after the queue the message is held).
 */
export type DlpAction = 'log' | 'tag' | 'require_tls' | 'encrypt' | 'hold' | 'reject';

export interface RuleSpec {
  readonly name: string;
  readonly description: string;
  /** Detector names (keys of RulesSpec.detectors). */
  readonly detectors: readonly string[];
  /** all: every detector must match; any: one is enough. */
  readonly match: 'any' | 'all';
  /** Hits below this confidence do not count. */
  readonly min_confidence: Confidence;
  /** Distinct values a detector must find (e.g. 5 card numbers). */
  readonly min_count: number;
  /** Actions per direction (several may combine: ["require_tls", "tag"]). */
  readonly actions: Readonly<Record<Direction, readonly DlpAction[]>>;
  /** Notify the sender and/or the manager of the sender's groups (managers from RulesSpec.groups). */
  readonly notify: readonly ('sender' | 'manager')[];
  /** What `encrypt` does when a recipient has no valid certificate (default hold). */
  readonly encrypt_fallback?: 'hold' | 'reject';
}

/** The rules file, validated, as plain data (structured-cloneable to a worker). */
export interface RulesSpec {
  /** sha256 of the rules file and fingerprint files: workers cache compiled rules by it. */
  readonly key: string;
  readonly detectors: Readonly<Record<string, DetectorSpec>>;
  readonly rules: readonly RuleSpec[];
  readonly fingerprints: readonly Fingerprint[];
  /** Managers to notify, per group name. */
  readonly groups: Readonly<Record<string, { readonly manager?: string }>>;
  /** Outside domains counted as `partner` rather than `external`. */
  readonly partner_domains: readonly string[];
  /** A tag for the subject when a rule's action is `tag`, e.g. "[Confidential]"; '' for none. */
  readonly subject_tag: string;
  /** Encrypted content (an archive, a document, or the whole message) leaving the organisation: counted as a match of this rule name when set. */
  readonly unscannable_rule: string | null;
}

// ---------------------------------------------------------------- classification

export interface DetectorResult {
  readonly detector: string;
  /** Distinct values found at or above the rule's confidence. */
  readonly count: number;
  readonly confidence: Confidence;
  /** Up to 3 masked values with where they were found. */
  readonly samples: readonly { readonly masked: string; readonly source: string }[];
}

export interface RuleMatch {
  readonly rule: string;
  readonly confidence: Confidence;
  readonly detectors: readonly DetectorResult[];
}

/** What classifying one message yields: structured-cloneable, no value in clear. */
export interface Classification {
  readonly matches: readonly RuleMatch[];
  /** Detectors that found something but whose rules did not match (for `dlp test`). */
  readonly nearMisses: readonly (DetectorResult & { readonly rules: readonly string[] })[];
  readonly findings: readonly ExtractFinding[];
  /** The whole message is encrypted (S/MIME, PGP): its content could not be looked at. */
  readonly encrypted: boolean;
  readonly chars: number;
  readonly ms: number;
}
