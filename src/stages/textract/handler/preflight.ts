/**
 * Byte-level preflight of a document before it reaches Textract: size, type by magic bytes,
 * encryption and page count. Pure (no AWS calls), so the local runner can use it on its own.
 *
 * Every rejection is a named, non-retryable `Document.*` error; messages name sizes and limits,
 * never the document's content.
 */
import { constants as zlibConstants, Inflate, inflateSync } from 'zlib';
import { isZlibHeader, PdfStructure, PdfTooLargeError, readPdfStructure } from './pdf-reader';
import { ErrorNames, PipelineError } from '../../../shared/errors';

/** The document types Textract reads. */
export type DocumentType = 'pdf' | 'png' | 'jpeg' | 'tiff';

/** How the stage extracts the text: one synchronous call, or an asynchronous job with a callback. */
export type ExtractionMode = 'sync' | 'async';

/** The limits a stage applies (from its `TextractStageConfig`). */
export interface PreflightLimits {
  /** Largest document accepted, in bytes. */
  readonly maxDocumentBytes: number;
  /** Most pages accepted. */
  readonly maxPages: number;
  /**
   * Most bytes the PDF's compressed streams may inflate to, all streams together (checked before the
   * PDF is parsed, so a Flate bomb is refused with `Document.TooLarge` without being inflated).
   * @default DEFAULT_MAX_DECOMPRESSED_BYTES
   */
  readonly maxDecompressedBytes?: number;
}

/** Reads bytes `start` to `end` (inclusive) of the document: an S3 range read in Lambda, a slice in tests. */
export type ByteReader = (start: number, end: number) => Promise<Uint8Array>;

/** What the preflight learned about a document. */
export interface PreflightReport {
  readonly type: DocumentType;
  /** Size in bytes. */
  readonly size: number;
  /** Page count; for TIFF unknown before Textract reads it (undefined). */
  readonly pages?: number;
  readonly mode: ExtractionMode;
  /**
   * Active content found in a PDF (`JavaScript`, `Launch`, `EmbeddedFiles`, `RichMedia`, `XFA`), in
   * name order; empty when there is none. Not a rejection: Textract never runs it, but people who
   * open the document later might, so the stage reports it.
   */
  readonly activeContent: string[];
}

const MiB = 1024 * 1024;

/** Largest document the synchronous `DetectDocumentText` accepts. */
export const SYNC_MAX_BYTES = 10 * MiB;

/** Largest PNG or JPEG Textract accepts, synchronous or not. */
export const IMAGE_MAX_BYTES = 10 * MiB;

/** Bytes needed to tell the type of a document. */
export const MAGIC_BYTES = 8;

/** Bytes read from the start of an image: its type and its header (PNG's IHDR, JPEG's first segment, TIFF's IFD offset). */
export const HEADER_BYTES = 64;

/** Default of `maxDecompressedBytes`: 256 MiB inflated, all of a PDF's streams together. */
export const DEFAULT_MAX_DECOMPRESSED_BYTES = 256 * MiB;

const SIGNATURES: ReadonlyArray<{ type: DocumentType; bytes: readonly number[] }> = [
  { type: 'pdf', bytes: [0x25, 0x50, 0x44, 0x46, 0x2d] }, // %PDF-
  { type: 'png', bytes: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] },
  { type: 'jpeg', bytes: [0xff, 0xd8, 0xff] },
  { type: 'tiff', bytes: [0x49, 0x49, 0x2a, 0x00] }, // II*\0 (little endian)
  { type: 'tiff', bytes: [0x4d, 0x4d, 0x00, 0x2a] }, // MM\0* (big endian)
];

/** The document's type from its first bytes, or undefined when Textract cannot read it. */
export function sniffType(bytes: Uint8Array): DocumentType | undefined {
  for (const sig of SIGNATURES) {
    if (bytes.length >= sig.bytes.length && sig.bytes.every((b, i) => bytes[i] === b)) return sig.type;
  }
  return undefined;
}

/** Rejects an empty document or one over `maxDocumentBytes` (checked from HeadObject, before reading). */
export function checkSize(size: number, limits: PreflightLimits): void {
  if (size <= 0) {
    throw new PipelineError(ErrorNames.DOCUMENT_EMPTY, 'the document is empty (0 bytes)');
  }
  if (size > limits.maxDocumentBytes) {
    throw new PipelineError(ErrorNames.DOCUMENT_TOO_LARGE,
      `the document is ${size} bytes, over the stage's limit of ${limits.maxDocumentBytes} bytes`);
  }
}

/** True when telling the document's pages needs all its bytes (PDF), not only its first `MAGIC_BYTES`. */
export function needsFullRead(type: DocumentType | undefined): boolean {
  return type === 'pdf';
}

/**
 * Checks a document's bytes. `bytes` must be the whole document for a PDF (see `needsFullRead`);
 * for other types its first `HEADER_BYTES` are enough, and `read` fetches what else the structure
 * check needs (a TIFF's first image file directory). `size` is the object's size (from HeadObject).
 */
export async function inspectDocument(
  bytes: Uint8Array, limits: PreflightLimits, size: number = bytes.length, read?: ByteReader,
): Promise<PreflightReport> {
  checkSize(size, limits);
  const type = sniffType(bytes);
  // What the first bytes already hold is not read again.
  const reader: ByteReader = async (start, end) => (!read || end < bytes.length ? bytes.slice(start, end + 1) : read(start, end));
  switch (type) {
    case 'pdf': {
      const maxDecompressedBytes = limits.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES;
      await checkInflatedSize(bytes, maxDecompressedBytes);
      const { pages, activeContent } = await readPdf(bytes, maxDecompressedBytes);
      if (pages > limits.maxPages) {
        throw new PipelineError(ErrorNames.DOCUMENT_TOO_LARGE,
          `the document has ${pages} pages, over the stage's limit of ${limits.maxPages} pages`);
      }
      return { type, size, pages, mode: pages === 1 && size <= SYNC_MAX_BYTES ? 'sync' : 'async', activeContent };
    }
    case 'png':
    case 'jpeg':
      if (size > IMAGE_MAX_BYTES) {
        throw new PipelineError(ErrorNames.DOCUMENT_TOO_LARGE,
          `the ${type.toUpperCase()} image is ${size} bytes, over Textract's limit of ${IMAGE_MAX_BYTES} bytes for images`);
      }
      if (type === 'png') checkPng(await headerOf(bytes, size, reader));
      else checkJpeg(await headerOf(bytes, size, reader));
      return { type, size, pages: 1, mode: 'sync', activeContent: [] };
    case 'tiff':
      await checkTiff(await headerOf(bytes, size, reader), size, reader);
      // Possibly multi-page: only the asynchronous API reads every page. Textract counts them.
      return { type, size, mode: 'async', activeContent: [] };
    default:
      throw new PipelineError(ErrorNames.DOCUMENT_UNSUPPORTED_TYPE,
        'the document is not a PDF, PNG, JPEG or TIFF file (checked by its first bytes)');
  }
}

/** The document's first `HEADER_BYTES` (or all of it when smaller). */
async function headerOf(bytes: Uint8Array, size: number, read: ByteReader): Promise<Uint8Array> {
  const want = Math.min(HEADER_BYTES, size);
  return bytes.length >= want ? bytes : read(0, want - 1);
}

const corrupt = (message: string) => new PipelineError(ErrorNames.DOCUMENT_CORRUPT, message);

/* eslint-disable no-bitwise -- binary formats: CRC-32 and byte fields */
/** CRC-32 (as PNG chunks use it). */
function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** A PNG's first chunk must be a 13-byte IHDR with a non-zero size, known depth and colour type, and a matching CRC. */
function checkPng(head: Uint8Array): void {
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  if (head.length < 33 || view.getUint32(8) !== 13 || String.fromCharCode(...head.slice(12, 16)) !== 'IHDR') {
    throw corrupt('the PNG has no IHDR chunk after its signature');
  }
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  if (width === 0 || height === 0 || ![1, 2, 4, 8, 16].includes(head[24]) || ![0, 2, 3, 4, 6].includes(head[25])) {
    throw corrupt('the PNG header (IHDR) names no valid image');
  }
  if (crc32(head.slice(12, 29)) !== view.getUint32(29)) {
    throw corrupt('the PNG header (IHDR) fails its CRC');
  }
}

/** A JPEG's SOI must be followed by a marker segment (0xFF, a marker, then a length of at least 2). */
function checkJpeg(head: Uint8Array): void {
  const marker = head[3];
  const length = head.length >= 6 ? (head[4] << 8) | head[5] : 0;
  // 0xC0-0xFE are segment markers with a length; 0xD0-0xD9 (RSTn, SOI, EOI) carry none and cannot come first.
  if (head.length < 6 || marker < 0xc0 || marker === 0xff || (marker >= 0xd0 && marker <= 0xd9) || length < 2) {
    throw corrupt('the JPEG has no valid marker segment after its start-of-image marker');
  }
}

/* eslint-enable no-bitwise */

/** TIFF tag numbers the first image file directory must hold (width, length, and strip or tile offsets). */
const TIFF_WIDTH = 256;
const TIFF_LENGTH = 257;
const TIFF_STRIP_OFFSETS = 273;
const TIFF_TILE_OFFSETS = 324;
/** Bytes of one value of each TIFF field type (1 to 12); 0 for unknown types. */
const TIFF_TYPE_BYTES = [0, 1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8];

/**
 * A TIFF must have a first image file directory (IFD) inside the file: at least one entry, every
 * entry of a known field type whose out-of-line values lie inside the file, image width and length
 * over 0, strip or tile offsets, and a next-IFD offset of 0 or inside the file.
 */
async function checkTiff(head: Uint8Array, size: number, read: ByteReader): Promise<void> {
  const little = head[0] === 0x49;
  const u16 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset, b.byteLength).getUint16(at, little);
  const u32 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(at, little);
  if (head.length < 8) throw corrupt('the TIFF is shorter than its 8-byte header');
  const ifd = u32(head, 4);
  if (ifd < 8 || ifd + 2 > size) {
    throw corrupt(`the TIFF's first image file directory offset (${ifd}) is outside the file (${size} bytes)`);
  }
  const count = u16(await read(ifd, ifd + 1), 0);
  const end = ifd + 2 + count * 12 + 4;
  if (count === 0 || end > size) {
    throw corrupt(`the TIFF's first image file directory (${count} entries at offset ${ifd}) does not fit in the file (${size} bytes)`);
  }
  const dir = await read(ifd, end - 1);
  if (dir.length < end - ifd) throw corrupt('the TIFF\'s first image file directory cannot be read whole');
  const tags = new Map<number, number>();
  for (let i = 0; i < count; i++) {
    const at = 2 + i * 12;
    const tag = u16(dir, at);
    const type = u16(dir, at + 2);
    const n = u32(dir, at + 4);
    const bytes = (TIFF_TYPE_BYTES[type] ?? 0) * n;
    if (!TIFF_TYPE_BYTES[type]) throw corrupt(`the TIFF's directory entry ${i} (tag ${tag}) has an unknown field type ${type}`);
    if (bytes > 4 && (u32(dir, at + 8) + bytes > size)) {
      throw corrupt(`the TIFF's directory entry ${i} (tag ${tag}) points outside the file`);
    }
    const value = bytes <= 4 ? (type === 3 ? u16(dir, at + 8) : type === 4 ? u32(dir, at + 8) : dir[at + 8]) : -1;
    tags.set(tag, value);
  }
  if (!((tags.get(TIFF_WIDTH) ?? 0) !== 0 && (tags.get(TIFF_LENGTH) ?? 0) !== 0)) {
    throw corrupt('the TIFF\'s first image file directory has no image width and length');
  }
  if (!tags.has(TIFF_STRIP_OFFSETS) && !tags.has(TIFF_TILE_OFFSETS)) {
    throw corrupt('the TIFF\'s first image file directory has no strip or tile offsets (no image data)');
  }
  const inlineOffset = tags.get(TIFF_STRIP_OFFSETS) ?? tags.get(TIFF_TILE_OFFSETS)!;
  if (inlineOffset >= size) throw corrupt('the TIFF\'s image data offset is outside the file');
  const next = u32(dir, end - ifd - 4);
  if (next !== 0 && (next < 8 || next + 2 > size)) {
    throw corrupt(`the TIFF's next image file directory offset (${next}) is outside the file`);
  }
}

/** Where each stream's data starts: after the `stream` keyword and its end of line. */
const STREAM = Buffer.from('stream');
const ENDSTREAM = Buffer.from('endstream');

/**
 * Inflates every stream of a PDF that inflates (whatever its /Filter says: names can be escaped or
 * filters chained), counting the bytes and keeping none of them, and refuses the document with
 * `Document.TooLarge` as soon as the total passes `limit`. The PDF reader decodes object and
 * cross-reference streams while it reads (under the same limit, for the streams whose zlib data
 * hides under another filter), and Textract every content stream: a Flate bomb is refused before either does.
 */
export async function checkInflatedSize(pdf: Uint8Array, limit: number): Promise<number> {
  const buf = Buffer.from(pdf.buffer, pdf.byteOffset, pdf.byteLength);
  let total = 0;
  let at = buf.indexOf(STREAM);
  while (at >= 0) {
    const isEnd = at >= 3 && buf.toString('latin1', at - 3, at) === 'end';
    let start = at + STREAM.length;
    if (!isEnd && (buf[start] === 0x0d || buf[start] === 0x0a)) {
      if (buf[start] === 0x0d && buf[start + 1] === 0x0a) start += 1;
      start += 1;
      const stop = buf.indexOf(ENDSTREAM, start);
      const data = buf.subarray(start, stop < 0 ? buf.length : stop);
      total += await inflatedBytes(data, limit - total);
      if (total > limit) {
        throw new PipelineError(ErrorNames.DOCUMENT_TOO_LARGE,
          `the PDF's streams inflate to more than ${limit} bytes (the stage's limit on decompressed bytes)`);
      }
      at = buf.indexOf(STREAM, stop < 0 ? buf.length : stop + ENDSTREAM.length);
    } else {
      at = buf.indexOf(STREAM, start);
    }
  }
  return total;
}

/**
 * Deflate's ratio is at most 1032:1, so a stream this many times smaller than this bound inflates
 * to at most this bound: such streams (all of a typical page's) inflate at once, in memory, without
 * a stream per object.
 */
const SYNC_INFLATE_MAX_BYTES = 8 * MiB;
const DEFLATE_MAX_RATIO = 1032;

/** Bytes `data` inflates to (0 when it is not zlib data), stopping once past `budget`. */
function inflatedBytes(data: Buffer, budget: number): Promise<number> {
  if (!isZlibHeader(data)) return Promise.resolve(0);
  if (data.length * DEFLATE_MAX_RATIO <= SYNC_INFLATE_MAX_BYTES) {
    try {
      // Truncated data counts what inflated so far, as the streaming path does; corrupt data throws
      // and is counted by the streaming path below (which keeps what inflated before the error).
      return Promise.resolve(inflateSync(data, { finishFlush: zlibConstants.Z_SYNC_FLUSH }).length);
    } catch {
      // fall through
    }
  }
  return new Promise((resolve) => {
    let count = 0;
    let done = false;
    const inflate = new Inflate({ chunkSize: 64 * 1024 });
    const finish = () => {
      if (done) return;
      done = true;
      resolve(count);
    };
    inflate.on('data', (chunk: Buffer) => {
      count += chunk.length;
      if (count > budget) {
        inflate.destroy();
        finish();
      }
    });
    // Corrupt or truncated data: what inflated so far is what counts.
    inflate.on('error', finish);
    inflate.on('end', finish);
    inflate.on('close', finish);
    inflate.end(data);
  });
}

/**
 * Counts a PDF's pages (leaves of the page tree, as pdf-lib's `getPageCount()` counts them, ADR-0033):
 * `Document.Encrypted` when it is encrypted, `Document.Corrupt` when it cannot be read.
 */
export async function countPdfPages(bytes: Uint8Array): Promise<number> {
  return (await readPdf(bytes)).pages;
}

/** A PDF's page count and active content: `Document.Encrypted` when it is encrypted, `Document.Corrupt` when it cannot be read. */
export async function readPdf(
  bytes: Uint8Array, maxDecodedBytes = DEFAULT_MAX_DECOMPRESSED_BYTES,
): Promise<{ pages: number; activeContent: string[] }> {
  let structure: PdfStructure;
  try {
    structure = readPdfStructure(bytes, { maxDecodedBytes });
  } catch (err) {
    if (err instanceof PdfTooLargeError) {
      throw new PipelineError(ErrorNames.DOCUMENT_TOO_LARGE,
        `the PDF's object streams decode to more than ${maxDecodedBytes} bytes (the stage's limit on decompressed bytes)`);
    }
    throw new PipelineError(ErrorNames.DOCUMENT_CORRUPT, 'the PDF cannot be parsed');
  }
  if (structure.encrypted) {
    throw new PipelineError(ErrorNames.DOCUMENT_ENCRYPTED, 'the PDF is encrypted');
  }
  if (structure.pages === undefined) {
    throw new PipelineError(ErrorNames.DOCUMENT_CORRUPT, 'the PDF has no readable page tree');
  }
  if (structure.pages < 1) {
    throw new PipelineError(ErrorNames.DOCUMENT_CORRUPT, 'the PDF has no pages');
  }
  return { pages: structure.pages, activeContent: structure.activeContent };
}
