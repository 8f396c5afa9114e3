/**
 * The policy pipeline as the protocol code sees it: `inline` answers during
 * DATA (refuse, or accept and how to route the entry); `afterQueue` answers
 * for an entry waiting in `scanning` (deliver, quarantine, or try again).
 * Every verdict's events are recorded, whatever the outcome, so refused mail
 * is counted too. A verdict that asks for encryption (encryptTo) is honoured
 * or the phase answers tempfail: such a message never leaves in clear.
 */
import { strictest, type Direction, type Notice, type Verdict } from '../../core/verdict.js';
import type { EnqueueRoute } from '../../store/types.js';
import { bannerOf, encryptToOf, formatField, headerBlock, holdReason, insertBelowTrace, replyFor, subjectTagOf, tagSubject } from './apply.js';
import { mergeMeta, type QueueMeta } from './meta.js';
import { runPhase, type ConfiguredStage } from './run.js';
import type { MessageEnvelope, StageInput, StartBatch } from './stage.js';

/** Where verdict events go; must not throw (the store's EventOutbox fits). */
export interface EventSink {
  record(kind: string, subject: string, data: Record<string, unknown>): void;
}

/** Puts a visible banner into the message; null when it cannot be done safely (signed, encrypted, too deep). */
export type Rewriter = (raw: Uint8Array, banner: string, signal: AbortSignal) => Promise<Uint8Array | null>;

/**
 * The whole message S/MIME-encrypted to the certificates (DER): its outer
 * header fields in clear, then MIME-Version and the application/pkcs7-mime
 * entity. Throws (or rejects) when it cannot; stops when `signal` aborts.
 */
export type Encryptor = (raw: Uint8Array, certs: readonly Uint8Array[], signal: AbortSignal) => Promise<Uint8Array>;

/** Encryption was asked for and could not be done: the phase answers tempfail. */
export class EncryptionFailed extends Error {
  override name = 'EncryptionFailed';
}

const ENCRYPT_TEMPFAIL = '4.7.0 Message could not be encrypted as policy requires, try again later';
const DEFAULT_ENCRYPT_BUDGET_MS = 30_000;

/** The verdicts as they are kept with the entry: certificates asked for are used up by the rewrite, not stored. */
function forStorage(verdicts: readonly Verdict[]): Verdict[] {
  return verdicts.map((v) => {
    if (!v.encryptTo) return v;
    const { encryptTo, ...rest } = v;
    return { ...rest, facts: { ...rest.facts, encrypted_to: encryptTo.length } };
  });
}

export type InlineDecision =
  | { readonly kind: 'refuse'; readonly code: number; readonly text: string; readonly verdicts: readonly Verdict[] }
  | {
      readonly kind: 'accept';
      readonly data: Uint8Array;
      readonly route: EnqueueRoute;
      readonly verdicts: readonly Verdict[];
      /** The verdicts' queue meta, merged (mergeMeta): spread under the session's own keys. */
      readonly meta: QueueMeta;
    };

export type AfterQueueDecision =
  | { readonly kind: 'retry'; readonly error: string; readonly verdicts: readonly Verdict[] }
  | {
      readonly kind: 'done';
      readonly next: 'deliver' | { quarantine: { stage: string; reason: string } };
      readonly verdicts: readonly Verdict[];
      /** The rewritten message, when a stage added headers, a subject tag or a banner. */
      readonly data: Uint8Array | null;
      /** Keys to merge into the stored meta (mergeMeta over the stored meta); empty when none. */
      readonly meta: QueueMeta;
    };

/** inbound: from the MX. Submitted mail is outbound when any recipient is remote, internal otherwise. */
export function directionOf(listener: MessageEnvelope['listener'], anyRemote: boolean): Direction {
  if (listener === 'mx') return 'inbound';
  return anyRemote ? 'outbound' : 'internal';
}

export interface PipelineOptions {
  readonly now: () => number;
  readonly events?: EventSink;
  readonly banner?: Rewriter;
  /** Milliseconds a banner rewrite may take; past it the message keeps only its header warning. */
  readonly bannerBudgetMs?: number;
  /**
   * Runs on the received bytes before any stage (e.g. removing Authentication-Results
   * fields that claim our authserv-id): stages and the stored message see its result.
   */
  readonly sanitize?: (raw: Uint8Array) => Uint8Array;
  /**
   * Sends the verdicts' notices once the decision is final (refuse/accept
   * in-line, `done` after the queue; never on tempfail/retry). Must not throw;
   * a throw is swallowed.
   */
  readonly notify?: (queueId: string, notices: readonly Notice[]) => void;
  /** Encrypts a message a verdict asks to encrypt (encryptTo); without it such a message gets tempfail. */
  readonly encrypt?: Encryptor;
  /** Milliseconds an encryption may take; past it the phase answers tempfail (default 30 s). */
  readonly encryptBudgetMs?: number;
  /** Sends the pool work of a phase's stages as one worker task (pool/batch.ts); without it each stage runs its own. */
  readonly batch?: StartBatch;
}

export class PolicyPipeline {
  constructor(
    readonly stages: readonly ConfiguredStage[],
    private readonly opts: PipelineOptions,
  ) {}

  /** True when an after-queue stage looks at this mail: the entry must wait in `scanning`. */
  hasAfterQueue(direction: Direction, envelope?: MessageEnvelope): boolean {
    return this.stages.some(
      ({ stage }) => stage.phase === 'after-queue' && stage.directions.includes(direction) && (!envelope || !stage.applies || stage.applies(envelope)),
    );
  }

  async inline(received: Omit<StageInput, 'earlier'>): Promise<InlineDecision> {
    const input = this.opts.sanitize ? { ...received, raw: this.opts.sanitize(received.raw) } : received;
    const first = await runPhase('inline', this.stages, input, this.opts.now, [], this.opts.batch);
    this.record(input.queueId, first.verdicts);
    let { verdicts, action } = first;
    // A message to be encrypted now would reach the after-queue stages (malware, ...) as ciphertext they
    // cannot look into: those stages run here instead, on the clear message, before it is encrypted.
    const early = action !== 'reject' && action !== 'tempfail' && verdicts.some((v) => (v.encryptTo?.length ?? 0) > 0) && this.hasAfterQueue(input.direction, input.envelope);
    if (early) {
      const later = await runPhase('after-queue', this.stages, input, this.opts.now, verdicts, this.opts.batch);
      this.record(input.queueId, later.verdicts);
      verdicts = [...verdicts, ...later.verdicts];
      action = strictest(verdicts);
    }
    if (action === 'reject' || action === 'tempfail') {
      const [code, text] = replyFor(verdicts, action);
      // A tempfail is not final: the client retries and would be told again.
      if (action === 'reject') this.notify(input.queueId, verdicts);
      return { kind: 'refuse', code, text, verdicts: forStorage(verdicts) };
    }
    let data: Uint8Array;
    try {
      data = (await this.rewrite(input.raw, verdicts)) ?? input.raw;
    } catch (e) {
      if (!(e instanceof EncryptionFailed)) throw e;
      this.encryptFailed(input.queueId, 'inline', e);
      return { kind: 'refuse', code: 451, text: ENCRYPT_TEMPFAIL, verdicts: forStorage(verdicts) };
    }
    const route: EnqueueRoute =
      action === 'hold' ? { quarantine: holdReason(verdicts) } : !early && this.hasAfterQueue(input.direction, input.envelope) ? 'scan' : 'deliver';
    return { kind: 'accept', data, route, verdicts: forStorage(verdicts), meta: mergeMeta(verdicts) };
  }

  /**
   * `meta` is what the entry has stored: a `tlsFloor` in the decision only
   * ever raises its floor.
   */
  async afterQueue(input: Omit<StageInput, 'earlier'>, earlier: readonly Verdict[], meta: Readonly<Record<string, unknown>> = {}): Promise<AfterQueueDecision> {
    const { verdicts, action } = await runPhase('after-queue', this.stages, input, this.opts.now, earlier, this.opts.batch);
    this.record(input.queueId, verdicts);
    if (action === 'tempfail') {
      const v = verdicts.find((x) => x.action === 'tempfail');
      return { kind: 'retry', error: `${v?.stage ?? 'policy'}: ${v?.reasons[0]?.rule ?? 'tempfail'}`, verdicts: forStorage(verdicts) };
    }
    let data: Uint8Array | null;
    try {
      data = await this.rewrite(input.raw, verdicts);
    } catch (e) {
      if (!(e instanceof EncryptionFailed)) throw e;
      this.encryptFailed(input.queueId, 'after-queue', e);
      return { kind: 'retry', error: `policy: ${e.message}`.slice(0, 300), verdicts: forStorage(verdicts) };
    }
    // Mail already acknowledged cannot be refused any more: what a stage would reject is held.
    const next = action === 'hold' || action === 'reject' ? { quarantine: holdReason(verdicts.map((v) => (v.action === 'reject' ? { ...v, action: 'hold' as const } : v))) } : 'deliver';
    return { kind: 'done', next, verdicts: forStorage(verdicts), data, meta: mergeMeta(verdicts, meta) };
  }

  /**
   * Sends the verdicts' notices; never throws. Called by the pipeline for a
   * reject, and by the caller once an accepted message or a finished scan is
   * stored (spool.accept, finishScan): a notice is sent only for what happened.
   * A finished scan is stored without a sync of its own; the notice goes
   * through the spool, whose synced commit makes the scan result durable too.
   */
  notify(queueId: string, verdicts: readonly Verdict[]): void {
    const notices = verdicts.flatMap((v) => v.notices ?? []);
    if (notices.length === 0 || !this.opts.notify) return;
    try {
      this.opts.notify(queueId, notices);
    } catch {
      // a notice is a courtesy: the message's fate does not depend on it
    }
  }

  /**
   * Headers, subject tag, banner and encryption applied; null when the
   * verdicts ask for none. The message is encrypted after the banner and the
   * subject tag (they are part of what the recipient decrypts) and before our
   * header fields go on top (they stay readable outside). Throws
   * EncryptionFailed when encryption was asked for and not done.
   */
  private async rewrite(raw: Uint8Array, verdicts: readonly Verdict[]): Promise<Uint8Array | null> {
    let block: Uint8Array = headerBlock(verdicts);
    const banner = bannerOf(verdicts);
    const tag = subjectTagOf(verdicts);
    const certs = encryptToOf(verdicts);
    if (block.length === 0 && !banner && !tag && !certs) return null;
    let body: Uint8Array = raw;
    if (banner && this.opts.banner) {
      const ac = new AbortController();
      const t = setTimeout(() => ac.abort(), this.opts.bannerBudgetMs ?? 5000);
      try {
        body = (await this.opts.banner(raw, banner, ac.signal)) ?? raw;
      } catch {
        body = raw; // the warning header still says it; the banner is a courtesy
      } finally {
        clearTimeout(t);
      }
    }
    if (tag) {
      const tagged = tagSubject(body, tag);
      if (tagged === 'absent') block = Buffer.concat([block, Buffer.from(formatField('Subject', tag), 'utf8')]);
      else if (tagged !== 'unchanged') body = tagged;
    }
    if (certs) body = await this.sealed(body, certs);
    if (body === raw && block.length === 0) return null; // already tagged, and nothing else to do
    return insertBelowTrace(body, block);
  }

  /** The message encrypted under the encryption budget; EncryptionFailed for anything short of an encrypted message. */
  private async sealed(raw: Uint8Array, certs: readonly Uint8Array[]): Promise<Uint8Array> {
    if (!this.opts.encrypt) throw new EncryptionFailed('encryption was asked for, but no encryptor is configured');
    const ac = new AbortController();
    const budget = this.opts.encryptBudgetMs ?? DEFAULT_ENCRYPT_BUDGET_MS;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const e = new EncryptionFailed(`encryption took longer than ${budget} ms`);
        reject(e); // first, so the reason given is the budget and not the encryptor's answer to the abort
        ac.abort(e);
      }, budget);
    });
    try {
      const run = this.opts.encrypt(raw, certs, ac.signal);
      run.catch(() => undefined); // a late answer after the budget is dropped
      const out = await Promise.race([run, timeout]);
      if (!(out instanceof Uint8Array) || out.length === 0 || out === raw) throw new EncryptionFailed('the encryptor gave no encrypted message');
      return out;
    } catch (e) {
      throw e instanceof EncryptionFailed ? e : new EncryptionFailed(`encryption failed: ${e instanceof Error ? e.message : String(e)}`.slice(0, 300));
    } finally {
      clearTimeout(timer);
    }
  }

  private encryptFailed(queueId: string, phase: string, e: EncryptionFailed): void {
    this.opts.events?.record('policy.encrypt_failed', queueId, { phase, reason: e.message.slice(0, 200) });
  }

  private record(queueId: string, verdicts: readonly Verdict[]): void {
    if (!this.opts.events) return;
    for (const v of verdicts) {
      for (const e of v.events) this.opts.events.record(e.kind, queueId, { ...e.labels, ...(e.data ?? {}), stage: v.stage });
    }
  }
}
