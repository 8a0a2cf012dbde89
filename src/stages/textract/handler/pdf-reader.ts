/**
 * The preflight's own PDF reader: what Textract's preflight needs to know of a PDF (its page count,
 * whether it is encrypted, the kinds of active content it holds) and nothing else. ADR-0033.
 *
 * It reads a PDF as pdf-lib's parser (`PDFParser.parseDocument`, which the preflight used before)
 * does, so the two agree on every document (a test compares them on PDFs from real producers and on
 * broken ones):
 * - objects are read in file order, from the first byte to the last, whatever the cross-reference
 *   tables say; a later object of the same number replaces an earlier one (incremental updates);
 * - an object that cannot be read is kept as invalid, up to its `endobj`;
 * - objects in object streams (`/Type /ObjStm`) are read when their stream is; the trailer comes from
 *   `trailer` dictionaries and cross-reference streams (`/Type /XRef`), the later one winning;
 * - without a valid `/Root`, the last `/Type /Catalog` dictionary is the root;
 * - pages are the `/Type /Page` leaves of the `/Type /Pages` tree.
 *
 * Everything is synchronous, allocates only what it keeps, and loads nothing: the whole of pdf-lib
 * (105 KB of the Textract bundle, and its parse on every cold start) is no longer needed to count pages.
 */
import { constants as zlibConstants, inflateRawSync } from 'zlib';

/** A name, its `#xx` escapes decoded as pdf-lib decodes them (upper-case hex digits only). */
export class PdfName {
  constructor(readonly text: string) {}
}
/** An indirect reference (`12 0 R`). */
export class PdfRef {
  constructor(readonly num: number, readonly gen: number) {}
  get key(): string {
    return `${this.num} ${this.gen}`;
  }
}
/** A literal or hexadecimal string: its bytes as Latin-1 text. */
export class PdfString {
  constructor(readonly bytes: string) {}
  /** Its text: UTF-16 after a byte-order mark, else one character per byte. */
  get text(): string {
    if (!this.bytes.startsWith('\xfe\xff')) return this.bytes;
    let text = '';
    for (let i = 2; i + 1 < this.bytes.length; i += 2) text += String.fromCharCode(this.bytes.charCodeAt(i) * 256 + this.bytes.charCodeAt(i + 1));
    return text;
  }
}
/** A dictionary. */
export class PdfDict {
  constructor(readonly entries: Map<string, PdfValue>) {}
  get(key: string): PdfValue | undefined {
    return this.entries.get(key);
  }
  /** The value of `/Type` when it is a name written in the dictionary itself (how pdf-lib types a dictionary). */
  get type(): string | undefined {
    const t = this.entries.get('Type');
    return t instanceof PdfName ? t.text : undefined;
  }
}
/** A stream: its dictionary and where its data lies in the file (or in the object stream that holds it). */
export class PdfStream {
  constructor(readonly dict: PdfDict, readonly data: Uint8Array) {}
}
/** An object that could not be read (kept so that references to it still find something). */
export class PdfInvalid {}

export type PdfValue = number | boolean | null | PdfName | PdfRef | PdfString | PdfDict | PdfStream | PdfInvalid | PdfValue[];

/** What the preflight learns from a PDF's structure. */
export interface PdfStructure {
  /** The trailer names an encryption dictionary (an object that exists, or a direct one). */
  readonly encrypted: boolean;
  /** Leaves of the page tree; undefined when the document has no readable page tree. */
  readonly pages?: number;
  /** Kinds of active content found in any object, in name order. */
  readonly activeContent: string[];
}

/** How far the reader may go. */
export interface PdfReadOptions {
  /**
   * Most bytes the object and cross-reference streams it decodes may grow to, all together: past it,
   * `PdfTooLargeError`. (A Flate stream under an ASCII85 filter is not zlib data in the file, so the
   * preflight's check of the inflated size cannot see it; this bound can.)
   * @default no bound
   */
  readonly maxDecodedBytes?: number;
}

/** The streams the reader decodes grow past `maxDecodedBytes`. */
export class PdfTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`the PDF's object streams decode to more than ${limit} bytes`);
    this.name = 'PdfTooLargeError';
  }
}

/** Why a PDF could not be read at all (no header, a broken cross-reference section, a stalled read). */
export class PdfSyntaxError extends Error {
  constructor(message: string, readonly offset: number) {
    super(`${message} at byte ${offset}`);
    this.name = 'PdfSyntaxError';
  }
}

/* Byte classes, as PDF 32000-1 §7.2.2 and pdf-lib define them. */
const WHITESPACE = new Uint8Array(256);
for (const c of [0x00, 0x09, 0x0a, 0x0c, 0x0d, 0x20]) WHITESPACE[c] = 1;
const DELIMITER = new Uint8Array(256);
for (const c of '()<>[]{}/%') DELIMITER[c.charCodeAt(0)] = 1;
const DIGIT = new Uint8Array(256);
for (let c = 0x30; c <= 0x39; c++) DIGIT[c] = 1;
const NUMERIC = new Uint8Array(DIGIT);
for (const c of '.+-') NUMERIC[c.charCodeAt(0)] = 1;

const CR = 0x0d;
const LF = 0x0a;
const kw = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const K = {
  header: kw('%PDF-'),
  obj: kw('obj'),
  endobj: kw('endobj'),
  stream: kw('stream'),
  endstream: kw('endstream'),
  xref: kw('xref'),
  trailer: kw('trailer'),
  startxref: kw('startxref'),
  eof: kw('%%EOF'),
  true: kw('true'),
  false: kw('false'),
  null: kw('null'),
};
/** What may follow `stream` (pdf-lib's order: the longest first). */
const STREAM_STARTS = [kw('stream \r\n'), kw('stream\r\n'), kw('stream\r'), kw('stream\n'), K.stream];
/** How a stream's data may end (pdf-lib's order). */
const STREAM_ENDS = [kw('\r\nendstream'), kw('\rendstream'), kw('\nendstream'), K.endstream];

/** Thrown inside one object: the object is kept as invalid and reading goes on. */
class ObjectError extends Error {}

/**
 * Reads a PDF's structure: its encryption, page count and active content. Throws `PdfSyntaxError`
 * when the file cannot be read at all (pdf-lib's `parseDocument` would throw there too).
 */
export function readPdfStructure(bytes: Uint8Array, options: PdfReadOptions = {}): PdfStructure {
  const doc = new DocumentReader(bytes, options.maxDecodedBytes ?? Infinity);
  doc.read();
  return {
    encrypted: doc.resolve(doc.trailerEncrypt) !== undefined,
    pages: doc.countPages(),
    activeContent: activeContentOf(doc.objects.values()),
  };
}

/** Reads objects (numbers, names, strings, arrays, dictionaries, streams, references) from bytes. */
class ObjectReader {
  protected at = 0;
  /** The same bytes as a Buffer, for Latin-1 slices. */
  private readonly buffer: Buffer;
  constructor(protected readonly bytes: Uint8Array) {
    this.buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  protected done(): boolean {
    return this.at >= this.bytes.length;
  }

  protected skipWhitespace(): void {
    while (this.at < this.bytes.length && WHITESPACE[this.bytes[this.at]]) this.at++;
  }

  protected skipWhitespaceAndComments(): void {
    this.skipWhitespace();
    while (this.bytes[this.at] === 0x25 /* % */) {
      while (this.at < this.bytes.length && this.bytes[this.at] !== LF && this.bytes[this.at] !== CR) this.at++;
      this.skipWhitespace();
    }
  }

  /** Moves past `word` when the bytes at the cursor are `word` (a prefix match, as pdf-lib's). */
  protected match(word: Uint8Array): boolean {
    if (!this.startsWith(word, this.at)) return false;
    this.at += word.length;
    return true;
  }

  protected startsWith(word: Uint8Array, at: number): boolean {
    if (at + word.length > this.bytes.length) return false;
    for (let i = 0; i < word.length; i++) if (this.bytes[at + i] !== word[i]) return false;
    return true;
  }

  protected expect(byte: number): void {
    if (this.bytes[this.at] !== byte) throw new ObjectError(`expected ${String.fromCharCode(byte)} at byte ${this.at}`);
    this.at++;
  }

  /** Digits only; throws when there are none. */
  protected readInt(): number {
    const value = this.tryInt();
    if (value < 0) throw new ObjectError(`expected an integer at byte ${this.at}`);
    return value;
  }

  /** Digits only; -1 (and the cursor unmoved) when there are none. */
  protected tryInt(): number {
    const start = this.at;
    let value = 0;
    while (this.at < this.bytes.length && DIGIT[this.bytes[this.at]]) value = value * 10 + this.bytes[this.at++] - 0x30;
    return this.at === start || !isFinite(value) ? (this.at = start, -1) : value;
  }

  /** Sign, digits and at most one point, as pdf-lib reads a number. */
  protected readNumber(): number {
    const start = this.at;
    while (this.at < this.bytes.length && NUMERIC[this.bytes[this.at]]) {
      if (this.bytes[this.at++] === 0x2e /* . */) break;
    }
    while (this.at < this.bytes.length && DIGIT[this.bytes[this.at]]) this.at++;
    const text = this.latin1(start, this.at);
    const value = Number(text);
    if (!text || !isFinite(value)) throw new ObjectError(`expected a number at byte ${start}`);
    return value;
  }

  protected latin1(start: number, end: number): string {
    return this.buffer.toString('latin1', start, end);
  }


  readObject(): PdfValue {
    this.skipWhitespaceAndComments();
    if (this.match(K.true)) return true;
    if (this.match(K.false)) return false;
    if (this.match(K.null)) return null;
    const byte = this.bytes[this.at];
    if (byte === 0x3c /* < */) return this.bytes[this.at + 1] === 0x3c ? this.readDictOrStream() : this.readHexString();
    if (byte === 0x28 /* ( */) return this.readString();
    if (byte === 0x2f /* / */) return this.readName();
    if (byte === 0x5b /* [ */) return this.readArray();
    if (byte !== undefined && NUMERIC[byte]) return this.readNumberOrRef();
    throw new ObjectError(`unexpected byte ${byte} at ${this.at}`);
  }

  private readNumberOrRef(): number | PdfRef {
    const first = this.readNumber();
    this.skipWhitespaceAndComments();
    const lookahead = this.at;
    if (DIGIT[this.bytes[this.at]]) {
      const second = this.readNumber();
      this.skipWhitespaceAndComments();
      if (this.bytes[this.at] === 0x52 /* R */) {
        this.at++;
        return new PdfRef(first, second);
      }
    }
    this.at = lookahead;
    return first;
  }

  private readHexString(): PdfString {
    this.expect(0x3c);
    const start = this.at;
    while (this.at < this.bytes.length && this.bytes[this.at] !== 0x3e /* > */) this.at++;
    const text = hexBytes(this.latin1(start, this.at)).toString('latin1');
    this.expect(0x3e);
    return new PdfString(text);
  }

  private readString(): PdfString {
    const start = this.at;
    let depth = 0;
    let escaped = false;
    while (this.at < this.bytes.length) {
      const byte = this.bytes[this.at++];
      if (!escaped) {
        if (byte === 0x28) depth++;
        if (byte === 0x29) depth--;
      }
      escaped = byte === 0x5c /* \ */ ? !escaped : false;
      if (depth === 0) return new PdfString(unescapeLiteral(this.latin1(start + 1, this.at - 1)));
    }
    throw new ObjectError(`unbalanced parenthesis in the string at byte ${start}`);
  }

  protected readName(): PdfName {
    this.expect(0x2f);
    const start = this.at;
    while (this.at < this.bytes.length && !WHITESPACE[this.bytes[this.at]] && !DELIMITER[this.bytes[this.at]]) this.at++;
    const raw = this.latin1(start, this.at);
    return new PdfName(raw.includes('#') ? raw.replace(/#([\dA-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))) : raw);
  }

  private readArray(): PdfValue[] {
    this.expect(0x5b);
    this.skipWhitespaceAndComments();
    const items: PdfValue[] = [];
    while (this.bytes[this.at] !== 0x5d /* ] */) {
      items.push(this.readObject());
      this.skipWhitespaceAndComments();
    }
    this.expect(0x5d);
    return items;
  }

  protected readDict(): PdfDict {
    this.expect(0x3c);
    this.expect(0x3c);
    this.skipWhitespaceAndComments();
    const entries = new Map<string, PdfValue>();
    // pdf-lib's condition, quirks included: the dictionary ends where either of the next two bytes is `>`.
    while (!this.done() && this.bytes[this.at] !== 0x3e && this.bytes[this.at + 1] !== 0x3e) {
      const key = this.readName();
      entries.set(key.text, this.readObject());
      this.skipWhitespaceAndComments();
    }
    this.skipWhitespaceAndComments();
    this.expect(0x3e);
    this.expect(0x3e);
    return new PdfDict(entries);
  }

  private readDictOrStream(): PdfDict | PdfStream {
    const dictStart = this.at;
    const dict = this.readDict();
    this.skipWhitespaceAndComments();
    if (!STREAM_STARTS.some((start) => this.match(start))) return dict;
    const start = this.at;
    let end: number;
    const length = dict.get('Length');
    if (typeof length === 'number') {
      end = start + length;
      this.at = end;
      this.skipWhitespaceAndComments();
      if (!this.match(K.endstream)) {
        this.at = start;
        end = this.findStreamEnd(dictStart);
      }
    } else {
      end = this.findStreamEnd(dictStart);
    }
    return new PdfStream(dict, this.bytes.subarray(start, Math.min(end, this.bytes.length)));
  }

  /** Where the stream's data ends when `/Length` does not say: the `endstream` that balances the `stream`s met. */
  private findStreamEnd(dictStart: number): number {
    let depth = 1;
    let end = this.at;
    while (this.at < this.bytes.length) {
      end = this.at;
      if (this.match(K.stream)) depth++;
      else if (STREAM_ENDS.some((e) => this.match(e))) depth--;
      else this.at++;
      if (depth === 0) return end;
    }
    throw new ObjectError(`the stream of the dictionary at byte ${dictStart} has no end`);
  }
}

/** Hexadecimal text as bytes: other characters skipped, an odd last digit read as if followed by 0. */
function hexBytes(text: string): Buffer {
  const hex = text.replace(/[^0-9a-fA-F]/g, '');
  return Buffer.from(hex.length % 2 ? `${hex}0` : hex, 'hex');
}

/** A literal string's text with its escapes read (`\n`, `\(`, octal, line continuations). */
function unescapeLiteral(raw: string): string {
  if (!raw.includes('\\')) return raw;
  const named: { [c: string]: string } = { n: '\n', r: '\r', t: '\t', b: '\b', f: '\f' };
  return raw.replace(/\\(?:([0-7]{1,3})|(\r\n|\r|\n)|(.))/gs, (_, octal?: string, eol?: string, c?: string) =>
    octal ? String.fromCharCode(parseInt(octal, 8) % 256) : eol ? '' : named[c!] ?? c!);
}

/** The whole document: its objects in file order, then its trailer. */
class DocumentReader extends ObjectReader {
  readonly objects = new Map<string, PdfValue>();
  /** Bytes the decoded streams may still grow to. */
  private budget: number;

  trailerRoot?: PdfValue;
  trailerEncrypt?: PdfValue;

  constructor(bytes: Uint8Array, private readonly limit: number) {
    super(bytes);
    this.budget = limit;
  }

  read(): void {
    this.readHeader();
    let previous = -1;
    while (!this.done()) {
      this.readSection();
      if (this.at === previous) throw new PdfSyntaxError('the PDF stops making sense', this.at);
      previous = this.at;
    }
    this.recoverRoot();
    // pdf-lib drops an object numbered 0: it is the head of the free list, never a real object.
    this.objects.delete('0 0');
  }

  resolve(value: PdfValue | undefined): PdfValue | undefined {
    return value instanceof PdfRef ? this.objects.get(value.key) : value;
  }

  /** Leaves of the page tree, or undefined when the root has no `/Type /Pages` tree of `/Kids` arrays. */
  countPages(): number | undefined {
    const root = this.resolve(this.trailerRoot);
    if (!isCatalog(root)) return undefined;
    const tree = this.resolve(root.get('Pages'));
    if (!(tree instanceof PdfDict) || tree.type !== 'Pages') return undefined;
    let pages = 0;
    const ancestors = new Set<PdfDict>();
    const visit = (node: PdfDict): boolean => {
      // A tree that contains itself never ends (pdf-lib overflows its stack): no readable tree.
      if (ancestors.has(node) || ancestors.size > 256) return false;
      const kids = this.resolve(node.get('Kids'));
      if (!Array.isArray(kids)) return false;
      ancestors.add(node);
      for (const ref of kids) {
        const kid = this.resolve(ref);
        if (!(kid instanceof PdfDict)) continue;
        if (kid.type === 'Pages' && !visit(kid)) return false;
        if (kid.type === 'Page') pages++;
      }
      ancestors.delete(node);
      return true;
    };
    return visit(tree) ? pages : undefined;
  }

  private readHeader(): void {
    while (!this.done()) {
      if (this.match(K.header)) {
        try {
          this.readInt();
          this.expect(0x2e);
          this.readInt();
        } catch {
          throw new PdfSyntaxError('the PDF header has no version', this.at);
        }
        this.skipBinaryComment();
        return;
      }
      this.at++;
    }
    throw new PdfSyntaxError('the PDF has no header', this.at);
  }

  /**
   * The binary comment after the header, as pdf-lib skips it: when no object header starts there,
   * one byte past where reading a header stopped.
   */
  private skipBinaryComment(): void {
    this.skipWhitespaceAndComments();
    const header = this.readObjectHeader(this.at);
    if (header.ref === undefined) {
      this.at = header.end + 1;
      this.skipWhitespaceAndComments();
    }
  }

  /** Reads an `N G obj` header at `at`: its reference when there is one, and where reading stopped. Moves no cursor. */
  private readObjectHeader(at: number): { ref?: PdfRef; end: number } {
    const saved = this.at;
    this.at = at;
    this.skipWhitespaceAndComments();
    let ref: PdfRef | undefined;
    const num = this.tryInt();
    if (num >= 0) {
      this.skipWhitespaceAndComments();
      const gen = this.tryInt();
      if (gen >= 0) {
        this.skipWhitespaceAndComments();
        if (this.match(K.obj)) ref = new PdfRef(num, gen);
      }
    }
    const end = this.at;
    this.at = saved;
    return { ref, end };
  }

  private readSection(): void {
    this.readIndirectObjects();
    this.skipCrossRefSection();
    this.readTrailerDict();
    this.skipStartXref();
    this.skipJunk();
  }

  private readIndirectObjects(): void {
    this.skipWhitespaceAndComments();
    while (!this.done() && DIGIT[this.bytes[this.at]]) {
      const start = this.at;
      try {
        this.readIndirectObject();
      } catch (err) {
        // Whatever failed inside the object (pdf-lib's parser catches every error there too).
        if (err instanceof PdfSyntaxError || err instanceof PdfTooLargeError) throw err;
        this.at = start;
        this.keepInvalidObject();
      }
      this.skipWhitespaceAndComments();
      this.skipJunk();
    }
  }

  private readIndirectObject(): void {
    const { ref, end } = this.readObjectHeader(this.at);
    if (!ref) throw new ObjectError(`no object header at byte ${this.at}`);
    this.at = end;
    this.skipWhitespaceAndComments();
    const object = this.readObject();
    this.skipWhitespaceAndComments();
    this.match(K.endobj);
    const type = object instanceof PdfStream ? this.resolve(object.dict.get('Type')) : undefined;
    if (type instanceof PdfName && type.text === 'ObjStm') {
      this.readObjectStream(object as PdfStream);
    } else if (type instanceof PdfName && type.text === 'XRef') {
      this.readCrossRefStream(object as PdfStream);
    } else {
      this.objects.set(ref.key, object);
    }
  }

  /** An object that cannot be read is kept as invalid up to its `endobj`; without one, the PDF cannot be read. */
  private keepInvalidObject(): void {
    const { ref, end } = this.readObjectHeader(this.at);
    if (!ref) throw new PdfSyntaxError('an object has no header', this.at);
    this.at = end;
    this.skipWhitespaceAndComments();
    while (this.at < this.bytes.length) {
      if (this.match(K.endobj)) {
        this.objects.set(ref.key, new PdfInvalid());
        return;
      }
      this.at++;
    }
    throw new PdfSyntaxError(`object ${ref.key} has no endobj`, this.at);
  }

  /** The objects an object stream holds, numbered from its header of `N` number and offset pairs. */
  private readObjectStream(stream: PdfStream): void {
    const first = this.resolve(stream.dict.get('First'));
    const count = this.resolve(stream.dict.get('N'));
    if (typeof first !== 'number' || typeof count !== 'number') throw new ObjectError('an object stream without /First or /N');
    const inner = new StreamObjectReader(this.decode(stream));
    for (const [num, offset] of inner.readPairs(count)) {
      this.objects.set(new PdfRef(num, 0).key, inner.readAt(first + offset));
    }
  }

  /** A cross-reference stream names the trailer (pdf-lib reads it only once its data decodes and it has `/Size` and `/W`). */
  private readCrossRefStream(stream: PdfStream): void {
    this.decode(stream);
    if (typeof this.resolve(stream.dict.get('Size')) !== 'number' || !Array.isArray(this.resolve(stream.dict.get('W')))) {
      throw new ObjectError('a cross-reference stream without /Size or /W');
    }
    this.trailerRoot = stream.dict.get('Root');
    this.trailerEncrypt = stream.dict.get('Encrypt');
  }

  private decode(stream: PdfStream): Uint8Array {
    const filter = this.resolve(stream.dict.get('Filter'));
    const filters = filter === undefined ? [] : Array.isArray(filter) ? filter.map((f) => this.resolve(f)) : [filter];
    let data = stream.data;
    for (const f of filters) {
      if (!(f instanceof PdfName)) throw new ObjectError('a stream filter that is not a name');
      try {
        data = decodeFilter(f.text, data, this.budget + 1);
      } catch (err) {
        throw err instanceof PdfTooLargeError ? new PdfTooLargeError(this.limit) : err;
      }
      if (data.length > this.budget) throw new PdfTooLargeError(this.limit);
    }
    this.budget -= data.length;
    return data;
  }

  /** A classic cross-reference table: read past (objects are found in file order, not through it). */
  private skipCrossRefSection(): void {
    this.skipWhitespaceAndComments();
    if (!this.match(K.xref)) return;
    this.skipWhitespaceAndComments();
    while (!this.done() && DIGIT[this.bytes[this.at]]) {
      this.syntaxInt();
      this.skipWhitespaceAndComments();
      this.syntaxInt();
      this.skipWhitespaceAndComments();
      const byte = this.bytes[this.at];
      if (byte === 0x6e /* n */ || byte === 0x66 /* f */) this.at++;
      this.skipWhitespaceAndComments();
    }
  }

  /** `trailer << ... >>`: its `/Root` and `/Encrypt`, where it names them, replace the ones known. */
  private readTrailerDict(): void {
    this.skipWhitespaceAndComments();
    if (!this.match(K.trailer)) return;
    this.skipWhitespaceAndComments();
    let dict: PdfDict;
    try {
      dict = this.readDict();
    } catch (err) {
      if (err instanceof ObjectError) throw new PdfSyntaxError('the trailer is not a dictionary', this.at);
      throw err;
    }
    this.trailerRoot = dict.get('Root') ?? this.trailerRoot;
    this.trailerEncrypt = dict.get('Encrypt') ?? this.trailerEncrypt;
  }

  private skipStartXref(): void {
    this.skipWhitespaceAndComments();
    if (!this.match(K.startxref)) return;
    this.skipWhitespaceAndComments();
    this.syntaxInt();
    this.skipWhitespace();
    this.match(K.eof);
    this.skipWhitespaceAndComments();
    this.match(K.eof);
    this.skipWhitespaceAndComments();
  }

  private syntaxInt(): number {
    try {
      return this.readInt();
    } catch {
      throw new PdfSyntaxError('expected an integer', this.at);
    }
  }

  /** Bytes between objects that are none of them: skipped up to the next object, table or trailer. */
  private skipJunk(): void {
    this.skipWhitespaceAndComments();
    while (!this.done()) {
      const byte = this.bytes[this.at];
      if (byte >= 0x20 && byte <= 0x7e) {
        if (this.startsWith(K.xref, this.at) || this.startsWith(K.trailer, this.at) || this.startsWith(K.startxref, this.at)
          || this.readObjectHeader(this.at).ref !== undefined) {
          return;
        }
      }
      this.at++;
    }
  }

  /** pdf-lib's fallback: without a `/Type /Catalog` root, the catalog of the highest object number (the last read of those). */
  private recoverRoot(): void {
    if (isCatalog(this.resolve(this.trailerRoot))) return;
    let best = -1;
    for (const [key, object] of this.objects) {
      const [num, gen] = key.split(' ').map(Number);
      if (isCatalog(object) && num >= best) {
        best = num;
        this.trailerRoot = new PdfRef(num, gen);
      }
    }
  }
}

/** Reads the objects of an object stream's decoded data. */
class StreamObjectReader extends ObjectReader {
  readPairs(count: number): Array<[number, number]> {
    const pairs: Array<[number, number]> = [];
    for (let i = 0; i < count; i++) {
      this.skipWhitespaceAndComments();
      const num = this.readInt();
      this.skipWhitespaceAndComments();
      pairs.push([num, this.readInt()]);
    }
    return pairs;
  }

  readAt(offset: number): PdfValue {
    this.at = offset;
    return this.readObject();
  }
}

function isCatalog(value: PdfValue | undefined): value is PdfDict {
  return value instanceof PdfDict && value.type === 'Catalog';
}

/**
 * Decodes one filter of an object or cross-reference stream. Like pdf-lib, predictors
 * (`/DecodeParms`) are not applied: they only change the cross-reference data, which is not read.
 */
function decodeFilter(name: string, data: Uint8Array, maxOutput: number): Uint8Array {
  switch (name) {
    case 'FlateDecode':
      return inflate(data, maxOutput);
    case 'ASCIIHexDecode': {
      const text = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('latin1');
      const end = text.indexOf('>');
      return hexBytes(end < 0 ? text : text.slice(0, end));
    }
    case 'ASCII85Decode':
      return decodeAscii85(data);
    case 'RunLengthDecode':
      return decodeRunLength(data, maxOutput);
    default:
      // LZW and image filters never hold objects in practice; pdf-lib gives up on unknown ones the same way.
      throw new ObjectError(`a stream filter the reader does not decode: ${name}`);
  }
}

/* eslint-disable no-bitwise -- binary decoders */
/**
 * True when `data` starts with a zlib header: deflate (method 8), a check that makes the two bytes a
 * multiple of 31, and no preset dictionary (which neither zlib nor pdf-lib could inflate without).
 */
export function isZlibHeader(data: Uint8Array): boolean {
  return data.length >= 2 && (data[0] & 0x0f) === 8 && ((data[0] << 8) | data[1]) % 31 === 0 && (data[1] & 0x20) === 0;
}

/**
 * Inflates zlib data as pdf-lib's inflater (pdf.js's FlateStream) does: the two-byte header must
 * name deflate, and the Adler-32 checksum at the end is not checked; truncated data gives what
 * inflated before its end.
 */
function inflate(data: Uint8Array, maxOutput: number): Uint8Array {
  if (!isZlibHeader(data)) throw new ObjectError('a Flate stream without a zlib header');
  try {
    // Past `maxOutput`, zlib stops with ERR_BUFFER_TOO_LARGE.
    return inflateRawSync(data.subarray(2), { finishFlush: zlibConstants.Z_SYNC_FLUSH, maxOutputLength: Math.min(maxOutput, 2 ** 31 - 1) });
  } catch (err) {
    // By its code: an instanceof check fails across realms (Jest's sandbox).
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw new PdfTooLargeError(maxOutput);
    throw new ObjectError('a Flate stream that does not inflate');
  }
}

function decodeAscii85(data: Uint8Array): Uint8Array {
  const out: number[] = [];
  let group: number[] = [];
  for (const byte of data) {
    if (byte === 0x7e /* ~ */) break;
    if (WHITESPACE[byte]) continue;
    if (byte === 0x7a /* z */ && group.length === 0) {
      out.push(0, 0, 0, 0);
      continue;
    }
    if (byte < 0x21 || byte > 0x75) throw new ObjectError('an ASCII85 stream with a byte outside its alphabet');
    group.push(byte - 0x21);
    if (group.length === 5) {
      const value = group.reduce((acc, d) => acc * 85 + d, 0);
      out.push((value >>> 24) & 0xff, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff);
      group = [];
    }
  }
  if (group.length > 1) {
    const n = group.length - 1;
    while (group.length < 5) group.push(84);
    const value = group.reduce((acc, d) => acc * 85 + d, 0);
    out.push(...[(value >>> 24) & 0xff, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff].slice(0, n));
  }
  return Uint8Array.from(out);
}

function decodeRunLength(data: Uint8Array, maxOutput: number): Uint8Array {
  const out: number[] = [];
  let i = 0;
  while (i < data.length && out.length < maxOutput) {
    const length = data[i++];
    if (length === 128) break;
    if (length < 128) {
      for (let k = 0; k <= length && i < data.length; k++) out.push(data[i++]);
    } else if (i < data.length) {
      const byte = data[i++];
      for (let k = 0; k < 257 - length; k++) out.push(byte);
    }
  }
  return Uint8Array.from(out);
}
/* eslint-enable no-bitwise */

/** Dictionary keys, and values of `/S` (action type), `/Type` or `/Subtype`, that mark active content, by the kind reported. */
// Maps, not object literals: a name such as `/constructor` or `/toString` must find nothing.
const ACTIVE_KEYS: ReadonlyMap<string, string> = new Map([
  ['JS', 'JavaScript'],
  ['JavaScript', 'JavaScript'],
  ['EmbeddedFiles', 'EmbeddedFiles'],
  ['EF', 'EmbeddedFiles'],
  ['RichMedia', 'RichMedia'],
  ['RichMediaContent', 'RichMedia'],
  ['XFA', 'XFA'],
]);
const ACTIVE_VALUES: ReadonlyMap<string, string> = new Map([
  ['JavaScript', 'JavaScript'],
  ['Launch', 'Launch'],
  ['EmbeddedFile', 'EmbeddedFiles'],
  ['RichMedia', 'RichMedia'],
]);
const ACTION_KEYS = new Set(['S', 'Type', 'Subtype']);

/**
 * The kinds of active content in a PDF, from every object it holds (object streams included; names
 * written with `#xx` escapes are read decoded, so `/J#61vaScript` is found too).
 */
function activeContentOf(objects: Iterable<PdfValue>): string[] {
  const found = new Set<string>();
  const visit = (value: PdfValue, depth: number): void => {
    if (depth > 32) return;
    const dict = value instanceof PdfStream ? value.dict : value instanceof PdfDict ? value : undefined;
    if (dict) {
      for (const [key, v] of dict.entries) {
        const byKey = ACTIVE_KEYS.get(key);
        if (byKey) found.add(byKey);
        const byValue = ACTION_KEYS.has(key) && (v instanceof PdfName || v instanceof PdfString) ? ACTIVE_VALUES.get(v.text) : undefined;
        if (byValue) found.add(byValue);
        if (v instanceof PdfDict || Array.isArray(v)) visit(v, depth + 1);
      }
    } else if (Array.isArray(value)) {
      for (const item of value) visit(item, depth + 1);
    }
  };
  for (const object of objects) visit(object, 0);
  return [...found].sort();
}
