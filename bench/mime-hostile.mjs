// Hostile header values through the MIME codec: milliseconds per parse for
// shapes that make naive parsers quadratic. Run after `npm run build`:
//   node bench/mime-hostile.mjs [KiB]   (default 160)
import { performance } from 'node:perf_hooks';
import { decodeEncodedWords, parseAddressList, parseMessage, parseStructuredValue } from '../dist/codec/mime/index.js';

const n = Number(process.argv[2] ?? 160) * 1024;
const shapes = {
  'blanks inside a parameter value': `text/plain; name=a${' \t'.repeat(n / 2)}b`,
  'unclosed encoded word': `=?utf-8?q?${'a'.repeat(n)}`,
  'many "=?" starts': '=?'.repeat(n / 2),
  'open comments': '('.repeat(n),
  'quoted words': '"a"'.repeat(n / 3),
  'RFC 2231 sections': Array.from({ length: n / 16 }, (_, i) => `; name*${i}*=x`).join(''),
};
const time = (f) => {
  const t = performance.now();
  f();
  return (performance.now() - t).toFixed(1).padStart(8);
};
console.log(`${n / 1024} KiB per value; ms for parameters, addresses, encoded words, whole message`);
for (const [name, v] of Object.entries(shapes)) {
  const msg = Buffer.from(`Content-Type: ${v}\r\nFrom: ${v}\r\nSubject: ${v}\r\n\r\nbody`, 'latin1');
  console.log(
    `${name.padEnd(32)} ${time(() => parseStructuredValue(v))} ${time(() => parseAddressList(v))} ${time(() => decodeEncodedWords(v))} ${time(() => parseMessage(msg))}`,
  );
}
