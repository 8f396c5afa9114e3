import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';

/**
 * Reads a password from standard input: the first line when stdin is a pipe,
 * or a prompt with echo off on a terminal. Never from argv, where every user
 * on the machine could read it in the process list.
 */
export async function readPassword(prompt: string): Promise<string> {
  if (!process.stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    const first = Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
    return first;
  }
  let muted = false;
  const out = new Writable({
    write(chunk, _enc, cb) {
      if (!muted) process.stderr.write(chunk);
      cb();
    },
  });
  const rl = createInterface({ input: process.stdin, output: out, terminal: true });
  process.stderr.write(prompt);
  muted = true;
  try {
    return await new Promise<string>((resolve) => rl.question('', resolve));
  } finally {
    muted = false;
    rl.close();
    process.stderr.write('\n');
  }
}

/** The one password rule, kept with the directory's other rules (the console applies it too). */
export { checkPasswordStrength } from '../directory/admin.js';
