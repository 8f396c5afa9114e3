/** SORT and THREAD (RFC 5256), with ESORT and PARTIAL return options (RFC 5267) and DISPLAYFROM/DISPLAYTO (RFC 5957). */
import type { ImapCommand, PartialRange, SortCriterion, SortKeyName, SortReturnOption, ThreadAlgorithm } from '../ast.js';
import type { Cursor } from '../cursor.js';
import { fail } from '../errors.js';
import { charset as readCharset } from './common.js';
import { returnOptions as readReturn } from './partial.js';
import { searchKeys } from './search.js';

const SORT_KEYS = new Set<string>(['ARRIVAL', 'CC', 'DATE', 'FROM', 'SIZE', 'SUBJECT', 'TO', 'DISPLAYFROM', 'DISPLAYTO']);
const RETURN_OPTIONS = new Set<string>(['MIN', 'MAX', 'ALL', 'COUNT', 'UPDATE']);
const ALGORITHMS = new Set<string>(['ORDEREDSUBJECT', 'REFERENCES']);

function sortCriterion(c: Cursor): SortCriterion {
  let w = c.word('sort key');
  const reverse = w === 'REVERSE';
  if (reverse) {
    c.sp();
    w = c.word('sort key');
  }
  if (!SORT_KEYS.has(w)) fail(`Unknown sort key ${w.slice(0, 40)}`);
  return { key: w as SortKeyName, reverse };
}

/** SORT [SP "RETURN" SP "(" [opt *(SP opt)] ")"] SP "(" sort-criterion *(SP sort-criterion) ")" SP charset 1*(SP search-key). */
export function parseSort(c: Cursor, tag: string, uid: boolean): ImapCommand {
  c.sp();
  let returnOptions: SortReturnOption[] | null = null;
  let partial: PartialRange | null = null;
  if (c.tryWord('RETURN')) {
    c.sp();
    ({ options: returnOptions, partial } = readReturn<SortReturnOption>(c, RETURN_OPTIONS, 'SORT'));
    c.sp();
  }
  const sort = c.list(() => sortCriterion(c), false);
  c.sp();
  const charset = readCharset(c);
  c.sp();
  const criteria = searchKeys(c, charset);
  c.end();
  return { tag, name: 'SORT', uid, returnOptions, ...(partial ? { partial } : {}), sort, charset, criteria };
}

/** THREAD SP algorithm SP charset 1*(SP search-key). */
export function parseThread(c: Cursor, tag: string, uid: boolean): ImapCommand {
  c.sp();
  const algorithm = c.word('thread algorithm');
  if (!ALGORITHMS.has(algorithm)) fail(`Unknown thread algorithm ${algorithm.slice(0, 40)}`);
  c.sp();
  const charset = readCharset(c);
  c.sp();
  const criteria = searchKeys(c, charset);
  c.end();
  return { tag, name: 'THREAD', uid, algorithm: algorithm as ThreadAlgorithm, charset, criteria };
}
