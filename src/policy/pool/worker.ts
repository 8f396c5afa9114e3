/**
 * The policy worker thread's entry (piscina loads the compiled file,
 * dist/policy/pool/worker.js). It runs one named task from the registry and
 * always answers with a TaskOutcome: a task that throws becomes
 * `{ ok: false }`, so the pool can tell a failed task from a dead thread.
 */
import { MessagePort } from 'node:worker_threads';
import { workerResolver } from './dns-proxy.js';
import { errorText, type TaskEnv, type TaskOutcome } from './task.js';
import { TASKS, type TaskName } from './tasks.js';

function isTaskName(name: unknown): name is TaskName {
  return typeof name === 'string' && Object.hasOwn(TASKS, name);
}

export default async function runTask(message: unknown): Promise<TaskOutcome> {
  const m = (typeof message === 'object' && message !== null ? message : {}) as Record<string, unknown>;
  const port = m.dns instanceof MessagePort ? m.dns : undefined;
  const report = m.report instanceof MessagePort ? m.report : undefined;
  try {
    if (!isTaskName(m.task)) return { ok: false, error: `unknown task ${String(m.task).slice(0, 64)}` };
    let stopped = false;
    // Any message from the caller on the report channel means "stop": nothing else travels that way.
    report?.on('message', () => (stopped = true));
    const env: TaskEnv = {
      ...(port ? { resolver: workerResolver(port, { source: typeof m.dnsSource === 'number' ? m.dnsSource : 0 }) } : {}),
      ...(report ? { report: (message: unknown) => report.postMessage(message), stopped: () => stopped } : {}),
    };
    const task: (input: unknown, env: TaskEnv) => Promise<unknown> = TASKS[m.task];
    return { ok: true, value: await task(m.input, env) };
  } catch (e) {
    return { ok: false, error: errorText(e) };
  } finally {
    // Closing ends the channel on both sides; piscina then parks this thread until the next task.
    port?.close();
    report?.close();
  }
}
