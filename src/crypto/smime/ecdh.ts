/**
 * The ECDH pieces of key agreement recipients (RFC 5753 §7.2, RFC 8418
 * style): the ANSI X9.63 KDF over ECC-CMS-SharedInfo and AES key wrap
 * (RFC 3394), both with node:crypto.
 */
import { createCipheriv, createDecipheriv, createHash } from 'node:crypto';
import { explicit, octets, seq } from '../der.js';
import { algId } from './asn1.js';
import { OID, type HashName } from './oids.js';

export const KDF_HASH: Readonly<Record<string, HashName>> = {
  [OID.dhSinglePassStdDhSha1Kdf]: 'sha1',
  [OID.dhSinglePassStdDhSha224Kdf]: 'sha224',
  [OID.dhSinglePassStdDhSha256Kdf]: 'sha256',
  [OID.dhSinglePassStdDhSha384Kdf]: 'sha384',
  [OID.dhSinglePassStdDhSha512Kdf]: 'sha512',
};

export const WRAP_BITS: Readonly<Record<string, number>> = { [OID.aes128Wrap]: 128, [OID.aes192Wrap]: 192, [OID.aes256Wrap]: 256 };

const IV = Buffer.from('a6a6a6a6a6a6a6a6', 'hex');

/** KEK = X9.63-KDF(Z, ECC-CMS-SharedInfo{wrap alg, ukm, key bits}). */
export function deriveKek(hash: HashName, z: Uint8Array, wrapOid: string, ukm?: Uint8Array): Buffer {
  const bits = WRAP_BITS[wrapOid];
  if (!bits) throw new Error(`unsupported key wrap ${wrapOid}`);
  const supp = Buffer.alloc(4);
  supp.writeUInt32BE(bits);
  const sharedInfo = seq(algId(wrapOid), ...(ukm ? [explicit(0, octets(ukm))] : []), explicit(2, octets(supp)));
  const out: Buffer[] = [];
  let have = 0;
  for (let counter = 1; have < bits / 8; counter++) {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter);
    const block = createHash(hash).update(z).update(c).update(sharedInfo).digest();
    out.push(block);
    have += block.length;
  }
  return Buffer.concat(out).subarray(0, bits / 8);
}

const wrapCipher = (kek: Uint8Array): string => `id-aes${kek.length * 8}-wrap`;

export function wrapKey(kek: Uint8Array, cek: Uint8Array): Buffer {
  const c = createCipheriv(wrapCipher(kek), kek, IV);
  return Buffer.concat([c.update(cek), c.final()]);
}

/** Throws when the integrity check of the wrapped key fails (wrong key). */
export function unwrapKey(kek: Uint8Array, wrapped: Uint8Array): Buffer {
  const d = createDecipheriv(wrapCipher(kek), kek, IV);
  return Buffer.concat([d.update(wrapped), d.final()]);
}
