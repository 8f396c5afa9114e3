/**
 * The stage interface of the policy pipeline. A stage looks at one message
 * and returns a Verdict (data, never an exception for "no"). In-line stages
 * run during DATA, before the 250 reply, and may reject; after-queue stages
 * run once the message is durable and before any delivery, and may hold.
 * The runner (run.ts) applies each stage's time budget and turns a throw or
 * a timeout into `tempfail` unless the stage is configured to fail open.
 */
import type { Direction, Verdict } from '../../core/verdict.js';
import type { PoolWork } from '../pool/batch.js';

export type StagePhase = 'inline' | 'after-queue';

/** Where the message came in and who sent it, as the SMTP session saw it. */
export interface MessageEnvelope {
  /** MAIL FROM, '' for the null sender. */
  readonly sender: string;
  /** RCPT TO addresses as given (before alias expansion). */
  readonly recipients: readonly string[];
  readonly helo: string | null;
  readonly clientAddress: string;
  readonly listener: 'mx' | 'submission' | 'submissions' | 'local';
  /** The authenticated account, null when the client did not log in. */
  readonly authUser: string | null;
  readonly tls: boolean;
}

export interface StageInput {
  readonly queueId: string;
  /** The message as it will be stored, trace headers included. */
  readonly raw: Uint8Array;
  readonly envelope: MessageEnvelope;
  readonly direction: Direction;
  /** Verdicts of the stages that ran before this one, in order (a later stage may read their facts). */
  readonly earlier: readonly Verdict[];
  /**
   * Work one stage did that a later one can reuse, for this message and phase
   * only (e.g. the auth stage's worker task also extracts the spoof facts, so
   * the message is copied to a worker and parsed once).
   */
  readonly memo?: Map<string, unknown>;
}

export interface StageContext {
  /** Aborted when the stage's time budget has run out; long work must stop. */
  readonly signal: AbortSignal;
  readonly now: () => number;
  /**
   * The answer to this stage's poolWork(), when the runner sent that work
   * ahead with other stages' work in one worker task; absent, the stage
   * runs its pool task itself.
   */
  readonly pooled?: Promise<unknown>;
}

/** The answers of several stages' pool work, sent as one worker task (pool/batch.ts). */
export interface WorkBatch {
  result(i: number): Promise<unknown>;
  answered(i: number): boolean;
  readonly alive: boolean;
  abort(): void;
  stop(): void;
}

export type StartBatch = (raw: Uint8Array, works: readonly PoolWork[]) => WorkBatch;

export interface Stage {
  readonly name: string;
  readonly phase: StagePhase;
  /** The directions this stage looks at; others pass without running it. */
  readonly directions: readonly Direction[];
  /** Narrower than `directions` (e.g. only mail to the DMARC report address); cheap, on the main thread. */
  applies?(envelope: MessageEnvelope): boolean;
  /**
   * The pool task run() will ask for this message, if any: cheap, on the
   * main thread, from the message and envelope only. The runner may send
   * it ahead, with the work of the stages after this one, and hand the
   * answer to run() as `ctx.pooled`.
   */
  poolWork?(input: Omit<StageInput, 'earlier'>, now: () => number): PoolWork | undefined;
  run(input: StageInput, ctx: StageContext): Promise<Verdict>;
}
