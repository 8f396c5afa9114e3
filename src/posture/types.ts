/**
 * The shape of a posture finding: one check of the installation against the
 * practices postern stands for, graded pass / warn / fail, with the reason
 * and the fix an administrator can act on.
 */
export type Grade = 'pass' | 'warn' | 'fail';

export interface CheckResult {
  /** Stable id, dotted by area: `tls.imaps.protocols`, `dns.example.org.dmarc`, `roles.separation`. */
  readonly id: string;
  /** The area it belongs to, for grouping in the output: tls, outbound, dns, malware, dlp, integrity, roles, at-rest, ... */
  readonly area: string;
  readonly grade: Grade;
  /** What was found, in one sentence. */
  readonly reason: string;
  /** What to do about it; empty for a pass. */
  readonly fix: string;
}

/** A group of checks; each group is independent and may run concurrently with the others. */
export type CheckGroup<Ctx> = (ctx: Ctx) => Promise<CheckResult[]>;
