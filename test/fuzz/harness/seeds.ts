/** Seed files from test/corpus: real mail, copied byte for byte (see each folder's SOURCES.md). */
import { readdirSync, readFileSync } from 'node:fs';

const CORPUS = new URL('../../corpus/', import.meta.url);

/** Every file of a corpus folder (SOURCES.md excepted), sorted by name, at most `maxBytes` each. */
export function corpusFolder(folder: string, maxBytes = Infinity): Uint8Array[] {
  const dir = new URL(`${folder}/`, CORPUS);
  return readdirSync(dir)
    .filter((n) => n !== 'SOURCES.md' && !n.startsWith('.'))
    .sort()
    .map((n) => readFileSync(new URL(n, dir)))
    .filter((b) => b.length <= maxBytes);
}

/** The message seeds shared by the MIME, SMTP and POP3 targets. */
export function mailSeeds(maxBytes = Infinity): Uint8Array[] {
  return [...corpusFolder('mime', maxBytes), ...corpusFolder('imap', maxBytes), ...corpusFolder('fuzz', maxBytes)];
}

export const latin1 = (s: string): Uint8Array => Buffer.from(s, 'latin1');
