import * as path from 'path';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { makeLigaturePdf, makeRawOperatorsPdf, makeScannedPdf, makeTextPdf, MSA_TEXT, makeContractPdf } from './fixtures';
import { fixturePdf, fixtureReference, PDF_FIXTURES_DIR, PDF_PRODUCERS, pdftotext, wordRecall } from './pdf-recall';
import { extractPdfPages, normalizeLine } from '../../../../src/cli/local/adapters/pdf-text';
import { ErrorNames } from '../../../../src/shared';
import { makeCorruptPdf, makeEncryptedPdf, makeTruncatedPdf } from '../../../helpers/handler-test-kit';

/** The text of every page, pages separated by a blank line. */
const textOf = (pages: string[][]) => pages.map((lines) => lines.join('\n')).join('\n\n');

describe('extractPdfPages', () => {
  test('reads the lines of a one-page PDF, in order, with non-ASCII WinAnsi characters', async () => {
    const lines = ['MUTUAL NON-DISCLOSURE AGREEMENT', 'Between “Acme” and Beta — café, 2025.', 'Price: €1,000 · 50% off'];
    expect(await extractPdfPages(await makeTextPdf([lines]))).toEqual([lines]);
  });

  test('keeps pages apart and in order (3 pages)', async () => {
    const pages = [['Page one', 'first body line'], ['Page two'], ['Page three', 'a', 'b']];
    expect(await extractPdfPages(await makeTextPdf(pages))).toEqual(pages);
  });

  test('a contract laid out over pages reads back as its text', async () => {
    const pages = await extractPdfPages(await makeContractPdf(MSA_TEXT, 4));
    expect(pages).toHaveLength(3);
    expect(pages.flat().join('\n')).toBe(MSA_TEXT);
  });

  test('reads a 250-page PDF', async () => {
    const pages = Array.from({ length: 250 }, (_v, i) => [`Schedule ${i + 1}`, `Clause ${i + 1}.1 applies to page ${i + 1} only.`]);
    expect(await extractPdfPages(await makeTextPdf(pages))).toEqual(pages);
  });

  test('an image-only (scanned) page has no line', async () => {
    expect(await extractPdfPages(await makeScannedPdf(2))).toEqual([[], []]);
  });

  test('blank pages have no line', async () => {
    expect(await extractPdfPages(await makeTextPdf([['text'], []]))).toEqual([['text'], []]);
  });

  test('reads TJ kerning gaps as spaces, literal escapes, \', composite fonts via ToUnicode, and Form XObjects', async () => {
    expect(await extractPdfPages(await makeRawOperatorsPdf())).toEqual([[
      'Hello World',
      'Escapes: (a) \\ AB',
      'next line',
      'CabcéXY',
      'Inside a form',
    ]]);
  });

  test('a glyph whose ToUnicode is a ligature (U+FB01) reads as its letters: "indemniﬁcation" is "indemnification"', async () => {
    expect(await extractPdfPages(await makeLigaturePdf())).toEqual([['Indemnification and confidential office flows']]);
  });

  test('text drawn outside the page is not read (it is not printed; Textract would not see it)', async () => {
    const doc = await PDFDocument.create({ updateMetadata: false });
    const font = await doc.embedFont(StandardFonts.Helvetica);
    const page = doc.addPage([300, 300]);
    page.drawText('on the page', { x: 20, y: 200, size: 11, font });
    page.drawText('off the page', { x: 400, y: 100, size: 11, font });
    expect(await extractPdfPages(await doc.save())).toEqual([['on the page']]);
  });

  test('leaves the caller\'s bytes whole (pdf.js takes ownership of what it is given)', async () => {
    const bytes = await makeTextPdf([['kept']]);
    const before = Buffer.from(bytes);
    await extractPdfPages(bytes);
    expect(Buffer.from(bytes)).toEqual(before);
  });

  test.each([
    ['garbage after the header', () => Promise.resolve(makeCorruptPdf())],
    ['a truncated file', () => makeTruncatedPdf(3)],
    ['not a PDF at all', () => Promise.resolve(Buffer.from('hello, world'))],
    ['an empty file', () => Promise.resolve(new Uint8Array())],
  ])('%s is Document.Corrupt', async (_what, make) => {
    await expect(extractPdfPages(await make())).rejects.toMatchObject({ name: ErrorNames.DOCUMENT_CORRUPT, message: 'the PDF cannot be parsed' });
  });

  test('a PDF that needs a password is Document.Encrypted', async () => {
    await expect(extractPdfPages(await makeEncryptedPdf())).rejects.toMatchObject({ name: ErrorNames.DOCUMENT_ENCRYPTED });
  });

  test('a PDF encrypted with an owner password only (it opens without one) is Document.Encrypted, as in the preflight', async () => {
    await expect(extractPdfPages(fixturePdf('encrypted-owner-password'))).rejects.toMatchObject({ name: ErrorNames.DOCUMENT_ENCRYPTED });
  });
});

describe('normalizeLine', () => {
  test('folds the ligatures ﬀ ﬁ ﬂ ﬃ ﬄ ﬅ ﬆ into their letters, collapses whitespace, trims', () => {
    expect(normalizeLine('  e\uFB00ect  con\uFB01dential\t\uFB02ow o\uFB03ce ba\uFB04e  \uFB05 \uFB06 ')).toBe('effect confidential flow office baffle st st');
  });

  test('leaves other compatibility characters as they are (only the ligatures are folded)', () => {
    expect(normalizeLine('½ m² ™ ﬃ')).toBe('½ m² ™ ffi');
  });
});

describe('contracts printed by real producers, against poppler (pdftotext)', () => {
  test.each(PDF_PRODUCERS.map((p) => [p]))('%s: word recall against the committed pdftotext reference is at least 0.98', async (producer) => {
    const pages = await extractPdfPages(fixturePdf(producer));
    const reference = fixtureReference(producer);
    // pdftotext ends every page with a form feed.
    expect(pages.length).toBe(reference.split('\f').length - 1);
    expect(wordRecall(reference, textOf(pages))).toBeGreaterThanOrEqual(0.98);
  });

  test('Chromium sets "Indemnification", "confidential" and "office" with ligature glyphs: they read as letters', async () => {
    const text = textOf(await extractPdfPages(fixturePdf('chromium')));
    expect(text).not.toMatch(/[\uFB00-\uFB06]/);
    expect(text).toMatch(/^4\. Indemnification$/m);
    expect(text).toContain('Customer\'s indemnification of Provider');
    expect(text).toContain('marked confidential');
    expect(text).toContain('compliance officer');
  });

  test('the table rows read as one line each', async () => {
    const lines = (await extractPdfPages(fixturePdf('chromium')))[0];
    expect(lines).toEqual(expect.arrayContaining([
      'Service Monthly fee Term',
      'Office fit-out 12,500 USD 12 months',
      'Filing and archiving 3,200 USD 24 months',
    ]));
  });

  test('live pdftotext (when poppler-utils is installed) agrees with the committed references, and so do we', async () => {
    const live = PDF_PRODUCERS.map((p) => ({ producer: p, text: pdftotext(path.join(PDF_FIXTURES_DIR, `${p}.pdf`)) }));
    if (live.some((l) => l.text === undefined)) {
      process.stdout.write('pdf-text.test: poppler-utils is missing (no pdftotext on PATH): the live comparison with poppler was NOT run; '
        + 'install it with `apt-get install poppler-utils`.\n');
      return;
    }
    for (const { producer, text } of live) {
      expect({ producer, recall: wordRecall(fixtureReference(producer), text!) }).toEqual({ producer, recall: 1 });
      const ours = textOf(await extractPdfPages(fixturePdf(producer)));
      expect({ producer, recall: wordRecall(text!, ours) >= 0.98 }).toEqual({ producer, recall: true });
    }
  });
});

describe('wordRecall', () => {
  test('is the share of the reference\'s words (a multiset, lowercase) that the reading has', () => {
    expect(wordRecall('The fee, the FEE.', 'the fee the fee')).toBe(1);
    expect(wordRecall('the fee the fee', 'The fee')).toBe(0.5);
    expect(wordRecall('confidential office', 'conﬁdential oﬃce')).toBe(0);
    expect(wordRecall('Services made', 'Servicesmade')).toBe(0);
    expect(wordRecall('', 'anything')).toBe(1);
  });
});
