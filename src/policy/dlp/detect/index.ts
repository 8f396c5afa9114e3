/**
 * The DLP detectors: `compileDetector` turns a rules-file detector into a
 * scanner (checking it: a bad regex or an unknown document is a
 * DetectorSpecError naming the detector), `mask` hides a matched value before
 * it leaves the worker, `fingerprintOf` registers a document. Pure, no I/O;
 * every scanner is linear in its input and returns at most HIT_CAP hits.
 */
import type { BuiltinDetector, DetectorSpec, Fingerprint, HeaderText, Hit, TextSegment } from '../types.js';
import { scanAba } from './aba.js';
import { scanCards } from './cards.js';
import { fingerprintScanner } from './fingerprint.js';
import { scanIban } from './iban.js';
import { keywordScanner, words } from './keywords.js';
import { labelScanner } from './label.js';
import { scanNino } from './nino.js';
import { compilePattern, regexScanner } from './regex.js';
import { scanCloudKeys, scanJwt, scanPasswords, scanPrivateKeys } from './secrets.js';
import type { TextScan } from './shared.js';
import { scanSsn } from './ssn.js';

export { fingerprintOf } from './fingerprint.js';
export { mask } from './mask.js';
export { HIT_CAP } from './shared.js';

export interface CompiledDetector {
  readonly name: string;
  readonly type: DetectorSpec['type'];
  /** Text detectors: run over every segment. */
  text?(text: string): Hit[];
  /** Label detectors: the top-level header fields and the Subject. */
  headers?(headers: readonly HeaderText[], subject: string): Hit[];
  /** Fingerprint detectors: all segments at once. */
  message?(segments: readonly TextSegment[]): Hit[];
}

/** A detector in the rules file that cannot be used; the message names it and says why. */
export class DetectorSpecError extends Error {
  constructor(
    readonly detector: string,
    readonly reason: string,
  ) {
    super(`detector "${detector}": ${reason}`);
    this.name = 'DetectorSpecError';
  }
}

const BUILTINS: Readonly<Record<BuiltinDetector, TextScan>> = {
  credit_card: scanCards,
  iban: scanIban,
  us_ssn: scanSsn,
  uk_nino: scanNino,
  aba_routing: scanAba,
  private_key: scanPrivateKeys,
  cloud_key: scanCloudKeys,
  jwt: scanJwt,
  password: scanPasswords,
};

export const BUILTIN_TYPES: readonly BuiltinDetector[] = Object.keys(BUILTINS) as BuiltinDetector[];

/** Near-term distances beyond this are a paragraph, not "near". */
const MAX_NEAR_WORDS = 1000;
const MAX_TERMS = 10_000;

export function compileDetector(name: string, spec: DetectorSpec, fingerprints: readonly Fingerprint[]): CompiledDetector {
  const fail = (reason: string): never => {
    throw new DetectorSpecError(name, reason);
  };
  const type = (spec as { type?: unknown }).type;
  if (typeof type === 'string' && Object.hasOwn(BUILTINS, type)) {
    return { name, type: type as BuiltinDetector, text: BUILTINS[type as BuiltinDetector] };
  }
  switch (spec.type) {
    case 'keywords': {
      checkTerms(spec.terms, 'terms', fail);
      if (spec.near) {
        checkTerms(spec.near.terms, 'near.terms', fail);
        const w = spec.near.words;
        if (!Number.isInteger(w) || w < 0 || w > MAX_NEAR_WORDS) fail(`near.words must be a whole number from 0 to ${MAX_NEAR_WORDS}`);
      }
      const scan = keywordScanner({ terms: spec.terms, caseSensitive: spec.case_sensitive === true, near: spec.near });
      return { name, type: 'keywords', text: scan };
    }
    case 'label': {
      const headers = spec.headers ?? [];
      const tags = spec.subject_tags ?? [];
      headers.forEach((h, i) => {
        if (!/^[!-9;-~]+$/.test(h.name)) fail(`headers[${i}].name "${h.name.slice(0, 60)}" is not a header field name`);
        if (h.values.length === 0 || h.values.some((v) => v.length === 0)) fail(`headers[${i}].values must be non-empty strings`);
      });
      if (tags.some((t) => t.length === 0)) fail('subject_tags must be non-empty strings');
      if (headers.length === 0 && tags.length === 0) fail('a label detector needs headers or subject_tags');
      return { name, type: 'label', headers: labelScanner({ headers, subjectTags: tags }) };
    }
    case 'fingerprint': {
      if (spec.documents.length === 0) fail('documents is empty');
      if (!(spec.threshold > 0 && spec.threshold <= 1)) fail('threshold must be above 0 and at most 1');
      const docs = spec.documents.map((doc) => {
        const fp = fingerprints.find((f) => f.name === doc);
        return fp ?? fail(`no registered document "${doc.slice(0, 100)}" (postern dlp fingerprint add)`);
      });
      return { name, type: 'fingerprint', message: fingerprintScanner(docs, spec.threshold) };
    }
    case 'regex': {
      const confidence = spec.confidence ?? 'medium';
      if (!['low', 'medium', 'high'].includes(confidence)) fail('confidence must be low, medium or high');
      const re = compilePattern({ pattern: spec.pattern, caseInsensitive: spec.case_insensitive === true, confidence });
      if (typeof re === 'string') fail(re);
      return { name, type: 'regex', text: regexScanner(re as Exclude<typeof re, string>, confidence) };
    }
  }
  return fail(`unknown detector type "${String(type).slice(0, 60)}"`);
}

function checkTerms(terms: readonly string[], key: string, fail: (reason: string) => never): void {
  if (terms.length === 0) fail(`${key} is empty`);
  if (terms.length > MAX_TERMS) fail(`${key} has more than ${MAX_TERMS} terms`);
  terms.forEach((t, i) => {
    if (words(t).length === 0) fail(`${key}[${i}] "${t.slice(0, 60)}" has no letters or digits`);
  });
}
