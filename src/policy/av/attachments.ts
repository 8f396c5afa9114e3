/**
 * The `attachments` stage: files are refused by extension (the last one; a
 * decoy before it makes it a "double-extension"), by true type (magic bytes,
 * whatever the name says), also inside ZIP archives, with lists per
 * direction. An archive that cannot be opened within the limits counts as
 * blocked (it could hide anything). Facts come from a pool worker; the lists
 * are applied here. Reject is 550 5.7.1 naming the file; quarantine holds.
 */
import type { Direction, PolicyEvent, Reason, Verdict } from '../../core/verdict.js';
import { passVerdict } from '../../core/verdict.js';
import type { Stage, StagePhase } from '../pipeline/stage.js';
import type { PolicyPool } from '../pool/index.js';
import type { AttachmentFact, AttachmentFacts } from './attachment-facts.js';
import type { ExtractLimits } from './parts.js';
import { displayName, extensionsOf } from './static/magic.js';

export const ATTACHMENTS_STAGE = 'attachments';

export type AttachmentRule = 'extension' | 'double-extension' | 'type' | 'archive-limit';

export interface AttachmentRules {
  readonly enabled: boolean;
  readonly action: 'reject' | 'quarantine';
  readonly blockExtensions: ReadonlySet<string>;
  readonly blockTypes: ReadonlySet<string>;
  readonly blockUnreadableArchives: boolean;
}

export interface AttachmentsStageOptions {
  readonly pool: PolicyPool;
  readonly phase: StagePhase;
  readonly budgetMs: number;
  readonly limits: ExtractLimits;
  readonly rules: Readonly<Record<Direction, AttachmentRules>>;
}

export interface Blocked {
  readonly rule: AttachmentRule;
  /** The file name as shown (printable ASCII), or the archive path. */
  readonly name: string;
  readonly part: string;
}

/** A decoy before the real extension looks like one: 2 to 4 letters or digits ("pdf", "jpeg", "mp3"). */
const DECOY = /^[a-z0-9]{2,4}$/;
const MAX_REASONS = 10;

export function blockedFile(f: AttachmentFact, r: AttachmentRules): AttachmentRule | null {
  const exts = f.filename ? extensionsOf(f.filename) : [];
  if (exts[0] !== undefined && r.blockExtensions.has(exts[0])) return exts[1] !== undefined && DECOY.test(exts[1]) ? 'double-extension' : 'extension';
  if (f.trueType !== null && r.blockTypes.has(f.trueType)) return 'type';
  return null;
}

/** What the rules block in these facts, files first, in message order. */
export function blockedIn(facts: AttachmentFacts, r: AttachmentRules): Blocked[] {
  const out: Blocked[] = [];
  for (const f of facts.files) {
    const rule = blockedFile(f, r);
    if (rule) out.push({ rule, name: displayName(f.filename ?? f.path), part: f.path });
  }
  if (r.blockUnreadableArchives) {
    for (const x of facts.findings) {
      if (x.kind === 'encrypted-archive') continue; // its names were read and checked above
      // The archive's own name: "2/files.zip!inner.zip" → "inner.zip".
      const name = (x.part.split('!').pop() ?? x.part).replace(/^[0-9.]+\//, '');
      out.push({ rule: 'archive-limit', name: displayName(name), part: x.part });
    }
  }
  return out;
}

function isFacts(x: unknown): x is AttachmentFacts {
  const o = x as Partial<AttachmentFacts> | null;
  return typeof o === 'object' && o !== null && Array.isArray(o.files) && Array.isArray(o.findings);
}

export function attachmentsVerdict(blocked: readonly Blocked[], direction: Direction, action: 'reject' | 'quarantine'): Verdict {
  if (blocked.length === 0) return passVerdict(ATTACHMENTS_STAGE);
  const first = blocked[0]!;
  const reasons: Reason[] = blocked.slice(0, MAX_REASONS).map((b) => ({ rule: b.rule, detail: b.name, part: b.part }));
  const rules = [...new Set(blocked.map((b) => b.rule))];
  const events: PolicyEvent[] = rules.map((rule) => ({ kind: 'attachment.blocked', labels: { rule, direction, action } }));
  const file = first.name.split('!').pop() ?? first.name;
  return {
    stage: ATTACHMENTS_STAGE,
    action: action === 'reject' ? 'reject' : 'hold',
    reasons,
    headers: [],
    events,
    reply: `5.7.1 Attachment "${file}" refused by policy (${first.rule})`,
    facts: { attachments_blocked: blocked.length },
  };
}

export function attachmentsStage(o: AttachmentsStageOptions): Stage {
  const directions = (['inbound', 'outbound', 'internal'] as const).filter((d) => o.rules[d].enabled);
  return {
    name: ATTACHMENTS_STAGE,
    phase: o.phase,
    directions,
    poolWork: () => ({ task: 'attachments.facts', input: { limits: o.limits }, budgetMs: o.budgetMs }),
    async run(input, ctx) {
      const facts = await (ctx.pooled ?? o.pool.run<unknown>('attachments.facts', { raw: input.raw, limits: o.limits }, { budgetMs: o.budgetMs, signal: ctx.signal }));
      if (!isFacts(facts)) throw new Error('attachments: the worker gave a malformed answer');
      const rules = o.rules[input.direction];
      return attachmentsVerdict(blockedIn(facts, rules), input.direction, rules.action);
    },
  };
}
