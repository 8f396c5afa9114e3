export { PolicyPool, type PolicyPoolOptions, type PolicyPoolStats, type RunOptions } from './pool.js';
export {
  PolicyAborted,
  PolicyBusy,
  PolicyPoolError,
  PolicyTaskError,
  PolicyTimeout,
  PolicyWorkerDied,
  isPolicyPoolError,
  type PolicyPoolErrorCode,
} from './errors.js';
export { MAX_LOOKUPS_PER_TASK } from './dns-proxy.js';
export type { TaskName } from './tasks.js';
export type { TaskEnv, TaskFn } from './task.js';
