import { describe, expect, it } from 'vitest';
import { weakRelayRoutes, type RelayAuditInput } from './relay-audit.js';
import { raiseToFloor, relayFloorFor } from './floor.js';
import type { HostPolicy } from './types.js';

const relay = (level: RelayAuditInput['tls_default'], domains: string[] = []) => ({ host: 'relay.corp.test', level, domains });

describe('weakRelayRoutes', () => {
  it('lists destinations whose policy asks for more than the relay gives', () => {
    const routes = weakRelayRoutes({
      tls_default: 'may',
      tls_policy: { 'secret.example': 'encrypt', 'bank.example': 'verify', 'gov.example': 'dane-only', 'open.example': 'may', 'old.example': 'none' },
      relay: relay('may'),
    });
    expect(routes.map((r) => [r.destination, r.required, r.routed])).toEqual([
      ['secret.example', 'encrypt', 'all'],
      ['bank.example', 'verify', 'all'],
      ['gov.example', 'verify', 'all'],
    ]);
    expect(routes[0]).toMatchObject({ destinationLevel: 'encrypt', relay: 'relay.corp.test', relayLevel: 'may' });
  });

  it('is empty when the relay is at least as strict, or there is no relay', () => {
    const tls_policy = { 'secret.example': 'encrypt', 'gov.example': 'dane', 'sts.example': 'mta-sts' } as const;
    expect(weakRelayRoutes({ tls_default: 'verify', tls_policy, relay: relay('verify') })).toEqual([]);
    expect(weakRelayRoutes({ tls_default: 'verify', tls_policy, relay: relay('dane-only') })).toEqual([]);
    expect(weakRelayRoutes({ tls_default: 'verify', tls_policy })).toEqual([]);
    // encrypt is not enough for a destination that wants an authenticated peer; dane at the relay may end as may.
    expect(weakRelayRoutes({ tls_default: 'may', tls_policy, relay: relay('encrypt') }).map((r) => r.destination)).toEqual(['gov.example', 'sts.example']);
    expect(weakRelayRoutes({ tls_default: 'may', tls_policy, relay: relay('dane') }).map((r) => r.destination)).toEqual(['secret.example', 'gov.example', 'sts.example']);
  });

  it('considers only the destinations the relay takes, and the default for its domains no key covers', () => {
    const tls_policy = { 'secret.example': 'encrypt', '.corp.example': 'verify', 'hq.other.example': 'verify', '.partner.example': 'encrypt' } as const;
    const routes = weakRelayRoutes({ tls_default: 'encrypt', tls_policy, relay: relay('may', ['.example', 'a.partner.example']) });
    expect(routes.map((r) => [r.destination, r.routed])).toEqual([
      ['secret.example', 'all'],
      ['.corp.example', 'all'],
      ['hq.other.example', 'all'],
      ['.partner.example', 'all'],
      ['*', 'some'],
    ]);
    const some = weakRelayRoutes({ tls_default: 'may', tls_policy, relay: relay('may', ['x.corp.example', 'secret.example']) });
    expect(some.map((r) => [r.destination, r.routed])).toEqual([
      ['secret.example', 'all'],
      ['.corp.example', 'some'],
    ]);
  });

  it('applies to a parsed config section as is', () => {
    const delivery = { tls_default: 'may' as const, tls_policy: { 'secret.example': 'encrypt' as const }, relay: { host: 'r.test', port: 25, level: 'may' as const, domains: [] } };
    expect(weakRelayRoutes(delivery)).toHaveLength(1);
  });
});

describe('TLS floors', () => {
  const may: HostPolicy = { level: 'may', tls: 'opportunistic', auth: 'none', names: [], tlsa: [], enforce: true, report: { type: 'no-policy-found', strings: [], domain: 'relay.corp.test' } };

  it('maps destination levels to what the relay hop must achieve', () => {
    expect((['none', 'may', 'encrypt', 'verify', 'dane', 'dane-only', 'mta-sts'] as const).map(relayFloorFor)).toEqual(['none', 'none', 'encrypt', 'verify', 'verify', 'verify', 'verify']);
  });

  it('raises a host policy to the floor, never lowers it', () => {
    expect(raiseToFloor(may, 'none', 'relay.corp.test')).toBe(may);
    expect(raiseToFloor(may, 'encrypt', 'relay.corp.test')).toMatchObject({ tls: 'required', auth: 'none', enforce: true });
    expect(raiseToFloor({ ...may, tls: 'off' }, 'encrypt', 'relay.corp.test')).toMatchObject({ tls: 'required' });
    expect(raiseToFloor(may, 'verify', 'relay.corp.test')).toMatchObject({ tls: 'required', auth: 'pkix', names: ['relay.corp.test'] });
    const dane = { ...may, tls: 'required' as const, auth: 'dane' as const, names: ['relay.corp.test'] };
    expect(raiseToFloor(dane, 'verify', 'relay.corp.test')).toBe(dane);
  });
});
