/**
 * The worker side of a batch: the pool tasks of several stages over one
 * message, run in turn in one worker task, so the message crosses to the
 * thread once and one round trip serves every stage. Each item's answer is
 * sent ahead on the report channel as soon as it is known (a stage waits
 * for its own item only, not for the ones after it), and all of them are
 * returned at the end as well (the caller may see either first); the last
 * one only there. The items share one MIME parse of the message
 * (parse-memo.ts).
 */
import { withParseMemo } from './parse-memo.js';
import { errorText, type TaskEnv, type TaskFn, type TaskOutcome } from './task.js';

/** One item: a task name of the registry and its input without the message bytes. */
export interface BatchItem {
  readonly task: string;
  readonly input: Readonly<Record<string, unknown>>;
}

/** An early answer on the report channel. */
export interface BatchReport {
  readonly i: number;
  readonly outcome: TaskOutcome;
}

/** More items than stages in a pipeline is a mistake; the rest are refused. */
export const MAX_BATCH_ITEMS = 16;

function isItem(x: unknown): x is BatchItem {
  const o = x as Partial<BatchItem> | null;
  return typeof o === 'object' && o !== null && typeof o.task === 'string' && typeof o.input === 'object' && o.input !== null;
}

async function runItem(registry: Readonly<Record<string, TaskFn>>, item: unknown, raw: Uint8Array, env: TaskEnv): Promise<TaskOutcome> {
  if (!isItem(item) || !Object.hasOwn(registry, item.task)) return { ok: false, error: `unknown batch item ${isItem(item) ? item.task.slice(0, 64) : '(malformed)'}` };
  try {
    return { ok: true, value: await registry[item.task]!({ ...item.input, raw }, env) };
  } catch (e) {
    return { ok: false, error: errorText(e) };
  }
}

/** The batch task over `registry` (which must not contain the batch task itself: no nesting). */
export function batchTask(registry: Readonly<Record<string, TaskFn>>): TaskFn {
  // The stages parse the same bytes: one parse serves them all (parse-memo.ts).
  return (input, env) => {
    const o = (typeof input === 'object' && input !== null ? input : {}) as { raw?: unknown; items?: unknown };
    const raw = o.raw instanceof Uint8Array ? o.raw : new Uint8Array(0);
    const items: unknown[] = Array.isArray(o.items) ? o.items : [];
    return withParseMemo(raw, () => runItems(registry, raw, items, env));
  };
}

async function runItems(registry: Readonly<Record<string, TaskFn>>, raw: Uint8Array, items: readonly unknown[], env: TaskEnv): Promise<TaskOutcome[]> {
  const out: TaskOutcome[] = [];
  for (let i = 0; i < items.length; i++) {
    // The caller's phase ended (an earlier stage refused): the remaining answers would be dropped.
    if (env.stopped?.()) break;
    const outcome = i < MAX_BATCH_ITEMS ? await runItem(registry, items[i], raw, env) : { ok: false as const, error: `more than ${MAX_BATCH_ITEMS} items in one batch` };
    out.push(outcome);
    // The last answer goes back with the task's own: reporting it too would only cost the main thread another message.
    if (i < items.length - 1) env.report?.({ i, outcome } satisfies BatchReport);
  }
  return out;
}
