/**
 * [metrics]: what postern measures beyond what it must. `message_events`
 * records an event per SMTP session, per accepted message and per outbound
 * delivery (the confidentiality figures: TLS share); off, those figures are
 * missing from the report, and each message costs one store write less.
 * `enabled` feeds every event into the Prometheus counters and the log.
 */
import { bool, table } from './values.js';

export const MESSAGE_EVENT_KINDS = ['smtp.session', 'smtp.message', 'relay.message'] as const;

export function metricsSection() {
  return table({
    enabled: bool().default(true),
    message_events: bool().default(true),
  }).prefault({});
}
