/**
 * Synth-time structural checks between JSON Schemas: does what earlier stages produce satisfy what a
 * stage requires? This is deliberately a conservative subset of JSON Schema reasoning: required
 * properties, types, enums/consts, nested objects and array items. Schemas using combinators
 * (`anyOf`, `oneOf`, `allOf`, `$ref`, `if`) are not reasoned about below that point.
 */

export interface ContractProblem {
  /** Dotted path of the field, e.g. `results.Classify.documentType`. */
  readonly path: string;
  readonly problem: string;
}

type Schema = { [key: string]: any };

const COMBINATORS = ['anyOf', 'oneOf', 'allOf', '$ref', 'if', 'not'];

function hasCombinator(s: Schema | undefined): boolean {
  return isSchemaObject(s) && COMBINATORS.some((k) => k in s!);
}

/** Boolean subschemas (`true`/`false`) are valid JSON Schema: they constrain no field we reason about. */
function isSchemaObject(s: unknown): boolean {
  return typeof s === 'object' && s !== null && !Array.isArray(s);
}

function asSchema(s: unknown): Schema {
  return isSchemaObject(s) ? (s as Schema) : {};
}

/** The set of JSON types a schema allows; undefined when it does not say. */
export function typesOf(s: Schema | undefined): string[] | undefined {
  if (!isSchemaObject(s)) return undefined;
  s = s as Schema;
  if (typeof s.type === 'string') return [s.type];
  if (Array.isArray(s.type)) return s.type;
  if ('const' in s) return [jsonType(s.const)];
  if (Array.isArray(s.enum)) return [...new Set(s.enum.map(jsonType))];
  if (s.properties || s.required) return ['object'];
  return undefined;
}

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function typeAllowed(produced: string, required: string[]): boolean {
  return required.includes(produced) || (produced === 'integer' && required.includes('number'));
}

function valuesOf(s: Schema): unknown[] | undefined {
  if ('const' in s) return [s.const];
  if (Array.isArray(s.enum)) return s.enum;
  return undefined;
}

/**
 * Lists the ways `produced` may fail `required`. `path` is the dotted location for messages.
 * `produced` undefined means nothing declares the field at all.
 */
export function checkSatisfies(requiredIn: Schema, producedIn: Schema | undefined, path: string): ContractProblem[] {
  const problems: ContractProblem[] = [];
  const required = asSchema(requiredIn);
  const produced = producedIn === undefined ? undefined : asSchema(producedIn);
  if (hasCombinator(required) || hasCombinator(produced)) return problems;
  if (produced === undefined) {
    return [{ path, problem: 'is not declared by any earlier contract' }];
  }

  const reqTypes = typesOf(required);
  const prodTypes = typesOf(produced);
  if (reqTypes) {
    if (!prodTypes) {
      problems.push({ path, problem: `must be ${reqTypes.join(' or ')}, but the producing contract declares no type` });
      return problems;
    }
    const bad = prodTypes.filter((t) => !typeAllowed(t, reqTypes));
    if (bad.length > 0) {
      problems.push({ path, problem: `must be ${reqTypes.join(' or ')}, but is declared as ${prodTypes.join(' or ')}` });
      return problems;
    }
  }

  const reqValues = valuesOf(required);
  if (reqValues) {
    const prodValues = valuesOf(produced);
    const key = (v: unknown) => JSON.stringify(v);
    const allowed = new Set(reqValues.map(key));
    if (!prodValues) {
      problems.push({ path, problem: `must be one of ${JSON.stringify(reqValues)}, but the producing contract does not restrict its values` });
    } else {
      const extra = prodValues.filter((v) => !allowed.has(key(v)));
      if (extra.length > 0) {
        problems.push({ path, problem: `must be one of ${JSON.stringify(reqValues)}, but may also be ${JSON.stringify(extra)}` });
      }
    }
  }

  const reqProps: Schema = required.properties ?? {};
  const prodProps: Schema = produced.properties ?? {};
  const prodRequired = new Set<string>(produced.required ?? []);
  for (const name of (required.required ?? []) as string[]) {
    const child = `${path}.${name}`;
    if (!(name in prodProps) && !prodRequired.has(name)) {
      if (produced.additionalProperties === undefined && !produced.properties && !produced.required && !prodTypes) {
        problems.push({ path: child, problem: 'is required, but the producing contract declares nothing about it' });
      } else {
        problems.push({ path: child, problem: 'is required, but no earlier contract declares it' });
      }
      continue;
    }
    if (!prodRequired.has(name)) {
      problems.push({ path: child, problem: 'is required, but the producing contract declares it optional' });
    }
    problems.push(...checkSatisfies(reqProps[name] ?? {}, prodProps[name] ?? {}, child));
  }
  // Optional fields the stage reads: when the producer declares them, their types must agree.
  for (const [name, sub] of Object.entries(reqProps)) {
    if ((required.required ?? []).includes(name)) continue;
    if (name in prodProps) problems.push(...checkSatisfies(sub as Schema, prodProps[name], `${path}.${name}`));
  }

  if (required.items && typeof required.items === 'object') {
    problems.push(...checkSatisfies(required.items, produced.items ?? {}, `${path}[]`));
  }
  return problems;
}

/** What a dotted path resolves to in a schema, and whether every step of it is required. */
export interface PathLookup {
  readonly schema?: Schema;
  /** True when every property on the path is required (the value is always present). */
  readonly alwaysPresent: boolean;
  /** Set when the path crosses a combinator we do not reason about. */
  readonly opaque: boolean;
}

/** Finds the schema of a dotted path (`Summarize.riskScore`) inside an object schema. */
export function lookupPath(root: Schema, dotted: string): PathLookup {
  let cur: Schema | undefined = root;
  let alwaysPresent = true;
  for (const part of dotted.split('.')) {
    if (!cur) return { alwaysPresent: false, opaque: false };
    if (!isSchemaObject(cur)) return { alwaysPresent: false, opaque: true };
    if (hasCombinator(cur)) return { alwaysPresent: false, opaque: true };
    const props: Schema = cur.properties ?? {};
    if (!(part in props)) return { alwaysPresent: false, opaque: false };
    if (!((cur.required ?? []) as string[]).includes(part)) alwaysPresent = false;
    cur = props[part];
  }
  return { schema: cur, alwaysPresent, opaque: false };
}

/** An object schema that requires each dotted path (no type constraints on the leaves). */
export function schemaRequiringPaths(paths: string[]): Schema {
  const root: Schema = { type: 'object' };
  for (const dotted of paths) {
    let cur = root;
    for (const part of dotted.split('.')) {
      cur.type = 'object';
      cur.required = [...new Set([...(cur.required ?? []), part])];
      cur.properties = cur.properties ?? {};
      cur.properties[part] = cur.properties[part] ?? {};
      cur = cur.properties[part];
    }
  }
  return root;
}

/** Merges object schemas that only use `required`/`properties`, deeply (inputs derived from paths). */
export function mergeObjectSchemas(a: Schema, b: Schema): Schema {
  const out: Schema = { ...a, type: 'object' };
  out.required = [...new Set([...(a.required ?? []), ...(b.required ?? [])])];
  out.properties = { ...(a.properties ?? {}) };
  for (const [k, v] of Object.entries<any>(b.properties ?? {})) {
    const mine = out.properties[k];
    out.properties[k] = mine === undefined ? v : isSchemaObject(v) && v.properties ? mergeObjectSchemas(mine, v) : mine;
  }
  return out;
}
