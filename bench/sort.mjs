// SORT and THREAD algorithm benchmark: the keys and orderings of
// src/mailbox/ (compiled in dist/) over N synthetic messages, without a
// server, so the figures show the algorithms alone: key extraction from a
// header section (messageFacts), SORT (SUBJECT DATE), THREAD REFERENCES and
// ORDEREDSUBJECT, and the THREAD response line. The mailbox is a mix of
// threads (replies with References, Re:/Fwd: subjects, some parents missing)
// and single messages. Runs BENCH_ROUNDS rounds and reports medians.
//
//   npm run build && node bench/sort.mjs
//
// Environment: BENCH_MESSAGES (100000), BENCH_ROUNDS (5). Every loop is bounded.
import { performance } from 'node:perf_hooks';

const DIST = new URL('../dist/', import.meta.url);
const { messageFacts } = await import(new URL('mailbox/message-facts.js', DIST).href);
const { sortMessages } = await import(new URL('mailbox/sort.js', DIST).href);
const { referencesThreads, orderedSubject } = await import(new URL('mailbox/thread.js', DIST).href);
const { threadResponse } = await import(new URL('codec/imap/index.js', DIST).href);
const { parseHeaderSection } = await import(new URL('codec/mime/index.js', DIST).href);

const N = Number(process.env.BENCH_MESSAGES ?? 100_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

/** Message i: threads of up to 8 messages; every 50th thread's root is missing from the folder. */
function header(i) {
  const thread = Math.floor(i / 8);
  const pos = i % 8;
  const refs = Array.from({ length: pos }, (_, k) => `<t${thread}.${k}@bench.test>`);
  const subject = pos === 0 ? `Topic ${thread}` : pos % 3 === 0 ? `Fwd: Re: [list] Topic ${thread}` : `Re: Topic ${thread}`;
  const lines = [
    `From: "Sender ${i % 997}" <s${i % 997}@example.org>`,
    `To: r${i % 89}@example.net`,
    `Subject: ${subject}`,
    `Date: ${new Date(Date.UTC(2024, 0, 1) + i * 60_000 + (i % 7) * 3_600_000).toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: <t${thread}.${pos}@bench.test>`,
    ...(refs.length > 0 ? [`References: ${refs.join(' ')}`, `In-Reply-To: ${refs[refs.length - 1]}`] : []),
  ];
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`);
}

const headers = [];
for (let i = 0; i < N; i++) if (!(Math.floor(i / 8) % 50 === 0 && i % 8 === 0)) headers.push(header(i));

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const time = (fn) => {
  const t = performance.now();
  const r = fn();
  return [performance.now() - t, r];
};

const results = { facts: [], sort: [], references: [], ordered: [], response: [] };
let threads = 0;
for (let round = 0; round < ROUNDS; round++) {
  const [tf, facts] = time(() => headers.map((h, i) => messageFacts({ seq: i + 1, uid: i + 1, size: h.length, internalDate: 0 }, parseHeaderSection(h).fields)));
  const [ts] = time(() => sortMessages(facts, [{ key: 'SUBJECT', reverse: false }, { key: 'DATE', reverse: true }]));
  const [tr, refs] = time(() => referencesThreads(facts));
  const [to] = time(() => orderedSubject(facts));
  const [tw, line] = time(() => threadResponse(refs));
  threads = refs.length;
  if (line.length < 10) throw new Error('empty THREAD response');
  results.facts.push(tf);
  results.sort.push(ts);
  results.references.push(tr);
  results.ordered.push(to);
  results.response.push(tw);
}

console.log(`messages: ${headers.length}, REFERENCES threads: ${threads}, rounds: ${ROUNDS} (median ms)`);
console.log(`  keys from header sections (parse + messageFacts): ${median(results.facts).toFixed(0)}`);
console.log(`  SORT (SUBJECT REVERSE DATE):                      ${median(results.sort).toFixed(0)}`);
console.log(`  THREAD REFERENCES:                                ${median(results.references).toFixed(0)}`);
console.log(`  THREAD ORDEREDSUBJECT:                            ${median(results.ordered).toFixed(0)}`);
console.log(`  THREAD response line:                             ${median(results.response).toFixed(0)}`);
