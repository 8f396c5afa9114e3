import type { EventFeed } from './feed.js';
import type { Logger } from './logger.js';
import { eventSpec } from './events.js';
import type { PosternMetrics } from './prometheus.js';

/** Kinds too frequent to log at info. */
const QUIET = new Set(['server.heartbeat']);

/**
 * One event, three outputs: the row (written by the store), the Prometheus
 * series and this log line. Returns the unsubscribe.
 */
export function measureEvents(feed: EventFeed, metrics: PosternMetrics, log: Logger): () => void {
  return feed.listen((e) => {
    metrics.observe(e);
    const spec = eventSpec(e.kind);
    const line = { event: e.kind, property: spec?.property ?? null, subject: e.subject, data: e.data };
    if (QUIET.has(e.kind)) log.debug(line, 'event');
    else log.info(line, 'event');
  });
}
