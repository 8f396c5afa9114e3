/**
 * The default bounds of DLP extraction and a sanitiser for limits that come
 * as plain data (a pool task's input): archive bounds are the malware
 * stage's walker's, so a message the malware stage refuses to open is not
 * opened here either.
 */
import { DEFAULT_EXTRACT_LIMITS } from '../../av/parts.js';
import type { ContentLimits } from '../types.js';

export const DEFAULT_CONTENT_LIMITS: ContentLimits = {
  ...DEFAULT_EXTRACT_LIMITS,
  maxTextChars: 2_000_000,
  maxPdfPages: 200,
};

/** Limits from plain data, each held to a sane range (the default when missing or out of range). */
export function contentLimitsFrom(x: unknown): ContentLimits {
  const o = (typeof x === 'object' && x !== null ? x : {}) as Record<string, unknown>;
  const n = (k: keyof ContentLimits, min: number, max: number): number => {
    const v = o[k];
    return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? v : DEFAULT_CONTENT_LIMITS[k];
  };
  return {
    maxArchiveDepth: n('maxArchiveDepth', 0, 16),
    maxTotalBytes: n('maxTotalBytes', 1024, 2 ** 31),
    maxRatio: n('maxRatio', 2, 100_000),
    maxEntries: n('maxEntries', 1, 1_000_000),
    maxTextChars: n('maxTextChars', 0, 100_000_000),
    maxPdfPages: n('maxPdfPages', 0, 100_000),
  };
}
