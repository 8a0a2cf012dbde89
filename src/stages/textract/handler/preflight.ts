/**
 * Byte-level preflight of a document before it reaches Textract: size, type by magic bytes,
 * encryption and page count. Pure (no AWS calls), so the local runner can use it on its own.
 *
 * Every rejection is a named, non-retryable `Document.*` error; messages name sizes and limits,
 * never the document's content.
 */
import type PDFParserType from 'pdf-lib/cjs/core/parser/PDFParser';
import type PDFCatalog from 'pdf-lib/cjs/core/structures/PDFCatalog';
import type PDFPageLeafType from 'pdf-lib/cjs/core/structures/PDFPageLeaf';
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
}

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
 * for other types its first `MAGIC_BYTES` are enough. `size` is the object's size (from HeadObject).
 */
export async function inspectDocument(bytes: Uint8Array, limits: PreflightLimits, size: number = bytes.length): Promise<PreflightReport> {
  checkSize(size, limits);
  const type = sniffType(bytes);
  switch (type) {
    case 'pdf': {
      const { pages, activeContent } = await readPdf(bytes);
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
      return { type, size, pages: 1, mode: 'sync', activeContent: [] };
    case 'tiff':
      // Possibly multi-page: only the asynchronous API reads every page. Textract counts them.
      return { type, size, mode: 'async', activeContent: [] };
    default:
      throw new PipelineError(ErrorNames.DOCUMENT_UNSUPPORTED_TYPE,
        'the document is not a PDF, PNG, JPEG or TIFF file (checked by its first bytes)');
  }
}

/**
 * pdf-lib's parser and page-tree node, without the rest of pdf-lib (drawing, fonts, forms): loaded
 * on the first PDF, so images never pay for it. The handler bundles resolve `pdf-lib/cjs` to pdf-lib's
 * ES build (`--alias` in .projenrc.ts), which esbuild tree-shakes to what the parser uses.
 */
function pdfParser(): { PDFParser: typeof PDFParserType; PDFPageLeaf: typeof PDFPageLeafType } {
  /* eslint-disable @typescript-eslint/no-require-imports */
  return {
    PDFParser: require('pdf-lib/cjs/core/parser/PDFParser').default,
    PDFPageLeaf: require('pdf-lib/cjs/core/structures/PDFPageLeaf').default,
  };
  /* eslint-enable @typescript-eslint/no-require-imports */
}

/** Objects parsed between event-loop turns: pdf-lib's `PDFDocument.load` default (`ParseSpeeds.Slow`). */
const OBJECTS_PER_TICK = 100;

/**
 * Counts a PDF's pages as pdf-lib's `PDFDocument.load(...).getPageCount()` does (leaves of the page
 * tree), with its parser only: `Document.Encrypted` when it is encrypted, `Document.Corrupt` when it
 * cannot be parsed.
 */
export async function countPdfPages(bytes: Uint8Array): Promise<number> {
  return (await readPdf(bytes)).pages;
}

/** A PDF's page count and active content: `Document.Encrypted` when it is encrypted, `Document.Corrupt` when it cannot be parsed. */
export async function readPdf(bytes: Uint8Array): Promise<{ pages: number; activeContent: string[] }> {
  const { PDFParser, PDFPageLeaf } = pdfParser();
  let context: Awaited<ReturnType<PDFParserType['parseDocument']>>;
  try {
    // Invalid objects are kept (not thrown) so the trailer can still name an encryption.
    context = await PDFParser.forBytesWithOptions(bytes, OBJECTS_PER_TICK, false, false).parseDocument();
  } catch {
    throw new PipelineError(ErrorNames.DOCUMENT_CORRUPT, 'the PDF cannot be parsed');
  }
  if (context.lookup(context.trailerInfo.Encrypt)) {
    throw new PipelineError(ErrorNames.DOCUMENT_ENCRYPTED, 'the PDF is encrypted');
  }
  let pages = 0;
  try {
    (context.lookup(context.trailerInfo.Root) as PDFCatalog).Pages().traverse((node) => {
      if (node instanceof PDFPageLeaf) pages += 1;
    });
  } catch {
    throw new PipelineError(ErrorNames.DOCUMENT_CORRUPT, 'the PDF has no readable page tree');
  }
  if (pages < 1) {
    throw new PipelineError(ErrorNames.DOCUMENT_CORRUPT, 'the PDF has no pages');
  }
  return { pages, activeContent: activeContentOf(context as any) };
}

/** Dictionary keys, and values of `/S` (action type) or `/Type`, that mark active content, by the kind reported. */
const ACTIVE_KEYS: { readonly [name: string]: string } = {
  JS: 'JavaScript',
  JavaScript: 'JavaScript',
  EmbeddedFiles: 'EmbeddedFiles',
  EF: 'EmbeddedFiles',
  RichMedia: 'RichMedia',
  RichMediaContent: 'RichMedia',
  XFA: 'XFA',
};
const ACTIVE_VALUES: { readonly [name: string]: string } = {
  JavaScript: 'JavaScript',
  Launch: 'Launch',
  EmbeddedFile: 'EmbeddedFiles',
  RichMedia: 'RichMedia',
};

/**
 * The kinds of active content in a PDF, from every object it holds (object streams included;
 * names written with `#xx` escapes are read decoded, so `/J#61vaScript` is found too).
 */
function activeContentOf(context: { enumerateIndirectObjects(): Array<[unknown, unknown]> }): string[] {
  // Duck-typed, so only pdf-lib's parser is bundled: a stream has `dict`, a dictionary `entries()`,
  // an array `asArray()`, a name `decodeText()`.
  const found = new Set<string>();
  const nameOf = (v: any): string | undefined => (v && typeof v.decodeText === 'function' && typeof v.asString === 'function' ? v.decodeText() : undefined);
  const visit = (obj: any, depth: number) => {
    if (!obj || depth > 32) return;
    const dict = obj.dict && typeof obj.dict.entries === 'function' ? obj.dict : typeof obj.entries === 'function' && typeof obj.lookup === 'function' ? obj : undefined;
    if (dict) {
      for (const [key, value] of dict.entries() as Array<[any, any]>) {
        const k = nameOf(key) ?? '';
        if (ACTIVE_KEYS[k]) found.add(ACTIVE_KEYS[k]);
        const v = nameOf(value);
        if ((k === 'S' || k === 'Type' || k === 'Subtype') && v && ACTIVE_VALUES[v]) found.add(ACTIVE_VALUES[v]);
        if (value && (typeof value.entries === 'function' || typeof value.asArray === 'function')) visit(value, depth + 1);
      }
    } else if (typeof obj.asArray === 'function') {
      for (const item of obj.asArray()) visit(item, depth + 1);
    }
  };
  for (const [, obj] of context.enumerateIndirectObjects()) visit(obj, 0);
  return [...found].sort();
}
