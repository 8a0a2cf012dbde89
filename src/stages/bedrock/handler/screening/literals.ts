import { PatternLiterals } from './phrase-literals';
import { patternSource } from './phrases';

/**
 * Necessary literals of a regular expression: strings of which every match contains at least one.
 * A text that contains none of them cannot match, so the pattern need not be compiled for it (V8
 * compiles a regular expression on its first use, which costs milliseconds per screening pattern).
 *
 * Reads the syntax the screening patterns are compiled to: groups `(?:...)`, alternation `|`, classes
 * `[...]`, escapes (`\b`, `\w`, `\S`, `\.`, `\p{L}`), quantifiers `?` `*` `+` `{m}` `{m,}` `{m,n}` (lazy
 * or not). Anything it does not know gives no literals (the caller then always runs the pattern), so
 * an answer is always sound: it can only be less selective, never miss a match.
 *
 * Reading a pattern costs more on a cold start than compiling it, so this runs when the library is
 * built, not in a handler: `projenrc/gen-phrase-literals.ts` writes the table the handlers read
 * (`phrase-literals.ts`), and a test fails when the table and the patterns disagree.
 */

/** What one node of the pattern can match. */
interface Info {
  /** Every string the node matches, when there are few (at most `MAX_SET`); undefined otherwise. */
  readonly exact?: readonly string[];
  /** Literals one of which every match of the node contains; undefined when none are known. */
  readonly any?: readonly string[];
}

const MAX_SET = 64;
const NOTHING: Info = {};
const EMPTY: Info = { exact: [''] };

/**
 * The necessary literals of `source` (compiled without the `i` flag), or undefined when the pattern
 * gives none (for example `.*`), in which case every text must be tried.
 */
export function necessaryLiterals(source: string): string[] | undefined {
  const parser = new Parser(source);
  const info = parser.alternation();
  if (parser.failed || !parser.done()) return undefined;
  const best = literalsOf(info);
  return best ? minimal(best) : undefined;
}

/** The literals without those that contain another one (a text with the longer one has the shorter), sorted. */
function minimal(literals: readonly string[]): string[] {
  const sorted = unique(literals).sort((a, b) => a.length - b.length || (a < b ? -1 : 1));
  const kept: string[] = [];
  for (const s of sorted) if (!kept.some((k) => s.includes(k))) kept.push(s);
  return kept.sort();
}

/** The literals of each named pattern, spaced and joined: what `phrase-literals.ts` holds. */
export function literalTable(patterns: ReadonlyArray<{ readonly name: string; readonly source: string }>): PatternLiterals {
  const table: { [name: string]: { spaced?: string[]; joined?: string[] } } = {};
  for (const p of patterns) {
    table[p.name] = { spaced: necessaryLiterals(patternSource(p.source, false)), joined: necessaryLiterals(patternSource(p.source, true)) };
  }
  return table;
}

/** The node's literals: the better of its exact strings (when none is empty) and its necessary literals. */
function literalsOf(info: Info): readonly string[] | undefined {
  const usable = (set: readonly string[] | undefined) => (set && set.length > 0 && set.every((s) => s.length > 0) ? set : undefined);
  return better(usable(info.exact), usable(info.any));
}

/** Literals this long are selective enough in prose; then fewer literals is better (fewer checks, a smaller table). */
const SELECTIVE_LENGTH = 5;

/** The better of two literal sets: selective (shortest literal at least `SELECTIVE_LENGTH`) and then fewer, else the longer shortest literal. */
function better(a: readonly string[] | undefined, b: readonly string[] | undefined): readonly string[] | undefined {
  if (!a) return b;
  if (!b) return a;
  const minA = Math.min(...a.map((s) => s.length));
  const minB = Math.min(...b.map((s) => s.length));
  const selectiveA = minA >= SELECTIVE_LENGTH;
  const selectiveB = minB >= SELECTIVE_LENGTH;
  if (selectiveA && selectiveB) return a.length !== b.length ? (a.length < b.length ? a : b) : minA >= minB ? a : b;
  if (selectiveA !== selectiveB) return selectiveA ? a : b;
  return minA !== minB ? (minA > minB ? a : b) : a.length <= b.length ? a : b;
}

function unique(strings: readonly string[]): string[] {
  return [...new Set(strings)];
}

/** Every concatenation of one string of `a` and one of `b`, or undefined when there would be too many. */
function product(a: readonly string[], b: readonly string[]): string[] | undefined {
  if (a.length * b.length > MAX_SET) return undefined;
  return unique(a.flatMap((x) => b.map((y) => x + y)));
}

/** A recursive-descent reader of the pattern's syntax, computing `Info` bottom-up. */
class Parser {
  /** Set when the pattern uses syntax this reader does not know. */
  public failed = false;
  private i = 0;

  constructor(private readonly s: string) {}

  public done(): boolean {
    return this.i >= this.s.length;
  }

  /** branch (`|` branch)* */
  public alternation(): Info {
    const branches = [this.sequence()];
    while (this.s[this.i] === '|') {
      this.i++;
      branches.push(this.sequence());
    }
    if (branches.length === 1) return branches[0];
    const exacts = branches.map((b) => b.exact);
    const exact = exacts.every((e) => e) ? unique(exacts.flatMap((e) => e!)) : undefined;
    const lits = branches.map(literalsOf);
    const any = lits.every((l) => l) ? unique(lits.flatMap((l) => l!)) : undefined;
    return { exact: exact && exact.length <= MAX_SET ? exact : undefined, any };
  }

  /** quantified atoms, until `|` or `)` or the end */
  private sequence(): Info {
    // `run`: the concatenations of the current run of atoms with few strings each; each run is a
    // candidate, and so is each atom's own literals: every match contains one string of each.
    let run: string[] = [''];
    let allExact = true;
    let best: readonly string[] | undefined;
    while (!this.done() && this.s[this.i] !== '|' && this.s[this.i] !== ')') {
      const info = this.quantified();
      best = better(best, literalsOf(info));
      // The run so far is a candidate too, before a choice multiplies its strings.
      if (info.exact && info.exact.length > 1) best = better(best, literalsOf({ exact: run }));
      const next = info.exact ? product(run, info.exact) : undefined;
      if (next) {
        run = next;
        continue;
      }
      best = better(best, literalsOf({ exact: run }));
      allExact = false;
      run = info.exact ? [...info.exact] : [''];
    }
    best = better(best, literalsOf({ exact: run }));
    return { exact: allExact ? run : undefined, any: best };
  }

  /** atom, then an optional quantifier (and its lazy `?`) */
  private quantified(): Info {
    const atom = this.atom();
    const c = this.s[this.i];
    let min: number;
    let bounded = false;
    if (c === '?') {
      min = 0;
      bounded = true;
      this.i++;
    } else if (c === '*') {
      min = 0;
      this.i++;
    } else if (c === '+') {
      min = 1;
      this.i++;
    } else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(this.s.slice(this.i));
      if (!m) return this.fail();
      this.i += m[0].length;
      min = Number(m[1]);
      bounded = m[2] === undefined && min === 1;
    } else {
      return atom;
    }
    if (this.s[this.i] === '?') this.i++; // lazy
    if (min === 0) {
      // Optional: matches the empty string too. `x?` keeps its few strings; longer repeats are unknown.
      return bounded && atom.exact ? { exact: unique(['', ...atom.exact]) } : NOTHING;
    }
    // At least once: whatever one occurrence must contain, every match contains.
    return bounded ? atom : { any: literalsOf(atom) };
  }

  private atom(): Info {
    const c = this.s[this.i];
    if (c === '(') {
      if (!this.s.startsWith('(?:', this.i)) return this.fail();
      this.i += 3;
      const inner = this.alternation();
      if (this.s[this.i] !== ')') return this.fail();
      this.i++;
      return inner;
    }
    if (c === '[') return this.charClass();
    if (c === '\\') return this.escape();
    if (c === '.' || c === '^' || c === '$') {
      this.i++;
      return c === '.' ? NOTHING : EMPTY;
    }
    if (c === '?' || c === '*' || c === '+' || c === '{' || c === ')' || c === '|') return this.fail();
    // A literal character (the patterns are matched against lower-cased text, without the `i` flag).
    const cp = this.s.codePointAt(this.i)!;
    const ch = String.fromCodePoint(cp);
    this.i += ch.length;
    return { exact: [ch] };
  }

  private escape(): Info {
    const next = this.s[this.i + 1];
    if (next === undefined) return this.fail();
    if (next === 'p' || next === 'P') {
      const end = this.s.indexOf('}', this.i);
      if (end < 0) return this.fail();
      this.i = end + 1;
      return NOTHING;
    }
    // Escapes that run on (`\u0041`, `\x41`, `\cJ`, `\k<name>`) and back-references: not read.
    if (/[uxck0-9]/.test(next)) return this.fail();
    this.i += 2;
    if (next === 'b' || next === 'B') return EMPTY; // an assertion: matches no characters
    if (/[dDwWsS]/.test(next)) return NOTHING;
    if (/[a-zA-Z0-9]/.test(next)) return NOTHING; // \n, \t, \u...: not worth spelling out
    return { exact: [next] }; // an escaped punctuation character: itself
  }

  /** `[...]`: its characters when it lists only single characters, else nothing known. */
  private charClass(): Info {
    let j = this.i + 1;
    const chars: string[] = [];
    let plain = this.s[j] !== '^';
    while (j < this.s.length && this.s[j] !== ']') {
      if (this.s[j] === '\\') {
        const e = this.s[j + 1];
        if (e === 'p' || e === 'P') {
          const end = this.s.indexOf('}', j);
          if (end < 0) return this.fail();
          j = end + 1;
          plain = false;
          continue;
        }
        if (e === undefined || /[a-zA-Z0-9]/.test(e)) plain = false;
        else chars.push(e);
        j += 2;
        continue;
      }
      if (this.s[j + 1] === '-' && this.s[j + 2] !== undefined && this.s[j + 2] !== ']') plain = false; // a range
      chars.push(this.s[j]);
      j++;
    }
    if (j >= this.s.length) return this.fail();
    this.i = j + 1;
    return plain && chars.length > 0 && chars.length <= MAX_SET ? { exact: unique(chars) } : NOTHING;
  }

  /** Syntax this reader does not know: give up on the whole pattern (no literals, always run it). */
  private fail(): Info {
    this.failed = true;
    this.i = this.s.length;
    return NOTHING;
  }
}
