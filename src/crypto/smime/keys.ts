/**
 * Private keys are handed in by callers (PEM text or KeyObject) and never
 * kept: this turns them into KeyObjects and names what kind they are.
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { CmsError } from './asn1.js';

export type KeyInput = string | KeyObject;

export function privateKey(input: KeyInput): KeyObject {
  if (typeof input !== 'string') {
    if (input.type !== 'private') throw new CmsError('a private key is needed');
    return input;
  }
  try {
    return createPrivateKey(input);
  } catch (err) {
    throw new CmsError(`private key: ${(err as Error).message}`);
  }
}

export type KeyKind = 'rsa' | 'rsa-pss' | 'ec-p256' | 'ec-p384' | 'ec-p521' | 'dsa' | 'other';

export function keyKind(key: KeyObject): KeyKind {
  const t = key.asymmetricKeyType;
  if (t === 'rsa' || t === 'rsa-pss' || t === 'dsa') return t;
  if (t === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1' || curve === 'P-256') return 'ec-p256';
    if (curve === 'secp384r1' || curve === 'P-384') return 'ec-p384';
    if (curve === 'secp521r1' || curve === 'P-521') return 'ec-p521';
  }
  return 'other';
}
