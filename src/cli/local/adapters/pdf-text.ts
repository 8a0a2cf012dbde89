/**
 * Text extraction from a PDF's text layer, standing in for Textract's OCR in the local runner.
 *
 * Built on pdf-lib (which the Textract stage already uses for its preflight) and a small content
 * stream interpreter: no extra dependency, CommonJS, runs on Node 20 and 22, under jest without
 * `--experimental-vm-modules`, and bundles with esbuild into a single file.
 *
 * What it reads: text shown with Tj, TJ, ' and " in page content streams and in Form XObjects;
 * simple fonts (Type1, TrueType, Type3) through their ToUnicode CMap, or their encoding
 * (WinAnsi, MacRoman, Standard, PDFDoc, with Differences); composite fonts (Type0) through their
 * ToUnicode CMap (or UCS-2 CMaps). Lines are formed from the text positions in content-stream
 * order: a new line starts when the baseline moves, and a space is put where the gap between two
 * runs on a line is wide. Images have no text layer here: a scanned page gives no line (real
 * Textract would OCR it). Everything is deterministic.
 */
// pdf-lib is bundled into the runner (as into the Textract handler); it is not a runtime dependency of the constructs.
// eslint-disable-next-line import/no-extraneous-dependencies
import {
  decodePDFRawStream,
  PDFArray,
  PDFDict,
  PDFDocument,
  PDFName,
  PDFNumber,
  PDFObject,
  PDFRawStream,
  PDFStream,
  StandardFontEmbedder,
} from 'pdf-lib';
import { ErrorNames, PipelineError } from '../../../shared/errors';
import { openPdf } from '../../../stages/textract/handler/preflight';

/** Extracts the text lines of every page of a PDF (one array of lines per page, in page order). */
export type PdfTextExtractor = (bytes: Uint8Array) => Promise<string[][]>;

/**
 * The lines of text of each page of a PDF. A page without a text layer gives `[]`.
 * Throws a `Document.Encrypted` error for an encrypted PDF and `Document.Corrupt` for one that
 * cannot be parsed.
 */
export async function extractPdfPages(bytes: Uint8Array): Promise<string[][]> {
  const { doc, pages } = await openPdf(bytes);
  const fonts = new FontCache();
  return pages.map((page, i) => {
    try {
      const node = page.node;
      const collector = new LineCollector();
      const interpreter = new Interpreter(doc, fonts, collector);
      interpreter.run(pageContent(doc, node.Contents()), node.Resources(), IDENTITY, 0);
      return collector.lines();
    } catch (err) {
      if (err instanceof PipelineError) throw err;
      throw new PipelineError(ErrorNames.DOCUMENT_CORRUPT, `page ${i + 1} of the PDF cannot be read`);
    }
  });
}

// -------------------------------------------------------------------------------------------------
// Streams
// -------------------------------------------------------------------------------------------------

/** The decoded bytes of a stream; undefined when its filter is not supported. */
function streamBytes(stream: PDFStream): Uint8Array | undefined {
  try {
    if (stream instanceof PDFRawStream) return decodePDFRawStream(stream).decode();
    const s = stream as PDFStream & { getUnencodedContents?: () => Uint8Array };
    return typeof s.getUnencodedContents === 'function' ? s.getUnencodedContents() : stream.getContents();
  } catch {
    return undefined;
  }
}

function pageContent(doc: PDFDocument, contents: PDFStream | PDFArray | undefined): Uint8Array {
  if (!contents) return new Uint8Array();
  const streams: PDFStream[] = [];
  if (contents instanceof PDFArray) {
    for (let i = 0; i < contents.size(); i++) {
      const s = doc.context.lookup(contents.get(i));
      if (s instanceof PDFStream) streams.push(s);
    }
  } else {
    streams.push(contents);
  }
  const parts = streams.map(streamBytes).filter((b): b is Uint8Array => b !== undefined);
  // Content streams split over several objects are one stream, with whitespace between parts.
  const total = parts.reduce((n, p) => n + p.length + 1, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
    out[at++] = 0x0a;
  }
  return out;
}

// -------------------------------------------------------------------------------------------------
// Content stream lexer
// -------------------------------------------------------------------------------------------------

interface NameOp { readonly name: string }
interface StringOp { readonly str: Uint8Array }
type Operand = number | boolean | null | NameOp | StringOp | Operand[] | { readonly dict: true };

const WHITESPACE = new Set([0x00, 0x09, 0x0a, 0x0c, 0x0d, 0x20]);
const DELIMITERS = new Set([0x28, 0x29, 0x3c, 0x3e, 0x5b, 0x5d, 0x7b, 0x7d, 0x2f, 0x25]);

const isName = (o: Operand | undefined): o is NameOp => typeof o === 'object' && o !== null && 'name' in o;
const isString = (o: Operand | undefined): o is StringOp => typeof o === 'object' && o !== null && 'str' in o;
const num = (o: Operand | undefined, fallback = 0): number => (typeof o === 'number' && Number.isFinite(o) ? o : fallback);

type Token = { readonly kind: 'operand'; readonly value: Operand } | { readonly kind: 'op'; readonly op: string }
| { readonly kind: 'arrayEnd' } | { readonly kind: 'dictEnd' } | { readonly kind: 'eof' };

class Lexer {
  private pos = 0;
  constructor(private readonly b: Uint8Array) {}

  public next(): Token {
    this.skipSpace();
    if (this.pos >= this.b.length) return { kind: 'eof' };
    const c = this.b[this.pos];
    if (c === 0x5b) { // [
      this.pos++;
      return { kind: 'operand', value: this.readArray() };
    }
    if (c === 0x5d) { // ]
      this.pos++;
      return { kind: 'arrayEnd' };
    }
    if (c === 0x3c && this.b[this.pos + 1] === 0x3c) { // <<
      this.pos += 2;
      this.skipDict();
      return { kind: 'operand', value: { dict: true } };
    }
    if (c === 0x3e && this.b[this.pos + 1] === 0x3e) { // >>
      this.pos += 2;
      return { kind: 'dictEnd' };
    }
    if (c === 0x3c) return { kind: 'operand', value: this.readHex() };
    if (c === 0x28) return { kind: 'operand', value: this.readLiteral() };
    if (c === 0x2f) return { kind: 'operand', value: this.readName() };
    if (c === 0x2b || c === 0x2d || c === 0x2e || (c >= 0x30 && c <= 0x39)) {
      return { kind: 'operand', value: this.readNumber() };
    }
    if (DELIMITERS.has(c)) { // a stray delimiter ( ')', '{', '}', '>' ): skip it
      this.pos++;
      return this.next();
    }
    const word = this.readWord();
    if (word === 'true') return { kind: 'operand', value: true };
    if (word === 'false') return { kind: 'operand', value: false };
    if (word === 'null') return { kind: 'operand', value: null };
    return { kind: 'op', op: word };
  }

  /** Skips an inline image's data, after its `ID` operator, up to and including `EI`. */
  public skipInlineImage(): void {
    this.pos++; // the single whitespace after ID
    const b = this.b;
    while (this.pos < b.length - 1) {
      if (b[this.pos] === 0x45 && b[this.pos + 1] === 0x49 // EI
        && (this.pos === 0 || WHITESPACE.has(b[this.pos - 1]))
        && (this.pos + 2 >= b.length || WHITESPACE.has(b[this.pos + 2]) || DELIMITERS.has(b[this.pos + 2]))) {
        this.pos += 2;
        return;
      }
      this.pos++;
    }
    this.pos = b.length;
  }

  private skipSpace(): void {
    const b = this.b;
    while (this.pos < b.length) {
      const c = b[this.pos];
      if (WHITESPACE.has(c)) {
        this.pos++;
      } else if (c === 0x25) { // % comment
        while (this.pos < b.length && b[this.pos] !== 0x0a && b[this.pos] !== 0x0d) this.pos++;
      } else {
        break;
      }
    }
  }

  private readWord(): string {
    const start = this.pos;
    while (this.pos < this.b.length && !WHITESPACE.has(this.b[this.pos]) && !DELIMITERS.has(this.b[this.pos])) this.pos++;
    if (this.pos === start) this.pos++;
    return latin1(this.b.subarray(start, this.pos));
  }

  private readNumber(): number {
    const word = this.readWord();
    const n = Number(word);
    return Number.isFinite(n) ? n : 0;
  }

  private readName(): NameOp {
    this.pos++; // '/'
    const raw = this.readWordAllowEmpty();
    return { name: raw.replace(/#([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))) };
  }

  private readWordAllowEmpty(): string {
    const start = this.pos;
    while (this.pos < this.b.length && !WHITESPACE.has(this.b[this.pos]) && !DELIMITERS.has(this.b[this.pos])) this.pos++;
    return latin1(this.b.subarray(start, this.pos));
  }

  private readArray(): Operand[] {
    const out: Operand[] = [];
    for (;;) {
      const t = this.next();
      if (t.kind === 'operand') out.push(t.value);
      else if (t.kind === 'arrayEnd' || t.kind === 'eof') return out;
      // operators and '>>' inside an array are malformed: ignore them
    }
  }

  private skipDict(): void {
    for (;;) {
      const t = this.next();
      if (t.kind === 'dictEnd' || t.kind === 'eof') return;
    }
  }

  private readHex(): StringOp {
    this.pos++; // '<'
    const digits: number[] = [];
    while (this.pos < this.b.length && this.b[this.pos] !== 0x3e) {
      const v = hexValue(this.b[this.pos++]);
      if (v >= 0) digits.push(v);
    }
    this.pos++; // '>'
    if (digits.length % 2 === 1) digits.push(0);
    const out = new Uint8Array(digits.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = digits[2 * i] * 16 + digits[2 * i + 1];
    return { str: out };
  }

  private readLiteral(): StringOp {
    this.pos++; // '('
    const b = this.b;
    const out: number[] = [];
    let depth = 1;
    while (this.pos < b.length) {
      const c = b[this.pos++];
      if (c === 0x5c) { // backslash
        const e = b[this.pos++];
        switch (e) {
          case 0x6e: out.push(0x0a); break; // n
          case 0x72: out.push(0x0d); break; // r
          case 0x74: out.push(0x09); break; // t
          case 0x62: out.push(0x08); break; // b
          case 0x66: out.push(0x0c); break; // f
          case 0x0d: if (b[this.pos] === 0x0a) this.pos++; break; // line continuation
          case 0x0a: break;
          default:
            if (e >= 0x30 && e <= 0x37) {
              let v = e - 0x30;
              for (let k = 0; k < 2 && b[this.pos] >= 0x30 && b[this.pos] <= 0x37; k++) v = v * 8 + (b[this.pos++] - 0x30);
              out.push(v % 256);
            } else if (e !== undefined) {
              out.push(e);
            }
        }
      } else if (c === 0x28) {
        depth++;
        out.push(c);
      } else if (c === 0x29) {
        if (--depth === 0) break;
        out.push(c);
      } else {
        out.push(c);
      }
    }
    return { str: Uint8Array.from(out) };
  }
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

function latin1(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
  return s;
}

// -------------------------------------------------------------------------------------------------
// Interpreter
// -------------------------------------------------------------------------------------------------

type Matrix = readonly [number, number, number, number, number, number];
const IDENTITY: Matrix = [1, 0, 0, 1, 0, 0];

/** m1 × m2 (apply m1, then m2), PDF row-vector convention. */
function mul(m1: Matrix, m2: Matrix): Matrix {
  return [
    m1[0] * m2[0] + m1[1] * m2[2],
    m1[0] * m2[1] + m1[1] * m2[3],
    m1[2] * m2[0] + m1[3] * m2[2],
    m1[2] * m2[1] + m1[3] * m2[3],
    m1[4] * m2[0] + m1[5] * m2[2] + m2[4],
    m1[4] * m2[1] + m1[5] * m2[3] + m2[5],
  ];
}

interface TextState {
  font?: FontInfo;
  fontSize: number;
  charSpacing: number;
  wordSpacing: number;
  scale: number;
  leading: number;
  rise: number;
}

interface GraphicsState {
  ctm: Matrix;
  text: TextState;
}

const MAX_FORM_DEPTH = 8;

class Interpreter {
  constructor(private readonly doc: PDFDocument, private readonly fonts: FontCache, private readonly out: LineCollector) {}

  public run(content: Uint8Array, resources: PDFDict | undefined, ctm: Matrix, depth: number): void {
    const lexer = new Lexer(content);
    let gs: GraphicsState = { ctm, text: { fontSize: 0, charSpacing: 0, wordSpacing: 0, scale: 1, leading: 0, rise: 0 } };
    const stack: GraphicsState[] = [];
    let tm: Matrix = IDENTITY;
    let tlm: Matrix = IDENTITY;
    let operands: Operand[] = [];
    const nextLine = (tx: number, ty: number) => {
      tlm = mul([1, 0, 0, 1, tx, ty], tlm);
      tm = tlm;
    };
    const show = (str: Uint8Array) => {
      tm = this.showText(str, gs, tm);
    };

    for (let t = lexer.next(); t.kind !== 'eof'; t = lexer.next()) {
      if (t.kind === 'operand') {
        operands.push(t.value);
        continue;
      }
      if (t.kind !== 'op') continue;
      const o = operands;
      operands = [];
      switch (t.op) {
        case 'q': stack.push({ ctm: gs.ctm, text: { ...gs.text } }); break;
        case 'Q': gs = stack.pop() ?? gs; break;
        case 'cm': gs = { ...gs, ctm: mul([num(o[0], 1), num(o[1]), num(o[2]), num(o[3], 1), num(o[4]), num(o[5])], gs.ctm) }; break;
        case 'BT': tm = IDENTITY; tlm = IDENTITY; break;
        case 'Tf': {
          const name = o[0];
          gs.text.font = isName(name) ? this.fonts.get(this.doc, resources, name.name) : undefined;
          gs.text.fontSize = num(o[1], 0);
          break;
        }
        case 'Tc': gs.text.charSpacing = num(o[0]); break;
        case 'Tw': gs.text.wordSpacing = num(o[0]); break;
        case 'Tz': gs.text.scale = num(o[0], 100) / 100; break;
        case 'TL': gs.text.leading = num(o[0]); break;
        case 'Ts': gs.text.rise = num(o[0]); break;
        case 'Td': nextLine(num(o[0]), num(o[1])); break;
        case 'TD': gs.text.leading = -num(o[1]); nextLine(num(o[0]), num(o[1])); break;
        case 'Tm':
          tlm = [num(o[0], 1), num(o[1]), num(o[2]), num(o[3], 1), num(o[4]), num(o[5])];
          tm = tlm;
          break;
        case 'T*': nextLine(0, -gs.text.leading); break;
        case 'Tj': if (isString(o[0])) show(o[0].str); break;
        case '\'':
          nextLine(0, -gs.text.leading);
          if (isString(o[0])) show(o[0].str);
          break;
        case '"':
          gs.text.wordSpacing = num(o[0]);
          gs.text.charSpacing = num(o[1]);
          nextLine(0, -gs.text.leading);
          if (isString(o[2])) show(o[2].str);
          break;
        case 'TJ':
          if (Array.isArray(o[0])) {
            for (const item of o[0]) {
              if (isString(item)) {
                show(item.str);
              } else if (typeof item === 'number') {
                tm = mul([1, 0, 0, 1, (-item / 1000) * gs.text.fontSize * gs.text.scale, 0], tm);
              }
            }
          }
          break;
        case 'BI': {
          // Inline image: its dictionary runs to ID, then binary data to EI.
          for (let u = lexer.next(); u.kind !== 'eof'; u = lexer.next()) {
            if (u.kind === 'op' && u.op === 'ID') break;
          }
          lexer.skipInlineImage();
          break;
        }
        case 'Do':
          if (isName(o[0]) && depth < MAX_FORM_DEPTH) this.form(resources, o[0].name, gs.ctm, depth);
          break;
        default:
          break;
      }
    }
  }

  /** Shows a string: decodes its glyphs, reports the text at its position, returns the advanced text matrix. */
  private showText(str: Uint8Array, gs: GraphicsState, tm: Matrix): Matrix {
    const { font, fontSize, charSpacing, wordSpacing, scale, rise } = gs.text;
    if (!font) return tm;
    const start = mul(mul([1, 0, 0, 1, 0, rise], tm), gs.ctm);
    let text = '';
    let advance = 0;
    for (const code of font.codes(str)) {
      const w = font.width(code.code) / 1000;
      const spacing = charSpacing + (code.bytes === 1 && code.code === 32 ? wordSpacing : 0);
      advance += (w * fontSize + spacing) * scale;
      text += font.toUnicode(code.code);
    }
    const size = Math.abs(fontSize) * Math.hypot(start[2], start[3]);
    const xScale = Math.hypot(start[0], start[1]);
    this.out.add(text, start[4], start[5], start[4] + advance * xScale, size);
    return mul([1, 0, 0, 1, advance, 0], tm);
  }

  private form(resources: PDFDict | undefined, name: string, ctm: Matrix, depth: number): void {
    const xobjects = resources?.lookupMaybe(PDFName.of('XObject'), PDFDict);
    const xobject = xobjects?.lookup(PDFName.of(name));
    if (!(xobject instanceof PDFStream)) return;
    const dict = xobject.dict;
    if (dict.lookupMaybe(PDFName.of('Subtype'), PDFName)?.asString() !== '/Form') return;
    const bytes = streamBytes(xobject);
    if (!bytes) return;
    const m = dict.lookupMaybe(PDFName.of('Matrix'), PDFArray);
    const matrix: Matrix = m && m.size() === 6
      ? [0, 1, 2, 3, 4, 5].map((i) => numberOf(m.lookup(i))) as unknown as Matrix
      : IDENTITY;
    const formResources = dict.lookupMaybe(PDFName.of('Resources'), PDFDict) ?? resources;
    this.run(bytes, formResources, mul(matrix, ctm), depth + 1);
  }
}

function numberOf(o: PDFObject | undefined, fallback = 0): number {
  return o instanceof PDFNumber ? o.asNumber() : fallback;
}

// -------------------------------------------------------------------------------------------------
// Lines
// -------------------------------------------------------------------------------------------------

/** Forms lines from positioned runs of text, in content-stream order. */
class LineCollector {
  private readonly done: string[] = [];
  private current = '';
  private y = Number.NaN;
  private endX = Number.NaN;

  public add(text: string, x: number, y: number, endX: number, size: number): void {
    if (text.length === 0) return;
    const tolerance = Math.max(size, 1) * 0.5;
    if (Number.isNaN(this.y) || Math.abs(y - this.y) > tolerance) {
      this.flush();
      this.current = text;
      this.y = y;
    } else {
      const gap = x - this.endX;
      const needsSpace = gap > Math.max(size, 1) * 0.2 && !/\s$/.test(this.current) && !/^\s/.test(text);
      this.current += (needsSpace ? ' ' : '') + text;
    }
    this.endX = endX;
  }

  public lines(): string[] {
    this.flush();
    return this.done;
  }

  private flush(): void {
    const line = this.current.replace(/[\s\u0000-\u001f]+/g, ' ').trim();
    if (line.length > 0) this.done.push(line);
    this.current = '';
  }
}

// -------------------------------------------------------------------------------------------------
// Fonts
// -------------------------------------------------------------------------------------------------

interface CharCode { readonly code: number; readonly bytes: number }

interface FontInfo {
  codes(str: Uint8Array): CharCode[];
  toUnicode(code: number): string;
  /** Glyph width in thousandths of the font size. */
  width(code: number): number;
}

class FontCache {
  private readonly byDict = new Map<PDFDict, FontInfo>();

  public get(doc: PDFDocument, resources: PDFDict | undefined, name: string): FontInfo | undefined {
    const fonts = resources?.lookupMaybe(PDFName.of('Font'), PDFDict);
    const dict = fonts?.lookup(PDFName.of(name));
    if (!(dict instanceof PDFDict)) return undefined;
    let info = this.byDict.get(dict);
    if (!info) {
      info = loadFont(doc, dict);
      this.byDict.set(dict, info);
    }
    return info;
  }
}

const STANDARD_FONTS = new Set([
  'Courier', 'Courier-Bold', 'Courier-Oblique', 'Courier-BoldOblique',
  'Helvetica', 'Helvetica-Bold', 'Helvetica-Oblique', 'Helvetica-BoldOblique',
  'Times-Roman', 'Times-Bold', 'Times-Italic', 'Times-BoldItalic',
  'Symbol', 'ZapfDingbats',
]);

function nameOf(dict: PDFDict, key: string): string | undefined {
  const n = dict.lookupMaybe(PDFName.of(key), PDFName);
  return n ? n.decodeText() : undefined;
}

function loadFont(doc: PDFDocument, dict: PDFDict): FontInfo {
  const subtype = nameOf(dict, 'Subtype');
  const toUnicodeStream = dict.lookup(PDFName.of('ToUnicode'));
  const cmap = toUnicodeStream instanceof PDFStream ? parseToUnicode(streamBytes(toUnicodeStream)) : undefined;
  return subtype === 'Type0' ? compositeFont(doc, dict, cmap) : simpleFont(dict, cmap);
}

function simpleFont(dict: PDFDict, cmap: ToUnicodeMap | undefined): FontInfo {
  const subtype = nameOf(dict, 'Subtype');
  const baseFont = (nameOf(dict, 'BaseFont') ?? '').replace(/^[A-Z]{6}\+/, '');
  const encoding = simpleEncoding(dict, subtype, baseFont);
  const firstChar = numberOf(dict.lookup(PDFName.of('FirstChar')));
  const widths = dict.lookupMaybe(PDFName.of('Widths'), PDFArray);
  const standard = !widths && STANDARD_FONTS.has(baseFont) ? StandardFontEmbedder.for(baseFont as any) : undefined;
  const widthCache = new Map<number, number>();
  const toUnicode = (code: number) => cmap?.map.get(code) ?? encoding[code] ?? '';
  return {
    codes: (str) => Array.from(str, (code) => ({ code, bytes: 1 })),
    toUnicode,
    width: (code) => {
      let w = widthCache.get(code);
      if (w !== undefined) return w;
      if (widths && code >= firstChar && code - firstChar < widths.size()) {
        w = numberOf(widths.lookup(code - firstChar), 500);
      } else if (standard) {
        try {
          w = standard.widthOfTextAtSize(toUnicode(code) || ' ', 1000);
        } catch {
          w = 500;
        }
      } else {
        w = 500;
      }
      widthCache.set(code, w);
      return w;
    },
  };
}

function compositeFont(doc: PDFDocument, dict: PDFDict, cmap: ToUnicodeMap | undefined): FontInfo {
  const encodingName = nameOf(dict, 'Encoding') ?? 'Identity-H';
  const ucs2 = /UCS2|UTF16/.test(encodingName);
  const descendants = dict.lookupMaybe(PDFName.of('DescendantFonts'), PDFArray);
  const descendant = descendants && descendants.size() > 0 ? doc.context.lookup(descendants.get(0)) : undefined;
  const widths = new Map<number, number>();
  let defaultWidth = 1000;
  if (descendant instanceof PDFDict) {
    defaultWidth = numberOf(descendant.lookup(PDFName.of('DW')), 1000);
    const w = descendant.lookupMaybe(PDFName.of('W'), PDFArray);
    if (w) {
      let i = 0;
      while (i < w.size()) {
        const first = numberOf(w.lookup(i));
        const second = w.lookup(i + 1);
        if (second instanceof PDFArray) {
          for (let k = 0; k < second.size(); k++) widths.set(first + k, numberOf(second.lookup(k), defaultWidth));
          i += 2;
        } else {
          const last = numberOf(second);
          const width = numberOf(w.lookup(i + 2), defaultWidth);
          for (let c = first; c <= last && c - first < 65536; c++) widths.set(c, width);
          i += 3;
        }
      }
    }
  }
  const ranges = cmap?.codespace.length ? cmap.codespace : [{ bytes: 2, low: 0, high: 0xffff }];
  return {
    codes: (str) => splitCodes(str, ranges),
    toUnicode: (code) => cmap?.map.get(code) ?? (ucs2 ? String.fromCharCode(code) : ''),
    width: (code) => widths.get(code) ?? defaultWidth,
  };
}

function splitCodes(str: Uint8Array, ranges: readonly CodespaceRange[]): CharCode[] {
  const out: CharCode[] = [];
  let i = 0;
  while (i < str.length) {
    let matched: CharCode | undefined;
    let code = 0;
    for (let n = 1; n <= 4 && i + n <= str.length; n++) {
      code = code * 256 + str[i + n - 1];
      if (ranges.some((r) => r.bytes === n && code >= r.low && code <= r.high)) {
        matched = { code, bytes: n };
        break;
      }
    }
    if (!matched) {
      // Not in any codespace: take the shortest width in use, as readers do.
      const n = Math.min(...ranges.map((r) => r.bytes), str.length - i);
      code = 0;
      for (let k = 0; k < n; k++) code = code * 256 + str[i + k];
      matched = { code, bytes: n };
    }
    out.push(matched);
    i += matched.bytes;
  }
  return out;
}

// -------------------------------------------------------------------------------------------------
// ToUnicode CMaps
// -------------------------------------------------------------------------------------------------

interface CodespaceRange { readonly bytes: number; readonly low: number; readonly high: number }
interface ToUnicodeMap { readonly codespace: CodespaceRange[]; readonly map: Map<number, string> }

function hexCode(hex: string): number {
  return hex.length === 0 ? 0 : parseInt(hex, 16);
}

function utf16be(hex: string): string {
  const units: number[] = [];
  for (let i = 0; i + 4 <= hex.length; i += 4) units.push(parseInt(hex.slice(i, i + 4), 16));
  if (hex.length % 4 === 2) units.push(parseInt(hex.slice(-2), 16));
  return String.fromCharCode(...units);
}

function parseToUnicode(bytes: Uint8Array | undefined): ToUnicodeMap | undefined {
  if (!bytes) return undefined;
  const text = latin1(bytes);
  const codespace: CodespaceRange[] = [];
  const map = new Map<number, string>();
  const section = (name: string) => {
    const re = new RegExp(`begin${name}([\\s\\S]*?)end${name}`, 'g');
    return [...text.matchAll(re)].map((m) => m[1]);
  };
  for (const body of section('codespacerange')) {
    for (const m of body.matchAll(/<([0-9A-Fa-f\s]*)>\s*<([0-9A-Fa-f\s]*)>/g)) {
      const lo = m[1].replace(/\s/g, '');
      codespace.push({ bytes: Math.max(1, Math.ceil(lo.length / 2)), low: hexCode(lo), high: hexCode(m[2].replace(/\s/g, '')) });
    }
  }
  for (const body of section('bfchar')) {
    for (const m of body.matchAll(/<([0-9A-Fa-f\s]*)>\s*<([0-9A-Fa-f\s]*)>/g)) {
      map.set(hexCode(m[1].replace(/\s/g, '')), utf16be(m[2].replace(/\s/g, '')));
    }
  }
  for (const body of section('bfrange')) {
    for (const m of body.matchAll(/<([0-9A-Fa-f\s]*)>\s*<([0-9A-Fa-f\s]*)>\s*(<[0-9A-Fa-f\s]*>|\[[^\]]*\])/g)) {
      const lo = hexCode(m[1].replace(/\s/g, ''));
      const hi = Math.min(hexCode(m[2].replace(/\s/g, '')), lo + 65535);
      const dst = m[3];
      if (dst.startsWith('[')) {
        const items = [...dst.matchAll(/<([0-9A-Fa-f\s]*)>/g)].map((d) => utf16be(d[1].replace(/\s/g, '')));
        for (let c = lo; c <= hi && c - lo < items.length; c++) map.set(c, items[c - lo]);
      } else {
        const base = dst.slice(1, -1).replace(/\s/g, '');
        const first = utf16be(base);
        for (let c = lo; c <= hi; c++) {
          // The last UTF-16 unit is incremented along the range.
          const last = first.charCodeAt(first.length - 1) + (c - lo);
          map.set(c, first.slice(0, -1) + String.fromCharCode(last % 65536));
        }
      }
    }
  }
  return { codespace, map };
}

// -------------------------------------------------------------------------------------------------
// Simple font encodings
// -------------------------------------------------------------------------------------------------

function asciiTable(): string[] {
  const t: string[] = new Array(256).fill('');
  for (let c = 0x20; c < 0x7f; c++) t[c] = String.fromCharCode(c);
  return t;
}

function latin1Table(): string[] {
  const t = asciiTable();
  for (let c = 0xa0; c <= 0xff; c++) t[c] = String.fromCharCode(c);
  return t;
}

const WIN_ANSI_HIGH: { [code: number]: string } = {
  0x80: '€',
  0x82: '‚',
  0x83: 'ƒ',
  0x84: '„',
  0x85: '…',
  0x86: '†',
  0x87: '‡',
  0x88: 'ˆ',
  0x89: '‰',
  0x8a: 'Š',
  0x8b: '‹',
  0x8c: 'Œ',
  0x8e: 'Ž',
  0x91: '‘',
  0x92: '’',
  0x93: '“',
  0x94: '”',
  0x95: '•',
  0x96: '–',
  0x97: '—',
  0x98: '˜',
  0x99: '™',
  0x9a: 'š',
  0x9b: '›',
  0x9c: 'œ',
  0x9e: 'ž',
  0x9f: 'Ÿ',
};

const STANDARD_HIGH: { [code: number]: string } = {
  0x27: '’',
  0x60: '‘',
  0xa1: '¡',
  0xa2: '¢',
  0xa3: '£',
  0xa4: '⁄',
  0xa5: '¥',
  0xa6: 'ƒ',
  0xa7: '§',
  0xa8: '¤',
  0xa9: '\'',
  0xaa: '“',
  0xab: '«',
  0xac: '‹',
  0xad: '›',
  0xae: 'fi',
  0xaf: 'fl',
  0xb1: '–',
  0xb2: '†',
  0xb3: '‡',
  0xb4: '·',
  0xb6: '¶',
  0xb7: '•',
  0xb8: '‚',
  0xb9: '„',
  0xba: '”',
  0xbb: '»',
  0xbc: '…',
  0xbd: '‰',
  0xbf: '¿',
  0xc1: '`',
  0xc2: '´',
  0xc3: 'ˆ',
  0xc4: '˜',
  0xc5: '¯',
  0xc6: '˘',
  0xc7: '˙',
  0xc8: '¨',
  0xca: '˚',
  0xcb: '¸',
  0xcd: '˝',
  0xce: '˛',
  0xcf: 'ˇ',
  0xd0: '—',
  0xe1: 'Æ',
  0xe3: 'ª',
  0xe8: 'Ł',
  0xe9: 'Ø',
  0xea: 'Œ',
  0xeb: 'º',
  0xf1: 'æ',
  0xf5: 'ı',
  0xf8: 'ł',
  0xf9: 'ø',
  0xfa: 'œ',
  0xfb: 'ß',
};

const MAC_ROMAN_HIGH = 'ÄÅÇÉÑÖÜáàâäãåçéèêëíìîïñóòôöõúùûü†°¢£§•¶ß®©™´¨≠ÆØ∞±≤≥¥µ∂∑∏π∫ªºΩæø¿¡¬√ƒ≈∆«»…\u00a0ÀÃÕŒœ–—“”‘’÷◊ÿŸ⁄€‹›ﬁﬂ‡·‚„‰ÂÊÁËÈÍÎÏÌÓÔ\uf8ffÒÚÛÙıˆ˜¯˘˙˚¸˝˛ˇ';

function encodingTable(name: string | undefined): string[] | undefined {
  switch (name) {
    case 'WinAnsiEncoding': {
      const t = latin1Table();
      for (const [c, s] of Object.entries(WIN_ANSI_HIGH)) t[Number(c)] = s;
      return t;
    }
    case 'MacRomanEncoding':
    case 'MacExpertEncoding': {
      const t = asciiTable();
      for (let i = 0; i < 128; i++) t[0x80 + i] = MAC_ROMAN_HIGH[i] ?? '';
      return t;
    }
    case 'StandardEncoding': {
      const t = asciiTable();
      for (const [c, s] of Object.entries(STANDARD_HIGH)) t[Number(c)] = s;
      return t;
    }
    case 'PDFDocEncoding':
      return latin1Table();
    default:
      return undefined;
  }
}

function simpleEncoding(dict: PDFDict, subtype: string | undefined, baseFont: string): string[] {
  const fallback = subtype === 'TrueType' || baseFont === '' ? 'WinAnsiEncoding' : 'StandardEncoding';
  const enc = dict.lookup(PDFName.of('Encoding'));
  if (enc instanceof PDFName) return encodingTable(enc.decodeText()) ?? encodingTable(fallback)!;
  if (!(enc instanceof PDFDict)) return encodingTable(fallback)!;
  const table = [...(encodingTable(nameOf(enc, 'BaseEncoding')) ?? encodingTable(fallback)!)];
  const differences = enc.lookupMaybe(PDFName.of('Differences'), PDFArray);
  if (differences) {
    let code = 0;
    for (let i = 0; i < differences.size(); i++) {
      const item = differences.lookup(i);
      if (item instanceof PDFNumber) {
        code = item.asNumber();
      } else if (item instanceof PDFName) {
        if (code >= 0 && code < 256) table[code] = glyphToUnicode(item.decodeText());
        code++;
      }
    }
  }
  return table;
}

const GLYPHS: { [name: string]: string } = {
  space: ' ',
  exclam: '!',
  quotedbl: '"',
  numbersign: '#',
  dollar: '$',
  percent: '%',
  ampersand: '&',
  quotesingle: '\'',
  quoteright: '’',
  quoteleft: '‘',
  parenleft: '(',
  parenright: ')',
  asterisk: '*',
  plus: '+',
  comma: ',',
  hyphen: '-',
  minus: '−',
  period: '.',
  slash: '/',
  zero: '0',
  one: '1',
  two: '2',
  three: '3',
  four: '4',
  five: '5',
  six: '6',
  seven: '7',
  eight: '8',
  nine: '9',
  colon: ':',
  semicolon: ';',
  less: '<',
  equal: '=',
  greater: '>',
  question: '?',
  at: '@',
  bracketleft: '[',
  backslash: '\\',
  bracketright: ']',
  asciicircum: '^',
  underscore: '_',
  grave: '`',
  braceleft: '{',
  bar: '|',
  braceright: '}',
  asciitilde: '~',
  quotedblleft: '“',
  quotedblright: '”',
  quotesinglbase: '‚',
  quotedblbase: '„',
  endash: '–',
  emdash: '—',
  bullet: '•',
  ellipsis: '…',
  dagger: '†',
  daggerdbl: '‡',
  section: '§',
  paragraph: '¶',
  copyright: '©',
  registered: '®',
  trademark: '™',
  degree: '°',
  Euro: '€',
  sterling: '£',
  yen: '¥',
  cent: '¢',
  currency: '¤',
  fi: 'fi',
  fl: 'fl',
  ff: 'ff',
  ffi: 'ffi',
  ffl: 'ffl',
  germandbls: 'ß',
  AE: 'Æ',
  ae: 'æ',
  OE: 'Œ',
  oe: 'œ',
  Oslash: 'Ø',
  oslash: 'ø',
  Lslash: 'Ł',
  lslash: 'ł',
  dotlessi: 'ı',
  guillemotleft: '«',
  guillemotright: '»',
  guilsinglleft: '‹',
  guilsinglright: '›',
  exclamdown: '¡',
  questiondown: '¿',
  periodcentered: '·',
  multiply: '×',
  divide: '÷',
  plusminus: '±',
  onehalf: '½',
  onequarter: '¼',
  threequarters: '¾',
  mu: 'µ',
  ordfeminine: 'ª',
  ordmasculine: 'º',
  nbspace: '\u00a0',
  sfthyphen: '-',
  perthousand: '‰',
  florin: 'ƒ',
};

const ACCENTS: { [name: string]: string } = {
  acute: '\u0301',
  grave: '\u0300',
  circumflex: '\u0302',
  dieresis: '\u0308',
  tilde: '\u0303',
  ring: '\u030a',
  cedilla: '\u0327',
  caron: '\u030c',
};

function glyphToUnicode(name: string): string {
  if (name in GLYPHS) return GLYPHS[name];
  if (/^[A-Za-z]$/.test(name)) return name;
  const uni = /^uni((?:[0-9A-Fa-f]{4})+)$/.exec(name);
  if (uni) return utf16be(uni[1]);
  const u = /^u([0-9A-Fa-f]{4,6})$/.exec(name);
  if (u) return String.fromCodePoint(parseInt(u[1], 16));
  const accented = /^([A-Za-z])(acute|grave|circumflex|dieresis|tilde|ring|cedilla|caron)$/.exec(name);
  if (accented) return (accented[1] + ACCENTS[accented[2]]).normalize('NFC');
  return '';
}
