// Watchdog thread (see watchdog.ts): plain JavaScript, so it runs without a TypeScript loader.
/* global setInterval */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { workerData } from 'node:worker_threads';

const { sab, findingsDir, hangMs, ctrl: CTRL, nameSize } = workerData;
const ctrl = new Int32Array(sab, 0, 8);
const start = new Float64Array(sab, 32, 1);
const name = new Uint8Array(sab, CTRL, nameSize);
const data = new Uint8Array(sab, CTRL + nameSize);

let seen = -1;
setInterval(() => {
  const seq = Atomics.load(ctrl, 0);
  if (Atomics.load(ctrl, 1) !== 1 || seq !== seen) {
    seen = seq;
    return;
  }
  const ms = Date.now() - start[0];
  if (ms < hangMs) return;
  const target = Buffer.from(name.subarray(0, ctrl[3])).toString('utf8');
  const input = Buffer.from(data.subarray(0, ctrl[2]));
  const hash = createHash('sha256').update(input).digest('hex').slice(0, 16);
  const dir = join(findingsDir, target);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${hash}.bin`), input);
  const note = ctrl[4] === 1 ? ' (input cut to the watchdog buffer)' : '';
  writeFileSync(join(dir, `${hash}.txt`), `hang: one input of ${input.length} bytes still running after ${Math.round(ms)} ms${note}\n`);
  process.stderr.write(`\nfuzz watchdog: ${target} hung on ${join(dir, hash)}.bin; stopping the run\n`);
  process.kill(process.pid, 'SIGKILL');
}, 250);
