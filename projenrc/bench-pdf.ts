/**
 * PDF text reading of the local runner, measured: word recall against poppler's `pdftotext` on a
 * contract printed by real producers (test/cli/local/adapters/fixtures/pdf), and reading time.
 * A benchmark, not a test.
 *
 *   npx ts-node --transpile-only projenrc/bench-pdf.ts
 */
import * as fs from 'fs';
import * as path from 'path';
import { median } from './bench-stats';
import { extractPdfPages } from '../src/cli/local/adapters/pdf-text';
import { fixturePdf, fixtureReference, PDF_FIXTURES_DIR, PDF_PRODUCERS, pdftotext, wordRecall, wordTokens } from '../test/cli/local/adapters/pdf-recall';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const ROOT = path.join(__dirname, '..');

export interface PdfRecallRow {
  /** Who printed the PDF (chromium, libreoffice, groff-ghostscript, …). */
  readonly producer: string;
  /** Words in poppler's reading (the committed reference). */
  readonly words: number;
  /** Word recall of our reader against the committed `pdftotext -layout` reference (1 = every word). */
  readonly recall: number;
  /** Word recall of our reader against `pdftotext` run now; undefined when poppler-utils is missing. */
  readonly pdftotextRecall?: number;
  /** Reading the whole document: median of BENCH_RUNS runs (after one warm-up), in ms. */
  readonly ms: number;
  readonly pages: number;
  readonly msPerPage: number;
}

const textOf = (pages: string[][]) => pages.map((lines) => lines.join('\n')).join('\n\n');

/** Reads `bytes` once to warm up, then RUNS times; returns the pages and the median time. */
async function timeReading(bytes: Uint8Array): Promise<{ pages: string[][]; ms: number }> {
  const pages = await extractPdfPages(bytes);
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = process.hrtime.bigint();
    await extractPdfPages(bytes);
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return { pages, ms: median(times) };
}

/** One row per producer: recall against poppler, and reading time. Asynchronous (pdf.js is). */
export async function benchPdfRecall(): Promise<PdfRecallRow[]> {
  const rows: PdfRecallRow[] = [];
  for (const producer of PDF_PRODUCERS) {
    const reference = fixtureReference(producer);
    const { pages, ms } = await timeReading(fixturePdf(producer));
    const ours = textOf(pages);
    const live = pdftotext(path.join(PDF_FIXTURES_DIR, `${producer}.pdf`));
    rows.push({
      producer,
      words: wordTokens(reference).length,
      recall: wordRecall(reference, ours),
      ...(live !== undefined ? { pdftotextRecall: wordRecall(live, ours) } : {}),
      ms,
      pages: pages.length,
      msPerPage: ms / Math.max(1, pages.length),
    });
  }
  return rows;
}

/** Reading time of a long document (the example's 304-page contract, made with pdf-lib). */
export async function benchPdfThroughput(file = path.join(ROOT, 'examples/legal-contracts/samples/msa-long.pdf')): Promise<{ file: string; pages: number; ms: number; msPerPage: number }> {
  const { pages, ms } = await timeReading(new Uint8Array(fs.readFileSync(file)));
  return { file: path.relative(ROOT, file), pages: pages.length, ms, msPerPage: ms / pages.length };
}

function printTable(title: string, header: string[], rows: Array<Array<string | number>>) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells: Array<string | number>) =>
    cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ');
  console.log(`\n${title}`);
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
}

/** Prints the PDF tables (called by `npm run bench`). */
export async function printPdfBench(): Promise<void> {
  const rows = await benchPdfRecall();
  printTable(`PDF text: word recall against poppler (pdftotext -layout), reading time median of ${RUNS}`,
    ['producer', 'words', 'recall', 'vs live pdftotext', 'pages', 'ms', 'ms/page'],
    rows.map((r) => [
      r.producer, r.words, r.recall.toFixed(3),
      r.pdftotextRecall !== undefined ? r.pdftotextRecall.toFixed(3) : 'poppler-utils missing',
      r.pages, r.ms.toFixed(1), r.msPerPage.toFixed(1),
    ]));
  const long = await benchPdfThroughput();
  printTable('PDF text: a long document', ['file', 'pages', 'ms', 'ms/page'],
    [[long.file, long.pages, long.ms.toFixed(0), long.msPerPage.toFixed(2)]]);
}

if (require.main === module) {
  printPdfBench().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
