/**
 * `instanceOf`: instances of many kinds of schema, checked by validators generated exactly as at
 * synth time (ajv standalone, draft 2020-12) across 200 seeds each; pins; and unsatisfiable schemas
 * failing with the JSON path and the keyword.
 */
import { isIPv4 } from 'net';
import { instanceOf, InstanceError } from '../../../../src/cli/local/stand-ins/instance';
import { makeValidators } from '../../../helpers/handler-test-kit';

const SEEDS = Array.from({ length: 200 }, (_, i) => `sha-${i}:Stage`);

/** Object contracts (a stage contract is an object); `field` names the value the case is about. */
const CASES: { [name: string]: object } = {
  'enum and const': {
    type: 'object',
    required: ['kind', 'version', 'flag'],
    properties: { kind: { enum: ['AUTO', 'HOME', 'HEALTH', 7, null] }, version: { const: 'v2' }, flag: { type: 'boolean' } },
  },
  'number bounds, exclusive bounds, multipleOf, integers': {
    type: 'object',
    required: ['score', 'amount', 'pct', 'count', 'tiny', 'neg', 'step', 'intStep'],
    properties: {
      score: { type: 'number', minimum: 0, maximum: 1 },
      amount: { type: 'number', minimum: 0 },
      pct: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 100 },
      count: { type: 'integer', minimum: 1, maximum: 3 },
      tiny: { type: 'number', exclusiveMinimum: 0.001, exclusiveMaximum: 0.002 },
      neg: { type: 'integer', maximum: -1000 },
      step: { type: 'number', multipleOf: 0.05, minimum: 0.1, maximum: 0.3 },
      intStep: { type: 'integer', multipleOf: 7, minimum: 50, exclusiveMaximum: 64 },
    },
  },
  'string lengths and patterns': {
    type: 'object',
    required: ['code', 'short', 'long', 'exact', 'hash', 'sku', 'unanchored', 'nothing'],
    properties: {
      code: { type: 'string', pattern: '^[A-Z]{3}-\\d{4}$' },
      short: { type: 'string', maxLength: 4 },
      long: { type: 'string', minLength: 300 },
      exact: { type: 'string', minLength: 5, maxLength: 5 },
      hash: { type: 'string', pattern: '^[a-f0-9]{64}$' },
      sku: { type: 'string', pattern: '^(?:SKU|ART)_[0-9]+$', minLength: 8, maxLength: 12 },
      unanchored: { type: 'string', pattern: 'ab', minLength: 6 },
      nothing: { type: 'string', maxLength: 0 },
    },
  },
  'formats': {
    type: 'object',
    required: ['at', 'day', 'time', 'email', 'uri', 'id', 'ip', 'host'],
    properties: {
      at: { type: 'string', format: 'date-time' },
      day: { type: 'string', format: 'date' },
      time: { type: 'string', format: 'time' },
      email: { type: 'string', format: 'email' },
      uri: { type: 'string', format: 'uri' },
      id: { type: 'string', format: 'uuid' },
      ip: { type: 'string', format: 'ipv4' },
      host: { type: 'string', format: 'hostname' },
    },
  },
  'arrays: items, prefixItems, bounds, uniqueItems, contains': {
    type: 'object',
    required: ['tags', 'pair', 'severities', 'withHigh', 'closedTuple'],
    properties: {
      tags: { type: 'array', items: { type: 'string' }, minItems: 2, maxItems: 6, uniqueItems: true },
      pair: { type: 'array', prefixItems: [{ type: 'string' }, { type: 'integer', minimum: 0 }], items: { type: 'boolean' } },
      severities: { type: 'array', items: { enum: ['HIGH', 'MEDIUM', 'LOW'] }, minItems: 3, uniqueItems: true },
      withHigh: { type: 'array', items: { enum: ['HIGH', 'MEDIUM', 'LOW'] }, contains: { const: 'HIGH' }, minContains: 2, maxContains: 2, minItems: 3 },
      closedTuple: { type: 'array', prefixItems: [{ type: 'integer' }, { type: 'string' }], items: false, minItems: 2 },
    },
  },
  'nested objects, additionalProperties false, patternProperties, minProperties, dependentRequired': {
    type: 'object',
    required: ['claim', 'scores', 'meta'],
    additionalProperties: false,
    properties: {
      claim: {
        type: 'object',
        required: ['policy', 'parties'],
        additionalProperties: false,
        properties: {
          policy: { type: 'object', required: ['number', 'holder'], properties: { number: { type: 'string', pattern: '^POL-\\d{8}$' }, holder: { type: 'string' } } },
          parties: { type: 'array', minItems: 1, items: { type: 'object', required: ['role', 'name'], properties: { role: { enum: ['INSURED', 'THIRD_PARTY'] }, name: { type: 'string' } } } },
          notes: { type: 'string' },
        },
        dependentRequired: { notes: ['policy'] },
      },
      scores: { type: 'object', patternProperties: { '^s_[a-z]+$': { type: 'number', minimum: 0, maximum: 1 } }, additionalProperties: false, minProperties: 2 },
      meta: { type: 'object', minProperties: 3, maxProperties: 4, properties: { a: { type: 'string' } } },
    },
  },
  'oneOf exactly one, anyOf, nullable': {
    type: 'object',
    required: ['value', 'shape', 'maybe', 'either'],
    properties: {
      value: { oneOf: [{ type: 'integer' }, { type: 'number', multipleOf: 0.5 }] },
      shape: {
        oneOf: [
          { type: 'object', required: ['kind', 'radius'], properties: { kind: { const: 'circle' }, radius: { type: 'number', exclusiveMinimum: 0 } } },
          { type: 'object', required: ['kind', 'side'], properties: { kind: { const: 'square' }, side: { type: 'number', exclusiveMinimum: 0 } } },
        ],
      },
      maybe: { type: ['string', 'null'], minLength: 2 },
      either: { anyOf: [{ type: 'string', format: 'date' }, { type: 'integer', minimum: 1900 }] },
    },
  },
  '$ref and $defs, allOf, recursion, not, if/then/else': {
    type: 'object',
    required: ['money', 'tree', 'code', 'conditional'],
    $defs: {
      money: { type: 'object', required: ['amount', 'currency'], properties: { amount: { type: 'number', minimum: 0 }, currency: { enum: ['USD', 'EUR'] } } },
      node: { type: 'object', required: ['label'], properties: { label: { type: 'string' }, children: { type: 'array', items: { $ref: '#/$defs/node' } } } },
    },
    properties: {
      money: { allOf: [{ $ref: '#/$defs/money' }, { properties: { amount: { maximum: 100 } } }] },
      tree: { $ref: '#/$defs/node' },
      code: { type: 'integer', minimum: 1, maximum: 5, not: { enum: [2, 3] } },
      conditional: {
        type: 'object',
        required: ['kind'],
        properties: { kind: { enum: ['PERSON', 'COMPANY'] }, vat: { type: 'string' }, dob: { type: 'string', format: 'date' } },
        if: { properties: { kind: { const: 'COMPANY' } } },
        then: { required: ['vat'] },
        else: { required: ['dob'] },
      },
    },
  },
};

/** What the formats look like (the stages' validators do not check formats, so the test does). */
const FORMAT_CHECKS: { [field: string]: (s: string) => boolean } = {
  at: (s) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(s) && !Number.isNaN(Date.parse(s)),
  day: (s) => /^\d{4}-\d\d-\d\d$/.test(s) && new Date(`${s}T00:00:00Z`).toISOString().startsWith(s),
  time: (s) => /^([01]\d|2[0-3]):[0-5]\d:[0-5]\dZ$/.test(s),
  email: (s) => /^[a-z]+\.[a-z]+@example\.com$/.test(s),
  uri: (s) => new URL(s).protocol === 'https:',
  id: (s) => /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(s),
  ip: (s) => isIPv4(s),
  host: (s) => /^[a-z]+(\.[a-z]+)+$/.test(s),
};

describe.each(Object.entries(CASES))('%s', (name, schema) => {
  const validate = makeValidators({ output: schema }).output;

  test('200 seeds: every instance satisfies the stage\'s validator, and the seeds give different instances', () => {
    const seen = new Set<string>();
    for (const seed of SEEDS) {
      const value = instanceOf(schema, { seed, validate });
      const ok = validate(value);
      if (!ok) throw new Error(`seed ${seed}: ${JSON.stringify(value)} fails ${JSON.stringify(validate.errors)}`);
      seen.add(JSON.stringify(value));
    }
    // The enum case has 5 x 2 possible instances: every one of them is reached.
    expect(seen.size).toBeGreaterThanOrEqual(name === 'enum and const' ? 10 : SEEDS.length / 2);
  });

  test('without a validator, the generator\'s own check accepts the same instances', () => {
    for (const seed of SEEDS.slice(0, 50)) expect(validate(instanceOf(schema, { seed }))).toBe(true);
  });
});

test('formats: values look like their format', () => {
  const schema = CASES.formats;
  for (const seed of SEEDS) {
    const value = instanceOf(schema, { seed }) as { [field: string]: string };
    for (const [field, check] of Object.entries(FORMAT_CHECKS)) {
      if (!check(value[field])) throw new Error(`seed ${seed}: ${field} = ${JSON.stringify(value[field])} is not a ${field}`);
    }
  }
});

test('values are plausible: scores in [0, 1], amounts positive, summaries made of words, names by field name', () => {
  const schema = {
    type: 'object',
    required: ['riskScore', 'amount', 'summary', 'customerName', 'claimId'],
    properties: {
      riskScore: { type: 'number' },
      amount: { type: 'number' },
      summary: { type: 'string', maxLength: 400 },
      customerName: { type: 'string' },
      claimId: { type: 'string' },
    },
  };
  for (const seed of SEEDS.slice(0, 50)) {
    const v = instanceOf(schema, { seed }) as any;
    expect(v.riskScore).toBeGreaterThanOrEqual(0);
    expect(v.riskScore).toBeLessThanOrEqual(1);
    expect(v.amount).toBeGreaterThan(0);
    expect(v.summary).toMatch(/^(?:The [a-z]+ [a-z]+ [a-z]+ the [a-z]+ [a-z]+\. ?)+$/);
    expect(v.customerName).toMatch(/^[A-Z][a-z]+ [A-Z][a-z]+$/);
    expect(v.claimId).toMatch(/^[A-Z]{3}-\d{6}$/);
  }
});

test('oneOf: each branch is used and every instance matches exactly one branch', () => {
  const kinds = new Set(SEEDS.map((seed) => (instanceOf(CASES['oneOf exactly one, anyOf, nullable'], { seed }) as any).shape.kind));
  expect([...kinds].sort()).toEqual(['circle', 'square']);
  const overlapping = { type: 'object', required: ['n'], properties: { n: { oneOf: [{ type: 'number', minimum: 0 }, { type: 'number', maximum: 10 }] } } };
  const validate = makeValidators({ output: overlapping }).output;
  for (const seed of SEEDS) {
    const { n } = instanceOf(overlapping, { seed, validate }) as { n: number };
    expect(n < 0 || n > 10).toBe(true);
  }
});

describe('pins', () => {
  const schema = {
    type: 'object',
    required: ['fraudScore', 'clauses', 'claim'],
    properties: {
      fraudScore: { type: 'number', minimum: 0, maximum: 1 },
      clauses: { type: 'array', maxItems: 5, items: { type: 'object', required: ['type', 'severity'], properties: { type: { type: 'string' }, severity: { enum: ['HIGH', 'LOW'] } } } },
      claim: { type: 'object', properties: { holder: { type: 'string' }, amount: { type: 'number' } } },
    },
  };
  const validate = makeValidators({ output: schema }).output;

  test('dotted paths and JSON pointers set fields; the rest is generated around them', () => {
    const pins = { 'fraudScore': 0.93, 'clauses.2.type': 'NON_COMPETE', '/claim/holder': 'Acme Ltd' };
    for (const seed of SEEDS.slice(0, 50)) {
      const v = instanceOf(schema, { seed, validate, pins }) as any;
      expect(v.fraudScore).toBe(0.93);
      expect(v.clauses.length).toBeGreaterThanOrEqual(3);
      expect(v.clauses[2]).toEqual({ type: 'NON_COMPETE', severity: expect.stringMatching(/^(HIGH|LOW)$/) });
      expect(v.claim.holder).toBe('Acme Ltd');
      expect(validate(v)).toBe(true);
    }
  });

  test('a pinned value is a copy, never the caller\'s object', () => {
    const pinned = { type: 'X', severity: 'LOW' };
    const v = instanceOf(schema, { seed: 's', pins: { 'clauses.0': pinned } }) as any;
    expect(v.clauses[0]).toEqual(pinned);
    expect(v.clauses[0]).not.toBe(pinned);
  });

  test('a pin the schema rejects fails naming the path, the keyword and the pin', () => {
    expect(() => instanceOf(schema, { seed: 's', validate, pins: { fraudScore: 3 } }))
      .toThrow('cannot generate /fraudScore: every generated value fails \'maximum\' (must be <= 1) (5 seeds tried); \'fraudScore\' is pinned to 3');
  });
});

describe('schemas without an instance fail naming the JSON path and the keyword', () => {
  const prop = (p: object, extra: object = {}) => ({ type: 'object', required: ['amount'], properties: { amount: p }, ...extra });
  test.each([
    ['minimum > maximum', prop({ type: 'number', minimum: 10, maximum: 5 }), 'cannot generate /amount: \'minimum\' 10 > \'maximum\' 5'],
    ['exclusive bounds that meet', prop({ type: 'number', exclusiveMinimum: 5, maximum: 5 }), 'cannot generate /amount: \'exclusiveMinimum\' 5 leaves no value below \'maximum\' 5'],
    ['no integer in range', prop({ type: 'integer', minimum: 0.2, maximum: 0.8 }), 'cannot generate /amount: no integer lies between \'minimum\' 0.2 and \'maximum\' 0.8'],
    ['no multiple in range', prop({ type: 'number', multipleOf: 7, minimum: 1, maximum: 6 }), 'cannot generate /amount: no multiple of 7 lies between \'minimum\' 1 and \'maximum\' 6'],
    ['minLength > maxLength', prop({ type: 'string', minLength: 5, maxLength: 3 }), 'cannot generate /amount: \'minLength\' 5 > \'maxLength\' 3'],
    ['pattern impossible within the lengths', prop({ type: 'string', pattern: '^[a-z]{2}$', minLength: 5 }), 'cannot generate /amount: no string found that matches \'pattern\' "^[a-z]{2}$" with \'minLength\' 5'],
    ['a not that cannot be met', prop({ type: 'integer', not: { type: 'number' } }), 'cannot generate /amount: every value tried also matches \'not\''],
    ['oneOf with identical branches', prop({ oneOf: [{ type: 'string' }, { type: 'string' }] }), 'cannot generate /amount: every value tried matches more than one \'oneOf\' branch'],
    ['no enum value meets the other keywords', prop({ type: 'string', enum: ['a', 'bb'], minLength: 3 }), 'cannot generate /amount: no value of \'enum\'/\'const\' meets the other keywords'],
    ['minItems > maxItems', prop({ type: 'array', minItems: 3, maxItems: 1 }), 'cannot generate /amount: \'minItems\' 3 > \'maxItems\' 1'],
    ['too few distinct enum items', prop({ type: 'array', items: { enum: ['A', 'B'] }, minItems: 3, uniqueItems: true }), 'cannot generate /amount/2: cannot find 3 distinct items for \'uniqueItems\''],
    ['a required property additionalProperties forbids', { type: 'object', required: ['x'], properties: { y: { type: 'string' } }, additionalProperties: false },
      'cannot generate /: the required property \'x\' is not allowed (its schema is \'false\' or \'additionalProperties\' is false)'],
    ['more required properties than maxProperties', { type: 'object', required: ['a', 'b', 'c'], maxProperties: 2 }, 'cannot generate /: \'required\' lists 3 properties > \'maxProperties\' 2'],
    ['no oneOf branch has an instance', prop({ oneOf: [{ type: 'integer', minimum: 3, maximum: 2 }, { type: 'string', minLength: 4, maxLength: 1 }] }),
      'cannot generate /amount: no \'oneOf\' branch has an instance'],
    ['a recursive $ref that is always required', { type: 'object', required: ['next'], properties: { next: { $ref: '#' } } }, 'cannot generate /next/next'],
  ])('%s', (_name, schema, message) => {
    const validate = makeValidators({ output: schema }).output;
    let thrown: unknown;
    try {
      instanceOf(schema, { seed: 'seed', validate });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(InstanceError);
    expect((thrown as Error).message.startsWith(message)).toBe(true);
  });

  test('a nested impossible field names its full path; an optional one is left out instead', () => {
    const claims = (required: string[]) => ({
      type: 'object',
      required: ['claims'],
      properties: {
        claims: { type: 'array', minItems: 1, items: { type: 'object', required, properties: { id: { type: 'string' }, amount: { type: 'number', minimum: 10, maximum: 5 } } } },
      },
    });
    expect(() => instanceOf(claims(['id', 'amount']), { seed: 's' })).toThrow('cannot generate /claims/0/amount: \'minimum\' 10 > \'maximum\' 5');
    for (const seed of SEEDS.slice(0, 20)) {
      const v = instanceOf(claims(['id']), { seed }) as any;
      expect(v.claims[0]).not.toHaveProperty('amount');
    }
  });

  test('a $ref outside the schema is named', () => {
    const schema = { type: 'object', required: ['a'], properties: { a: { $ref: 'https://example.com/other.json' } } };
    expect(() => instanceOf(schema, { seed: 's' })).toThrow('cannot generate /a: cannot resolve \'https://example.com/other.json\' (only references inside the schema are followed)');
  });

  test('a nullable field whose other type is impossible is null', () => {
    const schema = { type: 'object', required: ['n'], properties: { n: { type: ['number', 'null'], minimum: 10, maximum: 5 } } };
    expect(instanceOf(schema, { seed: 's' })).toEqual({ n: null });
  });
});
