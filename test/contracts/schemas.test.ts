import Ajv2020 from 'ajv/dist/2020';
import { cloneSchema, DOCUMENT_INPUT_SCHEMA, POINTER_SCHEMA, TEXTRACT_OUTPUT_SCHEMA } from '../../src/contracts/schemas';

const ajv = new Ajv2020({ strict: false, validateFormats: false });

describe('library schemas', () => {
  test('a pointer needs bucket and key; sha256 is lowercase hex', () => {
    const v = ajv.compile(POINTER_SCHEMA as any);
    expect(v({ bucket: 'work-bucket', key: 'k', sha256: 'ab'.repeat(32) })).toBe(true);
    expect(v({ bucket: 'work-bucket', key: 'k', sha256: 'AB'.repeat(32) })).toBe(false);
    expect(v({ bucket: 'work-bucket' })).toBe(false);
    expect(v({ bucket: 'ab', key: 'k' })).toBe(false);
  });

  test('the document input requires the document pointer', () => {
    const v = ajv.compile(DOCUMENT_INPUT_SCHEMA as any);
    expect(v({ document: { bucket: 'docs-bucket', key: 'incoming/a.pdf', size: 10 } })).toBe(true);
    expect(v({ document: { bucket: 'docs-bucket', key: '' } })).toBe(false);
    expect(v({ document: { bucket: 'docs-bucket', key: 'a', size: -1 } })).toBe(false);
    expect(v({})).toBe(false);
  });

  test('Textract output: text pointer and at least one page', () => {
    const v = ajv.compile(TEXTRACT_OUTPUT_SCHEMA as any);
    expect(v({ text: { bucket: 'work-bucket', key: 'k' }, pages: 1 })).toBe(true);
    expect(v({ text: { bucket: 'work-bucket', key: 'k' }, pages: 0 })).toBe(false);
  });

  test('cloneSchema is deep', () => {
    const copy: any = cloneSchema(DOCUMENT_INPUT_SCHEMA);
    copy.properties.document.required.push('etag');
    expect(DOCUMENT_INPUT_SCHEMA.properties.document.required).toEqual(['bucket', 'key']);
  });
});
