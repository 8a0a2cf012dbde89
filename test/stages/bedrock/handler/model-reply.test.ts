import { extractJson, parseReply } from '../../../../src/stages/bedrock/handler/model-reply';

describe('model reply parsing', () => {
  test('a bare JSON object', () => {
    expect(parseReply('{"a":1}')).toEqual({ ok: true, value: { a: 1 } });
  });

  test('a ```json fence wins over braces in the prose around it', () => {
    expect(extractJson('Note {this}.\n```json\n{"a": {"b": 2}}\n```\nDone {x}')).toBe('{"a": {"b": 2}}');
  });

  test('a fence without a language tag', () => {
    expect(parseReply('```\n{"a":1}\n```')).toEqual({ ok: true, value: { a: 1 } });
  });

  test('an unterminated fence falls back to the outermost braces', () => {
    expect(extractJson('```json\n{"a":1}')).toBe('{"a":1}');
  });

  test('the outermost braces of prose', () => {
    expect(extractJson('Result: {"a": {"b": 1}} as requested')).toBe('{"a": {"b": 1}}');
  });

  test.each([
    ['no JSON at all', 'I cannot help with that.', 'the reply contains no JSON object'],
    ['malformed JSON', '{"a": 1,}', 'the reply is not well-formed JSON'],
    ['a JSON array', '```json\n[1, 2]\n```', 'the reply is not a JSON object'],
  ])('%s is a problem that does not quote the reply', (_what, reply, problem) => {
    expect(parseReply(reply)).toEqual({ ok: false, problem });
  });
});
