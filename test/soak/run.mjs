#!/usr/bin/env node
// The long soak: `npm run soak -- --minutes N [--seed S]` runs test/soak/soak.test.ts
// for N minutes with no vitest timeout. Build first (the npm script does).
import { spawn } from 'node:child_process';

const args = process.argv.slice(2);
const value = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const minutes = Number(value('--minutes', '10'));
if (!Number.isFinite(minutes) || minutes <= 0 || minutes > 24 * 60) {
  console.error('usage: npm run soak -- --minutes N [--seed S]   (N from 1 to 1440)');
  process.exit(2);
}
const env = { ...process.env, SOAK_MINUTES: String(minutes) };
const seed = value('--seed', '');
if (seed) env.SOAK_SEED = seed;
const child = spawn('npx', ['vitest', 'run', 'test/soak/soak.test.ts', '--testTimeout=0', '--hookTimeout=0'], { stdio: 'inherit', env });
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
