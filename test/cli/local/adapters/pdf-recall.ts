/**
 * Word recall of a PDF text reader against poppler's `pdftotext`, on contracts printed by real
 * producers (fixtures/pdf, made by projenrc/pdf-fixtures.sh). Shared by the tests and by
 * projenrc/bench-pdf.ts.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

/** The fixtures folder: `<producer>.pdf` and its reference text `<producer>.txt` (`pdftotext -layout`). */
export const PDF_FIXTURES_DIR = path.join(__dirname, 'fixtures', 'pdf');

/** The producers of the fixtures, one PDF each (the same two-page contract). */
export const PDF_PRODUCERS = [
  'chromium',
  'libreoffice',
  'groff-ghostscript',
  'groff-gropdf',
  'enscript-ghostscript',
] as const;

export type PdfProducer = typeof PDF_PRODUCERS[number];

/** A fixture's bytes. */
export function fixturePdf(producer: string): Uint8Array {
  return new Uint8Array(fs.readFileSync(path.join(PDF_FIXTURES_DIR, `${producer}.pdf`)));
}

/** A fixture's committed reference text (poppler's reading). */
export function fixtureReference(producer: string): string {
  return fs.readFileSync(path.join(PDF_FIXTURES_DIR, `${producer}.txt`), 'utf8');
}

/** The lowercase word tokens of a text (letters and digits; everything else separates words). */
export function wordTokens(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

/**
 * The share of the reference's words (as a multiset of lowercase tokens) that `ours` also has:
 * 1 when every word of the reference is read, as often as it occurs. A word read with a ligature
 * ("conﬁdential") or two words read as one ("Servicesmade") do not count. An empty reference gives 1.
 */
export function wordRecall(reference: string, ours: string): number {
  const counts = new Map<string, number>();
  for (const w of wordTokens(ours)) counts.set(w, (counts.get(w) ?? 0) + 1);
  const wanted = wordTokens(reference);
  if (wanted.length === 0) return 1;
  let found = 0;
  for (const w of wanted) {
    const left = counts.get(w) ?? 0;
    if (left > 0) {
      found++;
      counts.set(w, left - 1);
    }
  }
  return found / wanted.length;
}

/** `pdftotext -layout` on a file, or undefined when poppler-utils is not installed. */
export function pdftotext(file: string): string | undefined {
  const run = spawnSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
  if (run.error) return undefined;
  if (run.status !== 0) throw new Error(`pdftotext failed on ${file}: ${run.stderr}`);
  return run.stdout;
}
