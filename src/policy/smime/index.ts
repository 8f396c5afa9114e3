/** The `smime` stage: S/MIME signatures on received mail (see README.md). */
export { TrustAnchorsError, readTrustAnchors } from './anchors.js';
export { learnCertificate } from './learn.js';
export { type SmimeInspection, inspectSmime } from './inspect.js';
export { type SmimeStageOptions, smimeStage } from './stage.js';
export { SMIME_HEADER, SMIME_STAGE, type SmimeAction, type SmimeDecision, type SmimeStatus, decide, headerValueOf, smimeVerdict } from './verdict.js';
