/**
 * The S/MIME readers (src/crypto/smime): MIME wrapping, CMS SignedData
 * verification and EnvelopedData/AuthEnvelopedData decryption, on real
 * signed and encrypted messages (test/fixtures/smime) and their raw CMS,
 * mutated. Promises checked: nothing throws; a verdict is one of the five
 * statuses and a decryption result has a boolean ok; a signed entity found by
 * the parser is no longer than the input; a 'valid' verdict comes with a
 * signer and, for opaque signatures, the content.
 */
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { decryptData, parseCertificate, parseSmime, verifySignedData, verifySmime } from '../../../src/crypto/smime/index.js';
import { anyBytes, mutatedSeeds, tokenSoup } from '../harness/mutate.js';
import { check, type FuzzTarget } from '../harness/types.js';

const FIXTURES = new URL('../../fixtures/smime/', import.meta.url);
const file = (name: string): Buffer => readFileSync(new URL(name, FIXTURES));
const pemDer = (name: string): Uint8Array => Buffer.from(file(name).toString('latin1').replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');

const STATUSES = new Set(['valid', 'invalid', 'untrusted', 'tampered', 'malformed']);
const KINDS = new Set(['signed', 'pkcs7-mime', 'none', 'malformed']);
const AT = new Date('2013-11-02T20:28:04Z');
const TOKENS = [
  'Content-Type: multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256; boundary="b"\r\n',
  'Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m\r\n',
  'Content-Type: application/pkcs7-signature\r\n', 'Content-Transfer-Encoding: base64\r\n', '\r\n', '--b\r\n', '--b--\r\n', 'MIIB', 'MIAGCSqGSIb3DQEHAqCA', '=', '\n',
];

let cache: { seeds: Uint8Array[]; anchors: ReturnType<typeof parseCertificate>[]; recipient: { certificate: ReturnType<typeof parseCertificate>; key: string } } | null = null;
function setup(): NonNullable<typeof cache> {
  if (cache) return cache;
  const messages = ['mimekit-thunderbird-signed.eml', 'flanker-m2crypto-signed.eml', 'openssl-pkcs7-empty-digest-set.eml', 'signed-opaque.msg'].map(file);
  const ders = ['enveloped-rsa-oaep.pem', 'enveloped-aes-256-cbc.pem', 'enveloped.pem'].map(pemDer);
  // The raw p7s of the signed messages: mutations then hit the DER, not its base64.
  const p7s = messages.flatMap((m) => {
    const p = parseSmime(m);
    return p.kind === 'signed' ? [p.signature] : p.kind === 'pkcs7-mime' ? [p.der] : [];
  });
  const wrapped = Buffer.from(`Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m\r\nContent-Transfer-Encoding: base64\r\n\r\n${Buffer.from(ders[0]!).toString('base64')}\r\n`);
  cache = {
    seeds: [...messages, ...ders, ...p7s, wrapped],
    anchors: [parseCertificate(file('StartComCertificationAuthority.crt').toString('latin1'))],
    recipient: { certificate: parseCertificate(file('custom-ca-rsa_ca.pem').toString('latin1')), key: file('custom-ca-rsa_key.pem').toString('latin1') },
  };
  return cache;
}

function run(input: Uint8Array): 'ok' | 'rejected' {
  const { anchors, recipient } = setup();
  let accepted = false;

  const parts = parseSmime(input);
  check(KINDS.has(parts.kind), `parseSmime kind ${parts.kind}`);
  if (parts.kind === 'signed') check(parts.signedEntity.length <= input.length, 'signed entity longer than the input');

  const v = verifySmime(input, { anchors, at: AT });
  check(STATUSES.has(v.status), `verifySmime status ${v.status}`);
  if (v.status === 'valid') {
    check(v.signer !== undefined && v.entity !== undefined, 'valid without a signer or an entity');
    accepted = true;
  }

  const d = verifySignedData(input, { anchors, at: AT, content: input });
  check(STATUSES.has(d.status), `verifySignedData status ${d.status}`);
  if (d.status === 'valid') check(d.signer !== undefined, 'valid without a signer');

  const r = decryptData(input, recipient);
  check(typeof r.ok === 'boolean', 'decryptData result without ok');
  if (r.ok) {
    check(r.content instanceof Uint8Array, 'decrypted without content');
    accepted = true;
  } else {
    check(typeof r.reason === 'string' && r.reason.length > 0, 'refusal without a reason');
  }
  return accepted ? 'ok' : 'rejected';
}

export const smime: FuzzTarget = {
  name: 'smime',
  seeds: () => setup().seeds,
  get arbitrary() {
    return fc.oneof(
      { weight: 6, arbitrary: mutatedSeeds(setup().seeds, { dictionary: TOKENS, maxBytes: 256 * 1024 }) },
      { weight: 2, arbitrary: tokenSoup(TOKENS, 80) },
      { weight: 1, arbitrary: anyBytes(4096) },
    );
  },
  run,
};
