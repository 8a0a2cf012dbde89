import { PDFDocument } from 'pdf-lib';
import {
  checkSize,
  countPdfPages,
  IMAGE_MAX_BYTES,
  inspectDocument,
  needsFullRead,
  sniffType,
  SYNC_MAX_BYTES,
} from '../../../../src/stages/textract/handler/preflight';
import {
  ImageFixtures,
  makeCorruptPdf,
  makeEncryptedPdf,
  makePdf,
  makeTruncatedPdf,
} from '../../../helpers/handler-test-kit';

const LIMITS = { maxDocumentBytes: 50 * 1024 * 1024, maxPages: 10 };

// pdf-lib reports what it cannot parse on console.warn: keep the test output readable.
let warn: jest.SpyInstance;
beforeAll(() => { warn = jest.spyOn(console, 'warn').mockImplementation(() => {}); });
afterAll(() => warn.mockRestore());

describe('sniffType', () => {
  test.each([
    ['png', ImageFixtures.png()],
    ['jpeg', ImageFixtures.jpeg()],
    ['tiff', ImageFixtures.tiffLittleEndian()],
    ['tiff', ImageFixtures.tiffBigEndian()],
  ])('recognizes %s by its magic bytes', (type, bytes) => {
    expect(sniffType(bytes)).toBe(type);
  });

  test('recognizes a PDF', async () => {
    expect(sniffType(await makePdf())).toBe('pdf');
  });

  test.each([
    ['gif', ImageFixtures.gif()],
    ['text', ImageFixtures.text()],
    ['too short', new Uint8Array([0x25, 0x50])],
    ['empty', new Uint8Array()],
  ])('returns undefined for %s', (_name, bytes) => {
    expect(sniffType(bytes)).toBeUndefined();
  });

  test('only a PDF needs the whole object', () => {
    expect(needsFullRead('pdf')).toBe(true);
    expect(needsFullRead('png')).toBe(false);
    expect(needsFullRead('tiff')).toBe(false);
    expect(needsFullRead(undefined)).toBe(false);
  });
});

describe('checkSize', () => {
  test('0 bytes is Document.Empty', () => {
    expect(() => checkSize(0, LIMITS)).toThrow(expect.objectContaining({ name: 'Document.Empty' }));
  });

  test('over maxDocumentBytes is Document.TooLarge, naming size and limit', () => {
    expect(() => checkSize(101, { maxDocumentBytes: 100, maxPages: 1 }))
      .toThrow(expect.objectContaining({ name: 'Document.TooLarge', message: "the document is 101 bytes, over the stage's limit of 100 bytes" }));
  });

  test('exactly maxDocumentBytes passes', () => {
    expect(() => checkSize(100, { maxDocumentBytes: 100, maxPages: 1 })).not.toThrow();
  });
});

describe('inspectDocument', () => {
  test('a single-page PDF is extracted synchronously', async () => {
    const bytes = await makePdf(1);
    await expect(inspectDocument(bytes, LIMITS)).resolves.toEqual({ type: 'pdf', size: bytes.length, pages: 1, mode: 'sync', activeContent: [] });
  });

  test('a multi-page PDF goes async', async () => {
    const bytes = await makePdf(3);
    await expect(inspectDocument(bytes, LIMITS)).resolves.toEqual({ type: 'pdf', size: bytes.length, pages: 3, mode: 'async', activeContent: [] });
  });

  test('a single-page PDF over the sync limit goes async', async () => {
    const bytes = await makePdf(1);
    await expect(inspectDocument(bytes, LIMITS, SYNC_MAX_BYTES + 1)).resolves.toMatchObject({ pages: 1, mode: 'async' });
  });

  test('more pages than maxPages is Document.TooLarge', async () => {
    await expect(inspectDocument(await makePdf(4), { ...LIMITS, maxPages: 3 }))
      .rejects.toMatchObject({ name: 'Document.TooLarge', message: "the document has 4 pages, over the stage's limit of 3 pages" });
  });

  test('an encrypted PDF is Document.Encrypted', async () => {
    const bytes = await makeEncryptedPdf();
    // The fixture really looks encrypted to pdf-lib:
    await expect(PDFDocument.load(bytes)).rejects.toThrow(/is encrypted/);
    await expect(inspectDocument(bytes, LIMITS)).rejects.toMatchObject({ name: 'Document.Encrypted' });
  });

  test('garbage after %PDF- is Document.Corrupt', async () => {
    await expect(inspectDocument(makeCorruptPdf(), LIMITS)).rejects.toMatchObject({ name: 'Document.Corrupt' });
  });

  test('a truncated PDF is Document.Corrupt', async () => {
    await expect(inspectDocument(await makeTruncatedPdf(), LIMITS)).rejects.toMatchObject({ name: 'Document.Corrupt' });
  });

  test('countPdfPages counts pages', async () => {
    await expect(countPdfPages(await makePdf(5))).resolves.toBe(5);
  });

  test.each([
    ['png', ImageFixtures.png()],
    ['jpeg', ImageFixtures.jpeg()],
  ])('a %s image is one page, sync', async (type, bytes) => {
    await expect(inspectDocument(bytes, LIMITS, 5000)).resolves.toEqual({ type, size: 5000, pages: 1, mode: 'sync', activeContent: [] });
  });

  test('an image over 10 MiB is Document.TooLarge (Textract limit)', async () => {
    await expect(inspectDocument(ImageFixtures.png(), LIMITS, IMAGE_MAX_BYTES + 1))
      .rejects.toMatchObject({ name: 'Document.TooLarge' });
  });

  test.each([
    ['little endian', ImageFixtures.tiffLittleEndian()],
    ['big endian', ImageFixtures.tiffBigEndian()],
  ])('a TIFF (%s) goes async with an unknown page count', async (_name, bytes) => {
    await expect(inspectDocument(bytes, LIMITS, 9000)).resolves.toEqual({ type: 'tiff', size: 9000, mode: 'async', activeContent: [] });
  });

  test('any other type is Document.UnsupportedType', async () => {
    await expect(inspectDocument(ImageFixtures.gif(), LIMITS)).rejects.toMatchObject({ name: 'Document.UnsupportedType' });
    await expect(inspectDocument(ImageFixtures.text(), LIMITS)).rejects.toMatchObject({ name: 'Document.UnsupportedType' });
  });

  test('size is checked before the type', async () => {
    await expect(inspectDocument(new Uint8Array(), LIMITS)).rejects.toMatchObject({ name: 'Document.Empty' });
  });
});
