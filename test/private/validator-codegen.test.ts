import { checkRuntimeRequires, generateValidators } from '../../src/private/validator-codegen';
import { describeErrors, loadValidatorsSource } from '../../src/runtime/contracts';
import { VALIDATOR_RUNTIME_MODULES } from '../../src/shared/types';

const INPUT = { type: 'object', required: ['document'], properties: { document: { type: 'object', required: ['bucket', 'key'], properties: { bucket: { type: 'string' }, key: { type: 'string' } } } } };
const OUTPUT = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://example.com/classification.json',
  type: 'object',
  required: ['documentType'],
  properties: { documentType: { enum: ['NDA', 'MSA'] }, when: { type: 'string', format: 'date-time' }, name: { type: 'string', maxLength: 3 } },
};

describe('generateValidators', () => {
  const source = generateValidators({ input: INPUT, output: OUTPUT });

  test('emits CommonJS exporting one function per schema, compiling nothing at load', () => {
    expect(source).toMatch(/exports\.input\s*=/);
    expect(source).toMatch(/exports\.output\s*=/);
    expect(source).not.toMatch(/require\("ajv"\)/);
    const v = loadValidatorsSource(source);
    expect(typeof v.input).toBe('function');
    expect(typeof v.output).toBe('function');
    expect(v.model).toBeUndefined();
  });

  test('validators accept and reject; errors are described without values', () => {
    const v = loadValidatorsSource(source);
    expect(v.input({ document: { bucket: 'b', key: 'k' } })).toBe(true);
    expect(v.input({ document: { bucket: 'b' } })).toBe(false);
    expect(describeErrors(v.input)).toBe("/document: missing required property 'key'");
    expect(v.output({ documentType: 'NDA' })).toBe(true);
    expect(v.output({ documentType: 'SECRET TEXT' })).toBe(false);
    expect(describeErrors(v.output)).toBe('/documentType: must be one of ["NDA","MSA"]');
    expect(describeErrors(v.output)).not.toContain('SECRET');
  });

  test('allErrors: every violation is reported', () => {
    const v = loadValidatorsSource(source);
    expect(v.output({ name: 'toolong' })).toBe(false);
    expect(v.output.errors!.map((e) => e.keyword).sort()).toEqual(['maxLength', 'required']);
  });

  test('format is enforced (ajv-formats, required by the generated code and carried by the handler bundle)', () => {
    const v = loadValidatorsSource(source);
    expect(v.output({ documentType: 'MSA', when: '2026-11-29T02:41:05Z' })).toBe(true);
    expect(v.output({ documentType: 'MSA', when: 'not a date' })).toBe(false);
    expect(describeErrors(v.output)).toBe("/when: fails 'format'");
  });

  test.each([
    ['date-time', '2026-11-29T02:41:05.123+01:00', '2026-13-29T02:41:05Z'],
    ['date', '2026-02-28', '2026-02-30'],
    ['email', 'someone@example.com', 'not an address'],
    ['uri', 'https://example.com/a?b=c', 'no scheme here'],
    ['uuid', '123e4567-e89b-12d3-a456-426614174000', '123e4567-e89b-12d3-a456'],
  ])('format %s: accepts %p, rejects %p', (format, good, bad) => {
    const v = loadValidatorsSource(generateValidators({ output: { type: 'object', properties: { v: { type: 'string', format } } } }));
    expect(v.output({ v: good })).toBe(true);
    expect(v.output({ v: bad })).toBe(false);
    expect(v.output.errors![0]).toMatchObject({ keyword: 'format', params: { format } });
  });

  test('an unknown format fails generation, naming the format and the schema', () => {
    expect(() => generateValidators({ output: { type: 'object', properties: { v: { type: 'string', format: 'date-tme' } } } }))
      .toThrow(/unknown format 'date-tme' in the output contract.*known formats: .*date-time/);
  });

  test('a property NAMED format is not a format keyword', () => {
    const v = loadValidatorsSource(generateValidators({ output: { type: 'object', properties: { format: { type: 'string' } } } }));
    expect(v.output({ format: 'A4' })).toBe(true);
  });

  test('the user $id is replaced, so equal schemas under two names do not clash', () => {
    const twice = loadValidatorsSource(generateValidators({ output: OUTPUT, model: OUTPUT }));
    expect(twice.model!({ documentType: 'MSA' })).toBe(true);
    expect(source).not.toContain('example.com/classification.json');
  });

  test('the source depends on the schemas, not on the order they are given in', () => {
    expect(generateValidators({ output: OUTPUT, input: INPUT })).toBe(source);
    expect(generateValidators({ input: INPUT, output: { ...OUTPUT, required: [] } })).not.toBe(source);
  });

  test('string lengths count code points (runtime helper ucs2length is resolved)', () => {
    const v = loadValidatorsSource(source);
    expect(v.output({ documentType: 'NDA', name: '😀😀😀' })).toBe(true);
    expect(v.output({ documentType: 'NDA', name: '😀😀😀😀' })).toBe(false);
  });

  test('the generated code requires only the runtime modules the handler bundles carry, and each of them loads', () => {
    // Keywords whose code needs a runtime helper: deep equality (enum, const, uniqueItems), code-point
    // lengths, formats, and the error class of an asynchronous schema.
    const kitchenSink = generateValidators({
      a: { type: 'object', properties: { e: { enum: [{ x: 1 }] }, c: { const: [1] }, u: { type: 'array', uniqueItems: true }, s: { type: 'string', minLength: 1, format: 'email' }, t: { type: 'string', format: 'date-time' } } },
      b: { $async: true, type: 'object', required: ['id'], properties: { id: { type: 'string', format: 'uuid' } } },
      c: { $defs: { n: { type: 'number' } }, type: 'array', items: { $ref: '#/$defs/n' }, unevaluatedItems: false },
    });
    const required = [...new Set([...kitchenSink.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]))].sort();
    expect(required).toEqual([...VALIDATOR_RUNTIME_MODULES].sort());
    const v = loadValidatorsSource(kitchenSink) as any;
    expect(v.a({ e: { x: 1 }, c: [1], u: [1, 2], s: 'a@b.co', t: '2026-11-29T12:00:00Z' })).toBe(true);
    expect(v.a({ t: 'yesterday' })).toBe(false);
    expect(v.a({ u: [{ k: 1 }, { k: 1 }] })).toBe(false);
  });

  test('synth fails naming a runtime module the bundles do not carry', () => {
    expect(checkRuntimeRequires('const f = require("ajv/dist/runtime/equal").default;')).toContain('equal');
    expect(() => checkRuntimeRequires('const f = require("ajv/dist/runtime/uri").default;'))
      .toThrow(/the generated validators require ajv\/dist\/runtime\/uri, which the handler bundles do not carry/);
  });
});
