import { checkSatisfies, lookupPath, schemaRequiringPaths, typesOf } from '../../src/private/contract-check';

const obj = (properties: any, required: string[] = Object.keys(properties)) => ({ type: 'object', required, properties });

describe('checkSatisfies', () => {
  test('a compatible pair has no problems', () => {
    const required = obj({ documentType: { type: 'string' }, confidence: { type: 'number' } });
    const produced = obj({ documentType: { type: 'string', enum: ['NDA', 'MSA'] }, confidence: { type: 'number' }, extra: { type: 'string' } });
    expect(checkSatisfies(required, produced, 'results.Classify')).toEqual([]);
  });

  test('nothing declares the value at all', () => {
    expect(checkSatisfies({ type: 'string' }, undefined, 'results.X.y')).toEqual([{ path: 'results.X.y', problem: 'is not declared by any earlier contract' }]);
  });

  test('a required field the producer does not declare', () => {
    expect(checkSatisfies(obj({ a: { type: 'string' } }), obj({ b: { type: 'string' } }), 'r'))
      .toEqual([{ path: 'r.a', problem: 'is required, but no earlier contract declares it' }]);
  });

  test('a producer that declares nothing at all (not even a type)', () => {
    expect(checkSatisfies(obj({ a: {} }), {}, 'r')).toEqual([{ path: 'r', problem: 'must be object, but the producing contract declares no type' }]);
  });

  test('a required field the producer declares optional', () => {
    expect(checkSatisfies(obj({ a: { type: 'string' } }), obj({ a: { type: 'string' } }, []), 'r'))
      .toEqual([{ path: 'r.a', problem: 'is required, but the producing contract declares it optional' }]);
  });

  test('a field the producer requires without describing it: no type', () => {
    expect(checkSatisfies(obj({ a: { type: 'string' } }), { type: 'object', required: ['a'] }, 'r'))
      .toEqual([{ path: 'r.a', problem: 'must be string, but the producing contract declares no type' }]);
  });

  test('type mismatch: string vs number', () => {
    expect(checkSatisfies(obj({ a: { type: 'number' } }), obj({ a: { type: 'string' } }), 'r'))
      .toEqual([{ path: 'r.a', problem: 'must be number, but is declared as string' }]);
  });

  test('integer satisfies number, number does not satisfy integer', () => {
    expect(checkSatisfies({ type: 'number' }, { type: 'integer' }, 'p')).toEqual([]);
    expect(checkSatisfies({ type: 'integer' }, { type: 'number' }, 'p')).toEqual([{ path: 'p', problem: 'must be integer, but is declared as number' }]);
  });

  test('type unions: the produced types must all be allowed', () => {
    expect(checkSatisfies({ type: ['string', 'null'] }, { type: 'string' }, 'p')).toEqual([]);
    expect(checkSatisfies({ type: 'string' }, { type: ['string', 'null'] }, 'p')).toEqual([{ path: 'p', problem: 'must be string, but is declared as string or null' }]);
  });

  test('enum subset is fine, superset fails, unrestricted fails', () => {
    const required = { type: 'string', enum: ['NDA', 'MSA', 'SOW'] };
    expect(checkSatisfies(required, { type: 'string', enum: ['NDA', 'MSA'] }, 'p')).toEqual([]);
    expect(checkSatisfies(required, { const: 'NDA' }, 'p')).toEqual([]);
    expect(checkSatisfies(required, { type: 'string', enum: ['NDA', 'LEASE', 'OTHER'] }, 'p'))
      .toEqual([{ path: 'p', problem: 'must be one of ["NDA","MSA","SOW"], but may also be ["LEASE","OTHER"]' }]);
    expect(checkSatisfies(required, { type: 'string' }, 'p'))
      .toEqual([{ path: 'p', problem: 'must be one of ["NDA","MSA","SOW"], but the producing contract does not restrict its values' }]);
  });

  test('const on the required side', () => {
    expect(checkSatisfies({ const: true }, { type: 'boolean', const: true }, 'p')).toEqual([]);
    expect(checkSatisfies({ const: 1 }, { type: 'integer', enum: [1, 2] }, 'p')).toEqual([{ path: 'p', problem: 'must be one of [1], but may also be [2]' }]);
  });

  test('nested objects report the full path', () => {
    const required = obj({ Classify: obj({ documentType: { type: 'string' } }) });
    const produced = obj({ Classify: obj({ documentType: { type: 'integer' } }) });
    expect(checkSatisfies(required, produced, 'results')).toEqual([{ path: 'results.Classify.documentType', problem: 'must be string, but is declared as integer' }]);
  });

  test('array items are checked', () => {
    const required = { type: 'array', items: obj({ page: { type: 'integer' } }) };
    expect(checkSatisfies(required, { type: 'array', items: obj({ page: { type: 'integer' } }) }, 'p')).toEqual([]);
    expect(checkSatisfies(required, { type: 'array', items: obj({ page: { type: 'string' } }) }, 'p'))
      .toEqual([{ path: 'p[].page', problem: 'must be integer, but is declared as string' }]);
    expect(checkSatisfies({ type: 'array', items: { type: 'string' } }, { type: 'array' }, 'p'))
      .toEqual([{ path: 'p[]', problem: 'must be string, but the producing contract declares no type' }]);
  });

  test('optional fields the consumer reads must agree in type when the producer declares them', () => {
    const required = { type: 'object', properties: { note: { type: 'string' } } };
    expect(checkSatisfies(required, obj({ other: { type: 'string' } }), 'r')).toEqual([]);
    expect(checkSatisfies(required, obj({ note: { type: 'number' } }), 'r')).toEqual([{ path: 'r.note', problem: 'must be string, but is declared as number' }]);
  });

  test('several problems are all reported', () => {
    const required = obj({ a: { type: 'string' }, b: { type: 'number' }, c: {} });
    const produced = obj({ a: { type: 'number' }, b: { type: 'number' } }, ['a']);
    expect(checkSatisfies(required, produced, 'r')).toEqual([
      { path: 'r.a', problem: 'must be string, but is declared as number' },
      { path: 'r.b', problem: 'is required, but the producing contract declares it optional' },
      { path: 'r.c', problem: 'is required, but no earlier contract declares it' },
    ]);
  });

  test.each(['anyOf', 'oneOf', 'allOf', '$ref', 'if', 'not'])('combinator %s is not reasoned about (on either side)', (k) => {
    const combined = { [k]: k === '$ref' ? '#/$defs/x' : [{ type: 'string' }] };
    expect(checkSatisfies({ ...combined }, { type: 'number' }, 'p')).toEqual([]);
    expect(checkSatisfies({ type: 'string' }, { ...combined }, 'p')).toEqual([]);
    expect(checkSatisfies(obj({ a: { type: 'string' } }), obj({ a: combined }), 'r')).toEqual([]);
  });
});

describe('typesOf', () => {
  test('reads type, const, enum and object shape', () => {
    expect(typesOf(undefined)).toBeUndefined();
    expect(typesOf({})).toBeUndefined();
    expect(typesOf({ type: 'string' })).toEqual(['string']);
    expect(typesOf({ type: ['string', 'null'] })).toEqual(['string', 'null']);
    expect(typesOf({ const: 3 })).toEqual(['integer']);
    expect(typesOf({ const: null })).toEqual(['null']);
    expect(typesOf({ enum: ['a', 1.5, [], 'b'] })).toEqual(['string', 'number', 'array']);
    expect(typesOf({ properties: {} })).toEqual(['object']);
    expect(typesOf({ required: ['a'] })).toEqual(['object']);
  });
});

describe('lookupPath', () => {
  const results = obj({
    Classify: obj({ documentType: { type: 'string', enum: ['NDA'] }, confidence: { type: 'number' } }, ['documentType']),
    Summarize: { type: 'object', properties: { riskScore: { type: 'number' } } },
    Custom: { type: 'object', anyOf: [{ properties: { a: {} } }] },
  }, ['Classify', 'Custom']);

  test('a required path is always present', () => {
    expect(lookupPath(results, 'Classify.documentType')).toEqual({ schema: { type: 'string', enum: ['NDA'] }, alwaysPresent: true, opaque: false });
  });

  test('an optional step makes the value not always present', () => {
    expect(lookupPath(results, 'Classify.confidence')).toEqual({ schema: { type: 'number' }, alwaysPresent: false, opaque: false });
    expect(lookupPath(results, 'Summarize.riskScore')).toEqual({ schema: { type: 'number' }, alwaysPresent: false, opaque: false });
  });

  test('an undeclared path has no schema', () => {
    expect(lookupPath(results, 'Classify.missing')).toEqual({ alwaysPresent: false, opaque: false });
    expect(lookupPath(results, 'Nope.x')).toEqual({ alwaysPresent: false, opaque: false });
    expect(lookupPath(results, 'Classify.documentType.deeper')).toEqual({ alwaysPresent: false, opaque: false });
  });

  test('a path through a combinator is opaque', () => {
    expect(lookupPath(results, 'Custom.a')).toEqual({ alwaysPresent: false, opaque: true });
  });

  test('a boolean subschema (`true`) does not crash the lookup', () => {
    // `{ properties: { Classify: true } }` is valid JSON Schema (anything goes).
    expect(() => lookupPath({ type: 'object', properties: { Classify: true } }, 'Classify.documentType')).not.toThrow();
  });
});

describe('schemaRequiringPaths', () => {
  test('builds nested required objects, merging shared prefixes', () => {
    expect(schemaRequiringPaths(['results.Classify.documentType', 'results.Classify.confidence', 'document.key'])).toEqual({
      type: 'object',
      required: ['results', 'document'],
      properties: {
        results: {
          type: 'object',
          required: ['Classify'],
          properties: { Classify: { type: 'object', required: ['documentType', 'confidence'], properties: { documentType: {}, confidence: {} } } },
        },
        document: { type: 'object', required: ['key'], properties: { key: {} } },
      },
    });
  });

  test('no paths: an object schema requiring nothing', () => {
    expect(schemaRequiringPaths([])).toEqual({ type: 'object' });
  });

  test('the result satisfies itself and is unsatisfied without the field', () => {
    const s = schemaRequiringPaths(['results.A.b']);
    expect(checkSatisfies(s, s, '$')).toEqual([]);
    expect(checkSatisfies(s, schemaRequiringPaths(['results.A.c']), '$')).toEqual([{ path: '$.results.A.b', problem: 'is required, but no earlier contract declares it' }]);
  });
});
