import { describe, expect, it } from 'vitest';
import { eventSpec } from '../metrics/events.js';
import { ALERT_RULES, matchRule } from './rules.js';

describe('alert rules', () => {
  it('alert on kinds the registry knows, except those other parts add (probe, engines)', () => {
    const unknown = ALERT_RULES.map((r) => r.kind).filter((k) => !eventSpec(k));
    expect(unknown.filter((k) => !['probe.outage_started', 'engine.down'].includes(k))).toEqual([]);
  });

  it('alert on unplanned downtime only', () => {
    expect(matchRule({ kind: 'availability.downtime', data: { planned: false } }, 'warning')?.severity).toBe('warning');
    expect(matchRule({ kind: 'availability.downtime', data: { planned: true } }, 'warning')).toBeNull();
  });

  it('grade an expiring certificate and honour min_severity', () => {
    expect(matchRule({ kind: 'tls.cert_expiring', data: { days: 10 } }, 'warning')?.severity).toBe('warning');
    expect(matchRule({ kind: 'tls.cert_expiring', data: { days: 2 } }, 'warning')?.severity).toBe('critical');
    expect(matchRule({ kind: 'tls.cert_expiring', data: { days: 10 } }, 'critical')).toBeNull();
    expect(matchRule({ kind: 'integrity.uncorrectable', data: {} }, 'critical')?.severity).toBe('critical');
    expect(matchRule({ kind: 'server.heartbeat', data: {} }, 'warning')).toBeNull();
  });
});
