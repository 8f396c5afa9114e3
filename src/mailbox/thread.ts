/**
 * THREAD (RFC 5256 sections 3 and 4): ORDEREDSUBJECT and REFERENCES over the
 * facts of each message (messageFacts). Every walk over the trees is
 * iterative, so a chain of a hundred thousand replies cannot exhaust the
 * stack.
 */
import { compareCodePoints } from './base-subject.js';

export interface ThreadFacts {
  readonly seq: number;
  /** Sent date (INTERNALDATE when the Date field is missing or unreadable), ms. */
  readonly date: number;
  /** Case-mapped base subject. */
  readonly subject: string;
  readonly isReplyOrForward: boolean;
  readonly messageId: string | null;
  /** References' msg-ids in order (or In-Reply-To's first), oldest first. */
  readonly references: readonly string[];
}

/** A thread tree node: a message's sequence number, or null for a placeholder that only groups its children. */
export interface ThreadNode {
  readonly seq: number | null;
  readonly children: ThreadNode[];
}

/** Steps of a loop check before the link is refused (see wouldLoop). */
export const MAX_STEPS = 1_000_000;

const byDateThenSeq = <T extends { date: number; seq: number }>(a: T, b: T): number => a.date - b.date || a.seq - b.seq;

/** ORDEREDSUBJECT: messages grouped by base subject; each group's first message is the parent of the rest. */
export function orderedSubject(messages: readonly ThreadFacts[]): ThreadNode[] {
  const sorted = [...messages].sort((a, b) => compareCodePoints(a.subject, b.subject) || byDateThenSeq(a, b));
  const threads: Array<{ node: ThreadNode; date: number; seq: number }> = [];
  let head: ThreadFacts | null = null;
  for (const m of sorted) {
    if (head !== null && head.subject === m.subject) {
      threads[threads.length - 1]!.node.children.push({ seq: m.seq, children: [] });
      continue;
    }
    head = m;
    threads.push({ node: { seq: m.seq, children: [] }, date: m.date, seq: m.seq });
  }
  return threads.sort(byDateThenSeq).map((t) => t.node);
}

class Container {
  parent: Container | null = null;
  children: Container[] = [];
  /** Index in the parent's children (kept while linking, so unlinking is O(1); order is set by sorting later). */
  slot = 0;
  constructor(public msg: ThreadFacts | null) {}

  /** Sort key of a node: its own message, else (a placeholder) its first child's. */
  get first(): ThreadFacts | null {
    return this.msg ?? this.children[0]?.msg ?? null;
  }
}

/**
 * Whether making `child` a child of `parent` would make a loop: whether
 * `child` is `parent` or one of its ancestors. Walks up from the parent and
 * down through the child's subtree a step at a time each, and stops at the
 * first walk to finish, so a long chain of replies costs little in either
 * arrival order. Past MAX_STEPS the link is refused, as if it made a loop.
 */
function wouldLoop(parent: Container, child: Container): boolean {
  if (parent === child) return true;
  let up = parent.parent;
  const down = [...child.children];
  for (let i = 0; i < MAX_STEPS; i++) {
    if (up === null) return false;
    if (up === child) return true;
    up = up.parent;
    if (i >= down.length) return false;
    const d = down[i]!;
    if (d === parent) return true;
    for (const c of d.children) down.push(c);
  }
  return true;
}

function unlink(c: Container): void {
  const p = c.parent;
  if (!p) return;
  const last = p.children.pop()!;
  if (last !== c) {
    p.children[c.slot] = last;
    last.slot = c.slot;
  }
  c.parent = null;
}

function link(parent: Container, child: Container): void {
  child.parent = parent;
  child.slot = parent.children.length;
  parent.children.push(child);
}

/** Every container under the given ones, each after all of its ancestors. */
function preOrder(tops: readonly Container[]): Container[] {
  const out: Container[] = [];
  const stack = [...tops];
  while (stack.length > 0) {
    const c = stack.pop()!;
    out.push(c);
    for (const ch of c.children) stack.push(ch);
  }
  return out;
}

const compareNodes = (a: Container, b: Container): number => {
  const x = a.first;
  const y = b.first;
  if (!x || !y) return x ? 1 : y ? -1 : 0;
  return byDateThenSeq(x, y);
};

/** REFERENCES (RFC 5256 section 3, steps 1 to 6). `messages` in sequence order. */
export function referencesThreads(messages: readonly ThreadFacts[]): ThreadNode[] {
  // Step 1: containers by Message-ID, linked by References/In-Reply-To.
  const byId = new Map<string, Container>();
  const all: Container[] = [];
  const lookup = (id: string): Container => {
    let c = byId.get(id);
    if (!c) {
      c = new Container(null);
      byId.set(id, c);
      all.push(c);
    }
    return c;
  };
  for (const m of messages) {
    let self: Container;
    const known = m.messageId === null ? undefined : byId.get(m.messageId);
    if (m.messageId !== null && (!known || known.msg === null)) {
      self = lookup(m.messageId);
      self.msg = m;
    } else {
      // No Message-ID, or one already used: a unique one of its own.
      self = new Container(m);
      all.push(self);
    }
    let prev: Container | null = null;
    for (const id of m.references) {
      const c = lookup(id);
      // 1A: link each reference to the one before it, unless it already has a parent.
      if (prev !== null && c.parent === null && prev !== c && !wouldLoop(prev, c)) link(prev, c);
      prev = c;
    }
    // 1B: the last reference is the parent of this message. A parent it had was only presumed from
    // another message's References, so that link goes even when the new one would make a loop.
    if (prev !== null && self.parent !== prev) {
      unlink(self);
      if (!wouldLoop(prev, self)) link(prev, self);
    }
  }
  // Step 2: the root set.
  let roots = all.filter((c) => c.parent === null);
  // Step 3: prune placeholders; below the roots each is replaced by its (already pruned) children.
  const nodes = preOrder(roots);
  for (let i = nodes.length - 1; i >= 0; i--) {
    const c = nodes[i]!;
    if (!c.children.some((ch) => ch.msg === null)) continue;
    const kept: Container[] = [];
    for (const ch of c.children) {
      if (ch.msg !== null) kept.push(ch);
      else
        for (const g of ch.children) {
          g.parent = c;
          kept.push(g);
        }
    }
    c.children = kept;
  }
  roots = roots.flatMap((r) => {
    if (r.msg !== null || r.children.length > 1) return [r];
    if (r.children.length === 1) r.children[0]!.parent = null;
    return r.children;
  });
  // Step 4: roots by sent date (a placeholder by its first child's, its children sorted first).
  for (const r of roots) if (r.msg === null) r.children.sort(compareNodes);
  roots.sort(compareNodes);
  roots = gatherBySubject(roots);
  // Step 6: every set of siblings by sent date, deepest first.
  const finalNodes = preOrder(roots);
  for (let i = finalNodes.length - 1; i >= 0; i--) finalNodes[i]!.children.sort(compareNodes);
  roots.sort(compareNodes);
  return toNodes(roots);
}

/** Step 5: threads whose base subjects match are merged. */
function gatherBySubject(roots: Container[]): Container[] {
  const subjectOf = (c: Container): string => c.first?.subject ?? '';
  const table = new Map<string, Container>();
  for (const c of roots) {
    const subject = subjectOf(c);
    if (subject === '') continue;
    const t = table.get(subject);
    if (!t) table.set(subject, c);
    else if (t.msg !== null && (c.msg === null || (t.msg.isReplyOrForward && !c.msg.isReplyOrForward))) table.set(subject, c);
  }
  const slots: Array<Container | null> = [...roots];
  const slotOf = new Map(roots.map((c, i) => [c, i]));
  for (let i = 0; i < slots.length; i++) {
    const c = slots[i];
    if (!c) continue;
    const subject = subjectOf(c);
    if (subject === '') continue;
    const t = table.get(subject);
    if (!t || t === c) continue;
    if (t.msg === null && c.msg === null) {
      for (const ch of c.children) link(t, ch);
      c.children = [];
    } else if (t.msg === null || (c.msg !== null && c.msg.isReplyOrForward && !t.msg.isReplyOrForward)) {
      link(t, c);
    } else {
      const dummy = new Container(null);
      const at = slotOf.get(t)!;
      link(dummy, t);
      link(dummy, c);
      slots[at] = dummy;
      slotOf.set(dummy, at);
      table.set(subject, dummy);
    }
    slots[i] = null;
  }
  return slots.filter((c): c is Container => c !== null);
}

/** The containers as plain nodes, without recursion. */
function toNodes(roots: readonly Container[]): ThreadNode[] {
  const out: ThreadNode[] = [];
  const stack: Array<{ c: Container; into: ThreadNode[] }> = [];
  for (let i = roots.length - 1; i >= 0; i--) stack.push({ c: roots[i]!, into: out });
  while (stack.length > 0) {
    const { c, into } = stack.pop()!;
    const node: ThreadNode = { seq: c.msg?.seq ?? null, children: [] };
    into.push(node);
    for (let i = c.children.length - 1; i >= 0; i--) stack.push({ c: c.children[i]!, into: node.children });
  }
  return out;
}
