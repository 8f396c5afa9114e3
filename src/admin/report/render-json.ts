/** The report as JSON: the Report shape of types.ts (schema "postern.report/1"), times in Unix ms. */
import type { Report } from './types.js';

export function renderJson(r: Report): string {
  return `${JSON.stringify(r, null, 2)}\n`;
}
