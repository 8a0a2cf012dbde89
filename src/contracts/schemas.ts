/** JSON Schemas the library itself relies on (draft 2020-12). */

export const DRAFT_2020_12 = 'https://json-schema.org/draft/2020-12/schema';

/** An S3 pointer: how large data travels between stages. */
export const POINTER_SCHEMA = {
  type: 'object',
  required: ['bucket', 'key'],
  properties: {
    bucket: { type: 'string', minLength: 3 },
    key: { type: 'string', minLength: 1 },
    versionId: { type: 'string' },
    sha256: { type: 'string', pattern: '^[a-f0-9]{64}$' },
  },
} as const;

/** The document pointer a trigger puts at `$.document`. */
export const DOCUMENT_SCHEMA = {
  type: 'object',
  required: ['bucket', 'key'],
  properties: {
    bucket: { type: 'string', minLength: 3 },
    key: { type: 'string', minLength: 1 },
    versionId: { type: 'string' },
    size: { type: 'integer', minimum: 0 },
    etag: { type: 'string' },
  },
} as const;

/** The output of a Textract stage: the text (in S3, by pointer) and the page count. */
export const TEXTRACT_OUTPUT_SCHEMA = {
  type: 'object',
  required: ['text', 'pages'],
  properties: {
    text: POINTER_SCHEMA,
    pages: { type: 'integer', minimum: 1 },
    mode: { type: 'string' },
    /** Active content the preflight found in a PDF (JavaScript, Launch, EmbeddedFiles, RichMedia, XFA); absent when none. */
    activeContent: { type: 'array', items: { type: 'string' } },
  },
} as const;

/**
 * The output contract of a Textract analysis stage whose queries have these aliases: the text as for
 * text detection, the whole analysis by pointer (`analysis.json`: every key-value pair, every table,
 * every answer), and inline what routing reads: at most 50 key-value pairs (keys cut to 100 and values
 * to 300 characters), the counts, and the best answer of every query under its alias (confidence 0-1).
 */
export function textractAnalysisOutputSchema(aliases: readonly string[], signatures: boolean): object {
  const answer = {
    type: 'object',
    required: ['text', 'confidence'],
    additionalProperties: false,
    properties: {
      text: { type: 'string', maxLength: 300 },
      confidence: { type: 'number', minimum: 0, maximum: 1 },
      page: { type: 'integer', minimum: 1 },
    },
  };
  return {
    type: 'object',
    required: ['text', 'pages', 'mode', 'analysis', 'keyValues', 'keyValueCount', 'tableCount', 'queryAnswers', ...(signatures ? ['signatureCount'] : [])],
    additionalProperties: false,
    properties: {
      ...cloneSchema(TEXTRACT_OUTPUT_SCHEMA.properties),
      analysis: POINTER_SCHEMA,
      keyValues: {
        type: 'array',
        maxItems: 50,
        items: {
          type: 'object',
          required: ['key', 'value', 'confidence', 'page'],
          additionalProperties: false,
          properties: {
            key: { type: 'string', maxLength: 100 },
            value: { type: 'string', maxLength: 300 },
            confidence: { type: 'number', minimum: 0, maximum: 1 },
            page: { type: 'integer', minimum: 1 },
          },
        },
      },
      keyValueCount: { type: 'integer', minimum: 0 },
      tableCount: { type: 'integer', minimum: 0 },
      queryAnswers: {
        type: 'object',
        required: [...aliases],
        additionalProperties: false,
        properties: Object.fromEntries(aliases.map((a) => [a, cloneSchema(answer)])),
      },
      ...(signatures ? { signatureCount: { type: 'integer', minimum: 0 } } : {}),
    },
  };
}

/** The output contract of a Transcribe stage: the transcript by pointer (the `text` alias reads it). */
export const TRANSCRIBE_OUTPUT_SCHEMA = {
  type: 'object',
  required: ['text', 'transcript', 'languageCode', 'mediaFormat'],
  additionalProperties: false,
  properties: {
    text: POINTER_SCHEMA,
    transcript: POINTER_SCHEMA,
    languageCode: { type: 'string', minLength: 2 },
    mediaFormat: { enum: ['wav', 'mp3', 'flac', 'ogg', 'webm', 'amr', 'mp4', 'm4a'] },
  },
} as const;

/** Any object: the default contract where a stage declares nothing. */
export const ANY_OBJECT_SCHEMA = { type: 'object' } as const;

/** The input every stage needs at the least: the document pointer. */
export const DOCUMENT_INPUT_SCHEMA = {
  type: 'object',
  required: ['document'],
  properties: { document: DOCUMENT_SCHEMA },
} as const;

/** Deep copy, so callers can never mutate a shared schema. */
export function cloneSchema<T>(schema: T): T {
  return JSON.parse(JSON.stringify(schema));
}
