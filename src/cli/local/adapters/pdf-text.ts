/**
 * Text extraction from a PDF's text layer, standing in for Textract's OCR in the local runner.
 *
 * A thin layer over pdf.js (Mozilla), through unpdf's serverless build: no worker thread, no
 * canvas, runs on Node 20 and 22 and is bundled by esbuild into the CLI. pdf.js reads the text;
 * this module only forms lines from its text items, folds typographic ligatures (ﬁ, ﬂ, ﬃ, …)
 * into their letters and names the errors the Textract stand-in reports.
 *
 * Lines: pdf.js marks the end of a line (`hasEOL`); a line also ends where the baseline moves by
 * more than half the text height (text drawn in another text object or a Form XObject). Images
 * have no text layer here: a scanned page gives no line (real Textract would OCR it).
 */
// unpdf is bundled into the runner by esbuild (a devDependency); it is not a runtime dependency of the constructs.
import { getDocumentProxy } from 'unpdf';
import { ErrorNames, PipelineError } from '../../../shared/errors';

/** Extracts the text lines of every page of a PDF (one array of lines per page, in page order). */
export type PdfTextExtractor = (bytes: Uint8Array) => Promise<string[][]>;

/** The fields of a pdf.js text item this module reads (marked-content items have no `str`). */
interface TextItem {
  readonly str: string;
  /** Text space to page space: [a, b, c, d, x, y]; y is the baseline. */
  readonly transform: readonly number[];
  readonly height: number;
  readonly hasEOL: boolean;
}

/**
 * The lines of text of each page of a PDF. A page without a text layer gives `[]`.
 * Throws `Document.Encrypted` for an encrypted PDF (even one that opens without a password, as
 * the Textract stage's preflight does) and `Document.Corrupt` for one that cannot be parsed.
 */
export async function extractPdfPages(bytes: Uint8Array): Promise<string[][]> {
  let pdf: Awaited<ReturnType<typeof getDocumentProxy>>;
  try {
    // pdf.js takes ownership of the buffer it is given: hand it a copy, the caller keeps its bytes.
    pdf = await getDocumentProxy(new Uint8Array(bytes), { verbosity: 0 });
  } catch (err: any) {
    if (err?.name === 'PasswordException') {
      throw new PipelineError(ErrorNames.DOCUMENT_ENCRYPTED, 'the PDF is encrypted');
    }
    throw new PipelineError(ErrorNames.DOCUMENT_CORRUPT, 'the PDF cannot be parsed');
  }
  try {
    const { info } = await pdf.getMetadata();
    if ((info as { EncryptFilterName?: string | null }).EncryptFilterName) {
      throw new PipelineError(ErrorNames.DOCUMENT_ENCRYPTED, 'the PDF is encrypted');
    }
    if (pdf.numPages < 1) {
      throw new PipelineError(ErrorNames.DOCUMENT_CORRUPT, 'the PDF has no pages');
    }
    const pages: string[][] = [];
    for (let n = 1; n <= pdf.numPages; n++) {
      try {
        const content = await (await pdf.getPage(n)).getTextContent();
        pages.push(toLines((content.items as unknown[]).filter(isTextItem)));
      } catch {
        throw new PipelineError(ErrorNames.DOCUMENT_CORRUPT, `page ${n} of the PDF cannot be read`);
      }
    }
    return pages;
  } finally {
    await pdf.loadingTask.destroy();
  }
}

/**
 * Typographic ligatures (U+FB00–U+FB06: ﬀ ﬁ ﬂ ﬃ ﬄ ﬅ ﬆ), which NFKC folds into their letters. pdf.js's
 * own text normalization folds them too; folding them here keeps "indemnification" a word the
 * routing rules match whatever pdf.js does, without NFKC's other changes (½, ², ™ stay as printed).
 */
const LIGATURES = /[\uFB00-\uFB06]/g;

/** A line as Textract would give it: ligatures folded, runs of whitespace as one space, trimmed. */
export function normalizeLine(text: string): string {
  return text.replace(LIGATURES, (c) => c.normalize('NFKC')).replace(/\s+/g, ' ').trim();
}

function isTextItem(item: unknown): item is TextItem {
  return typeof item === 'object' && item !== null && typeof (item as TextItem).str === 'string';
}

/** Lines from text items in content order (see the module comment); empty lines are dropped. */
function toLines(items: readonly TextItem[]): string[] {
  const lines: string[] = [];
  let text = '';
  let baseline: number | undefined;
  let ended = false;
  for (const item of items) {
    const y = item.transform[5];
    const size = item.height > 0 ? item.height : Math.hypot(item.transform[2], item.transform[3]);
    if (item.str.trim().length > 0) {
      if (baseline !== undefined && (ended || Math.abs(y - baseline) > size / 2)) {
        lines.push(text);
        text = '';
        baseline = undefined;
      }
      baseline ??= y;
      ended = false;
    }
    text += item.str;
    if (item.hasEOL) ended = true;
  }
  lines.push(text);
  return lines.map(normalizeLine).filter((line) => line.length > 0);
}
