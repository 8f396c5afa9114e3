import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compiledPath } from './compiled.js';

describe('compiledPath', () => {
  it('replaces the last src folder by dist, and gives null without one', () => {
    const p = (...xs: string[]): string => path.join(path.sep, ...xs);
    expect(compiledPath(p('opt', 'postern', 'src', 'store', 'a.ts'))).toBe(p('opt', 'postern', 'dist', 'store', 'a.ts'));
    expect(compiledPath(p('src', 'x', 'src', 'b.ts'))).toBe(p('src', 'x', 'dist', 'b.ts'));
    expect(compiledPath(p('opt', 'postern', 'lib', 'a.ts'))).toBeNull();
  });
});
