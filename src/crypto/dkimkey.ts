/**
 * DKIM signing keys and their DNS publication (RFC 6376 3.6.1). RSA keys
 * publish the DER SubjectPublicKeyInfo in p=; Ed25519 keys publish the raw
 * 32-byte public key (RFC 8463 4.2).
 */
import { createPrivateKey, createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { normalizeDomain } from '../core/address.js';
import type { DnsRecord } from './dnsrecords.js';

export type DkimAlgorithm = 'rsa' | 'ed25519';

export interface DkimKeyOptions {
  algorithm?: DkimAlgorithm;
  /** RSA modulus size; 2048 is what RFC 8301 asks for and what fits DNS comfortably. */
  bits?: 2048 | 3072 | 4096;
}

export interface DkimKey {
  algorithm: DkimAlgorithm;
  /** PKCS#8 PEM. */
  privateKeyPem: string;
  /** Base64 of what p= carries: SubjectPublicKeyInfo DER (rsa) or the raw 32-byte key (ed25519). */
  publicKeyDer: string;
  /** The TXT record value, e.g. "v=DKIM1; k=rsa; p=MIIB...". */
  dnsRecordValue: string;
}

const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

function keyPair(algorithm: DkimAlgorithm, bits: number): Promise<{ publicKey: KeyObject; privateKey: KeyObject }> {
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, publicKey: KeyObject, privateKey: KeyObject) => (err ? reject(err) : resolve({ publicKey, privateKey }));
    if (algorithm === 'rsa') generateKeyPair('rsa', { modulusLength: bits, publicExponent: 0x10001 }, done);
    else generateKeyPair('ed25519', {}, done);
  });
}

/** The p= value and k= tag for a public key. */
function publish(publicKey: KeyObject): { algorithm: DkimAlgorithm; p: string } {
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  if (publicKey.asymmetricKeyType === 'rsa') return { algorithm: 'rsa', p: spki.toString('base64') };
  if (publicKey.asymmetricKeyType === 'ed25519') return { algorithm: 'ed25519', p: spki.subarray(ED25519_SPKI_PREFIX.length).toString('base64') };
  throw new TypeError(`DKIM keys are RSA or Ed25519, not ${publicKey.asymmetricKeyType ?? 'unknown'}`);
}

const recordValue = (algorithm: DkimAlgorithm, p: string): string => `v=DKIM1; k=${algorithm}; p=${p}`;

export async function generateDkimKey(opts: DkimKeyOptions = {}): Promise<DkimKey> {
  const algorithm = opts.algorithm ?? 'rsa';
  const bits = opts.bits ?? 2048;
  if (algorithm !== 'rsa' && algorithm !== 'ed25519') throw new RangeError(`unknown DKIM algorithm ${String(algorithm)}`);
  if (algorithm === 'rsa' && ![2048, 3072, 4096].includes(bits)) throw new RangeError(`RSA DKIM keys are 2048, 3072 or 4096 bits, not ${bits}`);
  const { publicKey, privateKey } = await keyPair(algorithm, bits);
  const { p } = publish(publicKey);
  return {
    algorithm,
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyDer: p,
    dnsRecordValue: recordValue(algorithm, p),
  };
}

/** The TXT value for a key already on disk (PEM private key), so it can be re-published. */
export function dkimRecordValueFromPrivateKey(privateKeyPem: string): string {
  const { algorithm, p } = publish(createPublicKey(createPrivateKey(privateKeyPem)));
  return recordValue(algorithm, p);
}

/** The TXT record that publishes a DKIM key: <selector>._domainkey.<domain>. */
export function dkimDnsRecord(domain: string, selector: string, value: string): DnsRecord {
  const d = normalizeDomain(domain);
  const s = normalizeDomain(selector);
  if (d === null || s === null) throw new RangeError(`not a valid DKIM record name: ${JSON.stringify(`${selector}._domainkey.${domain}`)}`);
  return { name: `${s}._domainkey.${d}`, type: 'TXT', value };
}
