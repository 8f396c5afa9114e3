/**
 * Runs a parsed Sieve script against one message and returns the actions it
 * asks for. Pure: the caller carries them out (local delivery). Extensions:
 * fileinto, reject, ereject, envelope, imap4flags, body, variables, copy,
 * relational, date, vacation, comparator-i;ascii-numeric. Every run is
 * bounded by a step budget, an action count and a string length; exceeding
 * one is an error, and on any error the caller keeps the message (RFC 5228 2.10.6).
 */
import { parseSieve, type Arg, type Command, type Test } from './parse.js';
import { COMPARATORS, RELATIONS, compare, contains, relate, wildcard, type Comparator, type Relation } from './match.js';
import { SieveMessage } from './message.js';
import { datePart, DATE_PARTS, parseDateHeader, zoneOffset } from './date.js';

export const SIEVE_CAPABILITIES: readonly string[] = [
  'fileinto', 'reject', 'ereject', 'envelope', 'imap4flags', 'body', 'variables', 'copy', 'relational', 'date', 'vacation',
  'comparator-i;octet', 'comparator-i;ascii-casemap', 'comparator-i;ascii-numeric',
];

export const RUN_LIMITS = {
  /** Commands, tests and wildcard steps one run may take. */
  maxSteps: 200_000,
  /** Actions one run may ask for. */
  maxActions: 32,
  /** Redirects one run may ask for. */
  maxRedirects: 4,
  /** Longest value a variable may hold (RFC 5229 allows truncation). */
  maxVariableChars: 4096,
  /** Most variables one script may set. */
  maxVariables: 128,
} as const;

export type SieveAction =
  | { readonly type: 'keep'; readonly flags: readonly string[] }
  | { readonly type: 'fileinto'; readonly folder: string; readonly flags: readonly string[] }
  | { readonly type: 'redirect'; readonly address: string }
  | { readonly type: 'reject'; readonly reason: string; readonly ereject: boolean }
  | { readonly type: 'discard' }
  | { readonly type: 'vacation'; readonly reason: string; readonly days: number; readonly subject: string | null; readonly from: string | null; readonly addresses: readonly string[]; readonly mime: boolean; readonly handle: string };

export interface SieveEnvelope {
  /** Envelope sender, '' for the null sender. */
  readonly from: string;
  readonly to: string;
}

export type SieveRun = { ok: true; actions: SieveAction[] } | { ok: false; error: string; line: number };

class RunError {
  constructor(
    readonly message: string,
    readonly line: number,
  ) {}
}

interface MatchSpec {
  cmp: Comparator;
  type: 'is' | 'contains' | 'matches' | 'value' | 'count';
  rel: Relation;
}

/** Tags taking one argument after them. */
const TAG_WITH_ARG = new Set(['comparator', 'value', 'count', 'days', 'subject', 'from', 'addresses', 'handle', 'flags', 'zone', 'content', 'seconds']);

interface Parsed {
  tags: Map<string, Arg | true>;
  pos: Arg[];
}

const CONTROL = new Set(['require', 'if', 'elsif', 'else', 'stop']);
const NEEDS: Record<string, string> = {
  fileinto: 'fileinto', reject: 'reject', ereject: 'ereject', envelope: 'envelope', setflag: 'imap4flags', addflag: 'imap4flags',
  removeflag: 'imap4flags', hasflag: 'imap4flags', body: 'body', set: 'variables', string: 'variables', date: 'date',
  currentdate: 'date', vacation: 'vacation',
};
const ACTIONS = new Set(['keep', 'discard', 'fileinto', 'redirect', 'reject', 'ereject', 'setflag', 'addflag', 'removeflag', 'set', 'vacation']);
const TESTS = new Set(['address', 'header', 'envelope', 'exists', 'size', 'allof', 'anyof', 'not', 'true', 'false', 'hasflag', 'body', 'string', 'date', 'currentdate']);

/** Checks names and `require` before anything runs (RFC 5228 2.10.5: a script that fails here runs no action). */
function validate(cmds: readonly Command[], caps: Set<string>, atTop: boolean): void {
  let requireAllowed = atTop;
  let prev = '';
  for (const c of cmds) {
    if (c.name === 'require') {
      if (!requireAllowed) throw new RunError('require must come first', c.line);
      const a = c.args[0];
      if (!a || a.kind !== 'strings' || c.args.length !== 1) throw new RunError('require takes a string list', c.line);
      for (const cap of a.values) {
        if (!SIEVE_CAPABILITIES.includes(cap)) throw new RunError(`unsupported extension "${cap}"`, c.line);
        caps.add(cap);
      }
      continue;
    }
    requireAllowed = false;
    if (!CONTROL.has(c.name) && !ACTIONS.has(c.name)) throw new RunError(`unknown command "${c.name}"`, c.line);
    const need = NEEDS[c.name];
    if (need && !caps.has(need)) throw new RunError(`"${c.name}" needs require "${need}"`, c.line);
    if ((c.name === 'elsif' || c.name === 'else') && prev !== 'if' && prev !== 'elsif') throw new RunError(`${c.name} without if`, c.line);
    if (c.name === 'if' || c.name === 'elsif') {
      if (c.tests.length !== 1) throw new RunError(`${c.name} needs one test`, c.line);
      if (!c.block) throw new RunError(`${c.name} needs a block`, c.line);
    } else if (c.name === 'else') {
      if (!c.block || c.tests.length > 0) throw new RunError('else needs a block and no test', c.line);
    } else if (c.block || c.tests.length > 0) throw new RunError(`${c.name} takes no test or block`, c.line);
    for (const t of c.tests) validateTest(t, caps);
    if (c.block) validate(c.block, caps, false);
    for (const a of c.args) validateTags(a, caps, c.line);
    prev = c.name;
  }
}

function validateTest(t: Test, caps: Set<string>): void {
  if (!TESTS.has(t.name)) throw new RunError(`unknown test "${t.name}"`, t.line);
  const need = NEEDS[t.name];
  if (need && !caps.has(need)) throw new RunError(`"${t.name}" needs require "${need}"`, t.line);
  if (t.name === 'not' && t.tests.length !== 1) throw new RunError('not needs one test', t.line);
  if ((t.name === 'allof' || t.name === 'anyof') && t.tests.length === 0) throw new RunError(`${t.name} needs tests`, t.line);
  if (!['not', 'allof', 'anyof'].includes(t.name) && t.tests.length > 0) throw new RunError(`${t.name} takes no tests`, t.line);
  for (const a of t.args) validateTags(a, caps, t.line);
  for (const s of t.tests) validateTest(s, caps);
}

function validateTags(a: Arg, caps: Set<string>, line: number): void {
  if (a.kind !== 'tag') return;
  const need: Record<string, string> = { copy: 'copy', flags: 'imap4flags', value: 'relational', count: 'relational', raw: 'body', text: 'body', content: 'body' };
  const n = need[a.name];
  if (n && !caps.has(n)) throw new RunError(`:${a.name} needs require "${n}"`, line);
}

function parseArgs(args: readonly Arg[], line: number): Parsed {
  const tags = new Map<string, Arg | true>();
  const pos: Arg[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.kind === 'tag') {
      if (tags.has(a.name)) throw new RunError(`:${a.name} given twice`, line);
      if (TAG_WITH_ARG.has(a.name)) {
        const v = args[i + 1];
        if (!v || v.kind === 'tag') throw new RunError(`:${a.name} needs an argument`, line);
        tags.set(a.name, v);
        i++;
      } else tags.set(a.name, true);
    } else pos.push(a);
  }
  return { tags, pos };
}

function flagList(s: readonly string[]): string[] {
  const out: string[] = [];
  for (const v of s) for (const f of v.split(' ')) if (f !== '' && !out.some((o) => o.toLowerCase() === f.toLowerCase())) out.push(f);
  return out;
}

/** Runs `script` against `raw`; `now` is the time currentdate sees. Never throws. */
export function runSieve(script: string, raw: Buffer, envelope: SieveEnvelope, now: Date = new Date()): SieveRun {
  const parsed = parseSieve(script);
  if (!parsed.ok) return parsed;
  try {
    const caps = new Set<string>();
    validate(parsed.commands, caps, true);
    return { ok: true, actions: new Run(caps, new SieveMessage(raw), envelope, now).run(parsed.commands) };
  } catch (e) {
    if (e instanceof RunError) return { ok: false, error: e.message, line: e.line };
    return { ok: false, error: e instanceof Error ? e.message : String(e), line: 0 };
  }
}

/** Only checks a script (syntax, names, require): what an upload would be refused for. */
export function checkSieve(script: string): { ok: true } | { ok: false; error: string; line: number } {
  const parsed = parseSieve(script);
  if (!parsed.ok) return parsed;
  try {
    validate(parsed.commands, new Set(), true);
    return { ok: true };
  } catch (e) {
    if (e instanceof RunError) return { ok: false, error: e.message, line: e.line };
    throw e;
  }
}

class Stop {}

class Run {
  private readonly budget = { steps: RUN_LIMITS.maxSteps };
  private readonly vars = new Map<string, string>();
  private matchVars: string[] = [];
  private flags: string[] = [];
  private readonly actions: SieveAction[] = [];
  private implicitKeep = true;
  private explicitKeep = false;
  private redirects = 0;

  constructor(
    private readonly caps: Set<string>,
    private readonly msg: SieveMessage,
    private readonly env: SieveEnvelope,
    private readonly now: Date,
  ) {}

  run(cmds: readonly Command[]): SieveAction[] {
    try {
      this.block(cmds);
    } catch (e) {
      if (!(e instanceof Stop)) throw e;
    }
    const out = [...this.actions];
    if (this.implicitKeep && !this.explicitKeep) out.unshift({ type: 'keep', flags: [...this.flags] });
    return out;
  }

  private step(line: number): void {
    if (--this.budget.steps < 0) throw new RunError('script ran too long', line);
  }

  private block(cmds: readonly Command[]): void {
    let taken = false;
    for (const c of cmds) {
      this.step(c.line);
      switch (c.name) {
        case 'require':
          break;
        case 'if':
          taken = this.test(c.tests[0]!);
          if (taken) this.block(c.block!);
          break;
        case 'elsif':
          if (!taken) {
            taken = this.test(c.tests[0]!);
            if (taken) this.block(c.block!);
          }
          break;
        case 'else':
          if (!taken) this.block(c.block!);
          taken = true;
          break;
        case 'stop':
          throw new Stop();
        default:
          this.action(c);
      }
    }
  }

  private push(a: SieveAction, line: number): void {
    if (this.actions.length >= RUN_LIMITS.maxActions) throw new RunError('too many actions', line);
    this.actions.push(a);
  }

  /** Expands ${name} and ${N} when "variables" is required (RFC 5229 3), and RFC 5228 encoded-character. */
  private str(s: string): string {
    if (!this.caps.has('variables') || !s.includes('${')) return s;
    let out = '';
    let i = 0;
    while (i < s.length) {
      const open = s.indexOf('${', i);
      if (open < 0) {
        out += s.slice(i);
        break;
      }
      out += s.slice(i, open);
      const close = s.indexOf('}', open + 2);
      const name = close < 0 ? '' : s.slice(open + 2, close);
      if (close >= 0 && isVarName(name)) {
        out += /^[0-9]+$/.test(name) ? (this.matchVars[Number(name)] ?? '') : (this.vars.get(name.toLowerCase()) ?? '');
        i = close + 1;
      } else {
        out += '${';
        i = open + 2;
      }
      if (out.length > RUN_LIMITS.maxVariableChars * 16) throw new RunError('expanded string too long', 0);
    }
    return out;
  }

  private strs(a: Arg | true | undefined, line: number, what: string): string[] {
    if (!a || a === true || a.kind !== 'strings') throw new RunError(`${what}: expected a string or string list`, line);
    return a.values.map((v) => this.str(v));
  }

  private one(a: Arg | true | undefined, line: number, what: string): string {
    if (!a || a === true || a.kind !== 'strings' || a.values.length !== 1) throw new RunError(`${what}: expected a string`, line);
    return this.str(a.values[0]!);
  }

  private action(c: Command): void {
    const { tags, pos } = parseArgs(c.args, c.line);
    const copy = tags.has('copy');
    const flags = (): string[] => (tags.has('flags') ? flagList(this.strs(tags.get('flags'), c.line, ':flags')) : [...this.flags]);
    switch (c.name) {
      case 'keep':
        this.explicitKeep = true;
        this.push({ type: 'keep', flags: flags() }, c.line);
        break;
      case 'discard':
        this.implicitKeep = false;
        this.push({ type: 'discard' }, c.line);
        break;
      case 'fileinto': {
        const folder = this.one(pos[0], c.line, 'fileinto');
        if (folder === '' || folder.length > 512) throw new RunError('fileinto: bad folder name', c.line);
        if (!copy) this.implicitKeep = false;
        this.push({ type: 'fileinto', folder, flags: flags() }, c.line);
        break;
      }
      case 'redirect': {
        const address = this.one(pos[0], c.line, 'redirect');
        if (!/^[^\s@<>]{1,64}@[^\s@<>]{1,255}$/.test(address)) throw new RunError(`redirect: bad address "${address.slice(0, 80)}"`, c.line);
        if (++this.redirects > RUN_LIMITS.maxRedirects) throw new RunError('too many redirects', c.line);
        if (!copy) this.implicitKeep = false;
        this.push({ type: 'redirect', address }, c.line);
        break;
      }
      case 'reject':
      case 'ereject':
        if (this.actions.some((a) => a.type === 'reject' || a.type === 'vacation' || a.type === 'keep' || a.type === 'fileinto' || a.type === 'redirect')) {
          throw new RunError(`${c.name} cannot be combined with other delivery actions`, c.line);
        }
        this.implicitKeep = false;
        this.push({ type: 'reject', reason: this.one(pos[0], c.line, c.name), ereject: c.name === 'ereject' }, c.line);
        break;
      case 'setflag':
      case 'addflag':
      case 'removeflag': {
        const name = pos.length === 2 ? this.one(pos[0], c.line, c.name).toLowerCase() : null;
        const list = flagList(this.strs(pos[pos.length - 1], c.line, c.name));
        const cur = name === null ? this.flags : flagList([this.vars.get(name) ?? '']);
        let next: string[];
        if (c.name === 'setflag') next = list;
        else if (c.name === 'addflag') next = flagList([...cur, ...list]);
        else next = cur.filter((f) => !list.some((r) => r.toLowerCase() === f.toLowerCase()));
        if (name === null) this.flags = next;
        else this.setVar(name, next.join(' '), c.line);
        break;
      }
      case 'set': {
        const name = this.one(pos[0], c.line, 'set').toLowerCase();
        if (!isVarName(name) || /^[0-9]/.test(name)) throw new RunError(`set: bad variable name "${name.slice(0, 40)}"`, c.line);
        let v = this.one(pos[1], c.line, 'set');
        // RFC 5229 4: modifiers apply from highest precedence (:lower/:upper) to lowest (:length)
        if (tags.has('lower')) v = v.toLowerCase();
        if (tags.has('upper')) v = v.toUpperCase();
        if (tags.has('lowerfirst')) v = v.slice(0, 1).toLowerCase() + v.slice(1);
        if (tags.has('upperfirst')) v = v.slice(0, 1).toUpperCase() + v.slice(1);
        if (tags.has('quotewildcard')) v = v.replace(/[*?\\]/g, (m) => '\\' + m);
        if (tags.has('length')) v = String([...v].length);
        this.setVar(name, v, c.line);
        break;
      }
      case 'vacation': {
        const days = tags.get('days');
        const d = days && days !== true && days.kind === 'number' ? Math.min(Math.max(days.value, 1), 90) : 7;
        const reason = this.one(pos[0], c.line, 'vacation');
        const subject = tags.has('subject') ? this.one(tags.get('subject'), c.line, ':subject') : null;
        const from = tags.has('from') ? this.one(tags.get('from'), c.line, ':from') : null;
        const handle = tags.has('handle') ? this.one(tags.get('handle'), c.line, ':handle') : `${reason}\u0000${subject ?? ''}\u0000${from ?? ''}`;
        if (this.actions.some((a) => a.type === 'vacation' || a.type === 'reject')) throw new RunError('only one vacation, and not with reject', c.line);
        this.push({ type: 'vacation', reason, days: d, subject, from, addresses: tags.has('addresses') ? this.strs(tags.get('addresses'), c.line, ':addresses') : [], mime: tags.has('mime'), handle }, c.line);
        break;
      }
      default:
        throw new RunError(`unknown command "${c.name}"`, c.line);
    }
  }

  private setVar(name: string, v: string, line: number): void {
    if (!this.vars.has(name) && this.vars.size >= RUN_LIMITS.maxVariables) throw new RunError('too many variables', line);
    this.vars.set(name, v.slice(0, RUN_LIMITS.maxVariableChars));
  }

  private matchSpec(tags: Map<string, Arg | true>, line: number): MatchSpec {
    const c = tags.get('comparator');
    const cmpName = c === undefined ? 'i;ascii-casemap' : this.one(c, line, ':comparator');
    if (!COMPARATORS.includes(cmpName)) throw new RunError(`unknown comparator "${cmpName.slice(0, 40)}"`, line);
    if (cmpName === 'i;ascii-numeric' && !this.caps.has('comparator-i;ascii-numeric')) throw new RunError('i;ascii-numeric needs require "comparator-i;ascii-numeric"', line);
    const types = (['is', 'contains', 'matches', 'value', 'count'] as const).filter((t) => tags.has(t));
    if (types.length > 1) throw new RunError('more than one match type', line);
    if (tags.has('regex')) throw new RunError(':regex is not supported', line);
    const type = types[0] ?? 'is';
    let rel: Relation = 'eq';
    if (type === 'value' || type === 'count') {
      const r = this.one(tags.get(type), line, `:${type}`).toLowerCase();
      if (!RELATIONS.includes(r)) throw new RunError(`unknown relation "${r.slice(0, 10)}"`, line);
      rel = r as Relation;
    }
    return { cmp: cmpName as Comparator, type, rel };
  }

  /** Whether any value matches any key; sets match variables on a :matches hit. */
  private matches(values: readonly string[], keys: readonly string[], m: MatchSpec, line: number): boolean {
    if (m.type === 'count') {
      const n = String(values.length);
      return keys.some((k) => relate(compare(n, k, 'i;ascii-numeric'), m.rel));
    }
    for (const v of values) {
      for (const k of keys) {
        this.step(line);
        switch (m.type) {
          case 'is':
            if (compare(v, k, m.cmp) === 0) return true;
            break;
          case 'contains':
            if (contains(v, k, m.cmp)) return true;
            break;
          case 'value':
            if (relate(compare(v, k, m.cmp), m.rel)) return true;
            break;
          case 'matches': {
            const caps = wildcard(v, k, m.cmp, this.budget);
            if (this.budget.steps < 0) throw new RunError('script ran too long', line);
            if (caps) {
              this.matchVars = [v, ...caps];
              return true;
            }
            break;
          }
        }
      }
    }
    return false;
  }

  private test(t: Test): boolean {
    this.step(t.line);
    const { tags, pos } = parseArgs(t.args, t.line);
    switch (t.name) {
      case 'true':
        return true;
      case 'false':
        return false;
      case 'not':
        return !this.test(t.tests[0]!);
      case 'allof':
        return t.tests.every((s) => this.test(s));
      case 'anyof':
        return t.tests.some((s) => this.test(s));
      case 'exists':
        return this.strs(pos[0], t.line, 'exists').every((h) => this.msg.header(h).length > 0);
      case 'size': {
        const n = pos[0];
        if (!n || n.kind !== 'number' || tags.has('over') === tags.has('under')) throw new RunError('size needs :over or :under and a number', t.line);
        return tags.has('over') ? this.msg.size > n.value : this.msg.size < n.value;
      }
      case 'header': {
        const m = this.matchSpec(tags, t.line);
        const values = this.strs(pos[0], t.line, 'header').flatMap((h) => this.msg.header(h));
        return this.matches(values, this.strs(pos[1], t.line, 'header'), m, t.line);
      }
      case 'address':
      case 'envelope': {
        const m = this.matchSpec(tags, t.line);
        const part = tags.has('localpart') ? 'localpart' : tags.has('domain') ? 'domain' : 'all';
        const names = this.strs(pos[0], t.line, t.name);
        let addrs: string[];
        if (t.name === 'address') addrs = names.flatMap((h) => this.msg.addresses(h));
        else {
          addrs = names.flatMap((n) => {
            const l = n.toLowerCase();
            if (l === 'from') return [this.env.from];
            if (l === 'to') return [this.env.to];
            throw new RunError(`envelope part "${n.slice(0, 20)}" is not known`, t.line);
          });
        }
        const values = addrs.map((a) => {
          if (a === '') return '';
          const at = a.lastIndexOf('@');
          if (part === 'localpart') return at < 0 ? a : a.slice(0, at);
          if (part === 'domain') return at < 0 ? '' : a.slice(at + 1);
          return a;
        });
        return this.matches(values, this.strs(pos[1], t.line, t.name), m, t.line);
      }
      case 'hasflag': {
        const m = this.matchSpec(tags, t.line);
        const keys = this.strs(pos[pos.length - 1], t.line, 'hasflag');
        const values = pos.length === 2 ? flagList(this.strs(pos[0], t.line, 'hasflag').map((n) => this.vars.get(n.toLowerCase()) ?? '')) : this.flags;
        return this.matches(values, m.type === 'count' ? keys : flagList(keys), m, t.line);
      }
      case 'string': {
        const m = this.matchSpec(tags, t.line);
        const values = this.strs(pos[0], t.line, 'string');
        return this.matches(m.type === 'count' ? values.filter((v) => v !== '') : values, this.strs(pos[1], t.line, 'string'), m, t.line);
      }
      case 'body': {
        const m = this.matchSpec(tags, t.line);
        let values: string[];
        if (tags.has('raw')) values = [this.msg.rawBody()];
        else if (tags.has('content')) values = this.msg.bodies(this.strs(tags.get('content'), t.line, ':content'));
        else values = this.msg.bodies(['text']);
        return this.matches(values, this.strs(pos[0], t.line, 'body'), m, t.line);
      }
      case 'date':
      case 'currentdate': {
        const m = this.matchSpec(tags, t.line);
        const zoneArg = tags.has('zone') ? zoneOffset(this.one(tags.get('zone'), t.line, ':zone')) : null;
        if (tags.has('zone') && zoneArg === null) throw new RunError('bad :zone', t.line);
        let when: { ms: number; zone: number } | null;
        let rest = pos;
        if (t.name === 'date') {
          const field = this.one(pos[0], t.line, 'date');
          const v = this.msg.rawHeader(field)[0];
          when = v === undefined ? null : parseDateHeader(v);
          rest = pos.slice(1);
          if (when && !tags.has('originalzone')) when = { ms: when.ms, zone: zoneArg ?? 0 };
        } else when = { ms: this.now.getTime(), zone: zoneArg ?? 0 };
        const partName = this.one(rest[0], t.line, t.name).toLowerCase();
        if (!DATE_PARTS.includes(partName)) throw new RunError(`unknown date part "${partName.slice(0, 20)}"`, t.line);
        const keys = this.strs(rest[1], t.line, t.name);
        if (!when) return m.type === 'count' ? this.matches([], keys, m, t.line) : false;
        return this.matches([datePart(when.ms, when.zone, partName)], keys, m, t.line);
      }
      default:
        throw new RunError(`unknown test "${t.name}"`, t.line);
    }
  }
}

function isVarName(n: string): boolean {
  if (n === '' || n.length > 64) return false;
  if (/^[0-9]+$/.test(n)) return true;
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(n);
}
