/**
 * Events as Prometheus series. Every recorded event (store/event-feed.ts)
 * increments `postern_events_total{kind,property}` and the kind's own counter
 * `postern_<kind>_total` labelled with the kind's bounded labels from the
 * registry (events.ts). Label values are cut to a short length and, past a
 * fixed number of distinct values per label, folded into "other": a bug or a
 * hostile peer cannot grow the series without bound. Gauges that describe
 * the present (queue size, age of the last scrub) are read from the store at
 * scrape time by gauges registered on `registry` with a `collect` function.
 */
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';
import type { RecordedEvent } from './feed.js';
import { EVENT_KINDS, eventSpec } from './events.js';

/** Distinct values one label may take before the rest become "other". */
export const MAX_LABEL_VALUES = 50;
const MAX_VALUE_LENGTH = 64;

export function metricNameOf(kind: string): string {
  return `postern_${kind.replace(/[^a-zA-Z0-9]+/g, '_')}_total`;
}

export class PosternMetrics {
  readonly registry = new Registry();
  private readonly all: Counter<'kind' | 'property'>;
  private readonly perKind = new Map<string, Counter<string>>();
  private readonly seen = new Map<string, Set<string>>();

  constructor(opts: { processMetrics?: boolean } = {}) {
    if (opts.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'postern_' });
    this.all = new Counter({
      name: 'postern_events_total',
      help: 'Events recorded, by kind and the property of mail it measures (C, I, A)',
      labelNames: ['kind', 'property'],
      registers: [this.registry],
    });
    for (const s of EVENT_KINDS) {
      const c = new Counter({ name: metricNameOf(s.kind), help: `${s.what} (${s.property})`, labelNames: [...s.labels], registers: [this.registry] });
      this.perKind.set(s.kind, c);
    }
  }

  /** Counts one event; unknown kinds count only in postern_events_total (as kind "other"). */
  observe(e: RecordedEvent): void {
    const spec = eventSpec(e.kind);
    if (!spec) {
      this.all.inc({ kind: 'other', property: 'unknown' });
      return;
    }
    this.all.inc({ kind: spec.kind, property: spec.property });
    const labels: Record<string, string> = {};
    for (const l of spec.labels) labels[l] = this.bounded(`${spec.kind}.${l}`, e.data[l]);
    this.perKind.get(spec.kind)?.inc(labels);
  }

  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private bounded(key: string, raw: unknown): string {
    const v = raw === undefined || raw === null ? '' : String(raw as string | number | boolean).slice(0, MAX_VALUE_LENGTH);
    let seen = this.seen.get(key);
    if (!seen) this.seen.set(key, (seen = new Set()));
    if (seen.has(v)) return v;
    if (seen.size >= MAX_LABEL_VALUES) return 'other';
    seen.add(v);
    return v;
  }
}
