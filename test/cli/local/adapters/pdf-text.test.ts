import { makeRawOperatorsPdf, makeScannedPdf, makeTextPdf, MSA_TEXT, makeContractPdf } from './fixtures';
import { extractPdfPages } from '../../../../src/cli/local/adapters/pdf-text';
import { ErrorNames } from '../../../../src/shared';
import { makeCorruptPdf, makeEncryptedPdf, makeTruncatedPdf } from '../../../helpers/handler-test-kit';

// pdf-lib reports what it cannot parse on console.warn.
let warn: jest.SpyInstance;
beforeAll(() => { warn = jest.spyOn(console, 'warn').mockImplementation(() => {}); });
afterAll(() => warn.mockRestore());

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
    const started = Date.now();
    const out = await extractPdfPages(await makeTextPdf(pages));
    expect(out).toEqual(pages);
    expect(Date.now() - started).toBeLessThan(20_000);
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

  test('is deterministic', async () => {
    const bytes = await makeTextPdf([['same'], ['text']]);
    expect(await extractPdfPages(bytes)).toEqual(await extractPdfPages(bytes));
  });

  test.each([
    ['garbage after the header', () => Promise.resolve(makeCorruptPdf())],
    ['a truncated file', () => makeTruncatedPdf(3)],
    ['not a PDF at all', () => Promise.resolve(Buffer.from('hello, world'))],
  ])('%s is Document.Corrupt', async (_what, make) => {
    await expect(extractPdfPages(await make())).rejects.toMatchObject({ name: ErrorNames.DOCUMENT_CORRUPT });
  });

  test('an encrypted PDF is Document.Encrypted', async () => {
    await expect(extractPdfPages(await makeEncryptedPdf())).rejects.toMatchObject({ name: ErrorNames.DOCUMENT_ENCRYPTED });
  });
});
