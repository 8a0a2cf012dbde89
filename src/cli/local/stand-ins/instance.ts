/**
 * Deterministic instances of a JSON Schema (draft 2020-12): what the local runner's stand-in models
 * answer, so a stage's real handler core gets a reply that meets the stage's own contract.
 *
 * The same schema, seed and pins always give the same value. Values look plausible (numbers inside
 * their bounds, words and sentences for text fields, values for the common formats). Each value is
 * checked with the stage's own validator when one is given; a schema that has no instance (or one
 * this generator cannot find) is an error naming the JSON path and the keyword.
 */
import RandExp from 'randexp';
import { filler, formatted, numberHint, styledText, textStyle } from './plausible';
import { Rng, rngFrom } from './prng';
import { jsonEqual, Node, Plan, Problem, Range } from './schema-plan';

/** A validator as ajv generates it (the stages' `validators.js` exports these). */
export interface InstanceValidator {
  (value: unknown): boolean;
  errors?: Array<{ readonly instancePath?: string; readonly keyword: string; readonly message?: string }> | null;
}

export interface InstanceOptions {
  /** Seeds the generator: the runner passes `sha256(document bytes) + ':' + stageId`. */
  readonly seed: string;
  /**
   * Values to put at given places, the rest being generated around them. Keys are dotted paths
   * (`fraudScore`, `clauses.0.type`) or JSON pointers (`/clauses/0/type`).
   */
  readonly pins?: { readonly [path: string]: unknown };
  /** The stage's own validator; without one the value is checked by the generator's own evaluator. */
  readonly validate?: InstanceValidator;
  /** Seeds tried (the given one, then derived ones) before giving up. @default 5 */
  readonly attempts?: number;
}

/** No instance could be generated: `path` is the JSON pointer (`/` for the root), `keyword` the rule. */
export class InstanceError extends Error {
  constructor(public readonly path: string, public readonly keyword: string, detail: string) {
    super(`cannot generate ${path}: ${detail}`);
    this.name = 'StandIn.CannotGenerate';
  }
}

/** A failure inside generation; `fatal` when no other seed can help (the schema itself has no instance). */
class GenError extends Error {
  constructor(public readonly path: string, public readonly problem: Problem, public readonly fatal: boolean) {
    super(problem.detail);
  }
}

/** Pins as a tree over path segments. */
interface Pins {
  readonly has: boolean;
  readonly value?: unknown;
  readonly children: Map<string, Pins>;
}

const PLANS = new WeakMap<object, Plan>();
/** Deepest nesting generated (a recursive `$ref` that must always recur has no finite instance). */
const MAX_DEPTH = 40;
const ATTEMPTS_PER_BRANCH = 3;
const STRING_TRIES = 24;

/** The plan of a schema, compiled once per schema object. */
function planOf(schema: object): Plan {
  let plan = PLANS.get(schema);
  if (!plan) {
    plan = new Plan(schema);
    PLANS.set(schema, plan);
  }
  return plan;
}

/**
 * A deterministic instance of `schema`.
 *
 * @throws InstanceError naming the JSON path and the keyword when the schema has no instance
 * (`minimum` > `maximum`, an impossible `pattern`, a `not` that cannot be met, ...) or when no
 * generated value passes `validate` after `attempts` seeds.
 */
export function instanceOf(schema: object, options: InstanceOptions): unknown {
  const plan = planOf(schema);
  const pins = parsePins(options.pins);
  const attempts = Math.max(1, options.attempts ?? 5);
  let last: InstanceError | undefined;
  for (let a = 0; a < attempts; a++) {
    const rng = rngFrom(a === 0 ? options.seed : `${options.seed}#${a}`);
    let value: unknown;
    try {
      value = new Generator(rng).value(plan.root, '', undefined, pins, 0);
    } catch (err) {
      if (!(err instanceof GenError)) throw err;
      const e = new InstanceError(err.path || '/', err.problem.keyword, err.problem.detail);
      if (err.fatal) throw e;
      last = e;
      continue;
    }
    const ok = options.validate ? options.validate(value) : plan.root.matches(value);
    if (ok) return value;
    last = rejected(options, attempts);
  }
  throw last!;
}

/** The error for values the validator rejected: the first error's path and keyword, and any pin there. */
function rejected(options: InstanceOptions, attempts: number): InstanceError {
  const first = options.validate?.errors?.[0];
  const path = first?.instancePath || '/';
  const keyword = first?.keyword ?? 'schema';
  const pinned = Object.entries(options.pins ?? {}).find(([p]) => {
    const pointer = toPointer(p);
    return pointer === path || path.startsWith(`${pointer}/`) || pointer.startsWith(`${path === '/' ? '' : path}/`);
  });
  const why = first?.message ? ` (${first.message})` : '';
  const pin = pinned ? `; '${pinned[0]}' is pinned to ${JSON.stringify(pinned[1])}` : '';
  return new InstanceError(path, keyword, `every generated value fails '${keyword}'${why} (${attempts} seeds tried)${pin}`);
}

function segmentsOf(path: string): string[] {
  if (path === '' || path === '/' || path === '$') return [];
  if (path.startsWith('/')) return path.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  return path.replace(/^\$\./, '').split('.');
}

function toPointer(path: string): string {
  const segs = segmentsOf(path);
  return segs.length === 0 ? '/' : `/${segs.map(escapeSegment).join('/')}`;
}

function escapeSegment(s: string): string {
  if (!s.includes('~') && !s.includes('/')) return s;
  return s.replace(/~/g, '~0').replace(/\//g, '~1');
}

function parsePins(pins: InstanceOptions['pins']): Pins | undefined {
  if (!pins || Object.keys(pins).length === 0) return undefined;
  const root: { has: boolean; value?: unknown; children: Map<string, Pins> } = { has: false, children: new Map() };
  for (const [path, value] of Object.entries(pins)) {
    let at = root;
    for (const seg of segmentsOf(path)) {
      let next = at.children.get(seg) as typeof root | undefined;
      if (!next) {
        next = { has: false, children: new Map() };
        at.children.set(seg, next);
      }
      at = next;
    }
    at.has = true;
    at.value = value;
  }
  return root;
}

const RANDEXPS = new Map<string, RandExp>();

/** A RandExp for a pattern; `.` and negated classes draw from letters, digits and space. */
function randExpOf(pattern: string): RandExp {
  let r = RANDEXPS.get(pattern);
  if (!r) {
    r = new RandExp(pattern);
    r.defaultRange.subtract(33, 47).subtract(58, 64).subtract(91, 96).subtract(123, 126);
    RANDEXPS.set(pattern, r);
  }
  return r;
}

/** A copy of a JSON value (primitives as they are). */
function clone<T>(v: T): T {
  return typeof v === 'object' && v !== null ? structuredClone(v) : v;
}

function round(n: number, decimals: number): number {
  return Number(n.toFixed(Math.min(decimals, 20)));
}

function decimalsOf(n: number): number {
  const s = String(n);
  if (s.includes('e-')) return Number(s.split('e-')[1]) + (s.split('e')[0].split('.')[1]?.length ?? 0);
  return s.split('.')[1]?.length ?? 0;
}

/** Cuts `s` to `max` characters at a word boundary when that keeps at least `min`; never ends in a space. */
function cut(s: string, min: number, max: number): string {
  if (s.length <= max) return s;
  const space = s.lastIndexOf(' ', max);
  let out = space >= Math.max(min, 1) ? s.slice(0, space) : s.slice(0, max);
  if (out.endsWith(' ')) out = `${out.slice(0, -1)}s`;
  return out;
}

/** One generation: a seeded walk over the plan. */
class Generator {
  constructor(private readonly rng: Rng) {}

  public value(node: Node, path: string, key: string | undefined, pins: Pins | undefined, depth: number): unknown {
    if (pins?.has) return clone(pins.value);
    if (node.problem) throw new GenError(path, node.problem, true);
    if (depth > MAX_DEPTH) {
      throw new GenError(path, { keyword: '$ref', detail: `the schema nests deeper than ${MAX_DEPTH} levels (a recursive '$ref' that is always required?)` }, true);
    }
    const values = node.enumValues;
    if (values) {
      if (values.length === 0) throw new GenError(path, { keyword: 'enum', detail: 'no value of \'enum\'/\'const\' meets the other keywords' }, true);
      return clone(this.rng.pick(values));
    }
    const f = node.flat;
    if (f.groups.length > 0) return this.group(node, path, key, pins, depth);
    if (f.conditionals.length > 0) return this.conditional(node, path, key, pins, depth);
    if (f.nots.length > 0) {
      const base = node.withoutNots();
      for (let i = 0; i < ATTEMPTS_PER_BRANCH * 2; i++) {
        const v = this.value(base, path, key, pins, depth);
        if (!node.notNodes.some((n) => n.matches(v))) return v;
      }
      throw new GenError(path, { keyword: 'not', detail: 'every value tried also matches \'not\'' }, false);
    }
    return this.plain(node, path, key, pins, depth);
  }

  /** The first `oneOf`/`anyOf` group: a seeded branch; for `oneOf` a value no other branch matches. */
  private group(node: Node, path: string, key: string | undefined, pins: Pins | undefined, depth: number): unknown {
    const group = node.flat.groups[0];
    let lastError: GenError | undefined;
    let fatal = 0;
    for (const b of this.rng.shuffle(group.branches.map((_, i) => i))) {
      const branch = node.branch(b);
      if (branch.problem) {
        lastError = lastError ?? new GenError(path, branch.problem, true);
        fatal++;
        continue;
      }
      for (let i = 0; i < ATTEMPTS_PER_BRANCH; i++) {
        let v: unknown;
        try {
          v = this.value(branch, path, key, pins, depth);
        } catch (err) {
          if (!(err instanceof GenError)) throw err;
          lastError = err;
          if (err.fatal) {
            fatal++;
            break;
          }
          continue;
        }
        if (group.kind === 'oneOf' && group.branches.some((_, j) => j !== b && node.branchAlone(j).matches(v))) {
          lastError = new GenError(path, { keyword: 'oneOf', detail: 'every value tried matches more than one \'oneOf\' branch' }, false);
          continue;
        }
        return v;
      }
    }
    if (fatal === group.branches.length) {
      const why = lastError ? ` (at ${lastError.path || '/'}: ${lastError.problem.detail})` : '';
      throw new GenError(path, { keyword: group.kind, detail: `no '${group.kind}' branch has an instance${why}` }, true);
    }
    throw lastError ?? new GenError(path, { keyword: group.kind, detail: `no '${group.kind}' branch could be generated` }, false);
  }

  /** The first `if`: a seeded side (`if` + `then`, or `else` with a value `if` rejects). */
  private conditional(node: Node, path: string, key: string | undefined, pins: Pins | undefined, depth: number): unknown {
    const thenFirst = this.rng.chance(0.5);
    let lastError: GenError | undefined;
    for (const side of thenFirst ? [true, false] : [false, true]) {
      const n = node.conditional(side);
      if (n.problem) continue;
      for (let i = 0; i < ATTEMPTS_PER_BRANCH; i++) {
        let v: unknown;
        try {
          v = this.value(n, path, key, pins, depth);
        } catch (err) {
          if (!(err instanceof GenError)) throw err;
          lastError = err;
          if (err.fatal) break;
          continue;
        }
        if (!side && node.ifNode.matches(v)) continue;
        return v;
      }
    }
    throw lastError ?? new GenError(path, { keyword: 'if', detail: 'neither \'then\' nor \'else\' could be met' }, false);
  }

  /** A value of one of the node's types: seeded, non-null first for a nullable type, objects/arrays first under pins. */
  private plain(node: Node, path: string, key: string | undefined, pins: Pins | undefined, depth: number): unknown {
    const types = node.types;
    if (types.length === 0) {
      const [t, problem] = [...node.typeProblems.entries()][0];
      throw new GenError(path, problem ?? { keyword: 'type', detail: `no value of type '${t}' is possible` }, true);
    }
    let order = this.rng.shuffle(types.filter((t) => t !== 'null'));
    if (types.includes('null')) order = this.rng.chance(0.15) ? ['null', ...order] : [...order, 'null'];
    if (pins && pins.children.size > 0) {
      const wanted = [...pins.children.keys()].every((k) => /^\d+$/.test(k)) ? 'array' : 'object';
      order = [...order.filter((t) => t === wanted), ...order.filter((t) => t !== wanted)];
    }
    let first: GenError | undefined;
    for (const t of order) {
      try {
        return this.ofType(t, node, path, key, pins, depth);
      } catch (err) {
        if (!(err instanceof GenError)) throw err;
        first = first ?? err;
      }
    }
    throw first!;
  }

  private ofType(t: string, node: Node, path: string, key: string | undefined, pins: Pins | undefined, depth: number): unknown {
    switch (t) {
      case 'null': return null;
      case 'boolean': return this.rng.chance(0.5);
      case 'integer':
      case 'number': return this.number(node.range(t === 'integer') as Range, key, path);
      case 'string': return this.string(node, key, path);
      case 'array': return this.array(node, path, key, pins, depth);
      default: return this.object(node, path, key, pins, depth);
    }
  }

  private number(r: Range, key: string | undefined, path: string): number {
    const rng = this.rng;
    const hint = numberHint(key) ?? { lo: 0, hi: 100 };
    const span = hint.hi - hint.lo || 100;
    // A plausible range inside the schema's: the name's hint, else near the schema's bounds.
    let a = Math.max(r.lo, hint.lo);
    let b = Math.min(r.hi, hint.hi);
    if (a > b) {
      if (Number.isFinite(r.lo) && Number.isFinite(r.hi)) [a, b] = [r.lo, r.hi];
      else if (Number.isFinite(r.lo)) [a, b] = [r.lo, r.lo + span];
      else [a, b] = [r.hi - span, r.hi];
    }
    const inside = (v: number) => (r.loEx ? v > r.lo : v >= r.lo) && (r.hiEx ? v < r.hi : v <= r.hi);
    if (r.step > 0) {
      const dec = decimalsOf(r.step);
      const ok = (k: number) => {
        const v = round(k * r.step, dec);
        return inside(v) && Number.isInteger(v / r.step) ? v : undefined;
      };
      let kLo = Math.ceil(a / r.step);
      let kHi = Math.floor(b / r.step);
      if (kLo > kHi || ok(kLo) === undefined && ok(kHi) === undefined) {
        // The plausible range holds no multiple: use the schema's own bounds.
        kLo = Number.isFinite(r.lo) ? Math.ceil(r.lo / r.step) : Math.floor(r.hi / r.step) - 100;
        kHi = Number.isFinite(r.hi) ? Math.floor(r.hi / r.step) : kLo + 100;
      }
      const k = rng.int(kLo, kHi);
      for (const c of [k, k + 1, k - 1, kLo, kLo + 1, kHi, kHi - 1]) {
        if (c < kLo || c > kHi) continue;
        const v = ok(c);
        if (v !== undefined) return Object.is(v, -0) ? 0 : v;
      }
      throw new GenError(path, { keyword: 'multipleOf', detail: `no multiple of 'multipleOf' ${r.step} found in [${r.lo}, ${r.hi}]` }, false);
    }
    const width = b - a;
    const dec = width >= 0.1 ? 2 : Math.ceil(-Math.log10(width || 1e-9)) + 2;
    let v = round(a + rng.next() * width, dec);
    if (!inside(v)) v = (a + b) / 2;
    if (!inside(v)) v = (r.lo + r.hi) / 2;
    return v;
  }

  private string(node: Node, key: string | undefined, path: string): string {
    const f = node.flat;
    const min = f.minLength ?? 0;
    const max = f.maxLength ?? Infinity;
    if (node.regexes.length > 0) return this.patterned(node, min, max, path);
    if (max === 0) return '';
    if (f.format) {
      const s = formatted(f.format, this.rng);
      if (s !== undefined && s.length >= min && s.length <= max) return s;
    }
    const style = textStyle(key);
    let s = styledText(style, this.rng);
    while (s.length < min) s += filler(style, this.rng);
    return cut(s, min, max);
  }

  private patterned(node: Node, min: number, max: number, path: string): string {
    const pattern = node.flat.patterns[0];
    let gen: RandExp;
    try {
      gen = randExpOf(pattern);
    } catch (err: any) {
      throw new GenError(path, { keyword: 'pattern', detail: `'pattern' ${JSON.stringify(pattern)} cannot be generated from (${err?.message})` }, true);
    }
    gen.randInt = (lo: number, hi: number) => this.rng.int(lo, hi);
    const fits = (s: string) => {
      const len = [...s].length;
      return len >= min && len <= max && node.regexes.every((r) => r.test(s));
    };
    for (let i = 0; i < STRING_TRIES; i++) {
      // Open repetitions (`*`, `+`, `{n,}`) grow longer on later tries, to reach a `minLength`.
      gen.max = i < STRING_TRIES / 3 ? 6 : i < (2 * STRING_TRIES) / 3 ? Math.max(8, min) : min + 16;
      const s = gen.gen();
      if (fits(s)) return s;
      // An unanchored pattern matches inside a longer string: pad to the minimum length.
      if (s.length < min && fits(s + 'x'.repeat(min - s.length))) return s + 'x'.repeat(min - s.length);
    }
    const bounds = `${min > 0 ? ` with 'minLength' ${min}` : ''}${Number.isFinite(max) ? ` and 'maxLength' ${max}` : ''}`;
    throw new GenError(path, { keyword: 'pattern', detail: `no string found that matches 'pattern' ${JSON.stringify(pattern)}${node.regexes.length > 1 ? ' and the other patterns' : ''}${bounds}` }, false);
  }

  private array(node: Node, path: string, key: string | undefined, pins: Pins | undefined, depth: number): unknown[] {
    const f = node.flat;
    const rng = this.rng;
    const needContains = f.contains.length > 0 ? (f.minContains ?? 1) : 0;
    const pinned = pins ? Math.max(0, ...[...pins.children.keys()].filter((k) => /^\d+$/.test(k)).map((k) => Number(k) + 1)) : 0;
    const lo = Math.max(f.minItems ?? 0, needContains, pinned);
    const hi = Math.max(lo, Math.min(node.maxLength, depth > 4 ? lo : Math.max(lo, 3, f.prefix.length)));
    const n = rng.int(Math.min(Math.max(lo, 1), hi), hi);
    const containsAt = new Set(rng.shuffle([...Array(n).keys()].filter((i) => !pins?.children.has(String(i)))).slice(0, needContains));
    const out: unknown[] = [];
    for (let i = 0; i < n; i++) {
      const el = containsAt.has(i) ? node.containsAt(i) : node.element(i);
      const at = `${path}/${i}`;
      const pin = pins?.children.get(String(i));
      let v: unknown;
      let found = false;
      try {
        for (let t = 0; t < 10 && !found; t++) {
          const unused = f.uniqueItems && !pin ? el.enumValues?.filter((e) => !out.some((x) => jsonEqual(x, e))) : undefined;
          if (unused && unused.length === 0) break;
          v = unused ? clone(rng.pick(unused)) : this.value(el, at, key, pin, depth + 1);
          found = !f.uniqueItems || !out.some((x) => jsonEqual(x, v));
        }
      } catch (err) {
        if (err instanceof GenError && i >= lo) break;
        throw err;
      }
      if (!found) {
        if (i >= lo) break;
        throw new GenError(at, { keyword: 'uniqueItems', detail: `cannot find ${lo} distinct items for 'uniqueItems'` }, false);
      }
      out.push(v);
    }
    if (f.maxContains !== undefined) this.limitContains(node, out, containsAt, path, key, depth);
    return out;
  }

  /** Regenerates the items that match `contains` beyond `maxContains` (best effort; the validator decides). */
  private limitContains(node: Node, out: unknown[], keep: Set<number>, path: string, key: string | undefined, depth: number): void {
    const contains = node.containsAt(0);
    let count = out.filter((x) => contains.matches(x)).length;
    for (let i = 0; i < out.length && count > node.flat.maxContains!; i++) {
      if (keep.has(i) || !contains.matches(out[i])) continue;
      for (let t = 0; t < 5; t++) {
        const v = this.value(node.element(i), `${path}/${i}`, key, undefined, depth + 1);
        if (!contains.matches(v)) {
          out[i] = v;
          count--;
          break;
        }
      }
    }
  }

  private object(node: Node, path: string, _key: string | undefined, pins: Pins | undefined, depth: number): { [k: string]: unknown } {
    const f = node.flat;
    const rng = this.rng;
    const required = f.required;
    const pinned = new Set(pins ? pins.children.keys() : []);
    const must = (k: string) => required.has(k) || pinned.has(k);
    const pOptional = depth >= 6 ? 0 : depth >= 3 ? 0.4 : 0.7;
    const declared = node.declared;
    const include = new Set<string>();
    for (const k of declared) if (must(k) || (rng.chance(pOptional) && node.property(k))) include.add(k);
    for (const k of required) include.add(k);
    for (const k of pinned) include.add(k);
    if (f.dependentRequired.size > 0) {
      for (let changed = true; changed;) {
        changed = false;
        for (const [k, deps] of f.dependentRequired) {
          if (!include.has(k)) continue;
          for (const d of deps) if (!include.has(d)) [changed] = [true, include.add(d)];
        }
      }
    }
    if (f.maxProperties !== undefined && include.size > f.maxProperties) {
      const needed = (k: string) => must(k) || [...f.dependentRequired].some(([d, deps]) => include.has(d) && deps.includes(k));
      const optional = [...include].filter((k) => !needed(k));
      while (include.size > f.maxProperties && optional.length > 0) include.delete(optional.pop()!);
    }
    const min = f.minProperties ?? 0;
    for (const k of declared) if (include.size < min && node.property(k)) include.add(k);
    for (let i = 0; include.size < min && i < min * 4 + 8; i++) {
      const extra = this.extraKey(node, i);
      if (extra !== undefined) include.add(extra);
    }
    // Declared order first, then the rest in the order they were added.
    const ordered = [...declared.filter((k) => include.has(k)), ...[...include].filter((k) => !f.properties.has(k))];
    const out: { [k: string]: unknown } = {};
    for (const k of ordered) {
      const child = node.property(k);
      const at = `${path}/${escapeSegment(k)}`;
      if (!child) {
        if (pinned.has(k)) out[k] = clone(pins!.children.get(k)!.value);
        continue;
      }
      if (f.propertyNames.length > 0 && !node.propertyNames.matches(k) && !pinned.has(k)) {
        if (required.has(k)) throw new GenError(at, { keyword: 'propertyNames', detail: `the required property '${k}' does not meet 'propertyNames'` }, true);
        continue;
      }
      try {
        out[k] = this.value(child, at, k, pins?.children.get(k), depth + 1);
      } catch (err) {
        if (!(err instanceof GenError) || must(k) || Object.keys(out).length + (ordered.length - ordered.indexOf(k) - 1) < min) throw err;
      }
    }
    if (Object.keys(out).length < min) {
      throw new GenError(path, { keyword: 'minProperties', detail: `cannot find ${min} allowed properties for 'minProperties'` }, true);
    }
    return out;
  }

  /** A name for a property beyond the declared ones (for `minProperties`): from `patternProperties`, else `extraN`. */
  private extraKey(node: Node, i: number): string | undefined {
    const f = node.flat;
    let k: string | undefined;
    if (f.patternProperties.length > 0) {
      const pp = f.patternProperties[i % f.patternProperties.length];
      try {
        const gen = randExpOf(pp.pattern);
        gen.randInt = (lo: number, hi: number) => this.rng.int(lo, hi);
        gen.max = 6;
        k = gen.gen();
      } catch {
        k = undefined;
      }
    }
    if (k === undefined || f.properties.has(k)) k = f.closed ? undefined : `extra${i + 1}`;
    if (k === undefined || !node.applicable(k)) return undefined;
    if (f.propertyNames.length > 0 && !node.propertyNames.matches(k)) return undefined;
    return k;
  }
}
