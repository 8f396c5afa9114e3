#!/usr/bin/env node
// npm run fuzz -- [--minutes N] [--target NAME] [--seed S] | --replay FILE
// Runs test/fuzz/campaign.test.ts under vitest with the matching FUZZ_* variables.
// If the watchdog stops a run on a hang, the run restarts for the time left.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const env = { ...process.env };
for (let i = 0; i < args.length; i++) {
  const [k, v] = [args[i], args[i + 1]];
  if (k === '--minutes') env.FUZZ_MINUTES = v;
  else if (k === '--target') env.FUZZ_TARGET = v;
  else if (k === '--seed') env.FUZZ_SEED = v;
  else if (k === '--replay') env.FUZZ_REPLAY = v;
  else {
    console.error(`unknown argument ${k}\nusage: npm run fuzz -- [--minutes N] [--target NAME] [--seed S] | --replay FILE`);
    process.exit(2);
  }
  i++;
}
if (!env.FUZZ_REPLAY && !env.FUZZ_MINUTES) env.FUZZ_MINUTES = '1';
const root = fileURLToPath(new URL('../..', import.meta.url));
const vitest = ['node_modules/vitest/vitest.mjs', 'run', 'test/fuzz/campaign.test.ts', '--testTimeout=0', '--hookTimeout=0', '--reporter=verbose', '--disableConsoleIntercept'];
const end = Date.now() + Number(env.FUZZ_MINUTES ?? 0) * 60_000;
for (let attempt = 0; ; attempt++) {
  const r = spawnSync(process.execPath, vitest, { cwd: root, env, stdio: 'inherit' });
  const left = (end - Date.now()) / 60_000;
  // A kill by the watchdog (hang) ends vitest's worker; go on with the time left.
  if (env.FUZZ_REPLAY || r.status === 0 || left < 0.5 || attempt >= 5) process.exit(r.status ?? 1);
  console.error(`fuzz: run ended early (status ${r.status}); restarting for ${left.toFixed(1)} more minute(s)`);
  env.FUZZ_MINUTES = String(left);
  env.FUZZ_SEED = String(Number(env.FUZZ_SEED ?? 1) + 1000 * (attempt + 1));
}
