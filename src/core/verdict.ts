/**
 * Policy verdicts as data (the policy pipeline's one currency). A stage never
 * throws to say "no": it returns a Verdict, which travels with the queue
 * entry, is kept with the delivered message, and becomes events.
 */

/** What a stage decides. Ordered from mildest to strictest (see strictest()). */
export type PolicyAction = 'pass' | 'tag' | 'hold' | 'tempfail' | 'reject';
export const POLICY_ACTIONS: readonly PolicyAction[] = ['pass', 'tag', 'hold', 'tempfail', 'reject'];

/** Where a message comes from, as counted: from the organisation or from the Internet. */
export type Origin = 'inside' | 'outside';

/** inbound: the Internet to us. outbound: us to the Internet. internal: us to us. */
export type Direction = 'inbound' | 'outbound' | 'internal';

/** Why a stage decided what it did: the rule or detector, and what it saw (never a whole header). */
export interface Reason {
  readonly rule: string;
  readonly detail?: string;
  readonly engine?: string;
  readonly signature?: string;
  readonly part?: string;
}

/**
 * One fact to count. Labels are bounded (a detector name, `inside`/`outside`,
 * a result), never an address or a subject, so they can become metric labels.
 */
export interface PolicyEvent {
  readonly kind: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly data?: Readonly<Record<string, unknown>>;
}

/** A short plain-text message the pipeline sends once the decision is final (e.g. DLP: "your message was held"). */
export interface Notice {
  /** One address; only local domains receive notices (no backscatter). */
  readonly to: string;
  readonly subject: string;
  readonly text: string;
}

export interface Verdict {
  readonly stage: string;
  readonly action: PolicyAction;
  readonly reasons: readonly Reason[];
  /** Header fields to prepend to the message, [name, value] (value unfolded, no CRLF). */
  readonly headers: readonly (readonly [string, string])[];
  readonly events: readonly PolicyEvent[];
  /** Deliver into the recipient's Junk folder instead of the inbox (e.g. DMARC p=quarantine). */
  readonly junk?: boolean;
  /** A visible warning to put at the top of the body (action `tag`). */
  readonly banner?: string;
  /** The SMTP reply text for reject/tempfail, without code (e.g. "5.7.1 DMARC policy of example.com"). */
  readonly reply?: string;
  /** How long the stage took, in milliseconds. */
  readonly ms?: number;
  /**
   * Small, bounded facts later stages may read (e.g. the auth stage's
   * `dmarc: 'fail'`, `dkim_aligned: true`); never message content.
   */
  readonly facts?: Readonly<Record<string, string | number | boolean>>;
  /**
   * Facts for the queue entry (e.g. `tlsFloor: 'verify'`), merged into its
   * meta: later stages win per key, a `tlsFloor` is only ever raised, and the
   * session's own keys (listener, rcptTo, tls, requireTls…) are never replaced.
   */
  readonly meta?: Readonly<Record<string, string | number | boolean>>;
  /** Notices to send once the decision is final (not on tempfail/retry). */
  readonly notices?: readonly Notice[];
  /** Put before the Subject value by the pipeline (once; the first tag asked for wins; CR/LF removed, at most 100 chars). */
  readonly subjectTag?: string;
  /**
   * S/MIME-encrypt the whole message to these certificates (DER; every
   * recipient's) before it is queued or released: the pipeline answers
   * tempfail rather than pass it on in clear. Used up by the pipeline: never
   * stored with the queue entry.
   */
  readonly encryptTo?: readonly Uint8Array[];
}

export function passVerdict(stage: string, extra: Partial<Omit<Verdict, 'stage' | 'action'>> = {}): Verdict {
  return { stage, action: 'pass', reasons: [], headers: [], events: [], ...extra };
}

/** The strictest action of a set of verdicts (reject > tempfail > hold > tag > pass). */
export function strictest(verdicts: readonly Verdict[]): PolicyAction {
  let best = 0;
  for (const v of verdicts) best = Math.max(best, POLICY_ACTIONS.indexOf(v.action));
  return POLICY_ACTIONS[best] ?? 'pass';
}
