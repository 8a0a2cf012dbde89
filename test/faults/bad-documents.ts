/**
 * Bad documents, made in the test (small; nothing committed): each is named `.pdf`, as an uploader
 * would name it, whatever its bytes are.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { deflateSync } from 'zlib';
import { PDFDocument, PDFHexString, PDFName, PDFString, StandardFonts } from 'pdf-lib';

/** A one-page PDF with some lines of text (Helvetica). */
export async function textPdf(lines: string[], pages = 1): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (let p = 0; p < pages; p++) {
    const page = doc.addPage([612, 792]);
    lines.forEach((line, i) => page.drawText(line, { x: 56, y: 740 - i * 16, size: 11, font }));
  }
  return doc.save();
}

const LINES = ['MUTUAL NON-DISCLOSURE AGREEMENT', 'This Agreement is made between Acme Corp and Beta LLC.', 'Each party shall keep the other party\'s information confidential.'];

/** A PNG of 1x1 pixel. */
const PNG_1PX = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000'
  + '1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082', 'hex');

/** A stored (uncompressed) ZIP holding one small text file. */
function zipFile(): Buffer {
  const name = Buffer.from('contract.txt');
  const data = Buffer.from('not a pdf\n');
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(data.length, 22);
  local.writeUInt16LE(name.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4);
  central.writeUInt16LE(20, 6);
  central.writeUInt32LE(data.length, 20);
  central.writeUInt32LE(data.length, 24);
  central.writeUInt16LE(name.length, 28);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(46 + name.length, 12);
  end.writeUInt32LE(30 + name.length + data.length, 16);
  return Buffer.concat([local, name, data, central, name, end]);
}

/** A PDF whose trailer names a Standard security handler (RC4 128): an encrypted PDF to any reader. */
async function encryptedByHand(): Promise<Uint8Array> {
  const doc = await PDFDocument.load(await textPdf(LINES));
  const encrypt = doc.context.obj({
    Filter: 'Standard',
    V: 2,
    R: 3,
    Length: 128,
    P: -3904,
    O: PDFHexString.of('6b'.repeat(32)),
    U: PDFHexString.of('3c'.repeat(32)),
  });
  doc.context.trailerInfo.Encrypt = doc.context.register(encrypt);
  return doc.save({ useObjectStreams: false });
}

/** A PDF whose catalog opens with JavaScript (the name written with a #xx escape, as droppers do). */
async function withJavaScript(pages = 1): Promise<Uint8Array> {
  const doc = await PDFDocument.load(await textPdf(LINES, pages));
  const action = doc.context.obj({ S: 'JavaScript', JS: PDFString.of('app.alert("hello")') });
  doc.catalog.set(PDFName.of('OpenAction'), doc.context.register(action));
  const bytes = Buffer.from(await doc.save({ useObjectStreams: false }));
  // `/J#61vaScript` is `/JavaScript` to every reader.
  return Buffer.from(bytes.toString('latin1').replace('/S /JavaScript', '/S /J#61vaScript'), 'latin1');
}

/** A PDF with an attached file (/Names /EmbeddedFiles). */
async function withEmbeddedFile(): Promise<Uint8Array> {
  const doc = await PDFDocument.load(await textPdf(LINES));
  await doc.attach(Buffer.from('MZ not really an executable'), 'invoice.exe', { mimeType: 'application/octet-stream' });
  return doc.save();
}

/** A PDF with a Launch action on its first page's open. */
async function withLaunch(): Promise<Uint8Array> {
  const doc = await PDFDocument.load(await textPdf(LINES));
  const launch = doc.context.obj({ S: 'Launch', F: PDFString.of('cmd.exe') });
  doc.getPage(0).node.set(PDFName.of('AA'), doc.context.obj({ O: doc.context.register(launch) }));
  return doc.save();
}

/** A page whose only content is an image: no text layer. */
async function imageOnly(): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const png = await doc.embedPng(PNG_1PX);
  doc.addPage([612, 792]).drawImage(png, { x: 0, y: 0, width: 612, height: 792 });
  return doc.save();
}

/** A page whose content stream is a FlateDecode stream that inflates to `mib` MiB (blanks). */
async function flateBomb(mib: number): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const page = doc.addPage([612, 792]);
  const inflated = Buffer.alloc(mib * 1024 * 1024, 0x20);
  // Compressed here, so the stream's bytes are the small deflated form with its FlateDecode filter.
  const raw = doc.context.stream(deflateSync(inflated, { level: 9 }), { Filter: 'FlateDecode' });
  page.node.set(PDFName.of('Contents'), doc.context.register(raw));
  return doc.save({ useObjectStreams: false });
}

/** A valid PDF whose cross-reference table points at the wrong offsets. */
async function corruptXref(): Promise<Uint8Array> {
  const doc = await PDFDocument.load(await textPdf(LINES));
  // Classic xref entries ("0000012345 00000 n"), every offset shifted.
  const broken = Buffer.from(await doc.save({ useObjectStreams: false })).toString('latin1')
    .replace(/(\d{10}) (\d{5}) n/g, (_m, off, gen) => `${String(Number(off) + 7).padStart(10, '0')} ${gen} n`);
  return Buffer.from(broken, 'latin1');
}

/** Bytes that are no PDF object at all after a valid header. */
const GARBAGE_PDF = Buffer.from('%PDF-1.7\n%\u00e2\u00e3\u00cf\u00d3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R\nthis is not a dictionary ]]]>>>\n%%EOF\n', 'latin1');

/** A PDF with text in WinAnsi bytes that are not UTF-8 (and a byte that maps to nothing). */
async function nonUtf8(): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  const page = doc.addPage([612, 792]);
  page.drawText('Vertragsparteien: Müller & Söhne GmbH, café, naïve, Ærø — € 1.000', { x: 56, y: 740, size: 11, font });
  page.drawText('NON-DISCLOSURE AGREEMENT between Acme Corp and Beta LLC', { x: 56, y: 720, size: 11, font });
  return doc.save({ useObjectStreams: false });
}

/** PDF objects nested thousands deep (a parser-stack attack). */
function deeplyNested(): Buffer {
  const depth = 20_000;
  const body = `1 0 obj\n<< /Type /Catalog /Pages 2 0 R /Deep ${'['.repeat(depth)}${']'.repeat(depth)} >>\nendobj\n`
    + '2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>\nendobj\n';
  return Buffer.from(`%PDF-1.7\n${body}trailer\n<< /Root 1 0 R >>\n%%EOF\n`, 'latin1');
}

/** A PDF whose page tree is empty. */
function noPages(): Buffer {
  return Buffer.from('%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n'
    + 'trailer\n<< /Root 1 0 R >>\n%%EOF\n', 'latin1');
}

/** Encrypted by ghostscript (owner and user password), when ghostscript is installed. */
function encryptedByGhostscript(dir: string, source: Uint8Array): Buffer | string {
  const input = path.join(dir, 'gs-in.pdf');
  const output = path.join(dir, 'gs-out.pdf');
  fs.writeFileSync(input, source);
  try {
    execFileSync('gs', ['-q', '-dNOPAUSE', '-dBATCH', '-dSAFER', '-sDEVICE=pdfwrite', '-sOwnerPassword=owner', '-sUserPassword=user',
      '-dEncryptionR=3', '-dKeyLength=128', `-sOutputFile=${output}`, input], { stdio: 'pipe' });
    return fs.readFileSync(output);
  } catch (err: any) {
    return err?.code === 'ENOENT' ? 'ghostscript (gs) is not installed: apt-get install ghostscript' : `ghostscript failed: ${err?.message}`;
  }
}

/** The documents' file names, in order (the last one only when ghostscript is installed). */
export const BAD_DOCUMENT_FILES: readonly string[] = [
  'empty.pdf',
  'header-only.pdf',
  'zip.pdf',
  'html.pdf',
  'exe.pdf',
  'junk-before-header.pdf',
  'png-named.pdf',
  'encrypted-by-hand.pdf',
  'corrupt-xref.pdf',
  'garbage-objects.pdf',
  'truncated.pdf',
  'no-pages.pdf',
  'deeply-nested.pdf',
  'image-only.pdf',
  'flate-bomb.pdf',
  'javascript.pdf',
  'javascript-two-pages.pdf',
  'embedded-file.pdf',
  'launch.pdf',
  'too-many-pages.pdf',
  'Vertrag für Ünïcode #1 – a b  c ✓.pdf',
  'non-utf8.pdf',
  'tiff-header-only.pdf',
  'encrypted-by-ghostscript.pdf',
];

/** One bad document and what it must end in. */
export interface BadDocument {
  readonly file: string;
  readonly what: string;
  readonly bytes: Uint8Array;
  /** FAILED with this error (and its failure route), or SUCCEEDED (processed safely). */
  readonly expect: { readonly status: 'FAILED'; readonly error: string; readonly route: string } | { readonly status: 'SUCCEEDED'; readonly activeContent?: string[]; readonly route?: string };
}

const failsWith = (error: string, route = 'quarantine') => ({ status: 'FAILED' as const, error, route });

/** The bad documents, and the reason any of them could not be made here (a missing Debian tool). */
export async function badDocuments(dir: string): Promise<{ documents: BadDocument[]; missing: string[] }> {
  const nda = await textPdf(LINES);
  const missing: string[] = [];
  const documents: BadDocument[] = [
    { file: 'empty.pdf', what: 'empty (0 bytes)', bytes: new Uint8Array(), expect: failsWith('Document.Empty') },
    { file: 'header-only.pdf', what: 'a PDF header and nothing else', bytes: Buffer.from('%PDF-1.7\n%%EOF\n'), expect: failsWith('Document.Corrupt') },
    { file: 'zip.pdf', what: 'a ZIP named .pdf', bytes: zipFile(), expect: failsWith('Document.UnsupportedType') },
    { file: 'html.pdf', what: 'HTML named .pdf', bytes: Buffer.from('<!doctype html><html><body><h1>Contract</h1><script>alert(1)</script></body></html>'), expect: failsWith('Document.UnsupportedType') },
    { file: 'exe.pdf', what: 'a Windows executable named .pdf', bytes: Buffer.concat([Buffer.from('MZ'), Buffer.alloc(200, 0x90)]), expect: failsWith('Document.UnsupportedType') },
    { file: 'junk-before-header.pdf', what: 'bytes before %PDF- (a polyglot)', bytes: Buffer.concat([Buffer.from('GIF89a\n'), Buffer.from(nda)]), expect: failsWith('Document.UnsupportedType') },
    { file: 'png-named.pdf', what: 'a PNG named .pdf (an image with no text)', bytes: PNG_1PX, expect: failsWith('Document.NoText', 'review') },
    { file: 'encrypted-by-hand.pdf', what: 'encrypted (/Encrypt in the trailer)', bytes: await encryptedByHand(), expect: failsWith('Document.Encrypted') },
    { file: 'corrupt-xref.pdf', what: 'cross-reference offsets all wrong (readers rebuild them)', bytes: await corruptXref(), expect: { status: 'SUCCEEDED' } },
    { file: 'garbage-objects.pdf', what: 'a header, then no parseable object', bytes: GARBAGE_PDF, expect: failsWith('Document.Corrupt') },
    { file: 'truncated.pdf', what: 'a PDF cut in half', bytes: nda.slice(0, Math.floor(nda.length / 2)), expect: failsWith('Document.Corrupt') },
    { file: 'no-pages.pdf', what: 'an empty page tree', bytes: noPages(), expect: failsWith('Document.Corrupt') },
    { file: 'deeply-nested.pdf', what: 'arrays nested 20,000 deep', bytes: deeplyNested(), expect: failsWith('Document.Corrupt') },
    { file: 'image-only.pdf', what: 'a scan: one image, no text layer', bytes: await imageOnly(), expect: failsWith('Document.NoText', 'review') },
    { file: 'flate-bomb.pdf', what: 'a content stream that inflates to 300 MiB (over the 256 MiB default on decompressed bytes)', bytes: await flateBomb(300), expect: failsWith('Document.TooLarge') },
    { file: 'javascript.pdf', what: 'JavaScript on open (obfuscated name)', bytes: await withJavaScript(), expect: { status: 'SUCCEEDED', activeContent: ['JavaScript'], route: 'review' } },
    { file: 'javascript-two-pages.pdf', what: 'JavaScript on open, 2 pages (the asynchronous job path)', bytes: await withJavaScript(2), expect: { status: 'SUCCEEDED', activeContent: ['JavaScript'], route: 'review' } },
    { file: 'embedded-file.pdf', what: 'an attached .exe', bytes: await withEmbeddedFile(), expect: { status: 'SUCCEEDED', activeContent: ['EmbeddedFiles'], route: 'review' } },
    { file: 'launch.pdf', what: 'a Launch action on page open', bytes: await withLaunch(), expect: { status: 'SUCCEEDED', activeContent: ['Launch'], route: 'review' } },
    { file: 'too-many-pages.pdf', what: '3,001 pages (the limit is 3,000)', bytes: await textPdf(['page'], 3001), expect: failsWith('Document.TooLarge') },
    { file: 'Vertrag für Ünïcode #1 – a b  c ✓.pdf', what: 'unicode, spaces and # in the key', bytes: nda, expect: { status: 'SUCCEEDED', route: 'auto-approve' } },
    { file: 'non-utf8.pdf', what: 'text in WinAnsi bytes (not UTF-8)', bytes: await nonUtf8(), expect: { status: 'SUCCEEDED' } },
    { file: 'tiff-header-only.pdf', what: 'a TIFF header and nothing else (no image file directory)', bytes: Buffer.from([0x49, 0x49, 0x2a, 0x00, 0x08, 0x00, 0x00, 0x00]), expect: failsWith('Document.Corrupt') },
  ];
  const gs = encryptedByGhostscript(dir, nda);
  if (typeof gs === 'string') missing.push(gs);
  else documents.push({ file: 'encrypted-by-ghostscript.pdf', what: 'encrypted by ghostscript (RC4 128, user password)', bytes: gs, expect: failsWith('Document.Encrypted') });
  return { documents, missing };
}
