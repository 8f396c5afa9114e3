import { describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';
import path from 'node:path';

// Lints source text as if it lived at a path under src/, without writing it.
async function lint(file: string, code: string): Promise<string[]> {
  // The text is in no TypeScript project, so the type-aware rules are off here.
  const eslint = new ESLint({
    cwd: process.cwd(),
    overrideConfig: {
      languageOptions: { parserOptions: { project: null } },
      rules: { '@typescript-eslint/no-floating-promises': 'off', '@typescript-eslint/no-misused-promises': 'off' },
    },
  });
  const [r] = await eslint.lintText(code, { filePath: path.resolve(file) });
  const fatal = r?.messages.find((m) => m.fatal);
  if (fatal) throw new Error(`could not lint ${file}: ${fatal.message}`);
  return (r?.messages ?? []).filter((m) => m.ruleId === 'postern/layers').map((m) => m.message);
}

describe('layer rule', () => {
  it('allows imports that point downward', async () => {
    expect(await lint('src/smtp/x.ts', "import { Spool } from '../queue/spool.js';\nexport const s = Spool;\n")).toEqual([]);
  });

  it('refuses an import that points upward', async () => {
    expect(await lint('src/codec/x.ts', "import { Spool } from '../queue/spool.js';\nexport const s = Spool;\n")).toEqual([
      'codec (L1) must not import queue (L3)',
    ]);
  });

  it('keeps protocol servers apart', async () => {
    const m = await lint('src/smtp/x.ts', "import { a } from '../delivery/local.js';\nexport const b = a;\n");
    expect(m[0]).toMatch(/smtp must not import delivery/);
  });

  it('lets peers share types but not code', async () => {
    expect(await lint('src/directory/x.ts', "import type { Account } from '../store/types.js';\nexport type A = Account;\n")).toEqual([]);
    expect((await lint("src/directory/x.ts", "import { openStore } from '../store/index.js';\nexport const o = openStore;\n"))[0]).toMatch(
      /must not import its peer layer store/,
    );
  });

  it('keeps database drivers inside their backend', async () => {
    expect(await lint('src/queue/x.ts', "import Database from 'better-sqlite3';\nexport const d = Database;\n")).toEqual([
      'only src/store/backends/sqlite may import better-sqlite3',
    ]);
  });
});
