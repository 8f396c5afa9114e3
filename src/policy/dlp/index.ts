/** Data-loss prevention: the rules file, classification and the `dlp` stage (see README.md). */
export { classifyContent, classifyMessage, decideActions, ACTION_ORDER } from './classify.js';
export { dlpStage, type DlpStageOptions } from './stage.js';
export { dlpVerdict, heldForEncryption, matchesFor, resultOf, DLP_STAGE, type DlpResult, type VerdictInput } from './stage-verdict.js';
export { noticesFor } from './stage-notice.js';
export { attribute, directorySnapshots, destinationClass, localSender, orderGroups, type Attribution, type DestinationClass, type DirectorySnapshot, type GroupDirectory } from './attribution.js';
export { loadRules, buildRules, RulesError, WatchedRules, DEFAULT_RULES_TOML, type RulesProblem } from './rules/index.js';
export type * from './types.js';
