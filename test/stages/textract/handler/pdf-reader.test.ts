/**
 * The preflight's own PDF reader (ADR-0033) against the whole pdf-lib, which the preflight used
 * before: the same verdict (page count and active content, or encrypted, or corrupt) on PDFs from
 * real producers, on those PDFs cut short, on byte-level damage, and on the structures a reader can
 * get wrong (incremental updates, object streams, cross-reference streams, a recovered root, a page
 * tree that contains itself).
 */
import * as fs from 'fs';
import * as path from 'path';
import { deflateSync } from 'zlib';
import { PDFDocument } from 'pdf-lib';
import { readPdfStructure } from '../../../../src/stages/textract/handler/pdf-reader';
import { checkInflatedSize, inspectDocument, readPdf } from '../../../../src/stages/textract/handler/preflight';
import { pdfLibVerdict, PdfVerdict } from '../../../helpers/pdf-lib-oracle';

const ROOT = path.join(__dirname, '../../../..');
const FIXTURES = path.join(ROOT, 'test/cli/local/adapters/fixtures/pdf');
const SAMPLES = path.join(ROOT, 'examples/legal-contracts/samples');

async function readerVerdict(bytes: Uint8Array): Promise<PdfVerdict> {
  try {
    return await readPdf(bytes);
  } catch (err: any) {
    return err.name;
  }
}

/** A PDF of `objects` (numbered from 1) in file order, a cross-reference table, and a trailer with `trailer` in it. */
function pdf(objects: ReadonlyArray<string | Buffer>, trailer = '/Root 1 0 R', options: { first?: number; header?: string } = {}): Buffer {
  const parts: Buffer[] = [Buffer.from(options.header ?? '%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1')];
  let at = parts[0].length;
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    const part = Buffer.concat([Buffer.from(`${(options.first ?? 1) + i} 0 obj\n`, 'latin1'), Buffer.isBuffer(body) ? body : Buffer.from(body, 'latin1'), Buffer.from('\nendobj\n')]);
    offsets.push(at);
    parts.push(part);
    at += part.length;
  });
  const xref = `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  parts.push(Buffer.from(`${xref}trailer\n<< /Size ${objects.length + 1} ${trailer} >>\nstartxref\n${at}\n%%EOF\n`, 'latin1'));
  return Buffer.concat(parts);
}

/** A stream object's text: its dictionary entries, then `data`. */
function stream(entries: string, data: Buffer | string): Buffer {
  const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data, 'latin1');
  return Buffer.concat([Buffer.from(`<< ${entries} /Length ${bytes.length} >>\nstream\n`, 'latin1'), bytes, Buffer.from('\nendstream', 'latin1')]);
}

const CATALOG = '<< /Type /Catalog /Pages 2 0 R >>';
const page = (parent = 2) => `<< /Type /Page /Parent ${parent} 0 R /MediaBox [0 0 200 200] >>`;

/** An object stream holding `objects` (numbered from `first`), its data passed through `encode`. */
function objectStream(objects: string[], first: number, filter: string, encode: (data: Buffer) => Buffer | string): Buffer {
  let header = '';
  let body = '';
  for (const [i, o] of objects.entries()) {
    header += `${first + i} ${body.length} `;
    body += `${o}\n`;
  }
  return stream(`/Type /ObjStm /N ${objects.length} /First ${header.length} /Filter ${filter}`, encode(Buffer.from(header + body, 'latin1')));
}

const ascii85 = (data: Buffer): string => {
  let out = '';
  for (let i = 0; i < data.length; i += 4) {
    const chunk = Buffer.concat([data.subarray(i, i + 4), Buffer.alloc(4)]).subarray(0, 4);
    let value = chunk.readUInt32BE(0);
    const digits: string[] = [];
    for (let k = 0; k < 5; k++) {
      digits.unshift(String.fromCharCode(33 + (value % 85)));
      value = Math.floor(value / 85);
    }
    out += digits.slice(0, Math.min(4, data.length - i) + 1).join('');
  }
  return `${out}~>`;
};

/** Structures a reader can get wrong, each with the verdict it must give. */
/** `deflated`: the structure is inside deflate data, where byte damage reads differently by design (see below). */
const CASES: Array<{ name: string; bytes: () => Buffer | Promise<Uint8Array>; expect: PdfVerdict; deflated?: true }> = [
  { name: 'two pages', bytes: () => pdf([CATALOG, '<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >>', page(), page()]), expect: { pages: 2, activeContent: [] } },
  {
    name: 'a nested page tree, and a kid that is no page (skipped)',
    bytes: () => pdf([CATALOG, '<< /Type /Pages /Kids [3 0 R 5 0 R 6 0 R] /Count 3 >>', '<< /Type /Pages /Kids [4 0 R 7 0 R] /Parent 2 0 R >>', page(3), page(), '<< /Foo 1 >>', page(3)]),
    expect: { pages: 3, activeContent: [] },
  },
  {
    name: 'an incremental update: the later page tree replaces the earlier one',
    bytes: () => Buffer.concat([
      pdf([CATALOG, '<< /Type /Pages /Kids [3 0 R] /Count 1 >>', page()]),
      Buffer.from(`2 0 obj\n<< /Type /Pages /Kids [3 0 R 4 0 R 4 0 R] /Count 3 >>\nendobj\n4 0 obj\n${page()}\nendobj\ntrailer\n<< /Size 5 /Root 1 0 R /Prev 9 >>\nstartxref\n9\n%%EOF\n`, 'latin1'),
    ]),
    expect: { pages: 3, activeContent: [] },
  },
  {
    name: 'no /Root in the trailer: the last catalog is the root',
    bytes: () => pdf(['<< /Type /Catalog /Pages 9 0 R >>', '<< /Type /Pages /Kids [3 0 R] /Count 1 >>', page(), '<< /Type /Catalog /Pages 2 0 R >>'], ''),
    expect: { pages: 1, activeContent: [] },
  },
  {
    name: 'a /Root that is no catalog is replaced by the catalog found',
    bytes: () => pdf(['<< /Type /Pages /Kids [] >>', '<< /Type /Pages /Kids [3 0 R] /Count 1 >>', page(), CATALOG], '/Root 1 0 R'),
    expect: { pages: 1, activeContent: [] },
  },
  { name: 'a page tree that contains itself', bytes: () => pdf([CATALOG, '<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 1 >>', page()]), expect: 'Document.Corrupt' },
  { name: '/Kids that is no array', bytes: () => pdf([CATALOG, '<< /Type /Pages /Kids 3 0 R /Count 1 >>', page()]), expect: 'Document.Corrupt' },
  { name: '/Pages that is a page', bytes: () => pdf(['<< /Type /Catalog /Pages 3 0 R >>', '<< /Type /Pages /Kids [3 0 R] >>', page()]), expect: 'Document.Corrupt' },
  { name: 'no pages', bytes: () => pdf([CATALOG, '<< /Type /Pages /Kids [] /Count 0 >>']), expect: 'Document.Corrupt' },
  {
    name: 'an object that cannot be read is skipped up to its endobj',
    bytes: () => pdf([CATALOG, '<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >>', page(), '<< /Type /Page /Parent 2 0 R >>', '<< /Broken ) >>']),
    expect: { pages: 2, activeContent: [] },
  },
  { name: 'an object with no endobj (the file cannot be read)', bytes: () => Buffer.from(`%PDF-1.7\n1 0 obj\n${CATALOG}\nendobj\n2 0 obj\n<< /Broken ) >>\n`, 'latin1'), expect: 'Document.Corrupt' },
  {
    name: 'streams whose /Length is wrong or indirect, and one whose data says "stream"',
    bytes: () => pdf([
      CATALOG, '<< /Type /Pages /Kids [3 0 R] /Count 1 >>', page(),
      Buffer.from('<< /Length 3 >>\nstream\nnot three bytes\nendstream', 'latin1'),
      Buffer.from('<< /Length 9 0 R >>\nstream\nsome stream data\nendstream', 'latin1'),
      Buffer.from('<< >>\nstream\nBT (inner stream ... endstream) ET\nendstream', 'latin1'),
    ]),
    expect: { pages: 1, activeContent: [] },
  },
  {
    name: 'comments, junk between objects, and two %%EOF',
    bytes: () => Buffer.concat([pdf([CATALOG, '<< /Type /Pages % a comment\n /Kids [3 0 R] /Count 1 >>', page()]), Buffer.from('%%EOF\ngarbage here\n', 'latin1')]),
    expect: { pages: 1, activeContent: [] },
  },
  {
    name: 'pages in a Flate object stream, the trailer in a cross-reference stream',
    bytes: () => pdf([
      objectStream([CATALOG, '<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >>', page(), page()], 1, '/FlateDecode', deflateSync),
      stream('/Type /XRef /Size 6 /W [1 1 1] /Root 1 0 R', deflateSync(Buffer.alloc(18))),
    ], '', { first: 5 }),
    expect: { pages: 2, activeContent: [] },
    deflated: true,
  },
  {
    name: 'an object stream in ASCIIHex, and one in ASCII85 over Flate',
    bytes: () => pdf([
      objectStream([CATALOG, '<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >>'], 1, '/ASCIIHexDecode', (d) => `${d.toString('hex')}>`),
      objectStream([page(), page()], 3, '[/ASCII85Decode /FlateDecode]', (d) => ascii85(deflateSync(d))),
    ], '/Root 1 0 R', { first: 5 }),
    expect: { pages: 2, activeContent: [] },
    deflated: true,
  },
  {
    name: 'an object stream in RunLength (literal runs and a repeated run)',
    bytes: () => pdf([
      objectStream([CATALOG, '<< /Type /Pages /Kids [3 0 R] /Count 1 >>', page()], 1, '/RunLengthDecode', (d) => {
        const runs: Buffer[] = [];
        for (let i = 0; i < d.length; i += 128) runs.push(Buffer.from([Math.min(128, d.length - i) - 1]), d.subarray(i, i + 128));
        // 20 spaces as one repeated run (257 - 237), then the end of data.
        return Buffer.concat([...runs, Buffer.from([237, 0x20, 128])]);
      }),
    ], '/Root 1 0 R', { first: 4 }),
    expect: { pages: 1, activeContent: [] },
  },
  {
    name: 'a cross-reference stream that names an encryption',
    bytes: () => pdf([CATALOG, '<< /Type /Pages /Kids [3 0 R] /Count 1 >>', page(), '<< /Filter /Standard /V 1 /R 2 >>', stream('/Type /XRef /Size 6 /W [1 1 1] /Root 1 0 R /Encrypt 4 0 R', Buffer.alloc(18))], ''),
    expect: 'Document.Encrypted',
  },
  {
    name: 'an /Encrypt reference to no object is no encryption',
    bytes: () => pdf([CATALOG, '<< /Type /Pages /Kids [3 0 R] /Count 1 >>', page()], '/Root 1 0 R /Encrypt 99 0 R'),
    expect: { pages: 1, activeContent: [] },
  },
  {
    name: 'active content: an escaped /JavaScript, a Launch written as a string, files, XFA, deep in arrays',
    bytes: () => pdf([
      '<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /J#61vaScript /JS (app.alert\\(1\\)) >> /AcroForm << /XFA [(x) 5 0 R] >> >>',
      '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
      '<< /Type /Page /Parent 2 0 R /AA << /O << /S (Launch) /F (cmd.exe) >> >> /Annots [[<< /Names << /EmbeddedFiles 6 0 R >> >>]] >>',
    ]),
    expect: { pages: 1, activeContent: ['EmbeddedFiles', 'JavaScript', 'Launch', 'XFA'] },
  },
  {
    name: 'names that are properties of every JavaScript object are no active content',
    bytes: () => pdf([
      '<< /Type /Catalog /Pages 2 0 R /constructor 1 /OpenAction << /S /toString /__proto__ (x) >> >>',
      '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
      '<< /Type /Page /Parent 2 0 R /AA << /O << /Subtype (hasOwnProperty) >> >> >>',
    ]),
    expect: { pages: 1, activeContent: [] },
  },
  { name: 'no header version', bytes: () => Buffer.from(`%PDF-x\n1 0 obj\n${CATALOG}\nendobj\n`, 'latin1'), expect: 'Document.Corrupt' },
  {
    name: 'pdf-lib\'s own output, with object streams',
    bytes: async () => {
      const doc = await PDFDocument.create({ updateMetadata: false });
      for (let i = 0; i < 12; i++) doc.addPage([200, 200]);
      return doc.save({ useObjectStreams: true });
    },
    expect: { pages: 12, activeContent: [] },
    deflated: true,
  },
];

describe('structures', () => {
  test.each(CASES.map((c) => [c.name, c]))('%s', async (_name, c) => {
    const bytes = new Uint8Array(await c.bytes());
    expect(await readerVerdict(bytes)).toEqual(c.expect);
    expect(await pdfLibVerdict(bytes)).toEqual(c.expect);
  });
});

/** PDFs made by tools we did not write: the fixtures' producers, the example's samples, and PDFs that Debian packages ship. */
function realPdfs(): string[] {
  const debian = ['/usr/share/doc/libtasn1-doc/libtasn1.pdf', '/usr/share/doc/shared-mime-info/shared-mime-info-spec.pdf'];
  const missing = debian.filter((f) => !fs.existsSync(f));
  if (missing.length > 0) {
    // eslint-disable-next-line no-console
    console.log(`pdf-reader: not on this machine, so not compared: ${missing.join(', ')} (Debian packages libtasn1-doc, shared-mime-info)`);
  }
  return [
    ...fs.readdirSync(FIXTURES).filter((f) => f.endsWith('.pdf')).map((f) => path.join(FIXTURES, f)),
    ...fs.readdirSync(SAMPLES).filter((f) => f.endsWith('.pdf')).map((f) => path.join(SAMPLES, f)),
    ...debian.filter((f) => fs.existsSync(f)),
  ];
}

describe('real PDFs: the same verdict as pdf-lib, whole and cut short', () => {
  test.each(realPdfs().map((f) => [path.basename(f), f]))('%s', async (_name, file) => {
    const bytes = new Uint8Array(fs.readFileSync(file));
    const whole = await pdfLibVerdict(bytes);
    expect(await readerVerdict(bytes)).toEqual(whole);
    for (let i = 1; i <= 6; i++) {
      const cut = bytes.slice(0, Math.floor((bytes.length * i) / 7));
      expect([i, await readerVerdict(cut)]).toEqual([i, await pdfLibVerdict(cut)]);
    }
  });

  test('the corpus holds several producers, object streams, an encrypted file and a corrupt one', async () => {
    const verdicts = await Promise.all(realPdfs().map(async (f) => pdfLibVerdict(new Uint8Array(fs.readFileSync(f)))));
    expect(verdicts).toContain('Document.Encrypted');
    expect(verdicts).toContain('Document.Corrupt');
    const texts = realPdfs().map((f) => fs.readFileSync(f).toString('latin1'));
    expect(texts.filter((t) => t.includes('/ObjStm')).length).toBeGreaterThanOrEqual(2);
    // LibreOffice writes its name in UTF-16 hex.
    for (const producer of ['004C0069006200720065004F0066006600690063006500', 'Ghostscript', 'Skia', 'gropdf']) {
      expect([producer, texts.some((t) => t.includes(producer))]).toEqual([producer, true]);
    }
  });
});

describe('byte damage outside compressed data: the same verdict as pdf-lib', () => {
  // One byte changed at a time, in PDFs without compressed streams (inside deflate data the two readers'
  // inflaters differ by design: pdf-lib's does not check the checksum nor stop at every error; ADR-0033).
  const seeds = (): Array<[string, Buffer]> => CASES.filter((c) => !c.deflated).map((c) => [c.name, c.bytes() as Buffer]);
  test.each(seeds())('%s', async (_name, bytes) => {
    let seed = bytes.length;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const alphabet = Buffer.from('0123456789 \n<>[]()/%RobjendstreamxrefPageKids#-.', 'latin1');
    for (let i = 0; i < 40; i++) {
      const at = Math.floor(random() * bytes.length);
      const damaged = Buffer.from(bytes);
      damaged[at] = alphabet[Math.floor(random() * alphabet.length)];
      expect([at, await readerVerdict(damaged)]).toEqual([at, await pdfLibVerdict(damaged)]);
    }
  });
});

test('readPdfStructure reports what it found without judging it', () => {
  expect(readPdfStructure(pdf([CATALOG, '<< /Type /Pages /Kids [] /Count 0 >>'], '/Root 1 0 R /Encrypt << /Filter /Standard >>'))).toEqual({
    encrypted: true, pages: 0, activeContent: [],
  });
  expect(() => readPdfStructure(Buffer.from('no header here'))).toThrow(/no header/);
});

describe('decoded bytes are bounded', () => {
  // A Flate stream under ASCII85 is no zlib data in the file: the preflight's check of inflated bytes
  // cannot see it, so the reader bounds what it decodes itself.
  const hiddenBomb = () => pdf([
    objectStream([CATALOG, '<< /Type /Pages /Kids [3 0 R] /Count 1 >>', page(), `<< /Padding (${'x'.repeat(4 * 1024 * 1024)}) >>`], 1, '[/ASCII85Decode /FlateDecode]', (d) => ascii85(deflateSync(d))),
  ], '/Root 1 0 R', { first: 5 });
  const limits = { maxDocumentBytes: 10 * 1024 * 1024, maxPages: 10, maxDecompressedBytes: 1024 * 1024 };

  test('a hidden Flate stream that decodes past the limit is Document.TooLarge, naming the limit', async () => {
    const bytes = hiddenBomb();
    expect(bytes.length).toBeLessThan(100 * 1024);
    await expect(checkInflatedSize(bytes, limits.maxDecompressedBytes)).resolves.toBe(0);
    await expect(inspectDocument(bytes, limits)).rejects.toMatchObject({ name: 'Document.TooLarge', message: expect.stringContaining('1048576 bytes') });
  });

  test('under the limit, the same PDF is read', async () => {
    await expect(inspectDocument(hiddenBomb(), { ...limits, maxDecompressedBytes: 8 * 1024 * 1024 })).resolves.toMatchObject({ pages: 1, mode: 'sync' });
  });
});
