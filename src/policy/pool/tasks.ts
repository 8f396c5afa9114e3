/**
 * The fixed registry of tasks a policy worker runs: one line per task.
 * Only these names can run; the pool's `run()` takes a TaskName, and the
 * worker refuses any other name it is sent.
 */
import { SELFTEST_TASKS } from './selftest.js';
import type { TaskFn } from './task.js';

export const TASKS = {
  ...SELFTEST_TASKS,
} satisfies Record<string, TaskFn>;

export type TaskName = keyof typeof TASKS;
