/**
 * Path check for a signer certificate: from the leaf through the certificates
 * the message carried (and any the caller adds) to one of the caller's trust
 * anchors. Every certificate on the path must be valid at the given time,
 * every issuer a CA (basicConstraints, keyCertSign, path length), and the
 * leaf fit for e-mail signing (key usage, emailProtection EKU when an EKU is
 * present). EC keys with explicit curve parameters are refused, as OpenSSL 3
 * does. No revocation checking: that needs I/O and belongs to callers.
 */
import { type Cert, KU, basicConstraints, explicitEcParams, extKeyUsage, keyUsage, validAt } from './certs.js';
import { OID } from './oids.js';

export type ChainResult = { ok: true; path: Cert[] } | { ok: false; reason: string };

const MAX_DEPTH = 8;
const MAX_STEPS = 256;

function checkLeafUse(leaf: Cert): string | undefined {
  if (explicitEcParams(leaf)) return 'signer certificate has an EC key with explicit curve parameters (RFC 5480 forbids them)';
  const ku = keyUsage(leaf);
  if (ku && !ku.has(KU.digitalSignature) && !ku.has(KU.nonRepudiation)) return 'signer certificate key usage allows neither digitalSignature nor nonRepudiation';
  const eku = extKeyUsage(leaf);
  if (eku && !eku.includes(OID.emailProtection) && !eku.includes(OID.anyExtendedKeyUsage)) return 'signer certificate is not for emailProtection (extended key usage)';
  return undefined;
}

function issues(issuer: Cert, child: Cert): boolean {
  try {
    return child.x509.checkIssued(issuer.x509) && child.x509.verify(issuer.x509.publicKey);
  } catch {
    return false;
  }
}

function caFit(ca: Cert, below: number): string | undefined {
  if (explicitEcParams(ca)) return `${ca.x509.subject.replace(/\n/g, ', ')} has an EC key with explicit curve parameters`;
  const bc = basicConstraints(ca);
  if (!bc.ca) return `${ca.x509.subject.replace(/\n/g, ', ')} is not a CA (basicConstraints)`;
  if (bc.pathLen !== undefined && below > bc.pathLen) return `path length constraint of ${ca.x509.subject.replace(/\n/g, ', ')} exceeded`;
  const ku = keyUsage(ca);
  if (ku && !ku.has(KU.keyCertSign)) return `${ca.x509.subject.replace(/\n/g, ', ')} may not sign certificates (key usage)`;
  return undefined;
}

/**
 * Builds a path depth-first (a bounded search: at most 8 certificates deep
 * and 256 signature checks, only on name matches), returning the first that reaches an anchor, else the most
 * telling reason a path failed.
 */
export function checkChain(leaf: Cert, pool: readonly Cert[], anchors: readonly Cert[], at: Date): ChainResult {
  const leafUse = checkLeafUse(leaf);
  if (leafUse) return { ok: false, reason: leafUse };
  if (!validAt(leaf, at)) return { ok: false, reason: `signer certificate not valid at ${at.toISOString()} (valid ${leaf.pki.notBefore.value.toISOString()} to ${leaf.pki.notAfter.value.toISOString()})` };
  const isAnchor = (c: Cert): boolean => anchors.some((a) => a.x509.fingerprint256 === c.x509.fingerprint256);
  if (isAnchor(leaf)) return { ok: true, path: [leaf] };
  let steps = 0;
  let reason = 'no path to a trust anchor';
  const search = (path: Cert[]): Cert[] | undefined => {
    if (path.length > MAX_DEPTH) return undefined;
    const cur = path[path.length - 1]!;
    for (const [cand, anchored] of [...anchors.map((a) => [a, true] as const), ...pool.map((c) => [c, false] as const)]) {
      // Names first (cheap), so a large anchor set does not use up the step budget.
      if (cand.x509.subject !== cur.x509.issuer) continue;
      if (++steps > MAX_STEPS) return undefined;
      if (path.some((p) => p.x509.fingerprint256 === cand.x509.fingerprint256)) continue;
      if (!issues(cand, cur)) continue;
      const unfit = caFit(cand, path.length - 1);
      if (unfit) {
        reason = unfit;
        continue;
      }
      if (!validAt(cand, at)) {
        reason = `issuer ${cand.x509.subject.replace(/\n/g, ', ')} not valid at ${at.toISOString()}`;
        continue;
      }
      if (anchored || isAnchor(cand)) return [...path, cand];
      const found = search([...path, cand]);
      if (found) return found;
    }
    return undefined;
  };
  const path = search([leaf]);
  return path ? { ok: true, path } : { ok: false, reason };
}
