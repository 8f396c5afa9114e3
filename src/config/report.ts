/**
 * [report]: what `postern report` measures availability against. The SLA
 * target is a percentage of the report's window during which mail service
 * was up (unplanned downtime counts against it, planned maintenance does not).
 */
import { z } from 'zod';
import { describeValue, table } from './values.js';

/** A percentage with at most three decimals, from 50 to 100 (e.g. 99.9, 99.95). */
const percent = () =>
  z.custom<number>((v) => typeof v === 'number' && Number.isFinite(v) && v >= 50 && v <= 100 && Math.abs(v * 1000 - Math.round(v * 1000)) < 1e-6, {
    abort: false,
    error: (iss) => `expected a percentage from 50 to 100 such as 99.9, got ${describeValue(iss.input)}`,
  });

export function reportSection() {
  return table({
    sla_target: percent().default(99.9),
  }).prefault({});
}
