import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DRAFT_2020_12 } from '../../src/contracts/schemas';
import { StageContract } from '../../src/contracts/stage-contract';

const SCHEMA = { $schema: DRAFT_2020_12, type: 'object', required: ['documentType'], properties: { documentType: { type: 'string' } } };

describe('StageContract.fromObject', () => {
  test('keeps a copy of the schema and names its source', () => {
    const schema = JSON.parse(JSON.stringify(SCHEMA));
    const contract = StageContract.fromObject(schema);
    expect(contract.schema).toEqual(SCHEMA);
    expect(contract.source).toBe('StageContract.fromObject');
    schema.required.push('confidence');
    expect(contract.schema.required).toEqual(['documentType']);
  });

  test('accepts no $schema, the draft 2020-12 URI with a trailing #, and no type', () => {
    expect(StageContract.fromObject({ properties: { a: { type: 'string' } } }).schema.type).toBeUndefined();
    expect(StageContract.fromObject({ $schema: `${DRAFT_2020_12}#`, type: 'object' }).schema.$schema).toBe(`${DRAFT_2020_12}#`);
  });

  test.each([null, [], 'object', 42])('rejects %p (not a schema object)', (schema) => {
    expect(() => StageContract.fromObject(schema as any))
      .toThrow(`StageContract.fromObject: a contract must be a JSON Schema object, got: ${JSON.stringify(schema)}. Pass an object such as { type: 'object', properties: { ... } }.`);
  });

  test.each(['http://json-schema.org/draft-07/schema#', 'https://json-schema.org/draft/2019-09/schema'])('rejects $schema %p', (uri) => {
    expect(() => StageContract.fromObject({ $schema: uri, type: 'object' }))
      .toThrow(`StageContract.fromObject: \`$schema\` must be '${DRAFT_2020_12}' (draft 2020-12), got: '${uri}'.`);
  });

  test.each([['string', '"string"'], [['object', 'null'], '["object","null"]']])('rejects type %p', (type, shown) => {
    expect(() => StageContract.fromObject({ type }))
      .toThrow(`StageContract.fromObject: a stage contract describes an object, so its \`type\` must be 'object', got: ${shown}.`);
  });

  test('rejects a schema that is not valid draft 2020-12', () => {
    expect(() => StageContract.fromObject({ type: 'object', properties: { a: { type: 'nope' } } }))
      .toThrow(/^StageContract\.fromObject: the schema is not a valid draft 2020-12 JSON Schema: .*properties\/a\/type.*\. Fix the schema\.$/);
    expect(() => StageContract.fromObject({ type: 'object', required: 'a' }))
      .toThrow(/the schema is not a valid draft 2020-12 JSON Schema: .*required/);
  });

  test('anyObject accepts any object', () => {
    const contract = StageContract.anyObject();
    expect(contract.schema).toEqual({ type: 'object' });
    expect(contract.source).toBe('StageContract.anyObject');
    contract.schema.required = ['x'];
    expect(StageContract.anyObject().schema).toEqual({ type: 'object' }); // never shared
  });
});

describe('StageContract.fromFile', () => {
  let dir: string;
  const write = (name: string, text: string) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    return file;
  };
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stage-contract-test-'));
  });
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('loads a schema file and names the file as its source', () => {
    const file = write('classification.schema.json', JSON.stringify(SCHEMA));
    const contract = StageContract.fromFile(file);
    expect(contract.schema).toEqual(SCHEMA);
    expect(contract.source).toBe(`StageContract.fromFile('${file}')`);
  });

  test('a missing file: names the file and the error code', () => {
    const file = path.join(dir, 'missing.json');
    expect(() => StageContract.fromFile(file))
      .toThrow(`StageContract.fromFile: cannot read the schema file '${file}' (ENOENT). Pass the path of an existing .json file`);
  });

  test('invalid JSON', () => {
    const file = write('broken.json', '{ "type": "object", ');
    expect(() => StageContract.fromFile(file))
      .toThrow(new RegExp(`^StageContract\\.fromFile: '${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}' is not valid JSON \\(.+\\)\\. The file must hold one JSON Schema object\\.$`));
  });

  test.each([['array.json', '[]'], ['null.json', 'null'], ['string.json', '"object"']])('a file holding %s (not an object)', (name, text) => {
    const file = write(name, text);
    expect(() => StageContract.fromFile(file)).toThrow(`StageContract.fromFile('${file}'): a contract must be a JSON Schema object, got: ${text}.`);
  });

  test('wrong $schema, wrong type and invalid schema name the file', () => {
    const f1 = write('draft7.json', JSON.stringify({ $schema: 'http://json-schema.org/draft-07/schema#' }));
    expect(() => StageContract.fromFile(f1)).toThrow(`StageContract.fromFile('${f1}'): \`$schema\` must be '${DRAFT_2020_12}'`);
    const f2 = write('array-type.json', JSON.stringify({ type: 'array' }));
    expect(() => StageContract.fromFile(f2)).toThrow(`StageContract.fromFile('${f2}'): a stage contract describes an object, so its \`type\` must be 'object', got: "array".`);
    const f3 = write('invalid.json', JSON.stringify({ type: 'object', properties: { a: { type: 'nope' } } }));
    expect(() => StageContract.fromFile(f3)).toThrow(`StageContract.fromFile('${f3}'): the schema is not a valid draft 2020-12 JSON Schema:`);
  });
});
