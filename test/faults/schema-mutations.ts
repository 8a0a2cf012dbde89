/**
 * Invalid payloads by construction: mutations of a valid instance of a JSON Schema, each of which
 * breaks one rule the schema states at one place (a type swap, a required property removed, a
 * number out of range, a string too short or too long or off its pattern, a value off its enum or
 * const, a property the schema forbids, a deeply nested value where a scalar belongs, a bad element
 * in an array). Subschemas with no rule (`{}`) are left alone, so every payload must be refused.
 *
 * Handles the keywords our contracts use: type, const, enum, minimum, maximum, exclusiveMinimum,
 * exclusiveMaximum, minLength, maxLength, pattern, required, properties, additionalProperties
 * (false), items, minItems, maxItems and local `$ref`s. `format` is not asserted (the validators
 * treat it as an annotation).
 */
import { Rng } from '../../src/cli/local/stand-ins/prng';

/** One invalid payload and the rule it breaks. */
export interface Mutant {
  readonly kind: MutationKind;
  /** JSON pointer of the value broken. */
  readonly at: string;
  readonly value: unknown;
}

export type MutationKind = 'type' | 'const' | 'enum' | 'range' | 'length' | 'pattern' | 'required' | 'extra' | 'nesting' | 'items';

type Json = any;

const TYPE_OF = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v === 'number' ? (Number.isInteger(v) ? 'integer' : 'number') : typeof v);

/** True when a value of JSON type `t` satisfies a `type` keyword (`number` admits integers). */
function typeAllows(type: string | string[] | undefined, t: string): boolean {
  if (type === undefined) return true;
  const types = Array.isArray(type) ? type : [type];
  return types.includes(t) || (t === 'integer' && types.includes('number'));
}

/** A value of a JSON type, random in content. */
function valueOfType(t: string, rng: Rng): Json {
  switch (t) {
    case 'string': return rng.pick(['', 'x', '0', 'true', 'null', '{}', '[]', ' ', '\u0000', '\u202e', 'ünï', 'a'.repeat(rng.int(1, 300))]);
    // Never integral (a float as large as 1e300 is an integer to JSON Schema).
    case 'number': return rng.pick([0.5, -0.25, 1e-9, 3.14159, 1.5]) + rng.int(0, 1000);
    case 'integer': return rng.pick([0, -1, 1, 2 ** 53, -(2 ** 31), 42]) + rng.int(0, 9);
    case 'boolean': return rng.chance(0.5);
    case 'null': return null;
    case 'array': return rng.pick([[], [null], [1, 'a'], [[[]]]]);
    default: return rng.pick([{}, { a: 1 }, { '': null }, { __proto__x: [] }]);
  }
}

/** A value nested `depth` levels deep (arrays or objects). */
function deep(depth: number, asArray: boolean): Json {
  let v: Json = asArray ? [] : {};
  for (let i = 0; i < depth; i++) v = asArray ? [v] : { n: v };
  return v;
}

function jsonEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export class SchemaMutator {
  /** The instance the sites were built from (mutants are copies; it is never changed). */
  private current?: Json;

  constructor(private readonly root: Json) {}

  /** Every mutation site of a valid `instance`, each a function producing one invalid payload. */
  public sites(instance: Json): Array<(rng: Rng) => Mutant> {
    this.current = instance;
    const out: Array<(rng: Rng) => Mutant> = [];
    this.walk(this.root, instance, [], out);
    return out;
  }

  private resolve(schema: Json): Json {
    let s = schema;
    for (let i = 0; s && typeof s.$ref === 'string' && i < 20; i++) {
      if (!s.$ref.startsWith('#/')) throw new Error(`only local $refs are handled, got ${s.$ref}`);
      const target = s.$ref.slice(2).split('/').reduce((n: Json, k: string) => n?.[k.replace(/~1/g, '/').replace(/~0/g, '~')], this.root);
      const { $ref: _ref, ...rest } = s;
      s = { ...target, ...rest };
    }
    return s;
  }

  private walk(schemaIn: Json, value: Json, at: string[], out: Array<(rng: Rng) => Mutant>) {
    const s = this.resolve(schemaIn);
    if (!s || typeof s !== 'object' || s.anyOf || s.oneOf || s.allOf || s.not || s.if) return; // rules this mutator does not model
    const put = (kind: MutationKind, make: (rng: Rng) => Json) =>
      out.push((rng) => ({ kind, at: pointer(at), value: this.replaceAt(at, make(rng)) }));

    if (s.type !== undefined) {
      const wrong = ['string', 'number', 'integer', 'boolean', 'null', 'array', 'object'].filter((t) => !typeAllows(s.type, t)
        && !(s.enum && s.enum.some((e: Json) => TYPE_OF(e) === t)) && !('const' in s && TYPE_OF(s.const) === t));
      if (wrong.length > 0) put('type', (rng) => valueOfType(rng.pick(wrong), rng));
      const nest = ['array', 'object'].filter((t) => wrong.includes(t));
      if (nest.length > 0) put('nesting', (rng) => deep(rng.int(50, 400), rng.pick(nest) === 'array'));
    }
    if ('const' in s) {
      put('const', (rng) => (typeof s.const === 'string' ? `${s.const}${rng.pick(['x', ' ', '0', '\u0000'])}`
        : typeof s.const === 'number' ? s.const + rng.int(1, 9) : [s.const]));
    }
    if (Array.isArray(s.enum)) {
      put('enum', (rng) => {
        for (;;) {
          const base = s.enum.length > 0 ? rng.pick(s.enum) : 'x';
          const candidate = typeof base === 'string'
            ? rng.pick([base.toLowerCase(), ` ${base}`, `${base}_`, base.slice(0, -1), base + base, ''])
            : typeof base === 'number' ? base + rng.int(1, 100) : `${JSON.stringify(base)}`;
          if (!s.enum.some((e: Json) => jsonEqual(e, candidate))) return candidate;
        }
      });
    }
    if (typeof value === 'number') {
      const integer = typeAllows(s.type, 'integer') && !typeAllows(s.type, 'number');
      const step = (rng: Rng) => (integer ? rng.int(1, 1_000_000) : rng.pick([1e-6, 0.5, 1, rng.next() * 1e6 + 1e-6]));
      if (typeof s.minimum === 'number') put('range', (rng) => s.minimum - step(rng));
      if (typeof s.maximum === 'number') put('range', (rng) => s.maximum + step(rng));
      if (typeof s.exclusiveMinimum === 'number') put('range', (rng) => s.exclusiveMinimum - (rng.chance(0.3) ? 0 : step(rng)));
      if (typeof s.exclusiveMaximum === 'number') put('range', (rng) => s.exclusiveMaximum + (rng.chance(0.3) ? 0 : step(rng)));
    }
    if (typeof value === 'string') {
      if (typeof s.minLength === 'number' && s.minLength > 0) put('length', (rng) => 'abcdefghij'.repeat(10).slice(0, rng.int(0, s.minLength - 1)));
      if (typeof s.maxLength === 'number') put('length', (rng) => 'y'.repeat(s.maxLength + rng.int(1, 50)));
      if (typeof s.pattern === 'string') {
        const re = new RegExp(s.pattern, 'u');
        const misses = ['', ' ', 'Z', 'g'.repeat(64), 'A'.repeat(64), '0'.repeat(63), '0'.repeat(65), `${value} `, `\n${value}`, value.toUpperCase() + 'G', '\u0000']
          .filter((c) => !re.test(c));
        if (misses.length > 0) put('pattern', (rng) => rng.pick(misses));
      }
    }
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      const props: Json = s.properties ?? {};
      for (const key of (s.required ?? []) as string[]) {
        if (key in value) out.push(() => ({ kind: 'required', at: pointer([...at, key]), value: this.removeAt([...at, key]) }));
      }
      if (s.additionalProperties === false && !s.patternProperties) {
        put('extra', (rng) => ({ ...value, [rng.pick(['extra', '__proto__x', 'constructor', 'Extra', ' ', '']) + rng.int(0, 9999)]: valueOfType(rng.pick(['string', 'number', 'object', 'array', 'null']), rng) }));
        put('nesting', (rng) => ({ ...value, [`deep${rng.int(0, 999)}`]: deep(rng.int(50, 400), rng.chance(0.5)) }));
      }
      for (const [key, sub] of Object.entries<Json>(props)) {
        if (key in value) {
          this.walk(sub, value[key], [...at, key], out);
        } else {
          // An optional property the instance lacks: present with a value of a type it does not allow.
          const subS = this.resolve(sub);
          if (subS && subS.type !== undefined && !subS.anyOf && !subS.oneOf) {
            const wrong = ['string', 'number', 'boolean', 'null', 'array', 'object'].filter((t) => !typeAllows(subS.type, t));
            if (wrong.length > 0) put('type', (rng) => ({ ...value, [key]: valueOfType(rng.pick(wrong), rng) }));
          }
        }
      }
    }
    if (Array.isArray(value)) {
      const items = s.items && typeof s.items === 'object' ? this.resolve(s.items) : undefined;
      value.forEach((v, i) => { if (items) this.walk(items, v, [...at, String(i)], out); });
      if (items && items.type !== undefined) {
        const wrong = ['string', 'number', 'boolean', 'null', 'array', 'object'].filter((t) => !typeAllows(items.type, t));
        if (wrong.length > 0) put('items', (rng) => [...value, valueOfType(rng.pick(wrong), rng)]);
      }
      if (typeof s.minItems === 'number' && s.minItems > 0) put('length', (rng) => value.slice(0, rng.int(0, Math.min(value.length, s.minItems - 1))));
      if (typeof s.maxItems === 'number' && value.length > 0) put('length', () => Array.from({ length: s.maxItems + 1 }, (_, i) => value[i % value.length]));
    }
  }


  private replaceAt(path: string[], v: Json): Json {
    if (path.length === 0) return v;
    const copy = structuredClone(this.current);
    let node = copy;
    for (const k of path.slice(0, -1)) node = node[k];
    node[path[path.length - 1]] = v;
    return copy;
  }

  private removeAt(path: string[]): Json {
    const copy = structuredClone(this.current);
    let node = copy;
    for (const k of path.slice(0, -1)) node = node[k];
    delete node[path[path.length - 1]];
    return copy;
  }
}

function pointer(path: string[]): string {
  return path.length === 0 ? '/' : '/' + path.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
}
