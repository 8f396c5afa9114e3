/** The DLP rules file: loading, checking, the default text and the reloading holder. */
export { loadRules, buildRules, rulesKey, fingerprintDirIn, RulesError, keyPath, type RulesProblem } from './load.js';
export { readFingerprintDir, parseFingerprint, FP_SUFFIX, type FingerprintFile } from './fingerprints.js';
export { DEFAULT_RULES_TOML } from './default.js';
export { WatchedRules, type WatchedRulesOptions } from './watch.js';
export { DETECTOR_TYPES, BUILTIN_TYPES, ACTIONS } from './schema.js';
