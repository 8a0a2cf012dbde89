/**
 * Amazon Comprehend and Amazon Translate for the local runner. Deterministic and offline:
 * - DetectDominantLanguage: tinyld over the text (scores are its accuracies);
 * - DetectSentiment: counts of a small English word list (a stand-in, not a model);
 * - DetectEntities: dates, amounts and organisations by pattern;
 * - DetectPiiEntities: e-mail addresses, phone numbers, US social security numbers and card numbers
 *   (Luhn-checked) by pattern; names and addresses are not found locally;
 * - TranslateText: passes the text through unchanged (nothing is translated locally) and reports the
 *   detected source language.
 * A scenario pins what the stand-ins cannot know: `language`, `sentiment`.
 */
import { detectAll } from 'tinyld';
import { commandName, serviceError, unsupportedCommand } from '../adapters/errors';

/** What a scenario pinned for the stage (its `fields`), read at each call. */
export type PinnedFields = () => { readonly [field: string]: unknown } | undefined;

const POSITIVE = ['good', 'great', 'excellent', 'happy', 'thanks', 'thank', 'pleased', 'resolved', 'love', 'perfect', 'satisfied', 'helpful'];
const NEGATIVE = ['bad', 'terrible', 'angry', 'unacceptable', 'broken', 'down', 'failed', 'failure', 'worst', 'refund', 'complaint', 'cancel', 'furious', 'disappointed'];

const ENTITY_PATTERNS: Array<[string, RegExp]> = [
  ['DATE', /\b(\d{4}-\d{2}-\d{2}|(January|February|March|April|May|June|July|August|September|October|November|December) \d{1,2}, \d{4})\b/g],
  ['QUANTITY', /(\$|€|£|\bUSD |\bEUR )\s?\d[\d,]*(\.\d+)?\b/g],
  ['ORGANIZATION', /\b([A-Z][A-Za-z&]+ )+(Inc|Ltd|LLC|GmbH|Corp|plc|S\.A\.)\b\.?/g],
];
const PII_PATTERNS: Array<[string, RegExp]> = [
  ['EMAIL', /\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b/g],
  ['SSN', /\b\d{3}-\d{2}-\d{4}\b/g],
  ['CREDIT_DEBIT_NUMBER', /\b(?:\d[ -]?){12,18}\d\b/g],
  ['PHONE', /(\+\d{1,3}[ .-]?)?\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}\b/g],
];

/** The dominant languages of a text, best first (tinyld), as Comprehend names them. */
export function detectLanguages(text: string): Array<{ LanguageCode: string; Score: number }> {
  const found = detectAll(text.slice(0, 20_000)).filter((l) => l.accuracy > 0);
  if (found.length === 0) return [{ LanguageCode: 'en', Score: 0.01 }];
  return found.slice(0, 3).map((l) => ({ LanguageCode: l.lang, Score: Math.min(1, Math.round(l.accuracy * 10000) / 10000) }));
}

/** `ComprehendClient` stand-in. */
export class LocalComprehend {
  constructor(private readonly pinned: PinnedFields = () => undefined) {}

  public async send(command: unknown): Promise<any> {
    const input: any = (command as { input?: unknown }).input ?? {};
    const text: string = typeof input.Text === 'string' ? input.Text : '';
    if (!text) throw serviceError('TextSizeLimitExceededException', 400, 'Text must not be empty');
    const fields = this.pinned() ?? {};
    switch (commandName(command)) {
      case 'DetectDominantLanguageCommand':
        if (typeof fields.language === 'string') return { Languages: [{ LanguageCode: fields.language, Score: 1 }] };
        return { Languages: detectLanguages(text) };
      case 'DetectSentimentCommand':
        return sentimentOf(text, typeof fields.sentiment === 'string' ? fields.sentiment : undefined);
      case 'DetectEntitiesCommand':
        return { Entities: matches(text, ENTITY_PATTERNS) };
      case 'DetectPiiEntitiesCommand':
        return { Entities: matches(text, PII_PATTERNS).filter((e) => e.Type !== 'CREDIT_DEBIT_NUMBER' || luhn(text.slice(e.BeginOffset, e.EndOffset))) };
      default:
        throw unsupportedCommand('LocalComprehend', command, ['DetectDominantLanguageCommand', 'DetectSentimentCommand', 'DetectEntitiesCommand', 'DetectPiiEntitiesCommand']);
    }
  }
}

/** `TranslateClient` stand-in: the text comes back unchanged; the source language is detected when 'auto'. */
export class LocalTranslate {
  /** The calls so far (source, target, characters), for assertions. */
  public readonly calls: Array<{ source: string; target: string; chars: number }> = [];

  public async send(command: unknown): Promise<any> {
    if (commandName(command) !== 'TranslateTextCommand') throw unsupportedCommand('LocalTranslate', command, ['TranslateTextCommand']);
    const input: any = (command as { input?: unknown }).input ?? {};
    const text: string = input.Text ?? '';
    const source = input.SourceLanguageCode === 'auto' ? detectLanguages(text)[0].LanguageCode : input.SourceLanguageCode;
    this.calls.push({ source, target: input.TargetLanguageCode, chars: text.length });
    return { TranslatedText: text, SourceLanguageCode: source, TargetLanguageCode: input.TargetLanguageCode };
  }
}

function sentimentOf(text: string, pinned: string | undefined): any {
  const words = text.toLowerCase().match(/[a-z']+/g) ?? [];
  const pos = words.filter((w) => POSITIVE.includes(w)).length;
  const neg = words.filter((w) => NEGATIVE.includes(w)).length;
  const total = pos + neg;
  const score = { Positive: total ? pos / (total + 1) : 0.05, Negative: total ? neg / (total + 1) : 0.05, Neutral: 0, Mixed: 0 };
  score.Neutral = Math.max(0, 1 - score.Positive - score.Negative);
  const label = pinned ?? (neg > pos ? 'NEGATIVE' : pos > neg ? 'POSITIVE' : 'NEUTRAL');
  return { Sentiment: label, SentimentScore: score };
}

function matches(text: string, patterns: Array<[string, RegExp]>): Array<{ Type: string; Score: number; BeginOffset: number; EndOffset: number }> {
  const out: Array<{ Type: string; Score: number; BeginOffset: number; EndOffset: number }> = [];
  for (const [type, re] of patterns) {
    for (const m of text.matchAll(re)) {
      const begin = m.index ?? 0;
      if (out.some((o) => begin < o.EndOffset && begin + m[0].length > o.BeginOffset)) continue;
      out.push({ Type: type, Score: 0.99, BeginOffset: begin, EndOffset: begin + m[0].length });
    }
  }
  return out.sort((a, b) => a.BeginOffset - b.BeginOffset);
}

function luhn(value: string): boolean {
  const digits = value.replace(/\D/g, '');
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return digits.length >= 13 && sum % 10 === 0;
}
