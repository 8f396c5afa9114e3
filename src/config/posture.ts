/**
 * [posture]: what `postern audit` holds the installation to beyond the rest
 * of the configuration: how old the last full scrub and the last verified
 * backup may be, and which groups must have their mail encrypted at rest.
 */
import { z } from 'zod';
import { describeValue, int, table } from './values.js';

const groupNames = () =>
  z
    .custom<string[]>((v) => Array.isArray(v) && v.length <= 1000 && v.every((g) => typeof g === 'string' && g.trim() !== '' && g.length <= 200), {
      abort: false,
      error: (iss) => `expected a list of group names, got ${describeValue(iss.input)}`,
    })
    .transform((v) => [...new Set(v.map((g) => g.trim()))]);

export function postureSection() {
  return table({
    // Hours since the last full scrub before the audit fails it.
    max_scrub_age: int(1, 24 * 365).default(72),
    // Hours since the last verified backup before the audit fails it.
    max_backup_age: int(1, 24 * 365).default(48),
    // Groups whose every member must be covered by [encryption_at_rest].
    require_at_rest_groups: groupNames().default([]),
  }).prefault({});
}
