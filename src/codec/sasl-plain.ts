/** SASL PLAIN (RFC 4616) for POP3 AUTH (RFC 5034) and ManageSieve AUTHENTICATE (RFC 5804 2.1). Pure. */

export type PlainCredentials = { ok: true; authzid: string; authcid: string; password: string } | { ok: false };

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Decodes a base64 PLAIN response ("=" is the empty response). Never throws. */
export function decodeSaslPlain(base64: string): PlainCredentials {
  if (base64 === '=' || !/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(base64)) return { ok: false };
  let text: string;
  try {
    text = decoder.decode(Buffer.from(base64, 'base64'));
  } catch {
    return { ok: false };
  }
  const parts = text.split('\0');
  if (parts.length !== 3) return { ok: false };
  const [authzid, authcid, password] = parts as [string, string, string];
  if (authcid.length === 0 || password.length === 0) return { ok: false };
  return { ok: true, authzid, authcid, password };
}
