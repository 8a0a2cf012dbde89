/**
 * Shared helpers for handler tests: validators generated exactly as at synth time, PDF and image
 * fixtures, S3 bodies for aws-sdk-client-mock, a recording logger and a fixed clock.
 *
 * Other handler tests may import from here; keep every helper free of module-level side effects.
 */
import { PDFDocument, PDFName, PDFString } from 'pdf-lib';
import { generateValidators } from '../../src/private/validator-codegen';
import { loadValidatorsSource, StageValidators } from '../../src/runtime/contracts';
import { LogPort } from '../../src/runtime/logger';
import { DocumentRef, RunState, StageInvocation } from '../../src/shared';

// ---------------------------------------------------------------------------------------------
// Validators
// ---------------------------------------------------------------------------------------------

/** A schema that accepts any object. */
export const ANY_OBJECT_SCHEMA = { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object' } as const;

/** The JSON Schema of an S3 pointer, as stages produce them. */
export const POINTER_SCHEMA = {
  type: 'object',
  required: ['bucket', 'key'],
  properties: {
    bucket: { type: 'string' },
    key: { type: 'string' },
    versionId: { type: 'string' },
    sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
  },
  additionalProperties: false,
} as const;

/** The stage view every pipeline stage is given: a document pointer and earlier results. */
export const STAGE_VIEW_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  required: ['document', 'results'],
  properties: {
    document: {
      type: 'object',
      required: ['bucket', 'key'],
      properties: { bucket: { type: 'string' }, key: { type: 'string' } },
    },
    results: { type: 'object' },
  },
} as const;

/**
 * Generates a stage's validators module with ajv standalone and loads it the way the Lambda does
 * (`generateValidators` + `loadValidatorsSource`): the same code path as synth time + cold start.
 */
export function makeValidators(schemas: { input?: object; output?: object; model?: object; [name: string]: object | undefined }): StageValidators {
  const all: { [name: string]: object } = {
    input: schemas.input ?? ANY_OBJECT_SCHEMA,
    output: schemas.output ?? ANY_OBJECT_SCHEMA,
  };
  for (const [name, schema] of Object.entries(schemas)) {
    if (schema && name !== 'input' && name !== 'output') all[name] = schema;
  }
  return loadValidatorsSource(generateValidators(all));
}

// ---------------------------------------------------------------------------------------------
// Logging and time
// ---------------------------------------------------------------------------------------------

export interface LogEntry {
  readonly level: 'info' | 'warn' | 'error';
  readonly message: string;
  readonly extra: any[];
}

/** A `LogPort` that keeps every entry, so tests can assert what was (and was not) logged. */
export class RecordingLogger implements LogPort {
  public readonly entries: LogEntry[] = [];
  public info(message: string, ...extra: any[]): void { this.entries.push({ level: 'info', message, extra }); }
  public warn(message: string, ...extra: any[]): void { this.entries.push({ level: 'warn', message, extra }); }
  public error(message: string, ...extra: any[]): void { this.entries.push({ level: 'error', message, extra }); }
  /** Everything logged, serialized: handy for `not.toContain(secretText)`. */
  public text(): string { return JSON.stringify(this.entries); }
}

/** A clock that starts at `start` and advances `stepMs` on every call (deterministic timestamps). */
export function fixedClock(start = '2025-01-01T00:00:00.000Z', stepMs = 1000): () => Date {
  let t = Date.parse(start);
  return () => {
    const d = new Date(t);
    t += stepMs;
    return d;
  };
}

// ---------------------------------------------------------------------------------------------
// S3 bodies for aws-sdk-client-mock
// ---------------------------------------------------------------------------------------------

/**
 * A GetObject `Body` stand-in: the handlers only call `transformToByteArray` / `transformToString`.
 * Use as `s3Mock.on(GetObjectCommand).resolves({ Body: s3Body(bytes) } as any)`.
 */
export function s3Body(content: Uint8Array | string | object): any {
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8')
    : content instanceof Uint8Array ? content
      : Buffer.from(JSON.stringify(content), 'utf8');
  return {
    transformToByteArray: async () => new Uint8Array(bytes),
    transformToString: async (encoding?: BufferEncoding) => Buffer.from(bytes).toString(encoding ?? 'utf8'),
  };
}

/** An error shaped like an AWS SDK v3 service exception (name + http status). */
export function awsError(name: string, httpStatusCode = 400, message = name): Error {
  const err = new Error(message) as Error & { $metadata: { httpStatusCode: number }; $fault: string };
  err.name = name;
  err.$metadata = { httpStatusCode };
  err.$fault = httpStatusCode >= 500 ? 'server' : 'client';
  return err;
}

// ---------------------------------------------------------------------------------------------
// Document fixtures
// ---------------------------------------------------------------------------------------------

/** A valid PDF with `pages` blank pages, made with pdf-lib. */
export async function makePdf(pages = 1): Promise<Uint8Array> {
  const doc = await PDFDocument.create({ updateMetadata: false });
  for (let i = 0; i < pages; i++) doc.addPage([200, 200]);
  return doc.save({ useObjectStreams: false });
}

/**
 * A PDF whose trailer references a Standard security handler `/Encrypt` dictionary. pdf-lib cannot
 * encrypt, but this is what an encrypted file looks like to a parser: `PDFDocument.load` throws
 * `EncryptedPDFError` on it.
 */
export async function makeEncryptedPdf(pages = 1): Promise<Uint8Array> {
  const doc = await PDFDocument.create({ updateMetadata: false });
  for (let i = 0; i < pages; i++) doc.addPage([200, 200]);
  const encrypt = doc.context.obj({
    Filter: PDFName.of('Standard'),
    V: 1,
    R: 2,
    O: PDFString.of('0123456789abcdef0123456789abcdef'),
    U: PDFString.of('fedcba9876543210fedcba9876543210'),
    P: -44,
  });
  doc.context.trailerInfo.Encrypt = doc.context.register(encrypt);
  return doc.save({ useObjectStreams: false });
}

/** Bytes that start like a PDF and then are garbage. */
export function makeCorruptPdf(): Uint8Array {
  return Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Cat', 'latin1');
}

/** A valid PDF cut in half. */
export async function makeTruncatedPdf(pages = 2): Promise<Uint8Array> {
  const bytes = await makePdf(pages);
  return bytes.slice(0, Math.floor(bytes.length / 3));
}

/** The magic bytes of each image type, padded to `size` bytes (the content is not a real image). */
export const ImageFixtures = {
  /** A PNG signature and a valid IHDR (1x1, RGBA, its CRC), padded. */
  png: (size = 64) => pad([...Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489', 'hex')], size),
  /** SOI and an APP0 segment header. */
  jpeg: (size = 64) => pad([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10], size),
  /** A TIFF header and one image file directory (1x1, one strip), padded. */
  tiffLittleEndian: (size = 64) => pad(tiff(true), size),
  tiffBigEndian: (size = 64) => pad(tiff(false), size),
  gif: (size = 64) => pad([0x47, 0x49, 0x46, 0x38, 0x39, 0x61], size),
  text: (size = 64) => pad([...Buffer.from('hello, world')], size),
} as const;

/** The smallest TIFF the preflight accepts: header, an IFD at 8 (width, length, strip offset and byte count), one data byte. */
function tiff(little: boolean): number[] {
  const b = Buffer.alloc(63);
  b.write(little ? 'II' : 'MM', 0, 'latin1');
  const u16 = (v: number, at: number) => (little ? b.writeUInt16LE(v, at) : b.writeUInt16BE(v, at));
  const u32 = (v: number, at: number) => (little ? b.writeUInt32LE(v, at) : b.writeUInt32BE(v, at));
  u16(42, 2);
  u32(8, 4);
  u16(4, 8);
  const entry = (i: number, tag: number, type: number, value: number) => {
    const at = 10 + i * 12;
    u16(tag, at);
    u16(type, at + 2);
    u32(1, at + 4);
    if (type === 3) u16(value, at + 8); else u32(value, at + 8);
  };
  entry(0, 256, 3, 1);
  entry(1, 257, 3, 1);
  entry(2, 273, 4, 62);
  entry(3, 279, 4, 1);
  u32(0, 58);
  return [...b];
}

function pad(prefix: number[], size: number): Uint8Array {
  const out = new Uint8Array(Math.max(size, prefix.length));
  out.set(prefix, 0);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Run state
// ---------------------------------------------------------------------------------------------

/** A document pointer for tests. */
export function docRef(overrides: Partial<DocumentRef> = {}): DocumentRef {
  return { bucket: 'docs-bucket', key: 'incoming/contract.pdf', versionId: 'v1', size: 1234, etag: '"abc"', ...overrides };
}

/** A run state for tests. */
export function runState(overrides: Partial<RunState> = {}): RunState {
  return { document: docRef(), results: {}, ...overrides };
}

/** A stage invocation for tests. */
export function invocation(overrides: Partial<StageInvocation> = {}): StageInvocation {
  return {
    state: runState(),
    runId: 'run-0001',
    executionArn: 'arn:aws:states:us-east-1:111111111111:execution:Pipeline:run-0001',
    ...overrides,
  };
}
