/**
 * A JSON Schema (draft 2020-12) compiled into a plan for generating instances: `$ref`s resolved
 * (local ones), `allOf` merged into one set of constraints, unsatisfiable constraints found before
 * any value is drawn, and a small evaluator (`matches`) for what generation alone cannot ensure:
 * `oneOf` matching exactly one branch, `not`, `if`, `contains` and `enum` values that also meet the
 * other keywords. Formats are annotations here, as in the stages' own validators.
 */

/** A schema or sub-schema: an object, or `true` / `false`. */
export type Raw = boolean | { readonly [keyword: string]: any };

/** Why a (sub-)schema has no instance: the keyword and a sentence naming the values involved. */
export interface Problem {
  readonly keyword: string;
  readonly detail: string;
}

/** A schema with `$ref` and `allOf` merged away: every constraint that applies at one place. */
interface Flat {
  readonly isFalse: boolean;
  /** Allowed types; undefined when any type is allowed. */
  readonly types?: ReadonlySet<string>;
  /** Allowed values (`enum` and `const`, intersected). */
  readonly enum?: readonly unknown[];
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: number;
  readonly exclusiveMaximum?: number;
  readonly multipleOf: readonly number[];
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly patterns: readonly string[];
  readonly format?: string;
  /** `prefixItems`, per index (each sub-schema that applies there). */
  readonly prefix: ReadonlyArray<readonly Raw[]>;
  /** `items`: applies from index `from` on (the length of its sibling `prefixItems`). */
  readonly items: ReadonlyArray<{ readonly from: number; readonly schema: Raw }>;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly uniqueItems: boolean;
  readonly contains: readonly Raw[];
  readonly minContains?: number;
  readonly maxContains?: number;
  readonly properties: ReadonlyMap<string, readonly Raw[]>;
  readonly required: ReadonlySet<string>;
  readonly patternProperties: ReadonlyArray<{ readonly pattern: string; readonly schema: Raw }>;
  /** `additionalProperties`, with the names and patterns of its own schema's properties. */
  readonly additional: ReadonlyArray<{ readonly schema: Raw; readonly props: ReadonlySet<string>; readonly patterns: readonly string[] }>;
  /** `unevaluatedProperties: false`: generate no properties beyond the declared ones. */
  readonly closed: boolean;
  readonly minProperties?: number;
  readonly maxProperties?: number;
  readonly propertyNames: readonly Raw[];
  readonly dependentRequired: ReadonlyMap<string, readonly string[]>;
  readonly groups: ReadonlyArray<{ readonly kind: 'oneOf' | 'anyOf'; readonly branches: readonly Raw[] }>;
  readonly nots: readonly Raw[];
  readonly conditionals: ReadonlyArray<{ readonly if: Raw; readonly then?: Raw; readonly else?: Raw }>;
  /** Types the keywords suggest (for a schema without `type`). */
  readonly hints: ReadonlySet<string>;
  readonly problem?: Problem;
}

const EMPTY: Flat = {
  isFalse: false,
  multipleOf: [],
  patterns: [],
  prefix: [],
  items: [],
  uniqueItems: false,
  contains: [],
  properties: new Map(),
  required: new Set(),
  patternProperties: [],
  additional: [],
  closed: false,
  propertyNames: [],
  dependentRequired: new Map(),
  groups: [],
  nots: [],
  conditionals: [],
  hints: new Set(),
};
const FALSE: Flat = { ...EMPTY, isFalse: true };

const OBJECT_KEYWORDS = ['properties', 'required', 'additionalProperties', 'patternProperties', 'minProperties', 'maxProperties', 'propertyNames', 'dependentRequired', 'unevaluatedProperties'];
const ARRAY_KEYWORDS = ['items', 'prefixItems', 'minItems', 'maxItems', 'uniqueItems', 'contains', 'unevaluatedItems'];
const STRING_KEYWORDS = ['minLength', 'maxLength', 'pattern', 'format'];
const NUMBER_KEYWORDS = ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf'];

/** The JSON type of a value; integers are `integer` (which `number` also accepts). */
export function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/** Deep equality of JSON values, as `enum`, `const` and `uniqueItems` compare. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => jsonEqual(x, bb[i]));
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && jsonEqual((a as any)[k], (b as any)[k]));
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function intersectTypes(a: ReadonlySet<string> | undefined, b: ReadonlySet<string> | undefined): ReadonlySet<string> | undefined {
  if (!a) return b;
  if (!b) return a;
  const out = new Set([...a].filter((t) => b.has(t)));
  if ((a.has('integer') && b.has('number')) || (a.has('number') && b.has('integer'))) out.add('integer');
  return out;
}

const maxOf = (a?: number, b?: number) => (a === undefined ? b : b === undefined ? a : Math.max(a, b));
const minOf = (a?: number, b?: number) => (a === undefined ? b : b === undefined ? a : Math.min(a, b));

function merge(a: Flat, b: Flat): Flat {
  if (a === EMPTY) return b;
  if (b === EMPTY) return a;
  const properties = new Map(a.properties);
  for (const [k, list] of b.properties) properties.set(k, [...(properties.get(k) ?? []), ...list]);
  const dependentRequired = new Map(a.dependentRequired);
  for (const [k, list] of b.dependentRequired) dependentRequired.set(k, [...(dependentRequired.get(k) ?? []), ...list]);
  const prefix: Raw[][] = [];
  for (let i = 0; i < Math.max(a.prefix.length, b.prefix.length); i++) prefix.push([...(a.prefix[i] ?? []), ...(b.prefix[i] ?? [])]);
  return {
    isFalse: a.isFalse || b.isFalse,
    types: intersectTypes(a.types, b.types),
    enum: a.enum && b.enum ? a.enum.filter((x) => b.enum!.some((y) => jsonEqual(x, y))) : a.enum ?? b.enum,
    minimum: maxOf(a.minimum, b.minimum),
    maximum: minOf(a.maximum, b.maximum),
    exclusiveMinimum: maxOf(a.exclusiveMinimum, b.exclusiveMinimum),
    exclusiveMaximum: minOf(a.exclusiveMaximum, b.exclusiveMaximum),
    multipleOf: [...a.multipleOf, ...b.multipleOf],
    minLength: maxOf(a.minLength, b.minLength),
    maxLength: minOf(a.maxLength, b.maxLength),
    patterns: [...a.patterns, ...b.patterns],
    format: a.format ?? b.format,
    prefix,
    items: [...a.items, ...b.items],
    minItems: maxOf(a.minItems, b.minItems),
    maxItems: minOf(a.maxItems, b.maxItems),
    uniqueItems: a.uniqueItems || b.uniqueItems,
    contains: [...a.contains, ...b.contains],
    minContains: maxOf(a.minContains, b.minContains),
    maxContains: minOf(a.maxContains, b.maxContains),
    properties,
    required: new Set([...a.required, ...b.required]),
    patternProperties: [...a.patternProperties, ...b.patternProperties],
    additional: [...a.additional, ...b.additional],
    closed: a.closed || b.closed,
    minProperties: maxOf(a.minProperties, b.minProperties),
    maxProperties: minOf(a.maxProperties, b.maxProperties),
    propertyNames: [...a.propertyNames, ...b.propertyNames],
    dependentRequired,
    groups: [...a.groups, ...b.groups],
    nots: [...a.nots, ...b.nots],
    conditionals: [...a.conditionals, ...b.conditionals],
    hints: new Set([...a.hints, ...b.hints]),
    problem: a.problem ?? b.problem,
  };
}

/** The constraints a schema object states itself (without following `$ref` or `allOf`). */
function own(s: { readonly [keyword: string]: any }): Flat {
  const hints = new Set<string>();
  const has = (k: string) => s[k] !== undefined;
  if (OBJECT_KEYWORDS.some(has)) hints.add('object');
  if (ARRAY_KEYWORDS.some(has)) hints.add('array');
  if (STRING_KEYWORDS.some(has)) hints.add('string');
  if (NUMBER_KEYWORDS.some(has)) hints.add('number');
  const type = s.type;
  const types = typeof type === 'string' ? new Set([type]) : Array.isArray(type) ? new Set<string>(type) : undefined;
  let values: unknown[] | undefined = Array.isArray(s.enum) ? s.enum : undefined;
  if (has('const')) values = values ? values.filter((v) => jsonEqual(v, s.const)) : [s.const];
  const props = s.properties && typeof s.properties === 'object' ? s.properties : {};
  const patternProps = s.patternProperties && typeof s.patternProperties === 'object' ? s.patternProperties : {};
  // draft 2019 tuple form (an array of `items`) is read as `prefixItems`.
  const prefixRaw: Raw[] = Array.isArray(s.prefixItems) ? s.prefixItems : Array.isArray(s.items) ? s.items : [];
  const itemsRaw = Array.isArray(s.items) ? s.additionalItems : s.items;
  const groups: Array<{ kind: 'oneOf' | 'anyOf'; branches: Raw[] }> = [];
  if (Array.isArray(s.oneOf)) groups.push({ kind: 'oneOf', branches: s.oneOf });
  if (Array.isArray(s.anyOf)) groups.push({ kind: 'anyOf', branches: s.anyOf });
  const conditionals: Array<{ if: Raw; then?: Raw; else?: Raw }> = [];
  if (has('if')) conditionals.push({ if: s.if, then: s.then, else: s.else });
  if (s.dependentSchemas && typeof s.dependentSchemas === 'object') {
    for (const [k, dep] of Object.entries(s.dependentSchemas)) conditionals.push({ if: { required: [k] }, then: dep as Raw });
  }
  const dependentRequired = new Map<string, string[]>();
  if (s.dependentRequired && typeof s.dependentRequired === 'object') {
    for (const [k, list] of Object.entries(s.dependentRequired)) if (Array.isArray(list)) dependentRequired.set(k, list as string[]);
  }
  return {
    isFalse: false,
    types,
    enum: values,
    minimum: num(s.minimum),
    maximum: num(s.maximum),
    exclusiveMinimum: num(s.exclusiveMinimum),
    exclusiveMaximum: num(s.exclusiveMaximum),
    multipleOf: num(s.multipleOf) !== undefined && s.multipleOf > 0 ? [s.multipleOf] : [],
    minLength: num(s.minLength),
    maxLength: num(s.maxLength),
    patterns: typeof s.pattern === 'string' ? [s.pattern] : [],
    format: typeof s.format === 'string' ? s.format : undefined,
    prefix: prefixRaw.map((p) => [p]),
    items: itemsRaw !== undefined ? [{ from: prefixRaw.length, schema: itemsRaw }] : [],
    minItems: num(s.minItems),
    maxItems: num(s.maxItems),
    uniqueItems: s.uniqueItems === true,
    contains: has('contains') ? [s.contains] : [],
    minContains: has('contains') ? num(s.minContains) : undefined,
    maxContains: has('contains') ? num(s.maxContains) : undefined,
    properties: new Map(Object.entries(props).map(([k, v]) => [k, [v as Raw]])),
    required: new Set(Array.isArray(s.required) ? s.required : []),
    patternProperties: Object.entries(patternProps).map(([pattern, schema]) => ({ pattern, schema: schema as Raw })),
    additional: has('additionalProperties')
      ? [{ schema: s.additionalProperties, props: new Set(Object.keys(props)), patterns: Object.keys(patternProps) }] : [],
    closed: s.unevaluatedProperties === false,
    minProperties: num(s.minProperties),
    maxProperties: num(s.maxProperties),
    propertyNames: has('propertyNames') ? [s.propertyNames] : [],
    dependentRequired,
    groups,
    nots: has('not') ? [s.not] : [],
    conditionals,
    hints,
  };
}

/** Number of decimals of a number as written (`0.05` -> 2). */
function decimalsOf(n: number): number {
  const s = String(n);
  const e = /e-(\d+)$/.exec(s);
  if (e) return Number(e[1]) + (s.split('e')[0].split('.')[1]?.length ?? 0);
  return s.split('.')[1]?.length ?? 0;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** The least common multiple of positive numbers with few decimals (undefined when too large to be exact). */
function lcmOf(values: readonly number[]): number | undefined {
  const dec = Math.max(...values.map(decimalsOf));
  const scale = 10 ** dec;
  let l = 1;
  for (const v of values) {
    const n = Math.round(v * scale);
    l = (l / gcd(l, n)) * n;
    if (!Number.isSafeInteger(l)) return undefined;
  }
  return l / scale;
}

/** A number range: the bounds, whether they are exclusive and the keywords that set them. */
export interface Range {
  readonly lo: number;
  readonly hi: number;
  readonly loEx: boolean;
  readonly hiEx: boolean;
  /** The step every value must be a multiple of (`multipleOf`, and 1 for integers); 0 when none. */
  readonly step: number;
}

function rangeOf(f: Flat, integer: boolean): Range | Problem {
  let lo = -Infinity;
  let hi = Infinity;
  let loEx = false;
  let hiEx = false;
  let loKw = 'minimum';
  let hiKw = 'maximum';
  if (f.minimum !== undefined) lo = f.minimum;
  if (f.exclusiveMinimum !== undefined && f.exclusiveMinimum >= lo) [lo, loEx, loKw] = [f.exclusiveMinimum, true, 'exclusiveMinimum'];
  if (f.maximum !== undefined) hi = f.maximum;
  if (f.exclusiveMaximum !== undefined && f.exclusiveMaximum <= hi) [hi, hiEx, hiKw] = [f.exclusiveMaximum, true, 'exclusiveMaximum'];
  if (lo > hi) return { keyword: loKw, detail: `'${loKw}' ${lo} > '${hiKw}' ${hi}` };
  if (lo === hi && (loEx || hiEx)) return { keyword: loKw, detail: `'${loKw}' ${lo} leaves no value below '${hiKw}' ${hi}` };
  const steps = integer ? [...f.multipleOf, 1] : [...f.multipleOf];
  let step = 0;
  if (steps.length > 0) {
    const l = lcmOf(steps);
    if (l === undefined) return { keyword: 'multipleOf', detail: `the 'multipleOf' values ${steps.join(', ')} have no common multiple that can be represented` };
    step = l;
    if (Number.isFinite(lo) && Number.isFinite(hi)) {
      let k = Math.ceil(lo / step);
      if (loEx && k * step <= lo) k++;
      let kHi = Math.floor(hi / step);
      if (hiEx && kHi * step >= hi) kHi--;
      if (k > kHi) {
        const what = integer && f.multipleOf.length === 0 ? 'no integer' : `no multiple of ${step}`;
        return { keyword: f.multipleOf.length > 0 ? 'multipleOf' : 'type', detail: `${what} lies between '${loKw}' ${lo} and '${hiKw}' ${hi}` };
      }
    }
  }
  return { lo, hi, loEx, hiEx, step };
}

const REGEXES = new Map<string, RegExp>();
/** A pattern as ajv compiles it (unicode flag), compiled once per process. */
export function regexOf(pattern: string): RegExp {
  let r = REGEXES.get(pattern);
  if (!r) {
    r = new RegExp(pattern, 'u');
    REGEXES.set(pattern, r);
  }
  return r;
}

const ALL_TYPES = ['object', 'array', 'string', 'number', 'integer', 'boolean', 'null'];

/** Compiles and caches the plan of one root schema; nodes are compiled lazily, once. */
export class Plan {
  public readonly root: Node;
  private readonly flats = new WeakMap<object, Flat>();
  private readonly nodes = new WeakMap<object, Node>();
  private readonly listNodes = new Map<string, Node>();
  private readonly ids = new WeakMap<object, number>();
  private readonly anchors = new Map<string, Raw>();
  private nextId = 1;
  private readonly trueNode: Node;
  private readonly falseNode: Node;

  constructor(private readonly schema: Raw) {
    this.trueNode = new Node(this, EMPTY);
    this.falseNode = new Node(this, FALSE);
    this.collectAnchors(schema);
    this.root = this.node(schema);
  }

  /** The compiled node of a sub-schema. */
  public node(raw: Raw): Node {
    if (raw === true || raw === undefined || raw === null || typeof raw !== 'object') return raw === false ? this.falseNode : this.trueNode;
    let n = this.nodes.get(raw);
    if (!n) {
      n = new Node(this, this.flatten(raw, []));
      this.nodes.set(raw, n);
    }
    return n;
  }

  /** The compiled node of several sub-schemas that all apply (cached by their identities). */
  public nodeOfAll(raws: readonly Raw[]): Node {
    if (raws.length === 0) return this.trueNode;
    if (raws.length === 1) return this.node(raws[0]);
    const key = raws.map((r) => this.idOf(r)).join(',');
    let n = this.listNodes.get(key);
    if (!n) {
      n = new Node(this, raws.reduce<Flat>((f, r) => merge(f, this.flattenRaw(r)), EMPTY));
      this.listNodes.set(key, n);
    }
    return n;
  }

  /** A node of `flat` with one more sub-schema merged in. */
  public extend(flat: Flat, raw: Raw): Node {
    return new Node(this, merge(flat, this.flattenRaw(raw)));
  }

  private idOf(raw: Raw): string {
    if (typeof raw !== 'object' || raw === null) return String(raw);
    let id = this.ids.get(raw);
    if (id === undefined) {
      id = this.nextId++;
      this.ids.set(raw, id);
    }
    return String(id);
  }

  private flattenRaw(raw: Raw): Flat {
    if (raw === false) return FALSE;
    if (typeof raw !== 'object' || raw === null) return EMPTY;
    return this.flatten(raw, []);
  }

  private flatten(raw: { readonly [k: string]: any }, stack: readonly object[]): Flat {
    const cached = this.flats.get(raw);
    if (cached) return cached;
    if (stack.includes(raw)) {
      return { ...EMPTY, problem: { keyword: '$ref', detail: 'the schema refers to itself with no keyword in between' } };
    }
    const inner = [...stack, raw];
    let f = own(raw);
    for (const ref of [raw.$ref, raw.$dynamicRef]) {
      if (typeof ref !== 'string') continue;
      const target = this.resolve(ref);
      if (target === undefined) {
        f = { ...f, problem: f.problem ?? { keyword: '$ref', detail: `cannot resolve '${ref}' (only references inside the schema are followed)` } };
      } else {
        f = merge(f, target === false ? FALSE : typeof target === 'object' ? this.flatten(target, inner) : EMPTY);
      }
    }
    if (Array.isArray(raw.allOf)) {
      for (const s of raw.allOf) f = merge(f, s === false ? FALSE : typeof s === 'object' && s !== null ? this.flatten(s, inner) : EMPTY);
    }
    this.flats.set(raw, f);
    return f;
  }

  private resolve(ref: string): Raw | undefined {
    const hash = ref.indexOf('#');
    const base = hash >= 0 ? ref.slice(0, hash) : ref;
    const fragment = hash >= 0 ? ref.slice(hash + 1) : '';
    let doc: Raw | undefined = this.schema;
    if (base !== '') {
      doc = this.anchors.get(base) ?? [...this.anchors.entries()].find(([id]) => id.endsWith(`/${base}`))?.[1];
      if (doc === undefined) return undefined;
    }
    if (fragment === '') return doc;
    if (!fragment.startsWith('/')) return this.anchors.get(`#${fragment}`);
    let at: any = doc;
    for (const part of fragment.slice(1).split('/')) {
      const key = decodeURIComponent(part).replace(/~1/g, '/').replace(/~0/g, '~');
      if (at === null || typeof at !== 'object' || !(key in at)) return undefined;
      at = at[key];
    }
    return at;
  }

  private collectAnchors(raw: unknown): void {
    if (raw === null || typeof raw !== 'object') return;
    if (Array.isArray(raw)) {
      raw.forEach((r) => this.collectAnchors(r));
      return;
    }
    const s = raw as { [k: string]: any };
    if (typeof s.$anchor === 'string') this.anchors.set(`#${s.$anchor}`, s);
    if (typeof s.$dynamicAnchor === 'string' && !this.anchors.has(`#${s.$dynamicAnchor}`)) this.anchors.set(`#${s.$dynamicAnchor}`, s);
    if (typeof s.$id === 'string' && s !== this.schema) this.anchors.set(s.$id.replace(/#$/, ''), s);
    for (const [k, v] of Object.entries(s)) {
      if (k !== 'enum' && k !== 'const' && k !== 'default' && k !== 'examples') this.collectAnchors(v);
    }
  }
}

/** One compiled (sub-)schema: its merged constraints, what makes it unsatisfiable, and lazily its children. */
export class Node {
  /** Why no instance exists, whatever the type (a `false` schema, a bad `$ref`, a bad pattern, ...). */
  public readonly problem?: Problem;
  /** The types to generate, in the schema's order; each one satisfiable on its own keywords. */
  public readonly types: readonly string[];
  /** Why each excluded type has no instance. */
  public readonly typeProblems: ReadonlyMap<string, Problem>;
  public readonly regexes: readonly RegExp[];
  private enumCache?: readonly unknown[];
  private readonly children = new Map<string, Node>();
  private readonly props = new Map<string, Node | undefined>();
  private declaredCache?: readonly string[];
  private readonly ranges = new Map<boolean, Range | Problem>();

  constructor(private readonly plan: Plan, public readonly flat: Flat) {
    const regexes: RegExp[] = [];
    let problem: Problem | undefined = flat.problem;
    if (flat.isFalse) problem = problem ?? { keyword: 'false', detail: 'the schema is \'false\': no value is valid' };
    for (const p of flat.patterns) {
      try {
        regexes.push(regexOf(p));
      } catch {
        problem = problem ?? { keyword: 'pattern', detail: `'pattern' ${JSON.stringify(p)} is not a valid regular expression` };
      }
    }
    this.regexes = regexes;
    const declared = flat.types ? ALL_TYPES.filter((t) => flat.types!.has(t)) : undefined;
    let candidates: string[];
    if (declared) {
      candidates = declared.filter((t) => t !== 'number' || !declared.includes('integer'));
    } else if (flat.hints.size > 0) {
      candidates = ALL_TYPES.filter((t) => flat.hints.has(t));
    } else {
      candidates = ['string'];
    }
    const typeProblems = new Map<string, Problem>();
    for (const t of candidates) {
      const p = this.problemOfType(t);
      if (p) typeProblems.set(t, p);
    }
    this.typeProblems = typeProblems;
    this.types = candidates.filter((t) => !typeProblems.has(t));
    if (!problem && declared && declared.length === 0) problem = { keyword: 'type', detail: 'the \'type\'s of the merged schemas have nothing in common' };
    if (!problem && this.types.length === 0 && !flat.enum) problem = typeProblems.get(candidates[0]);
    this.problem = problem;
  }

  /** The `enum`/`const` values that meet every other keyword (computed on first use). */
  public get enumValues(): readonly unknown[] | undefined {
    if (!this.flat.enum) return undefined;
    this.enumCache = this.enumCache ?? this.flat.enum.filter((v) => this.matches(v, true));
    return this.enumCache;
  }

  /** The number range for `integer` or `number`. */
  public range(integer: boolean): Range | Problem {
    let r = this.ranges.get(integer);
    if (!r) {
      r = rangeOf(this.flat, integer);
      this.ranges.set(integer, r);
    }
    return r;
  }

  /** The node of array element `i`. */
  public element(i: number): Node {
    const prefix = this.flat.prefix[i] ?? [];
    const items = this.flat.items.filter((it) => i >= it.from).map((it) => it.schema);
    const all = [...prefix, ...items];
    return this.plan.nodeOfAll(all);
  }

  /** How many elements the array may hold at most (`items: false` after `prefixItems`). */
  public get maxLength(): number {
    const closedAt = this.flat.items.filter((it) => it.schema === false).map((it) => it.from);
    return Math.min(this.flat.maxItems ?? Infinity, ...closedAt);
  }

  /** The node of `contains`, merged with element `i`'s node. */
  public containsAt(i: number): Node {
    return this.cached(`contains:${i}`, () => {
      const el = this.element(i);
      return this.flat.contains.reduce<Node>((n, c) => this.plan.extend(n.flat, c), el);
    });
  }

  /** The node of property `key`, or undefined when the key is not allowed. */
  public property(key: string): Node | undefined {
    if (this.props.has(key)) return this.props.get(key);
    const applicable = this.applicable(key);
    const n = applicable ? this.plan.nodeOfAll(applicable) : undefined;
    this.props.set(key, n);
    return n;
  }

  /** The names in `properties`, in declaration order. */
  public get declared(): readonly string[] {
    this.declaredCache = this.declaredCache ?? [...this.flat.properties.keys()];
    return this.declaredCache;
  }

  /** The sub-schemas that apply to property `key`; undefined when one of them is `false`. */
  public applicable(key: string): Raw[] | undefined {
    const applicable: Raw[] = [...(this.flat.properties.get(key) ?? [])];
    for (const pp of this.flat.patternProperties) if (regexOf(pp.pattern).test(key)) applicable.push(pp.schema);
    for (const add of this.flat.additional) {
      if (add.props.has(key) || add.patterns.some((p) => regexOf(p).test(key))) continue;
      applicable.push(add.schema);
    }
    return applicable.includes(false) ? undefined : applicable;
  }

  /** The node of `propertyNames`. */
  public get propertyNames(): Node {
    return this.cached('names', () => this.plan.nodeOfAll(this.flat.propertyNames));
  }

  /** This node with its first `oneOf`/`anyOf` group resolved to branch `b`. */
  public branch(b: number): Node {
    return this.cached(`branch:${b}`, () => {
      const [group, ...rest] = this.flat.groups;
      return this.plan.extend({ ...this.flat, groups: rest }, group.branches[b]);
    });
  }

  /** Branch `b` of the first group alone (to check that a value matches no other `oneOf` branch). */
  public branchAlone(b: number): Node {
    return this.plan.node(this.flat.groups[0].branches[b]);
  }

  /** This node with its first conditional resolved: `if` + `then`, or `else` (the caller checks `if` fails). */
  public conditional(thenSide: boolean): Node {
    return this.cached(`cond:${thenSide}`, () => {
      const [c, ...rest] = this.flat.conditionals;
      const base = { ...this.flat, conditionals: rest };
      if (thenSide) {
        const withIf = this.plan.extend(base, c.if);
        return c.then === undefined ? withIf : this.plan.extend(withIf.flat, c.then);
      }
      return c.else === undefined ? new Node(this.plan, base) : this.plan.extend(base, c.else);
    });
  }

  /** The node of the first conditional's `if`. */
  public get ifNode(): Node {
    return this.plan.node(this.flat.conditionals[0].if);
  }

  /** This node without its `not`s (they are checked after generation). */
  public withoutNots(): Node {
    return this.cached('nonot', () => new Node(this.plan, { ...this.flat, nots: [] }));
  }

  public get notNodes(): Node[] {
    return this.flat.nots.map((n) => this.plan.node(n));
  }

  private cached(key: string, make: () => Node | undefined): any {
    if (this.children.has(key)) return this.children.get(key);
    const n = make();
    this.children.set(key, n as Node);
    return n;
  }

  private problemOfType(t: string): Problem | undefined {
    const f = this.flat;
    switch (t) {
      case 'integer':
      case 'number': {
        const r = this.range(t === 'integer');
        return 'keyword' in r ? r : undefined;
      }
      case 'string':
        if (f.minLength !== undefined && f.maxLength !== undefined && f.minLength > f.maxLength) {
          return { keyword: 'minLength', detail: `'minLength' ${f.minLength} > 'maxLength' ${f.maxLength}` };
        }
        return undefined;
      case 'array': {
        const min = Math.max(f.minItems ?? 0, f.contains.length > 0 ? (f.minContains ?? 1) : 0);
        if (f.minItems !== undefined && f.maxItems !== undefined && f.minItems > f.maxItems) {
          return { keyword: 'minItems', detail: `'minItems' ${f.minItems} > 'maxItems' ${f.maxItems}` };
        }
        if (f.minContains !== undefined && f.maxContains !== undefined && f.minContains > f.maxContains) {
          return { keyword: 'minContains', detail: `'minContains' ${f.minContains} > 'maxContains' ${f.maxContains}` };
        }
        if (min > this.maxLength) {
          return { keyword: f.minItems === min ? 'minItems' : 'contains', detail: `needs at least ${min} items but at most ${this.maxLength} are allowed` };
        }
        return undefined;
      }
      case 'object': {
        if (f.minProperties !== undefined && f.maxProperties !== undefined && f.minProperties > f.maxProperties) {
          return { keyword: 'minProperties', detail: `'minProperties' ${f.minProperties} > 'maxProperties' ${f.maxProperties}` };
        }
        if (f.maxProperties !== undefined && f.required.size > f.maxProperties) {
          return { keyword: 'maxProperties', detail: `'required' lists ${f.required.size} properties > 'maxProperties' ${f.maxProperties}` };
        }
        for (const key of f.required) {
          if (!this.applicable(key)) {
            return { keyword: 'additionalProperties', detail: `the required property '${key}' is not allowed (its schema is 'false' or 'additionalProperties' is false)` };
          }
        }
        return undefined;
      }
      default:
        return undefined;
    }
  }

  /** True when `v` is valid against this node (formats are not checked, as in the stages' validators). */
  public matches(v: unknown, skipEnum = false): boolean {
    const f = this.flat;
    if (f.isFalse) return false;
    if (!skipEnum && f.enum && !f.enum.some((e) => jsonEqual(e, v))) return false;
    const t = jsonType(v);
    if (f.types && !(f.types.has(t) || (t === 'integer' && f.types.has('number')))) return false;
    if (t === 'number' || t === 'integer') {
      const n = v as number;
      if (f.minimum !== undefined && n < f.minimum) return false;
      if (f.maximum !== undefined && n > f.maximum) return false;
      if (f.exclusiveMinimum !== undefined && n <= f.exclusiveMinimum) return false;
      if (f.exclusiveMaximum !== undefined && n >= f.exclusiveMaximum) return false;
      if (f.multipleOf.some((m) => !Number.isInteger(n / m))) return false;
    } else if (t === 'string') {
      const s = v as string;
      const len = [...s].length;
      if (f.minLength !== undefined && len < f.minLength) return false;
      if (f.maxLength !== undefined && len > f.maxLength) return false;
      if (this.regexes.some((r) => !r.test(s))) return false;
    } else if (t === 'array') {
      const a = v as unknown[];
      if (f.minItems !== undefined && a.length < f.minItems) return false;
      if (a.length > this.maxLength) return false;
      for (let i = 0; i < a.length; i++) if (!this.element(i).matches(a[i])) return false;
      if (f.uniqueItems) {
        for (let i = 0; i < a.length; i++) for (let j = i + 1; j < a.length; j++) if (jsonEqual(a[i], a[j])) return false;
      }
      if (f.contains.length > 0) {
        const nodes = f.contains.map((c) => this.plan.node(c));
        for (const c of nodes) {
          const count = a.filter((x) => c.matches(x)).length;
          if (count < (f.minContains ?? 1) || count > (f.maxContains ?? Infinity)) return false;
        }
      }
    } else if (t === 'object') {
      const o = v as { [k: string]: unknown };
      const keys = Object.keys(o);
      if (f.minProperties !== undefined && keys.length < f.minProperties) return false;
      if (f.maxProperties !== undefined && keys.length > f.maxProperties) return false;
      for (const r of f.required) if (!(r in o)) return false;
      for (const [k, deps] of f.dependentRequired) if (k in o && deps.some((d) => !(d in o))) return false;
      for (const k of keys) {
        const p = this.property(k);
        if (!p || !p.matches(o[k])) return false;
        if (f.propertyNames.length > 0 && !this.propertyNames.matches(k)) return false;
      }
    }
    for (let g = 0; g < f.groups.length; g++) {
      const group = f.groups[g];
      const count = group.branches.filter((b) => this.plan.node(b).matches(v)).length;
      if (group.kind === 'oneOf' ? count !== 1 : count === 0) return false;
    }
    for (const n of f.nots) if (this.plan.node(n).matches(v)) return false;
    for (const c of f.conditionals) {
      const branch = this.plan.node(c.if).matches(v) ? c.then : c.else;
      if (branch !== undefined && !this.plan.node(branch).matches(v)) return false;
    }
    return true;
  }
}
