/**
 * Plausible-looking values for generated instances: words and sentences for text fields, names,
 * identifiers, values for the common `format`s and number ranges suggested by a field's name.
 * Everything is drawn from a seeded `Rng`, so the same seed gives the same value.
 */
import { Rng } from './prng';

const ADJECTIVES = [
  'standard', 'annual', 'pending', 'minor', 'major', 'regional', 'external', 'internal', 'routine', 'urgent',
  'partial', 'complete', 'initial', 'final', 'revised', 'signed', 'approved', 'estimated', 'recent', 'primary',
];
const NOUNS = [
  'claim', 'policy', 'invoice', 'contract', 'report', 'payment', 'review', 'request', 'agreement', 'notice',
  'account', 'vehicle', 'property', 'service', 'customer', 'supplier', 'document', 'schedule', 'record', 'statement',
];
const VERBS = [
  'describes', 'confirms', 'covers', 'requests', 'lists', 'references', 'summarizes', 'records', 'includes', 'notes',
];
const FIRST_NAMES = ['Avery', 'Jordan', 'Morgan', 'Riley', 'Casey', 'Taylor', 'Quinn', 'Harper', 'Rowan', 'Emerson'];
const LAST_NAMES = ['Nguyen', 'Garcia', 'Okafor', 'Schmidt', 'Rossi', 'Tanaka', 'Kowalski', 'Dubois', 'Silva', 'Larsen'];
const COMPANIES = ['Acme', 'Globex', 'Initech', 'Umbrella', 'Northwind', 'Contoso', 'Fabrikam', 'Tailspin', 'Wingtip', 'Litware'];
const COMPANY_SUFFIXES = ['Ltd', 'Inc', 'LLC', 'GmbH', 'plc'];

/** What a string field's name suggests it holds. */
export type TextStyle = 'prose' | 'person' | 'company' | 'title' | 'id' | 'email' | 'uri' | 'date' | 'currency' | 'country' | 'language' | 'phone' | 'words';

/** Reads a field's name lightly: `summary` gets prose, `customerName` a name, `claimId` an id. */
export function textStyle(key: string | undefined): TextStyle {
  if (!key) return 'words';
  const k = key.replace(/[_-]/g, '').toLowerCase();
  if (/summary|description|text|reason|comment|note|explanation|rationale|detail|message|body|abstract|narrative|justification/.test(k)) return 'prose';
  if (/email/.test(k)) return 'email';
  if (/url|uri|link|website|href/.test(k)) return 'uri';
  if (/(company|vendor|insurer|supplier|employer|organi[sz]ation|party|carrier|merchant)(name)?$/.test(k)) return 'company';
  if (/name$/.test(k)) return 'person';
  if (/title|subject|heading|headline/.test(k)) return 'title';
  if (/(^id$|id$|number$|ref$|reference$)/.test(k)) return 'id';
  if (/date$|^date|dob/.test(k)) return 'date';
  if (/currency/.test(k)) return 'currency';
  if (/country/.test(k)) return 'country';
  if (/lang/.test(k)) return 'language';
  if (/phone|mobile/.test(k)) return 'phone';
  return 'words';
}

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** One readable sentence. */
export function sentence(rng: Rng): string {
  return `The ${rng.pick(ADJECTIVES)} ${rng.pick(NOUNS)} ${rng.pick(VERBS)} the ${rng.pick(ADJECTIVES)} ${rng.pick(NOUNS)}.`;
}

/** A few lowercase words. */
export function words(rng: Rng, count: number): string {
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(i % 2 === 0 && i < count - 1 ? rng.pick(ADJECTIVES) : rng.pick(NOUNS));
  return out.join(' ');
}

/** A string in the style a field's name suggests (lengths are fitted by the caller). */
export function styledText(style: TextStyle, rng: Rng): string {
  switch (style) {
    case 'prose': return Array.from({ length: rng.int(1, 3) }, () => sentence(rng)).join(' ');
    case 'person': return `${rng.pick(FIRST_NAMES)} ${rng.pick(LAST_NAMES)}`;
    case 'company': return `${rng.pick(COMPANIES)} ${rng.pick(COMPANY_SUFFIXES)}`;
    case 'title': return cap(words(rng, rng.int(2, 5)).split(' ').map(cap).join(' '));
    case 'id': return `${rng.pick(NOUNS).slice(0, 3).toUpperCase()}-${String(rng.int(0, 999999)).padStart(6, '0')}`;
    case 'email': return emailOf(rng);
    case 'uri': return `https://example.com/${rng.pick(NOUNS)}s/${rng.int(1, 9999)}`;
    case 'date': return dateTime(rng).slice(0, 10);
    case 'currency': return rng.pick(['USD', 'EUR', 'GBP', 'JPY', 'CHF']);
    case 'country': return rng.pick(['US', 'GB', 'DE', 'FR', 'JP', 'BR', 'IN']);
    case 'language': return rng.pick(['en', 'de', 'fr', 'es', 'ja']);
    case 'phone': return `+1-555-01${String(rng.int(0, 99)).padStart(2, '0')}`;
    default: return words(rng, rng.int(1, 3));
  }
}

/** Filler that extends a string to a minimum length: more words (or sentences for prose). */
export function filler(style: TextStyle, rng: Rng): string {
  return style === 'prose' ? ` ${sentence(rng)}` : ` ${rng.pick(NOUNS)}`;
}

function emailOf(rng: Rng): string {
  return `${rng.pick(FIRST_NAMES)}.${rng.pick(LAST_NAMES)}@example.com`.toLowerCase();
}

/** A UTC date-time between 2024-01-01 and the end of 2025, without milliseconds. */
function dateTime(rng: Rng): string {
  const seconds = rng.int(0, 2 * 365 * 24 * 3600);
  return new Date(Date.UTC(2024, 0, 1) + seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function hex(rng: Rng, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += '0123456789abcdef'[rng.int(0, 15)];
  return s;
}

/** A value for a `format` (the common ones of draft 2020-12 and ajv-formats); undefined when unknown. */
export function formatted(format: string, rng: Rng): string | undefined {
  switch (format) {
    case 'date-time': return dateTime(rng);
    case 'date': return dateTime(rng).slice(0, 10);
    case 'time': return `${dateTime(rng).slice(11, 19)}Z`;
    case 'duration': return `P${rng.int(1, 30)}D`;
    case 'email':
    case 'idn-email': return emailOf(rng);
    case 'hostname':
    case 'idn-hostname': return `${rng.pick(NOUNS)}.example.com`;
    case 'ipv4': return `192.0.2.${rng.int(1, 254)}`;
    case 'ipv6': return `2001:db8::${hex(rng, 4)}`;
    case 'uri':
    case 'iri':
    case 'url': return `https://example.com/${rng.pick(NOUNS)}s/${rng.int(1, 9999)}`;
    case 'uri-reference':
    case 'iri-reference': return `/${rng.pick(NOUNS)}s/${rng.int(1, 9999)}`;
    case 'uri-template': return `https://example.com/${rng.pick(NOUNS)}s/{id}`;
    case 'uuid': {
      const h = hex(rng, 32).split('');
      h[12] = '4';
      h[16] = '89ab'[rng.int(0, 3)];
      const s = h.join('');
      return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
    }
    case 'json-pointer': return `/${rng.pick(NOUNS)}/${rng.int(0, 9)}`;
    case 'relative-json-pointer': return `${rng.int(0, 3)}/${rng.pick(NOUNS)}`;
    case 'regex': return `^[a-z]{${rng.int(1, 5)}}$`;
    case 'byte': return Buffer.from(words(rng, 2)).toString('base64');
    default: return undefined;
  }
}

/** A range a number field's name suggests (`riskScore` in [0, 1], `amount` in [10, 5000]), if any. */
export function numberHint(key: string | undefined): { readonly lo: number; readonly hi: number } | undefined {
  if (!key) return undefined;
  const k = key.toLowerCase();
  if (/percent/.test(k)) return { lo: 0, hi: 100 };
  if (/score|confidence|probability|likelihood|ratio|rate$|weight|similarity/.test(k)) return { lo: 0, hi: 1 };
  if (/amount|price|cost|total|fee|salary|balance|premium|deductible|payment|value/.test(k)) return { lo: 10, hi: 5000 };
  if (/year/.test(k)) return { lo: 2000, hi: 2026 };
  if (/age$/.test(k)) return { lo: 18, hi: 80 };
  if (/count|pages|quantity|qty|items|number|num/.test(k)) return { lo: 1, hi: 20 };
  return undefined;
}
