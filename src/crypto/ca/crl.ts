/**
 * Certificate revocation lists (RFC 5280 §5): CRL v2 signed through the CA's
 * Signer, with the authorityKeyIdentifier and cRLNumber extensions, and a
 * reasonCode per entry when one is given. Publishing it (the URL put in
 * certificates' CRL distribution points) is the caller's business.
 */
import { explicit, seq, smallUint, time, tlv, uint } from '../der.js';
import { type Ca, resolveCa } from './ca.js';
import { CaError, signatureAlgorithm } from './signer.js';
import { CA_OID, akiExtension, extension, serialBytes, signTbs, toPem } from './x509.js';

export type RevocationReason =
  | 'unspecified' | 'keyCompromise' | 'cACompromise' | 'affiliationChanged' | 'superseded'
  | 'cessationOfOperation' | 'certificateHold' | 'removeFromCRL' | 'privilegeWithdrawn' | 'aACompromise';

const REASON_CODE: Record<RevocationReason, number> = {
  unspecified: 0, keyCompromise: 1, cACompromise: 2, affiliationChanged: 3, superseded: 4,
  cessationOfOperation: 5, certificateHold: 6, removeFromCRL: 8, privilegeWithdrawn: 9, aACompromise: 10,
};

export interface Revoked {
  /** The certificate's serial: bytes, hex text (as `Issued.serial`) or a bigint. */
  serial: Uint8Array | string | bigint;
  at: Date;
  reason?: RevocationReason;
}

export interface CrlOptions {
  thisUpdate: Date;
  nextUpdate: Date;
  /** Monotonically increasing per CA (RFC 5280 §5.2.3); at most 20 octets. */
  crlNumber: number | bigint;
}

export interface BuiltCrl {
  crl: Uint8Array;
  crlPem: string;
}

const MAX_ENTRIES = 1_000_000;

function crlNumberBytes(n: number | bigint): Buffer {
  const v = typeof n === 'bigint' ? n : Number.isSafeInteger(n) ? BigInt(n) : -1n;
  if (v < 0n) throw new CaError('crlNumber must be a non-negative whole number');
  if (v === 0n) return smallUint(0);
  return uint(serialBytes(v));
}

const validDate = (d: Date, what: string): Date => {
  if (!(d instanceof Date) || Number.isNaN(d.getTime())) throw new CaError(`${what} is not a date`);
  const y = d.getUTCFullYear();
  if (y < 1950 || y > 9999) throw new CaError(`${what} is outside the years 1950 to 9999 (RFC 5280 times)`);
  return d;
};

export async function buildCrl(ca: Ca, revoked: readonly Revoked[], opts: CrlOptions): Promise<BuiltCrl> {
  const r = resolveCa(ca);
  const thisUpdate = validDate(opts.thisUpdate, 'thisUpdate');
  const nextUpdate = validDate(opts.nextUpdate, 'nextUpdate');
  if (nextUpdate.getTime() <= thisUpdate.getTime()) throw new CaError('nextUpdate must be after thisUpdate');
  if (revoked.length > MAX_ENTRIES) throw new CaError(`at most ${MAX_ENTRIES} entries`);
  const entries = revoked.map((e) => {
    const fields = [uint(serialBytes(e.serial)), time(validDate(e.at, 'revocation time'))];
    // RFC 5280 §5.3.1: reasonCode unspecified SHOULD be absent.
    if (e.reason !== undefined && e.reason !== 'unspecified') {
      const code = REASON_CODE[e.reason];
      if (code === undefined) throw new CaError(`unknown revocation reason ${String(e.reason)}`);
      fields.push(seq(extension(CA_OID.crlReason, false, tlv(0x0a, Buffer.from([code])))));
    }
    return seq(...fields);
  });
  const tbs = seq(
    smallUint(1), // v2
    signatureAlgorithm(r.signer.algorithm),
    r.parts.subject,
    time(thisUpdate),
    time(nextUpdate),
    ...(entries.length ? [seq(...entries)] : []), // an empty list is omitted, not encoded empty
    explicit(0, seq(akiExtension(r.keyId), extension(CA_OID.crlNumber, false, crlNumberBytes(opts.crlNumber)))),
  );
  const crl = await signTbs(r.signer, tbs);
  return { crl, crlPem: toPem('X509 CRL', crl) };
}

