import type { EventFeed } from './feed.js';
import type { Logger } from './logger.js';
import { eventSpec } from './events.js';
import type { PosternMetrics } from './prometheus.js';

/**
 * Kinds logged at debug: too frequent, or one per message and already told at
 * info by the code that records them (smtp.message: the "message accepted"
 * line; smime.at_rest: the "delivered" line's atRest). Their rows and
 * counters are kept either way; only the duplicate log line goes.
 */
const QUIET = new Set(['server.heartbeat', 'smtp.message', 'smime.at_rest']);

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
