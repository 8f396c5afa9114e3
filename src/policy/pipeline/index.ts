export type { Stage, StageInput, StageContext, StagePhase, MessageEnvelope } from './stage.js';
export { runPhase, runStage, type ConfiguredStage, type StageSettings, type PhaseResult } from './run.js';
export { formatField, headerBlock, wantsJunk, bannerOf, encryptToOf, holdReason, replyFor, subjectTagOf, tagSubject } from './apply.js';
export { mergeMeta, SESSION_META_KEYS, type QueueMeta } from './meta.js';
export { exemptRequired, type RequiredAddress } from './required.js';
export {
  PolicyPipeline,
  EncryptionFailed,
  directionOf,
  type InlineDecision,
  type AfterQueueDecision,
  type Encryptor,
  type Rewriter,
  type EventSink,
  type PipelineOptions,
} from './pipeline.js';
