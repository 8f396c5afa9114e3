/**
 * [policy.smime]: checking S/MIME signatures on mail we receive. The trust
 * anchors file (PEM, relative to the config file's folder) names the CAs
 * whose certificates make a signature `valid`; without one every good
 * signature is `untrusted`, which is still recorded. Tampered and invalid
 * signatures are tagged, held or passed as on_tampered / on_invalid say.
 */
import { resolve } from 'node:path';
import { z } from 'zod';
import { bool, describeValue, int, oneOf, table } from './values.js';

const DIRECTIONS = ['inbound', 'outbound', 'internal'] as const;
export type SmimeDirection = (typeof DIRECTIONS)[number];

const action = () => oneOf(['tag', 'quarantine', 'pass']).default('tag');

/** "" (no anchors) or a path, resolved against the config file's folder. */
const anchorsFile = (baseDir: string) =>
  z
    .custom<string>((v) => typeof v === 'string' && !v.includes('\0'), {
      abort: false,
      error: (iss) => `expected "" or the path of a PEM file of CA certificates, got ${describeValue(iss.input)}`,
    })
    .transform((v) => (v === '' ? undefined : resolve(baseDir, v)));

const directions = () =>
  z
    .custom<SmimeDirection[]>((v) => Array.isArray(v) && v.length > 0 && v.every((d) => typeof d === 'string' && (DIRECTIONS as readonly string[]).includes(d)), {
      abort: false,
      error: (iss) => `expected a non-empty list out of ${DIRECTIONS.map((d) => JSON.stringify(d)).join(', ')}, got ${describeValue(iss.input)}`,
    })
    .transform((v) => [...new Set(v)]);

export function smimeSection(baseDir: string) {
  return table({
    enabled: bool().default(true),
    // CA certificates (PEM) a signer must chain to; "" = none, so every signature is at best "untrusted".
    trust_anchors: anchorsFile(baseDir).optional(),
    // After the queue by default: the sender is not kept waiting for a check that only tags.
    phase: oneOf(['inline', 'after-queue']).default('after-queue'),
    directions: directions().default(['inbound', 'internal']),
    budget_ms: int(10, 600_000).default(10_000),
    fail_open: bool().default(false),
    // "tag" (X-Postern-SMIME only), "quarantine" (hold) or "pass" for a changed message or a broken signature.
    on_tampered: action(),
    on_invalid: action(),
    // Keep the certificate of a valid signer as the From address's "learned" certificate (to encrypt to them later).
    learn_certificates: bool().default(true),
  }).prefault({});
}

export type SmimeConfig = z.infer<ReturnType<typeof smimeSection>>;
