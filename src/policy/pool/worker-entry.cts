/**
 * The file piscina loads on each thread. It is CommonJS on purpose: piscina
 * loads its file with require(), and Node 20's require() of an ES module
 * instantiates it synchronously, which aborts the whole process (a V8 check
 * on an uninstantiated module) when the pool terminates a thread still
 * loading it, as a pool closed right after start does. The ES module worker
 * is loaded here with import() instead, which a termination interrupts
 * safely. Loading starts with the thread, not with its first task.
 */
type Run = (message: unknown) => Promise<unknown>;

const loading: Promise<Run> = import('./worker.js').then((m: { default: Run }) => m.default);
// Held until the first task asks; a failed load is that task's error, never an unhandled rejection.
loading.catch(() => undefined);

async function runTask(message: unknown): Promise<unknown> {
  return (await loading)(message);
}

export = runTask;
