export { scrub, type ScrubOptions, type ScrubReport, type ScrubProgress } from './scrub.js';
export { startBackgroundScrub, watchDamage, type BackgroundScrubber, type BackgroundScrubOptions, type ScrubLog } from './background.js';
export { backup, type BackupOptions, type BackupReport, type CopyProgress } from './backup.js';
export { verifyBackup, type VerifyOptions, type VerifyReport } from './verify.js';
export { restore, type RestoreOptions, type RestoreReport } from './restore.js';
export { integrityMetrics, EVENT as INTEGRITY_EVENTS, type IntegrityMetrics } from './metrics.js';
export { TokenBucket, rateLimiter, realSleep, type Sleep } from './bucket.js';
export { BackupError } from './errors.js';
export { parseManifest, type Manifest, type BlobEntry } from './manifest.js';
