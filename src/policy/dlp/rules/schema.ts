/**
 * The rules file's shape, checked with zod: every mistake is reported at once
 * with its key path ("rules[1].outbound[0]") and a plain reason, and unknown
 * keys are errors (a typo must not silently switch a rule off). Cross-field
 * checks (unknown detector names, the unscannable rule, where encrypt may be) are in
 * check.ts; this file only knows single values and tables.
 */
import { z } from 'zod';
import { int, oneOf, table } from '../../../config/values.js';
import { CONFIDENCES } from '../types.js';

/** Rule, detector and group names become event labels: short, plain. */
export const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const DOMAIN = /^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?)*$/;
const ADDRESS = /^[^\s@<>()",;:\\]{1,64}@[A-Za-z0-9.-]{1,253}$/;
const HEADER_NAME = /^[!-9;-~]{1,76}$/;

const MAX_TERMS = 1000;
const MAX_TERM_CHARS = 200;
const MAX_PATTERN_CHARS = 1000;

export const BUILTIN_TYPES = ['credit_card', 'iban', 'us_ssn', 'uk_nino', 'aba_routing', 'private_key', 'cloud_key', 'jwt', 'password'] as const;
export const DETECTOR_TYPES = [...BUILTIN_TYPES, 'keywords', 'label', 'fingerprint', 'regex'] as const;
export const ACTIONS = ['log', 'tag', 'require_tls', 'encrypt', 'hold', 'reject'] as const;

const str = (what: string, max: number) =>
  z.custom<string>((v) => typeof v === 'string' && v.length > 0 && v.length <= max && !/[\0\r\n]/.test(v), {
    abort: false,
    error: (iss) => (iss.input === undefined ? `is required (${what})` : `expected ${what} (1 to ${max} characters, one line)`),
  });

const list = <T>(item: (v: unknown) => boolean, what: string, max: number, min = 0) =>
  z.custom<T[]>((v) => Array.isArray(v) && v.length >= min && v.length <= max && v.every(item), {
    abort: false,
    error: (iss) => `${iss.input === undefined ? 'is required: ' : ''}expected a list of ${min > 0 ? `${min} to ${max}` : `at most ${max}`} ${what}`,
  });

const termList = () => list<string>((t) => typeof t === 'string' && t.trim().length > 0 && t.length <= MAX_TERM_CHARS && !/[\0\r\n]/.test(t), 'terms (words or phrases)', MAX_TERMS, 1);
const confidence = () => oneOf(CONFIDENCES as unknown as readonly ['low', 'medium', 'high']);

/** Each detector type's own keys; `type` is checked first so the message names the right table. */
export const DETECTOR_SCHEMAS: Record<(typeof DETECTOR_TYPES)[number], z.ZodType> = {
  ...(Object.fromEntries(BUILTIN_TYPES.map((t) => [t, table({ type: z.literal(t) })])) as unknown as Record<(typeof BUILTIN_TYPES)[number], z.ZodType>),
  keywords: table({
    type: z.literal('keywords'),
    terms: termList(),
    case_sensitive: z.boolean().optional(),
    near: table({ terms: termList(), words: int(1, 100) }).optional(),
  }),
  label: table({
    type: z.literal('label'),
    headers: z
      .array(table({ name: z.custom<string>((v) => typeof v === 'string' && HEADER_NAME.test(v), { abort: false, error: () => 'expected a header field name such as "X-Classification"' }), values: termList() }))
      .max(50)
      .optional(),
    subject_tags: termList().optional(),
  }).refine((v) => (v.headers?.length ?? 0) + (v.subject_tags?.length ?? 0) > 0, { error: 'a label detector needs headers or subject_tags' }),
  fingerprint: table({
    type: z.literal('fingerprint'),
    documents: list<string>((d) => typeof d === 'string' && NAME.test(d), 'document names', 1000, 1),
    threshold: z.custom<number>((v) => typeof v === 'number' && v > 0 && v <= 1, { abort: false, error: () => 'expected a number above 0 and at most 1 (the share of a document found)' }),
  }),
  regex: table({
    type: z.literal('regex'),
    pattern: str('a regular expression', MAX_PATTERN_CHARS),
    case_insensitive: z.boolean().optional(),
    confidence: confidence().optional(),
  }),
};

const actions = () => z.array(oneOf(ACTIONS)).max(6).default(['log']);

export const ruleSchema = table({
  name: z.custom<string>((v) => typeof v === 'string' && NAME.test(v), { abort: false, error: () => 'expected a name of letters, digits, ".", "_" or "-" (at most 64)' }),
  description: z.string().max(500).default(''),
  detectors: list<string>((d) => typeof d === 'string', 'detector names', 100),
  match: oneOf(['any', 'all']).default('any'),
  min_confidence: confidence().default('medium'),
  min_count: int(1, 1000).default(1),
  inbound: actions(),
  outbound: actions(),
  internal: actions(),
  notify: z.array(oneOf(['sender', 'manager'])).max(2).default([]),
  // What "encrypt" does when a recipient has no valid certificate: never send in clear.
  encrypt_fallback: oneOf(['hold', 'reject']).optional(),
});

export const fileSchema = table({
  version: z.literal(1, { error: 'expected 1 (the only version of the rules file so far)' }),
  subject_tag: z.string().max(64).refine((v) => !/[\0\r\n]/.test(v), { error: 'expected one line' }).default(''),
  partner_domains: list<string>((d) => typeof d === 'string' && DOMAIN.test(d.toLowerCase()), 'domains, e.g. ["partner.example"]', 10_000)
    .transform((v) => v.map((d) => d.toLowerCase()))
    .default([]),
  unscannable_rule: z.string().max(64).default(''),
  fingerprint_dir: z.string().min(1).max(1000).default('fingerprints'),
  groups: z
    .record(
      z.string().regex(NAME, { error: 'expected a group name of letters, digits, ".", "_" or "-"' }),
      table({ manager: z.custom<string>((v) => typeof v === 'string' && ADDRESS.test(v), { abort: false, error: () => 'expected a mail address' }).optional() }),
    )
    .default({}),
  // Each detector is checked against its type's schema in check.ts.
  detectors: z.record(z.string().regex(NAME, { error: 'expected a detector name of letters, digits, ".", "_" or "-"' }), z.unknown()).default({}),
  rules: z
    .array(ruleSchema, { error: (iss) => (iss.input === undefined ? 'is required: at least one [[rules]] entry' : 'expected [[rules]] entries (an array of tables)') })
    .min(1, { error: 'expected at least one [[rules]] entry' })
    .max(500, { error: 'at most 500 rules' }),
});

export type RulesFile = z.infer<typeof fileSchema>;
export type RuleEntry = z.infer<typeof ruleSchema>;
