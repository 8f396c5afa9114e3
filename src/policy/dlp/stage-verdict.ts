/**
 * From a Classification to the `dlp` stage's Verdict: the union of the
 * matched rules' actions for the direction (reject > hold > encrypt >
 * require_tls > tag > log), the reply, header fields, queue meta, subject
 * tag, the certificates to encrypt to, notices and the dlp.message /
 * dlp.match / dlp.flow / dlp.encrypt events. Pure: the stage gathers the
 * facts (the classification, the recipients' certificates), this file
 * decides, so every mapping is tested without a worker or a store.
 */
import type { Direction, Notice, PolicyEvent, Reason, Verdict } from '../../core/verdict.js';
import type { StagePhase } from '../pipeline/stage.js';
import type { Attribution } from './attribution.js';
import { decideActions } from './classify.js';
import { noticesFor } from './stage-notice.js';
import type { Classification, DlpAction, RuleMatch, RulesSpec } from './types.js';

export const DLP_STAGE = 'dlp';
const MAX_DOMAINS = 20;
const MAX_FLOW_GROUPS = 5;
const MAX_REASONS = 10;

export type DlpResult = 'confidential' | 'clean' | 'unscannable';

/**
 * What the stage found for "encrypt": the message is already encrypted, every
 * recipient's certificates, or why it cannot be done (a recipient without a
 * valid certificate, too many recipients). Looked up only when encrypt is
 * the strictest action.
 */
export type EncryptionFacts =
  | { readonly kind: 'already' }
  | { readonly kind: 'certificates'; readonly certs: readonly Uint8Array[]; readonly recipients: number }
  | { readonly kind: 'unavailable'; readonly why: string; readonly recipients: readonly string[] };

export type EncryptResult = 'encrypted' | 'already' | 'fallback_hold' | 'fallback_reject';

export interface VerdictInput {
  readonly classification: Classification;
  readonly rules: RulesSpec;
  readonly direction: Direction;
  readonly phase: StagePhase;
  readonly attribution: Attribution;
  readonly queueId: string;
  readonly recipients: readonly string[];
  /** Required when the strictest action is encrypt; missing means "not looked up", which falls back. */
  readonly encryption?: EncryptionFacts;
}

/** The matches that count in this direction: encrypted content counts as unscannable only when it leaves the organisation. */
export function matchesFor(c: Classification, rules: RulesSpec, direction: Direction): RuleMatch[] {
  return c.matches.filter((m) => m.rule !== rules.unscannable_rule || direction === 'outbound' || m.detectors.some((d) => d.detector !== 'encrypted'));
}

export function resultOf(c: Classification, matches: readonly RuleMatch[], rules: RulesSpec, direction: Direction): DlpResult {
  if (matches.some((m) => m.rule !== rules.unscannable_rule)) return 'confidential';
  const encrypted = c.encrypted || c.findings.some((f) => f.kind === 'encrypted');
  if (direction === 'outbound' && encrypted) return 'unscannable';
  return matches.length > 0 ? 'confidential' : 'clean';
}

/** The strictest action a rule takes in a direction ('none' when it has none). */
function ruleAction(rules: RulesSpec, m: RuleMatch, direction: Direction): DlpAction | 'none' {
  return decideActions([m], direction, rules)[0] ?? 'none';
}

function rulesWith(rules: RulesSpec, matches: readonly RuleMatch[], direction: Direction, action: DlpAction): string[] {
  return matches.filter((m) => rules.rules.find((r) => r.name === m.rule)?.actions[direction].includes(action)).map((m) => m.rule);
}

/** The rules asking to encrypt when encrypt is the strictest action for this direction (the stage then looks up certificates); else none. */
export function encryptRules(c: Classification, rules: RulesSpec, direction: Direction): string[] {
  const matches = matchesFor(c, rules, direction);
  return decideActions(matches, direction, rules)[0] === 'encrypt' ? rulesWith(rules, matches, direction, 'encrypt') : [];
}

/** The strictest fallback of the rules asking to encrypt (reject > hold; hold when a rule does not say). */
function fallbackOf(rules: RulesSpec, names: readonly string[]): 'hold' | 'reject' {
  return names.some((n) => rules.rules.find((r) => r.name === n)?.encrypt_fallback === 'reject') ? 'reject' : 'hold';
}

/** How the reason of a hold by an encrypt rule's fallback begins (after the rule name); the quarantine commands look for it. */
const CANNOT_ENCRYPT = 'cannot encrypt';

/**
 * True for a quarantine entry held because a rule said encrypt and a recipient
 * had no certificate: releasing it would send in clear what the rule said to
 * encrypt, so a release needs an explicit override.
 */
export function heldForEncryption(entry: { readonly stage: string; readonly reason: string }): boolean {
  return entry.stage === DLP_STAGE && entry.reason.includes(`: ${CANNOT_ENCRYPT} (`);
}

/** "(rule payment-cards)" or "(rules a, b)". */
export const ruleList = (names: readonly string[]): string => `${names.length === 1 ? 'rule' : 'rules'} ${names.join(', ')}`;

export function dlpVerdict(i: VerdictInput): Verdict {
  const { rules, direction } = i;
  const matches = matchesFor(i.classification, rules, direction);
  const result = resultOf(i.classification, matches, rules, direction);
  let actions = decideActions(matches, direction, rules);
  // encrypt is the strictest action: it is done, the message passes as already encrypted, or the rules' fallback decides.
  const encryptNames = actions[0] === 'encrypt' ? rulesWith(rules, matches, direction, 'encrypt') : [];
  const facts0: EncryptionFacts | undefined = encryptNames.length === 0 ? undefined : (i.encryption ?? { kind: 'unavailable', why: 'the certificates were not looked up', recipients: [] });
  let encrypt: EncryptResult | undefined;
  if (facts0) {
    if (facts0.kind === 'unavailable') {
      const fallback = fallbackOf(rules, encryptNames);
      encrypt = fallback === 'reject' ? 'fallback_reject' : 'fallback_hold';
      actions = [fallback, ...actions];
    } else encrypt = facts0.kind === 'already' ? 'already' : 'encrypted';
  }
  const top = actions[0] ?? 'none';
  const events = eventsOf(i, matches, result, top);
  if (facts0 && encrypt) events.push(encryptEvent(i, encryptNames, facts0, encrypt));
  if (matches.length === 0) return { stage: DLP_STAGE, action: 'pass', reasons: [], headers: [], events, facts: { dlp: result } };

  const cannot = facts0?.kind === 'unavailable' ? `${CANNOT_ENCRYPT} (${ruleList(encryptNames)}): ${facts0.why}` : null;
  const reasons: Reason[] = [
    ...(cannot ? [{ rule: encryptNames[0] ?? 'encrypt', detail: cannot.slice(0, 200) }] : []),
    ...matches.slice(0, MAX_REASONS).map((m) => ({
      rule: m.rule,
      detail: m.detectors.map((d) => `${d.detector}×${d.count}`).join(', ').slice(0, 200),
    })),
  ];
  const facts = { dlp: result, dlp_rules: matches.map((m) => m.rule).join(',').slice(0, 200), ...(encrypt ? { dlp_encrypt: encrypt } : {}) };
  const notices: Notice[] = direction === 'inbound' ? [] : noticesFor(i, matches, actions);
  const withNotices = notices.length > 0 ? { notices } : {};

  if (top === 'reject') {
    const names = rulesWith(rules, matches, direction, 'reject');
    return {
      stage: DLP_STAGE,
      action: 'reject',
      reasons,
      headers: [],
      events,
      facts,
      reply:
        facts0?.kind === 'unavailable' && names.length === 0
          ? `5.7.1 Message refused: it contains confidential data that must be sent encrypted (${ruleList(encryptNames)}), and ${facts0.why}. Ask your administrator.`
          : `5.7.1 Message refused: it contains data classified as confidential (${ruleList(names)}). Remove it or ask your administrator.`,
      ...withNotices,
    };
  }
  const headers: [string, string][] = [];
  let meta: Verdict['meta'];
  if (actions.includes('require_tls')) {
    meta = { tlsFloor: 'verify' };
    headers.push(['X-Postern-DLP-TLS', 'required']);
  }
  const tagged = actions.includes('tag') ? rulesWith(rules, matches, direction, 'tag') : [];
  const encrypting = top === 'encrypt' && facts0?.kind === 'certificates' ? facts0 : null;
  // One field says what DLP did: the rules that tagged it, and that it was encrypted (outside the encrypted part, so it stays readable).
  const said = [...(tagged.length > 0 ? [tagged.join(', ')] : []), ...(encrypting ? [`encrypted (${ruleList(encryptNames)})`] : [])];
  if (said.length > 0) headers.push(['X-Postern-DLP', said.join('; ')]);
  const action = top === 'hold' ? 'hold' : tagged.length > 0 || encrypting ? 'tag' : 'pass';
  return {
    stage: DLP_STAGE,
    action,
    reasons,
    headers,
    events,
    facts,
    ...(meta ? { meta } : {}),
    ...(tagged.length > 0 && rules.subject_tag !== '' ? { subjectTag: rules.subject_tag } : {}),
    ...(encrypting ? { encryptTo: encrypting.certs } : {}),
    ...withNotices,
  };
}

function encryptEvent(i: VerdictInput, names: readonly string[], f: EncryptionFacts, result: EncryptResult): PolicyEvent {
  return {
    kind: 'dlp.encrypt',
    labels: { direction: i.direction, result },
    data: {
      rules: [...names],
      ...(f.kind === 'certificates' ? { recipients: f.recipients, certificates: f.certs.length } : {}),
      ...(f.kind === 'unavailable' ? { why: f.why, without: f.recipients.slice(0, MAX_DOMAINS) } : {}),
    },
  };
}

function eventsOf(i: VerdictInput, matches: readonly RuleMatch[], result: DlpResult, top: DlpAction | 'none'): PolicyEvent[] {
  const { direction, attribution: at, rules } = i;
  const events: PolicyEvent[] = [{ kind: 'dlp.message', labels: { direction, result, action: top } }];
  const domains = at.destinations.slice(0, MAX_DOMAINS).map((d) => d.domain);
  const outside = at.destinations.filter((d) => d.class !== 'internal').slice(0, MAX_DOMAINS);
  const flowGroups = at.groups.length > 0 ? at.groups.slice(0, MAX_FLOW_GROUPS) : ['none'];
  for (const m of matches) {
    const action = ruleAction(rules, m, direction);
    const count = m.detectors.reduce((n, d) => n + d.count, 0);
    events.push({
      kind: 'dlp.match',
      labels: { rule: m.rule, group: at.groups[0] ?? 'none', direction, destination: at.widest, action },
      data: { sender: at.sender ?? '', groups: [...at.groups], domains, confidence: m.confidence, count },
    });
    for (const group of flowGroups) {
      for (const d of outside) events.push({ kind: 'dlp.flow', labels: { rule: m.rule, group, direction, destination: d.class, action }, data: { domain: d.domain } });
    }
  }
  return events;
}
