/**
 * Reading the rules file: TOML → schema → cross-field checks → RulesSpec, or
 * a RulesError listing every mistake with its key path and reason. Detectors
 * are compiled once here only to check them (a bad regex is named at load,
 * not at the first message); the worker compiles its own copy.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse, TomlError } from 'smol-toml';
import type { z } from 'zod';
import { compileDetector } from '../detect/index.js';
import type { DetectorSpec, DlpAction, Fingerprint, RuleSpec, RulesSpec } from '../types.js';
import { parseFingerprint, readFingerprintDir, type FingerprintFile } from './fingerprints.js';
import { DETECTOR_SCHEMAS, DETECTOR_TYPES, fileSchema, type RulesFile } from './schema.js';

export interface RulesProblem {
  /** Key path ("rules[1].outbound[0]", "detectors.cards.type"), "(file)" or "(syntax)". */
  readonly key: string;
  readonly reason: string;
}

export class RulesError extends Error {
  constructor(
    readonly path: string,
    readonly problems: readonly RulesProblem[],
  ) {
    super(`${path}: ${problems.length === 1 ? 'a mistake' : `${problems.length} mistakes`} in the DLP rules file:\n${problems.map((p) => `  ${p.key}: ${p.reason}`).join('\n')}`);
    this.name = 'RulesError';
  }
}

const MAX_RULES_BYTES = 1024 * 1024;

/** "rules", 1, "outbound", 0 → rules[1].outbound[0] */
export function keyPath(parts: readonly PropertyKey[]): string {
  let out = '';
  for (const p of parts) {
    if (typeof p === 'number') out += `[${p}]`;
    else {
      const s = String(p);
      const part = /^[A-Za-z0-9_-]+$/.test(s) ? s : JSON.stringify(s);
      out += out === '' ? part : `.${part}`;
    }
  }
  return out === '' ? '(root)' : out;
}

function issuesOf(error: z.ZodError, prefix: readonly PropertyKey[]): RulesProblem[] {
  const out: RulesProblem[] = [];
  for (const issue of error.issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys') for (const k of issue.keys) out.push({ key: keyPath([...path, k]), reason: 'unknown key (a typo?)' });
    else out.push({ key: keyPath(path), reason: issue.code === 'invalid_type' && /received undefined/.test(issue.message) ? 'is required' : issue.message });
  }
  return out;
}

function detectorSpec(name: string, raw: unknown, problems: RulesProblem[]): DetectorSpec | null {
  const type = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? (raw as { type?: unknown }).type : undefined;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    problems.push({ key: keyPath(['detectors', name]), reason: 'expected a table ([detectors.<name>])' });
    return null;
  }
  if (typeof type !== 'string' || !(DETECTOR_TYPES as readonly string[]).includes(type)) {
    problems.push({ key: keyPath(['detectors', name, 'type']), reason: `expected one of ${DETECTOR_TYPES.join(', ')}${type === undefined ? '' : `, got ${JSON.stringify(type).slice(0, 40)}`}` });
    return null;
  }
  const r = DETECTOR_SCHEMAS[type as keyof typeof DETECTOR_SCHEMAS].safeParse(raw);
  if (!r.success) {
    problems.push(...issuesOf(r.error, ['detectors', name]));
    return null;
  }
  return r.data as DetectorSpec;
}

/** The rules file's checks that span keys; the file's own shape is already valid. */
function crossCheck(file: RulesFile, detectors: Record<string, DetectorSpec>, badDetectors: ReadonlySet<string>, fingerprints: readonly Fingerprint[], problems: RulesProblem[]): void {
  const seen = new Set<string>();
  const unscannable = file.unscannable_rule;
  file.rules.forEach((r, i) => {
    if (seen.has(r.name)) problems.push({ key: keyPath(['rules', i, 'name']), reason: `the rule name "${r.name}" is used twice` });
    seen.add(r.name);
    if (r.detectors.length === 0 && r.name !== unscannable)
      problems.push({ key: keyPath(['rules', i, 'detectors']), reason: `a rule needs at least one detector (only the unscannable_rule "${unscannable || '(none set)'}" may have none)` });
    r.detectors.forEach((d, j) => {
      if (!(d in detectors) && !badDetectors.has(d)) problems.push({ key: keyPath(['rules', i, 'detectors', j]), reason: `unknown detector "${d.slice(0, 64)}"` });
    });
    // Mail from the Internet reaches our own readers: encrypting it would only lock them out.
    r.inbound.forEach((a, j) => {
      if (a === 'encrypt') problems.push({ key: keyPath(['rules', i, 'inbound', j]), reason: '"encrypt" is for outbound and internal mail only (inbound mail is encrypted at rest with [encryption_at_rest])' });
    });
    if (r.encrypt_fallback !== undefined && !r.outbound.includes('encrypt') && !r.internal.includes('encrypt'))
      problems.push({ key: keyPath(['rules', i, 'encrypt_fallback']), reason: 'only applies to a rule whose outbound or internal actions include "encrypt"' });
    if (r.notify.includes('manager') && !Object.values(file.groups).some((g) => g.manager))
      problems.push({ key: keyPath(['rules', i, 'notify']), reason: '"manager" is asked for but no [groups.<name>] sets a manager' });
  });
  if (unscannable !== '' && !seen.has(unscannable)) problems.push({ key: 'unscannable_rule', reason: `no [[rules]] entry is named "${unscannable.slice(0, 64)}"` });
  const docs = new Set(fingerprints.map((f) => f.name));
  for (const [name, spec] of Object.entries(detectors)) {
    if (spec.type !== 'fingerprint') continue;
    spec.documents.forEach((d, j) => {
      if (!docs.has(d)) problems.push({ key: keyPath(['detectors', name, 'documents', j]), reason: `no registered document "${d}" (expected ${d}.fp.json in fingerprint_dir)` });
    });
  }
}

/**
 * Checks a rules file's text with its fingerprint files (already read), and
 * returns the RulesSpec; throws RulesError naming every mistake. `path` is
 * for the messages only.
 */
export function buildRules(text: string, fpFiles: readonly FingerprintFile[], path = 'dlp-rules.toml', fpErrors: readonly string[] = []): RulesSpec {
  let raw: unknown;
  try {
    raw = parse(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    if (e instanceof TomlError) {
      const reason = (e.message.split('\n')[0] ?? e.message).replace(/^Invalid TOML document:\s*/, '');
      throw new RulesError(path, [{ key: '(syntax)', reason: `line ${e.line}, column ${e.column}: ${reason}` }]);
    }
    throw e;
  }
  const problems: RulesProblem[] = fpErrors.map((reason) => ({ key: 'fingerprint_dir', reason }));
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) problems.push(...issuesOf(parsed.error, []));
  const fingerprints: Fingerprint[] = [];
  for (const f of fpFiles) {
    const fp = parseFingerprint(f);
    if (typeof fp === 'string') problems.push({ key: 'fingerprint_dir', reason: `${f.name}.fp.json: ${fp}` });
    else fingerprints.push(fp);
  }
  // The detectors' own checks still run when the rest of the file is wrong: every mistake in one pass.
  const rawDetectors = typeof raw === 'object' && raw !== null ? (raw as { detectors?: unknown }).detectors : undefined;
  const detectors: Record<string, DetectorSpec> = {};
  const bad = new Set<string>();
  if (typeof rawDetectors === 'object' && rawDetectors !== null && !Array.isArray(rawDetectors)) {
    for (const [name, spec] of Object.entries(rawDetectors as Record<string, unknown>)) {
      const d = detectorSpec(name, spec, problems);
      if (d) detectors[name] = d;
      else bad.add(name);
    }
  }
  if (parsed.success) crossCheck(parsed.data, detectors, bad, fingerprints, problems);
  const docs = new Set(fingerprints.map((f) => f.name));
  for (const [name, spec] of Object.entries(detectors)) {
    if (spec.type === 'fingerprint' && !spec.documents.every((d) => docs.has(d))) continue; // named by crossCheck
    try {
      compileDetector(name, spec, fingerprints);
    } catch (e) {
      // DetectorSpecError already names the detector: keep only its reason.
      const reason = e instanceof Error ? e.message.replace(/^detector "[^"]*": /, '') : String(e);
      problems.push({ key: keyPath(['detectors', name]), reason });
    }
  }
  if (problems.length > 0 || !parsed.success) throw new RulesError(path, problems);
  const file = parsed.data;
  const rules: RuleSpec[] = file.rules.map((r) => ({
    name: r.name,
    description: r.description,
    detectors: r.detectors,
    match: r.match,
    min_confidence: r.min_confidence,
    min_count: r.min_count,
    actions: { inbound: r.inbound as DlpAction[], outbound: r.outbound as DlpAction[], internal: r.internal as DlpAction[] },
    notify: [...new Set(r.notify)],
    ...(r.outbound.includes('encrypt') || r.internal.includes('encrypt') ? { encrypt_fallback: r.encrypt_fallback ?? 'hold' } : {}),
  }));
  return {
    key: rulesKey(text, fpFiles),
    detectors,
    rules,
    fingerprints,
    groups: file.groups,
    partner_domains: file.partner_domains,
    subject_tag: file.subject_tag,
    unscannable_rule: file.unscannable_rule === '' ? null : file.unscannable_rule,
  };
}

/** sha256 over the rules file and each fingerprint file (by name): a change to any gives a new key. */
export function rulesKey(text: string, fpFiles: readonly FingerprintFile[]): string {
  const h = createHash('sha256').update(text, 'utf8');
  for (const f of [...fpFiles].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) h.update(`\0${f.name}\0${f.bytes.length}\0`).update(f.bytes);
  return h.digest('hex');
}

/**
 * The fingerprint folder a rules text names (`fingerprint_dir`, default
 * "fingerprints"), resolved against the rules file's folder. Throws when the
 * text is not TOML.
 */
export function fingerprintDirIn(text: string, rulesDir: string): string {
  const v = (parse(text.replace(/^\uFEFF/, '')) as { fingerprint_dir?: unknown }).fingerprint_dir;
  return resolve(rulesDir, typeof v === 'string' && v !== '' ? v : 'fingerprints');
}

/** Reads and checks the rules file at `path` and its fingerprint files; throws RulesError. */
export async function loadRules(path: string): Promise<RulesSpec> {
  let text: string;
  try {
    const bytes = await readFile(path);
    if (bytes.length > MAX_RULES_BYTES) throw new RulesError(path, [{ key: '(file)', reason: `larger than ${MAX_RULES_BYTES} bytes` }]);
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (e) {
    if (e instanceof RulesError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'file not found' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a folder' : code ? code : 'not UTF-8 text';
    throw new RulesError(path, [{ key: '(file)', reason: `cannot read: ${why}` }]);
  }
  const rulesDir = dirname(resolve(path));
  let fpDir: string;
  try {
    fpDir = fingerprintDirIn(text, rulesDir);
  } catch {
    fpDir = resolve(rulesDir, 'fingerprints'); // the syntax error is reported by buildRules
  }
  const fp = await readFingerprintDir(fpDir);
  return buildRules(text, fp.files, path, fp.errors);
}
