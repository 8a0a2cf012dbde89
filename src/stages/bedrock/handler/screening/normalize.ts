/**
 * Normalization, the first screening layer: turns untrusted text into the forms the other layers
 * match against, undoing the disguises an instruction can wear in a document:
 * Unicode compatibility forms (NFKC: full-width, mathematical letters), look-alike Cyrillic and
 * Greek letters, zero-width and bidi characters, invisible Unicode tag characters, accents,
 * words hyphenated across lines, letters separated by spaces, digit-for-letter substitutions and
 * base64, hex, percent- or entity-encoded runs. Pure; no I/O.
 *
 * It also reports, on its own, signs that text was hidden on purpose (`obfuscation`).
 */

/** One form of the text to screen, and the disguise it undoes (`plain` for the base form). */
export interface TextView {
  readonly via: string;
  readonly text: string;
}

/** The forms of a text and the signs of deliberate hiding found while making them. */
export interface Normalized {
  /** The base form first, then one form per disguise undone (decoded runs, collapsed letters, ...). */
  readonly views: TextView[];
  /** The base form with its line breaks kept, for checks that look at the start of a line. */
  readonly lines: string;
  /** Names of hiding techniques seen: `unicode-tags`, `bidi-override`, `mixed-script`, `zero-width-in-words`. */
  readonly obfuscation: string[];
}

/** Zero-width, soft hyphen, bidi embeddings/overrides/isolates, word joiner, BOM, Mongolian vowel separator. */
const INVISIBLE = /[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;
const ZERO_WIDTH_IN_WORD = /\p{L}[\u200b-\u200d\u2060\ufeff]+\p{L}/gu;
const BIDI_OVERRIDE = /[\u202d\u202e]/;
/** Unicode tag characters (U+E0000..U+E007F): invisible, but each mirrors an ASCII character. */
const TAGS = /[\u{e0000}-\u{e007f}]+/gu;

/** Cyrillic and Greek letters that look like Latin ones (lower case; upper case is lowered first). */
const CONFUSABLES: { readonly [c: string]: string } = {
  // Cyrillic
  а: 'a',
  в: 'b',
  е: 'e',
  ё: 'e',
  к: 'k',
  м: 'm',
  н: 'h',
  о: 'o',
  р: 'p',
  с: 'c',
  т: 't',
  у: 'y',
  х: 'x',
  і: 'i',
  ї: 'i',
  ј: 'j',
  ѕ: 's',
  ԁ: 'd',
  ɡ: 'g',
  һ: 'h',
  ӏ: 'l',
  ԛ: 'q',
  ԝ: 'w',
  ь: 'b',
  ѵ: 'v',
  ү: 'y',
  // Greek
  α: 'a',
  β: 'b',
  ε: 'e',
  η: 'n',
  ι: 'i',
  κ: 'k',
  ν: 'v',
  ο: 'o',
  ρ: 'p',
  τ: 't',
  υ: 'u',
  χ: 'x',
  γ: 'y',
  ω: 'w',
  ζ: 'z',
  μ: 'u',
};
const CONFUSABLE_CHARS = new RegExp(`[${Object.keys(CONFUSABLES).join('')}]`, 'g');
const LATIN = /[a-z]/;
const CYRILLIC_OR_GREEK = /[\u0370-\u03ff\u0400-\u052f]/;

/** Digits and signs written for letters inside words (`1gn0re`). */
const LEET: { readonly [c: string]: string } = { '0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '8': 'b', '@': 'a', '$': 's', '|': 'l' };

/** Letters separated by single spaces or dots (`i g n o r e`, `A I`). */
export const SPACED = /(?<![\p{L}\p{N}])\p{L}(?:[ .·_*-]\p{L})+(?![\p{L}\p{N}])/gu;
/** `SPACED` for ASCII text, where `\p{L}` is `[A-Za-z]` and `\p{N}` is `[0-9]` (and compiles without Unicode tables). */
export const SPACED_ASCII = /(?<![A-Za-z0-9])[A-Za-z](?:[ ._*-][A-Za-z])+(?![A-Za-z0-9])/g;

/**
 * True when the text is all ASCII. Most extracted text is, and then most disguises cannot be there
 * (tag characters, invisible and bidi characters, look-alikes, accents, typographic quotes): the
 * steps that undo them are skipped, so their Unicode expressions never compile on a cold start.
 */
function isAscii(text: string): boolean {
  return !/[^\x00-\x7f]/.test(text);
}

const BASE64_RUN = /[A-Za-z0-9+/_-]{16,}={0,2}/g;
const HEX_RUN = /\b(?:[0-9A-Fa-f]{2}[ :]?){12,}\b/g;
const PERCENT_RUN = /(?:%[0-9A-Fa-f]{2}[^%\s]{0,3}){4,}/g;
const ENTITY = /&#(?:x([0-9a-f]{1,6})|(\d{1,7}));/gi;

/** Case-folded, accent-free, confusable-folded, invisible-free, whitespace-collapsed form of a text. */
export function foldText(text: string, keepLines = false): string {
  const t = foldChars(text, isAscii(text));
  return keepLines ? keepLineBreaks(t) : collapseWhitespace(t);
}

const collapseWhitespace = (t: string) => t.replace(/\s+/g, ' ').trim();
const keepLineBreaks = (t: string) => t.replace(/[^\S\n]+/g, ' ').replace(/ ?\n[\s]*/g, '\n').trim();

/** `foldText` before its whitespace is collapsed; `ascii`: whether the text is all ASCII, when known. */
function foldChars(text: string, ascii: boolean): string {
  let t: string;
  if (ascii) {
    // NFKC, NFD and lower case keep ASCII ASCII; of the characters replaced below only ` is ASCII.
    t = text.toLowerCase().replace(/`/g, '\'');
  } else {
    t = text.replace(TAGS, '').normalize('NFKC').replace(INVISIBLE, '');
    t = t.toLowerCase().replace(CONFUSABLE_CHARS, (c) => CONFUSABLES[c] ?? c);
    t = t.normalize('NFD').replace(/\p{M}+/gu, '');
    // Typographic quotes and dashes to ASCII, so patterns can use ' " and -.
    t = t.replace(/[\u2018\u2019\u02bc\u2032`´]/g, '\'').replace(/[\u201c\u201d\u201e\u00ab\u00bb]/g, '"').replace(/[\u2010-\u2015\u2212]/g, '-');
  }
  // Words hyphenated across lines: "instruc-\ntions".
  if (t.includes('-') && t.includes('\n')) t = t.replace(/(\p{L})-[ \t]*\r?\n[ \t]*(\p{L})/gu, '$1$2');
  return t;
}

/** Undoes digit-for-letter substitutions inside words that mix letters and digits. */
function unLeet(folded: string): string {
  if (!/[0-9@$|]/.test(folded)) return folded; // nothing to substitute
  return folded.replace(/[\p{L}0-9@$|]+/gu, (w) => (/\p{L}/u.test(w) && /[0-9@$|]/.test(w) && !/^\d+(?:st|nd|rd|th|s)?$/.test(w)
    ? [...w].map((c) => LEET[c] ?? c).join('') : w));
}

/** Collapses letters separated by single spaces; word gaps of two or more spaces stay word gaps. */
function collapseSpaced(text: string, ascii: boolean): { text: string; runs: string[] } {
  const runs: string[] = [];
  const flat = text.replace(/[ \t]{2,}/g, '  ');
  const out = flat.replace(ascii ? SPACED_ASCII : SPACED, (run) => {
    const joined = run.replace(/[ .·_*-]/g, '');
    runs.push(joined);
    return joined;
  });
  return { text: out, runs };
}

function printableShare(s: string): number {
  if (s.length === 0) return 0;
  const ok = s.match(/[\p{L}\p{N}\p{P}\p{Zs}\n]/gu)?.length ?? 0;
  return ok / s.length;
}

/** Text a run of base64 decodes to, when it is readable text with words. */
function decodeBase64(run: string): string | undefined {
  const clean = run.replace(/-/g, '+').replace(/_/g, '/');
  if (!/[a-z]/.test(clean) || !/[A-Z]/.test(clean)) return undefined; // words and hashes, not base64
  const text = Buffer.from(clean, 'base64').toString('utf8');
  return readable(text);
}

function decodeHex(run: string): string | undefined {
  const hex = run.replace(/[ :]/g, '');
  if (hex.length % 2 !== 0) return undefined;
  return readable(Buffer.from(hex, 'hex').toString('utf8'));
}

function readable(text: string): string | undefined {
  if (text.includes('\ufffd')) return undefined;
  if (printableShare(text) < 0.9 || !/\p{L}{2,}[ ,.:;]+\p{L}{2,}/u.test(text)) return undefined;
  return text;
}

/** Encoded runs decoded to text: base64, hex, percent-encoding and numeric character references. */
function decodedRuns(text: string): Array<{ via: string; text: string }> {
  const out: Array<{ via: string; text: string }> = [];
  for (const m of text.matchAll(BASE64_RUN)) {
    const d = decodeBase64(m[0]);
    if (d) out.push({ via: 'base64', text: d });
  }
  for (const m of text.matchAll(HEX_RUN)) {
    const d = decodeHex(m[0]);
    if (d) out.push({ via: 'hex', text: d });
  }
  for (const m of text.includes('%') ? text.matchAll(PERCENT_RUN) : []) {
    try {
      out.push({ via: 'percent-encoding', text: decodeURIComponent(m[0]) });
    } catch {
      // not valid percent-encoding: nothing hidden there
    }
  }
  if (text.includes('&#') && ENTITY.test(text)) {
    ENTITY.lastIndex = 0;
    out.push({
      via: 'character-references',
      text: text.replace(ENTITY, (_, hex, dec) => {
        const cp = hex ? parseInt(hex, 16) : parseInt(dec, 10);
        return cp <= 0x10ffff ? String.fromCodePoint(cp) : '';
      }),
    });
  }
  return out;
}

/** Words that mix Latin letters with Cyrillic or Greek look-alikes. */
function hasMixedScriptWord(text: string, ascii: boolean): boolean {
  if (ascii) return false; // NFKC keeps ASCII ASCII: no Cyrillic or Greek letter
  for (const m of text.normalize('NFKC').toLowerCase().matchAll(/\p{L}{2,}/gu)) {
    const w = m[0];
    if (LATIN.test(w) && CYRILLIC_OR_GREEK.test(w) && [...w].some((c) => CONFUSABLES[c] !== undefined)) return true;
  }
  return false;
}

/** The forms of one untrusted text to screen, and the signs of deliberate hiding. */
export function normalize(text: string): Normalized {
  const obfuscation: string[] = [];
  const views: TextView[] = [];
  const ascii = isAscii(text);
  const tagText = (ascii ? [] : [...text.matchAll(TAGS)]).map((m) => [...m[0]].map((c) => String.fromCharCode(c.codePointAt(0)! - 0xe0000)).join(''));
  if (tagText.length > 0) obfuscation.push('unicode-tags');
  if (!ascii && BIDI_OVERRIDE.test(text)) obfuscation.push('bidi-override');
  if (!ascii && (text.match(ZERO_WIDTH_IN_WORD)?.length ?? 0) >= 2) obfuscation.push('zero-width-in-words');
  if (hasMixedScriptWord(text, ascii)) obfuscation.push('mixed-script');

  // The text is folded once: the plain view and the lines view differ only in their whitespace.
  const foldedChars = foldChars(text, ascii);
  const base = collapseWhitespace(foldedChars);
  views.push({ via: 'plain', text: base });

  const unhidden = ascii ? text : text.replace(TAGS, '').normalize('NFKC').replace(INVISIBLE, '');
  const flat = unhidden.replace(/\r?\n/g, '  ');
  const spaced = collapseSpaced(flat, ascii || isAscii(flat));
  if (spaced.runs.some((r) => r.length >= 6)) {
    views.push({ via: 'spaced-letters', text: foldText(spaced.text) });
    // Letters spaced with no word gaps collapse into one long word: matched without word gaps.
    const joined = spaced.runs.filter((r) => r.length >= 12).map((r) => foldText(r)).join(' ');
    if (joined) views.push({ via: 'spaced-letters-joined', text: joined });
  }
  // PDF producers and text extractors can drop every word gap ("Forgetyourpriorrules."): long
  // run-together tokens are matched without word gaps too.
  const runTogether = !/\S{20}/.test(unhidden) ? [] : unhidden.split(/\s+/).filter((t) => (t.match(/\p{L}/gu)?.length ?? 0) >= 20);
  if (runTogether.length > 0) views.push({ via: 'run-together-joined', text: runTogether.map((t) => foldText(t)).join(' ') });
  const leet = unLeet(base);
  if (leet !== base) views.push({ via: 'digits-for-letters', text: leet });
  for (const t of tagText) views.push({ via: 'unicode-tags', text: foldText(t) });
  for (const d of decodedRuns(unhidden)) {
    const folded = foldText(d.text);
    views.push({ via: d.via, text: folded });
    const decodedLeet = unLeet(folded);
    if (decodedLeet !== folded) views.push({ via: `${d.via}+digits-for-letters`, text: decodedLeet });
  }
  return { views: views.filter((v) => v.text.length > 0), lines: keepLineBreaks(foldedChars), obfuscation };
}
