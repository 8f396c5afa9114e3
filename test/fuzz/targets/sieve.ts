/**
 * Sieve: scripts from account owners run against a fixed message. Promises
 * checked: runSieve never throws and answers ok or a reason with a line;
 * a run never asks for more actions than the limit (plus the implicit keep)
 * nor more redirects; checkSieve agrees with runSieve on which scripts are
 * refused before running.
 */
import fc from 'fast-check';
import { checkSieve, runSieve, RUN_LIMITS } from '../../../src/codec/sieve/index.js';
import { anyBytes, mutatedSeeds, nested, tokenSoup } from '../harness/mutate.js';
import { check, type FuzzTarget } from '../harness/types.js';

const MESSAGE = Buffer.from(
  'From: Dan <dan@remote.test>\r\nTo: cat@example.test\r\nSubject: =?utf-8?B?bHVuY2g/?=\r\nDate: Sun, 7 Feb 2010 14:02:38 -0800\r\nList-Id: <talk.lists.test>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b\r\nContent-Type: text/html\r\n\r\n<p>hi</p>\r\n--b--\r\n',
);
const ENV = { from: 'dan@remote.test', to: 'cat@example.test' };
const NOW = new Date(Date.UTC(2026, 0, 1));

const SCRIPTS = [
  'keep;',
  'require ["fileinto","copy","imap4flags"]; if header :contains "subject" "lunch" { fileinto :copy :flags "\\\\Seen" "Food"; } else { discard; }',
  'require ["variables","fileinto"]; if header :matches "from" "* <*@*>" { set :upper "d" "${3}"; fileinto "${d}"; }',
  'require ["body","relational","comparator-i;ascii-numeric"]; if anyof(body :text :contains "hello", header :count "ge" :comparator "i;ascii-numeric" "received" "1") { stop; }',
  'require ["date","vacation"]; if currentdate :zone "+0100" "year" "2026" { vacation :days 3 :handle "h" text:\r\nAway\r\n..\r\n.\r\n; }',
  'require "envelope"; if envelope :domain :is "from" "remote.test" { redirect "x@y.test"; } /* c */ # c',
  'require "reject"; if size :over 1K { reject "big"; }',
];
const TOKENS = [
  'require', 'if', 'elsif', 'else', 'stop', 'keep', 'discard', 'fileinto', 'redirect', 'reject', 'vacation', 'set', 'setflag', 'addflag', 'header', 'address',
  'envelope', 'body', 'date', 'currentdate', 'exists', 'size', 'allof', 'anyof', 'not', 'true', 'false', 'string', 'hasflag', ':is', ':contains', ':matches',
  ':value', ':count', ':comparator', ':over', ':under', ':copy', ':flags', ':days', ':zone', ':raw', ':content', ':text', '"*"', '"?"', '"${1}"', '"a\\"b"',
  '"i;ascii-numeric"', '"gt"', '1K', '99999999999', '[', ']', '(', ')', '{', '}', ',', ';', ' ', '\n', 'text:\n', '\n.\n', '#', '/*', '*/', '"',
];

function run(input: Uint8Array): 'ok' | 'rejected' {
  const script = Buffer.from(input).toString('utf8');
  const r = runSieve(script, MESSAGE, ENV, NOW);
  const pre = checkSieve(script);
  if (!pre.ok) check(!r.ok, 'checkSieve refused a script runSieve ran');
  if (!r.ok) {
    check(typeof r.error === 'string' && r.error.length > 0 && Number.isInteger(r.line), 'a refusal without a reason or line');
    return 'rejected';
  }
  check(pre.ok, 'runSieve ran a script checkSieve refused');
  check(r.actions.length <= RUN_LIMITS.maxActions + 1, `${r.actions.length} actions, over the limit`);
  check(r.actions.filter((a) => a.type === 'redirect').length <= RUN_LIMITS.maxRedirects, 'more redirects than the limit');
  return 'ok';
}

const seeds = (): Uint8Array[] => SCRIPTS.map((s) => Buffer.from(s));

export const sieve: FuzzTarget = {
  name: 'sieve',
  seeds,
  arbitrary: fc.oneof(
    { weight: 5, arbitrary: mutatedSeeds(seeds(), { dictionary: TOKENS, maxBytes: 64 * 1024, maxRepeat: 20_000 }) },
    { weight: 3, arbitrary: tokenSoup(TOKENS, 80) },
    { weight: 1, arbitrary: nested('if true {', 'keep;', '}', 5000) },
    { weight: 1, arbitrary: anyBytes(1024) },
  ),
  run,
};
