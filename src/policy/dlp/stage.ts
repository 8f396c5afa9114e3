/**
 * The `dlp` stage: the message is extracted and classified in a pool worker
 * under the stage's budget (the rules travel with it; the worker keeps the
 * compiled detectors per rules version), the sender and recipients are
 * attributed here from the directory, and stage-verdict.ts decides. One stage
 * object per phase, like the malware stage: each direction runs in-line or
 * after the queue as [policy.dlp] phase says. When "encrypt" is the strictest
 * action, every recipient's valid certificates are looked up here (bounded);
 * the pipeline does the encryption.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Direction } from '../../core/verdict.js';
import { alreadyEncrypted } from '../../crypto/smime/message.js';
import type { CertificateRepo } from '../../store/types.js';
import type { Stage, StagePhase } from '../pipeline/stage.js';
import type { PolicyPool } from '../pool/index.js';
import { attribute, type DirectorySnapshot } from './attribution.js';
import { dlpVerdict, DLP_STAGE, encryptRules, type EncryptionFacts } from './stage-verdict.js';
import type { Classification, ContentLimits, RulesSpec } from './types.js';

export interface DlpStageOptions {
  readonly pool: PolicyPool;
  readonly phase: StagePhase;
  readonly directions: readonly Direction[];
  readonly budgetMs: number;
  readonly limits: ContentLimits;
  /** The rules in force (WatchedRules.current). */
  readonly rules: () => RulesSpec;
  readonly directory: () => Promise<DirectorySnapshot>;
  /** Correspondents' certificates for "encrypt"; without them encrypt always falls back. */
  readonly certificates?: Pick<CertificateRepo, 'valid'>;
}

/** Recipients one message is encrypted to at most (more: the fallback applies), and the newest certificates used per recipient. */
export const MAX_ENCRYPT_RECIPIENTS = 100;
export const MAX_CERTIFICATES_PER_RECIPIENT = 4;
/** Certificate look-ups in flight at once; the loop gets a turn between rounds. */
const LOOKUPS_AT_ONCE = 8;
const MAX_LISTED = 5;

const listed = (xs: readonly string[]): string => xs.slice(0, MAX_LISTED).join(', ') + (xs.length > MAX_LISTED ? ` and ${xs.length - MAX_LISTED} more` : '');

/**
 * What "encrypt" can do for this message: already encrypted (S/MIME
 * enveloped or PGP/MIME: passes as it is), every recipient's certificates
 * (the newest few valid ones each, deduplicated), or why not. At most
 * MAX_ENCRYPT_RECIPIENTS × MAX_CERTIFICATES_PER_RECIPIENT certificates;
 * stops when `signal` is aborted.
 */
export async function encryptionFacts(
  raw: Uint8Array,
  recipients: readonly string[],
  certificates: Pick<CertificateRepo, 'valid'> | undefined,
  now: number,
  signal: AbortSignal,
): Promise<EncryptionFacts> {
  if (alreadyEncrypted(raw)) return { kind: 'already' };
  const unique = [...new Set(recipients.map((r) => r.toLowerCase()))];
  if (unique.length === 0) return { kind: 'unavailable', why: 'the message has no recipients', recipients: [] };
  if (!certificates) return { kind: 'unavailable', why: 'no certificate store is available', recipients: [] };
  if (unique.length > MAX_ENCRYPT_RECIPIENTS) return { kind: 'unavailable', why: `it has more than ${MAX_ENCRYPT_RECIPIENTS} recipients`, recipients: [] };
  const certs = new Map<string, Uint8Array>();
  const without: string[] = [];
  for (let at = 0; at < unique.length; at += LOOKUPS_AT_ONCE) {
    signal.throwIfAborted();
    const round = unique.slice(at, at + LOOKUPS_AT_ONCE);
    const found = await Promise.all(round.map((r) => certificates.valid(r, now)));
    round.forEach((r, k) => {
      const mine = (found[k] ?? []).slice(0, MAX_CERTIFICATES_PER_RECIPIENT);
      if (mine.length === 0) without.push(r);
      for (const c of mine) certs.set(c.fingerprint, c.der);
    });
    await yieldToLoop();
  }
  if (without.length > 0) return { kind: 'unavailable', why: `no valid certificate is known for ${listed(without)}`, recipients: without };
  return { kind: 'certificates', certs: [...certs.values()], recipients: unique.length };
}

function isClassification(x: unknown): x is Classification {
  const o = x as Partial<Classification> | null;
  return typeof o === 'object' && o !== null && Array.isArray(o.matches) && Array.isArray(o.nearMisses) && Array.isArray(o.findings) && typeof o.encrypted === 'boolean';
}

/** Where the stage keeps the rules its batched classification was sent with. */
const RULES_MEMO = 'dlp.rules';

export function dlpStage(o: DlpStageOptions): Stage {
  return {
    name: DLP_STAGE,
    phase: o.phase,
    directions: o.directions,
    poolWork: (input) => {
      // The verdict must read the rules the message was classified by, even if the file is reloaded meanwhile.
      const rules = o.rules();
      input.memo?.set(RULES_MEMO, rules);
      return { task: 'dlp.classify', input: { rules, limits: o.limits }, budgetMs: o.budgetMs };
    },
    async run(input, ctx) {
      const sent = ctx.pooled ? (input.memo?.get(RULES_MEMO) as RulesSpec | undefined) : undefined;
      const rules = sent ?? o.rules();
      const [c, snap] = await Promise.all([
        (sent && ctx.pooled) || o.pool.run<unknown>('dlp.classify', { raw: input.raw, rules, limits: o.limits }, { budgetMs: o.budgetMs, signal: ctx.signal }),
        o.directory(),
      ]);
      if (!isClassification(c)) throw new Error('dlp: the worker gave a malformed answer');
      const encrypting = encryptRules(c, rules, input.direction).length > 0;
      const encryption = encrypting ? await encryptionFacts(input.raw, input.envelope.recipients, o.certificates, ctx.now(), ctx.signal) : undefined;
      const verdict = dlpVerdict({
        classification: c,
        rules,
        direction: input.direction,
        phase: o.phase,
        attribution: attribute(input.envelope, snap, rules),
        queueId: input.queueId,
        recipients: input.envelope.recipients,
        ...(encryption ? { encryption } : {}),
      });
      return { ...verdict, facts: { ...verdict.facts, dlp_ms: c.ms, dlp_chars: c.chars } };
    },
  };
}
