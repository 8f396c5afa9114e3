/** SORT and THREAD responses (RFC 5256), ESORT's ESEARCH (RFC 5267), MODSEQ with SORT (RFC 7162). */
import type { PartialRange } from '../ast.js';
import { partialItem } from './untagged.js';
import { quote } from './value.js';

/** A thread tree: a message number, or null for a placeholder grouping its children. */
export interface ThreadTree {
  readonly seq: number | null;
  readonly children: readonly ThreadTree[];
}

/** "* SORT 2 84 882" (just "* SORT" when nothing matched), with "(MODSEQ n)" when asked. */
export function sortResponse(numbers: readonly number[], modseq?: bigint | number): Buffer {
  const tail = modseq !== undefined && numbers.length > 0 ? ` (MODSEQ ${modseq})` : '';
  return Buffer.from(`* SORT${numbers.map((n) => ` ${n}`).join('')}${tail}\r\n`, 'latin1');
}

export interface EsortResult {
  readonly tag: string;
  readonly uid: boolean;
  /** In sort order. */
  readonly numbers: readonly number[];
  /** UPDATE, if present, adds nothing to this response. */
  readonly options: ReadonlySet<'MIN' | 'MAX' | 'ALL' | 'COUNT' | 'UPDATE'>;
  readonly modseq?: bigint | number;
  /** RETURN (PARTIAL): the range asked and the numbers at those positions, in sort order. */
  readonly partial?: { readonly range: PartialRange; readonly numbers: readonly number[] };
}

/**
 * ESORT's answer (RFC 5267 section 3): MIN and MAX are the first and last
 * message in sort order, ALL lists them in sort order; MIN, MAX and ALL are
 * left out when nothing matched.
 */
export function esortResponse(r: EsortResult): Buffer {
  const parts = ['* ESEARCH', `(TAG ${quote(r.tag.replace(/[\r\n\0]/g, ''))})`];
  if (r.uid) parts.push('UID');
  const n = r.numbers;
  if (r.options.has('MIN') && n.length > 0) parts.push(`MIN ${n[0]}`);
  if (r.options.has('MAX') && n.length > 0) parts.push(`MAX ${n[n.length - 1]}`);
  if (r.options.has('ALL') && n.length > 0) parts.push(`ALL ${orderedSet(n)}`);
  if (r.options.has('COUNT')) parts.push(`COUNT ${n.length}`);
  if (r.modseq !== undefined && n.length > 0) parts.push(`MODSEQ ${r.modseq}`);
  if (r.partial !== undefined) parts.push(partialItem(r.partial.range, r.partial.numbers, orderedSet));
  return Buffer.from(`${parts.join(' ')}\r\n`, 'utf8');
}

/**
 * Numbers in the given order as a sequence-set, ascending runs written as
 * "a:b" (RFC 5267 section 3.2: ALL keeps the sort order): 3,1:2,9.
 */
export function orderedSet(numbers: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < numbers.length; ) {
    let j = i;
    while (j + 1 < numbers.length && numbers[j + 1] === numbers[j]! + 1) j++;
    parts.push(j > i ? `${numbers[i]}:${numbers[j]}` : String(numbers[i]));
    i = j + 1;
  }
  return parts.join(',');
}

/**
 * "* THREAD (2)(3 6 (4 23)(44 7 96))": a chain of single children is written
 * as a list, siblings each in parentheses; a placeholder writes only its
 * children. Written without recursion, so any depth is fine.
 */
export function threadResponse(threads: readonly ThreadTree[], number: (seq: number) => number = (n) => n): Buffer {
  const out: string[] = [threads.length > 0 ? '* THREAD ' : '* THREAD'];
  const stack: Array<ThreadTree | ')'> = [];
  const pushAll = (nodes: readonly ThreadTree[]): void => {
    for (let i = nodes.length - 1; i >= 0; i--) stack.push(')', nodes[i]!);
  };
  pushAll(threads);
  while (stack.length > 0) {
    const item = stack.pop()!;
    if (item === ')') {
      out.push(')');
      continue;
    }
    out.push('(');
    let wrote = false;
    let node: ThreadTree = item;
    // Down the chain of only children, then the siblings each in parentheses.
    for (;;) {
      if (node.seq !== null) {
        const n = number(node.seq);
        out.push(wrote ? ` ${n}` : String(n));
        wrote = true;
      }
      if (node.children.length !== 1) break;
      node = node.children[0]!;
    }
    if (node.children.length > 0 && wrote) out.push(' ');
    pushAll(node.children);
  }
  out.push('\r\n');
  return Buffer.from(out.join(''), 'latin1');
}
