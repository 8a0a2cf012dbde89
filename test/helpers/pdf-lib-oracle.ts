/**
 * What the whole pdf-lib says of a PDF: the oracle the preflight's own reader (pdf-reader.ts) is
 * compared with. This is the preflight's former reading, on pdf-lib's parser: the same parse options,
 * the page tree's leaves, the trailer's `/Encrypt`, and the active content of every object.
 */
import { PDFCatalog, PDFPageLeaf, PDFParser } from 'pdf-lib';

export type PdfVerdict = { pages: number; activeContent: string[] } | 'Document.Encrypted' | 'Document.Corrupt';

// Its own tables, on purpose: the oracle shares no code with the reader it checks. Maps, as the
// reader's: the former object literals found `/constructor` (a prototype property) as active content.
const ACTIVE_KEYS = new Map([
  ['JS', 'JavaScript'], ['JavaScript', 'JavaScript'], ['EmbeddedFiles', 'EmbeddedFiles'], ['EF', 'EmbeddedFiles'],
  ['RichMedia', 'RichMedia'], ['RichMediaContent', 'RichMedia'], ['XFA', 'XFA'],
]);
const ACTIVE_VALUES = new Map([['JavaScript', 'JavaScript'], ['Launch', 'Launch'], ['EmbeddedFile', 'EmbeddedFiles'], ['RichMedia', 'RichMedia']]);

export async function pdfLibVerdict(bytes: Uint8Array): Promise<PdfVerdict> {
  const warn = console.warn;
  console.warn = () => {};
  let context: Awaited<ReturnType<PDFParser['parseDocument']>>;
  try {
    context = await PDFParser.forBytesWithOptions(bytes, 100, false, false).parseDocument();
  } catch {
    return 'Document.Corrupt';
  } finally {
    console.warn = warn;
  }
  if (context.lookup(context.trailerInfo.Encrypt)) return 'Document.Encrypted';
  let pages = 0;
  try {
    (context.lookup(context.trailerInfo.Root) as PDFCatalog).Pages().traverse((node) => {
      if (node instanceof PDFPageLeaf) pages += 1;
    });
  } catch {
    return 'Document.Corrupt';
  }
  if (pages < 1) return 'Document.Corrupt';
  const found = new Set<string>();
  const nameOf = (v: any): string | undefined => (v && typeof v.decodeText === 'function' && typeof v.asString === 'function' ? v.decodeText() : undefined);
  const visit = (obj: any, depth: number) => {
    if (!obj || depth > 32) return;
    const dict = obj.dict && typeof obj.dict.entries === 'function' ? obj.dict : typeof obj.entries === 'function' && typeof obj.lookup === 'function' ? obj : undefined;
    if (dict) {
      for (const [key, value] of dict.entries() as Array<[any, any]>) {
        const k = nameOf(key) ?? '';
        if (ACTIVE_KEYS.has(k)) found.add(ACTIVE_KEYS.get(k)!);
        const v = nameOf(value);
        if ((k === 'S' || k === 'Type' || k === 'Subtype') && v && ACTIVE_VALUES.has(v)) found.add(ACTIVE_VALUES.get(v)!);
        if (value && (typeof value.entries === 'function' || typeof value.asArray === 'function')) visit(value, depth + 1);
      }
    } else if (typeof obj.asArray === 'function') {
      for (const item of obj.asArray()) visit(item, depth + 1);
    }
  };
  for (const [, obj] of context.enumerateIndirectObjects()) visit(obj, 0);
  return { pages, activeContent: [...found].sort() };
}
