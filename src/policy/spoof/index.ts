/** Spoof and forgery detectors: facts (costly, in a worker), detection (cheap), verdict and banner. */
export { extractFacts, DEFAULT_FACT_LIMITS, MAX_ADDRESS_FIELD_BYTES, MAX_LINE_BYTES } from './facts.js';
export { detect } from './detect.js';
export { spoofVerdict, bannerText, DEFAULT_SPOOF_ACTIONS, SPOOF_STAGE } from './verdict.js';
export { addBanner, type BannerLimits } from './banner.js';
export { skeleton, isMixedScript, CONFUSABLE_ENTRIES } from './confusables.js';
export { editDistance } from './edit-distance.js';
export { nameKey } from './names.js';
export { DETECTOR_NAMES } from './types.js';
export type {
  AddressFieldFact, AddressProblem, DetectInput, DetectorName, FactLimits, Finding, Listener, MailboxFact,
  MessageFacts, SpoofAction, SpoofContext,
} from './types.js';
