import { deflateSync } from 'zlib';
import { PDFDocument, PDFName } from 'pdf-lib';
import {
  checkInflatedSize,
  checkSize,
  countPdfPages,
  DEFAULT_MAX_DECOMPRESSED_BYTES,
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

describe('image structure (not only the first bytes)', () => {
  const tiffLE = () => Buffer.from(ImageFixtures.tiffLittleEndian());

  test.each([
    ['a TIFF header and nothing else', Buffer.from([0x49, 0x49, 0x2a, 0x00, 0x08, 0x00, 0x00, 0x00]), /first image file directory offset \(8\) is outside the file \(8 bytes\)/],
    ['a TIFF header, then text', Buffer.concat([Buffer.from([0x4d, 0x4d, 0x00, 0x2a, 0x00, 0x00, 0x00, 0x08]), Buffer.from('this is not an image file directory at all, only words')]), /does not fit in the file|unknown field type/],
    ['a TIFF whose directory offset points past the end', (() => { const b = tiffLE(); b.writeUInt32LE(5000, 4); return b; })(), /offset \(5000\) is outside the file/],
    ['a TIFF directory with no entries', (() => { const b = tiffLE(); b.writeUInt16LE(0, 8); return b; })(), /\(0 entries at offset 8\)/],
    ['a TIFF directory entry of an unknown type', (() => { const b = tiffLE(); b.writeUInt16LE(99, 12); return b; })(), /entry 0 \(tag 256\) has an unknown field type 99/],
    ['a TIFF with no strip or tile offsets', (() => { const b = tiffLE(); b.writeUInt16LE(279, 34); return b; })(), /no strip or tile offsets/],
    ['a TIFF whose image data lies past the end', (() => { const b = tiffLE(); b.writeUInt32LE(9999, 42); return b; })(), /image data offset is outside the file/],
    ['a TIFF whose next directory lies past the end', (() => { const b = tiffLE(); b.writeUInt32LE(4000, 58); return b; })(), /next image file directory offset \(4000\)/],
    ['a PNG signature and nothing else', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), /no IHDR chunk/],
    ['a PNG whose IHDR fails its CRC', (() => { const b = Buffer.from(ImageFixtures.png()); b[29] = 255 - b[29]; return b; })(), /fails its CRC/],
    ['a PNG of 0 pixels', (() => { const b = Buffer.from(ImageFixtures.png()); b.writeUInt32BE(0, 16); return b; })(), /names no valid image/],
    ['a JPEG start marker, then zeros', Buffer.from([0xff, 0xd8, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00]), /no valid marker segment/],
  ])('%s is Document.Corrupt', async (_what, bytes, message) => {
    await expect(inspectDocument(bytes, LIMITS)).rejects.toMatchObject({ name: 'Document.Corrupt', message: expect.stringMatching(message) });
  });

  test('a TIFF whose directory sits at the end of the file is read by range, and accepted', async () => {
    // Header, 4 KiB of image data, then the directory (as many writers lay it out).
    const b = Buffer.alloc(8 + 4096 + 62);
    const dir = Buffer.from(ImageFixtures.tiffLittleEndian()).subarray(8, 62);
    b.write('II', 0, 'latin1');
    b.writeUInt16LE(42, 2);
    b.writeUInt32LE(8 + 4096, 4);
    dir.copy(b, 8 + 4096);
    b.writeUInt32LE(8, 8 + 4096 + 2 + 2 * 12 + 8); // StripOffsets: the data at 8
    const reads: string[] = [];
    const read = async (start: number, end: number) => { reads.push(`${start}-${end}`); return b.subarray(start, end + 1); };
    await expect(inspectDocument(b.subarray(0, 64), LIMITS, b.length, read)).resolves.toEqual({ type: 'tiff', size: b.length, mode: 'async', activeContent: [] });
    expect(reads).toEqual(['4104-4105', '4104-4157']);
  });
});

describe('decompressed bytes', () => {
  /** A one-page PDF with a FlateDecode content stream that inflates to `mib` MiB. */
  async function bomb(mib: number, filterName = 'FlateDecode'): Promise<Uint8Array> {
    const doc = await PDFDocument.create();
    const page = doc.addPage([612, 792]);
    const stream = doc.context.stream(deflateSync(Buffer.alloc(mib * 1024 * 1024, 0x20), { level: 9 }), { Filter: filterName });
    page.node.set(PDFName.of('Contents'), doc.context.register(stream));
    return doc.save({ useObjectStreams: false });
  }

  test('a Flate bomb over the limit is Document.TooLarge, naming the limit', async () => {
    const bytes = await bomb(8);
    expect(bytes.length).toBeLessThan(64 * 1024);
    await expect(inspectDocument(bytes, { ...LIMITS, maxDecompressedBytes: 4 * 1024 * 1024 }))
      .rejects.toMatchObject({ name: 'Document.TooLarge', message: 'the PDF\'s streams inflate to more than 4194304 bytes (the stage\'s limit on decompressed bytes)' });
  });

  test('the filter name does not matter (an escaped or missing /FlateDecode is still counted)', async () => {
    await expect(inspectDocument(await bomb(8, 'Fl#61teDecode'), { ...LIMITS, maxDecompressedBytes: 4 * 1024 * 1024 }))
      .rejects.toMatchObject({ name: 'Document.TooLarge' });
  });

  test('under the limit, the same PDF passes; the default limit is 256 MiB', async () => {
    expect(DEFAULT_MAX_DECOMPRESSED_BYTES).toBe(256 * 1024 * 1024);
    const bytes = await bomb(8);
    await expect(inspectDocument(bytes, { ...LIMITS, maxDecompressedBytes: 9 * 1024 * 1024 })).resolves.toMatchObject({ type: 'pdf', pages: 1 });
    await expect(inspectDocument(bytes, LIMITS)).resolves.toMatchObject({ type: 'pdf', pages: 1 });
    // Every inflated byte of the content stream counts (plus pdf-lib's own small streams, if any).
    expect(await checkInflatedSize(bytes, 64 * 1024 * 1024)).toBeGreaterThanOrEqual(8 * 1024 * 1024);
    // Counting stops just past the limit: it never inflates the whole bomb.
    const past = await checkInflatedSize(bytes, 1024).catch((e) => e);
    expect(past.name).toBe('Document.TooLarge');
  });

  /** Bytes holding each of `streams` between `stream` and `endstream`, as a PDF's objects hold them. */
  function withStreams(streams: Buffer[]): Uint8Array {
    return Buffer.concat(streams.flatMap((data, i) => [Buffer.from(`${i + 1} 0 obj\n<< >>\nstream\n`), data, Buffer.from('\nendstream\nendobj\n')]));
  }

  test('small streams (inflated at once) add up: many of them over the limit are Document.TooLarge', async () => {
    // Each compresses to about 1 KiB, far under the in-memory bound; together they inflate to 8 MiB.
    const one = deflateSync(Buffer.alloc(1024 * 1024, 0x20), { level: 9 });
    expect(one.length).toBeLessThan(8 * 1024);
    const bytes = withStreams(Array.from({ length: 8 }, () => one));
    expect(await checkInflatedSize(bytes, 64 * 1024 * 1024)).toBe(8 * 1024 * 1024);
    await expect(checkInflatedSize(bytes, 4 * 1024 * 1024)).rejects.toMatchObject({ name: 'Document.TooLarge' });
  });

  test('a truncated or corrupt small stream counts what inflated before its end or its error', async () => {
    const whole = deflateSync(Buffer.alloc(512 * 1024, 0x41));
    const truncated = whole.subarray(0, Math.floor(whole.length / 2));
    const corrupt = Buffer.concat([truncated, Buffer.alloc(64, 0xff)]);
    for (const data of [truncated, corrupt]) {
      const counted = await checkInflatedSize(withStreams([data]), 64 * 1024 * 1024);
      expect(counted).toBeGreaterThan(0);
      expect(counted).toBeLessThanOrEqual(512 * 1024);
    }
  });
});
