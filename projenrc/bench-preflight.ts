/**
 * The Textract preflight's PDF reading: its own reader (pdf-reader.ts, ADR-0033) beside the whole
 * pdf-lib it replaced, on the same PDFs (real producers' fixtures, the example's samples, and the
 * PDFs Debian packages ship when present). Both give the same verdict on each (checked here too);
 * the time is the median of BENCH_RUNS readings after one warm-up.
 *
 *   npm run bench -- preflight
 */
import * as fs from 'fs';
import * as path from 'path';
import { median } from './bench-stats';
import { readPdf } from '../src/stages/textract/handler/preflight';
import { pdfLibVerdict } from '../test/helpers/pdf-lib-oracle';

const ROOT = path.join(__dirname, '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

async function verdictOf(read: () => Promise<unknown>): Promise<string> {
  try {
    return JSON.stringify(await read());
  } catch (err: any) {
    return err.name;
  }
}

async function time(read: () => Promise<unknown>): Promise<number> {
  await verdictOf(read);
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = process.hrtime.bigint();
    await verdictOf(read);
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return median(times);
}

export async function printPreflightBench(printTable: (title: string, head: string[], rows: string[][]) => void): Promise<void> {
  const files = [
    ...['chromium.pdf', 'libreoffice.pdf', 'groff-ghostscript.pdf'].map((f) => path.join(ROOT, 'test/cli/local/adapters/fixtures/pdf', f)),
    ...['nda-short.pdf', 'msa-long.pdf', 'encrypted.pdf', 'corrupt.pdf'].map((f) => path.join(ROOT, 'examples/legal-contracts/samples', f)),
    ...['/usr/share/doc/libtasn1-doc/libtasn1.pdf', '/usr/share/doc/shared-mime-info/shared-mime-info-spec.pdf'].filter((f) => fs.existsSync(f)),
  ];
  const rows: string[][] = [];
  for (const file of files) {
    const bytes = new Uint8Array(fs.readFileSync(file));
    const ours = await verdictOf(() => readPdf(bytes));
    const theirs = await pdfLibVerdict(bytes);
    const same = ours === (typeof theirs === 'string' ? theirs : JSON.stringify(theirs));
    const readerMs = await time(() => readPdf(bytes));
    const pdfLibMs = await time(() => pdfLibVerdict(bytes));
    rows.push([path.basename(file), (bytes.length / 1024).toFixed(0), same ? 'yes' : `NO: ${ours} / ${JSON.stringify(theirs)}`,
      readerMs.toFixed(2), pdfLibMs.toFixed(2), (pdfLibMs / readerMs).toFixed(1)]);
  }
  printTable(`Textract preflight: PDF reading, own reader beside pdf-lib (median of ${RUNS}; same verdict checked)`,
    ['pdf', 'KiB', 'same verdict', 'reader ms', 'pdf-lib ms', 'speed-up'], rows);
}
