import {
  ComprehendClient,
  DetectDominantLanguageCommand,
  DetectEntitiesCommand,
  DetectPiiEntitiesCommand,
  DetectSentimentCommand,
} from '@aws-sdk/client-comprehend';
import { writeJson } from '../../../runtime/s3';
import { resolveInput, TEXT_ALIAS } from '../../../runtime/stage-inputs';
import { runStage, StageContext } from '../../../runtime/stage-runner';
import { ComprehendStageConfig, ErrorNames, Keys, PipelineError, StageInvocation } from '../../../shared';

/** What the Comprehend stage core needs: the common stage context, its client and its config. */
export interface ComprehendStageDeps {
  readonly ctx: StageContext;
  readonly comprehend: ComprehendClient;
  readonly config: ComprehendStageConfig;
}

/** Amazon Comprehend's request limits (UTF-8 bytes): DetectSentiment 5 KB; the others 100 KB. */
export const COMPREHEND_LIMITS = { sentiment: 5_000, language: 100_000, entities: 100_000, pii: 100_000 } as const;
/** Languages DetectSentiment, DetectEntities take (DetectPiiEntities: en and es only). */
const ANALYSIS_LANGUAGES = ['en', 'es', 'fr', 'de', 'it', 'pt', 'ar', 'hi', 'ja', 'ko', 'zh', 'zh-TW'];
const PII_LANGUAGES = ['en', 'es'];
/** Longest text read from the pointer, in characters. */
const MAX_TEXT_CHARS = 5_000_000;

/** One entity or PII finding, offsets into the whole text. */
export interface Finding {
  readonly type: string;
  readonly score: number;
  readonly begin: number;
  readonly end: number;
}

/**
 * Runs a Comprehend stage over the latest text pointer: dominant language, sentiment, entities and
 * PII as configured. Entity texts can be personal data, so only their types and counts travel in the
 * run state; the findings (offsets, no text) go to the working bucket by pointer. With `redactPii`,
 * the text with each PII span replaced by `[TYPE]` becomes the stage's `text` pointer, which later
 * stages reading `{{text}}` then read instead of the original.
 */
export async function runComprehendStage(deps: ComprehendStageDeps, invocation: StageInvocation): Promise<{ [key: string]: unknown }> {
  const { ctx, config } = deps;
  return runStage(ctx, invocation, async (view) => {
    const raw = await resolveInput(ctx.s3, view, TEXT_ALIAS, MAX_TEXT_CHARS);
    if (raw === undefined) {
      throw new PipelineError(ErrorNames.CONTRACT_INPUT_VIOLATION, `stage ${ctx.stage}: no earlier stage produced a text pointer`);
    }
    const text = typeof raw === 'string' ? raw : JSON.stringify(raw);
    const output: { [key: string]: unknown } = {};
    const want = new Set(config.features);

    let detected: string | undefined;
    // Sentiment, entities and PII without a configured language read it from the text first.
    const analyses = config.features.some((f) => f !== 'language');
    if (want.has('language') || (!config.languageCode && analyses)) {
      const out = await deps.comprehend.send(new DetectDominantLanguageCommand({ Text: cutBytes(text, COMPREHEND_LIMITS.language) || ' ' }));
      const best = [...(out.Languages ?? [])].sort((a, b) => (b.Score ?? 0) - (a.Score ?? 0))[0];
      detected = best?.LanguageCode ?? 'und';
      if (want.has('language')) {
        output.language = detected;
        output.languageScore = round(best?.Score ?? 0);
      }
    }
    const language = config.languageCode ?? (detected && ANALYSIS_LANGUAGES.includes(detected) ? detected : 'en');

    if (want.has('sentiment')) {
      const sample = cutBytes(text, COMPREHEND_LIMITS.sentiment);
      const out = await deps.comprehend.send(new DetectSentimentCommand({ Text: sample || ' ', LanguageCode: language as any }));
      const s = out.SentimentScore ?? {};
      output.sentiment = out.Sentiment ?? 'NEUTRAL';
      output.sentimentScores = {
        positive: round(s.Positive ?? 0), negative: round(s.Negative ?? 0), neutral: round(s.Neutral ?? 0), mixed: round(s.Mixed ?? 0),
      };
    }

    const findings: { entities?: Finding[]; pii?: Finding[] } = {};
    if (want.has('entities')) {
      findings.entities = await detectInChunks(text, COMPREHEND_LIMITS.entities, async (chunk) => {
        const out = await deps.comprehend.send(new DetectEntitiesCommand({ Text: chunk, LanguageCode: language as any }));
        return (out.Entities ?? []).map((e) => ({ type: e.Type ?? 'OTHER', score: e.Score ?? 0, begin: e.BeginOffset ?? 0, end: e.EndOffset ?? 0 }));
      }, config.minScore);
      output.entityTypes = distinctTypes(findings.entities);
      output.entityCount = findings.entities.length;
    }
    if (want.has('pii')) {
      if (!PII_LANGUAGES.includes(language)) {
        // DetectPiiEntities reads English and Spanish only: a document in another language is not screened.
        throw new PipelineError(ErrorNames.CONTRACT_INPUT_VIOLATION,
          `stage ${ctx.stage}: PII detection reads English and Spanish only; the text is '${language}'. Translate it first, or set languageCode.`);
      }
      const all = await detectInChunks(text, COMPREHEND_LIMITS.pii, async (chunk) => {
        const out = await deps.comprehend.send(new DetectPiiEntitiesCommand({ Text: chunk, LanguageCode: language as any }));
        return (out.Entities ?? []).map((e) => ({ type: e.Type ?? 'PII', score: e.Score ?? 0, begin: e.BeginOffset ?? 0, end: e.EndOffset ?? 0 }));
      }, config.minScore);
      findings.pii = config.piiTypes.length > 0 ? all.filter((f) => config.piiTypes.includes(f.type)) : all;
      output.piiTypes = distinctTypes(findings.pii);
      output.piiCount = findings.pii.length;
      if (config.redactPii) {
        output.text = await writeJson(ctx.s3, ctx.workBucket, Keys.stageWork(ctx.stage, invocation.runId, 'redacted.json'),
          { pages: [{ page: 1, text: redact(text, findings.pii) }] });
      }
    }
    if (findings.entities || findings.pii) {
      output.findings = await writeJson(ctx.s3, ctx.workBucket, Keys.stageWork(ctx.stage, invocation.runId, 'findings.json'), findings);
    }
    ctx.logger.info('comprehend analysed', { runId: invocation.runId, stage: ctx.stage, chars: text.length, language, features: config.features });
    return { output };
  });
}

/** The text with every finding's span replaced by `[TYPE]` (overlaps merged, right to left). */
export function redact(text: string, findings: readonly Finding[]): string {
  const spans = [...findings].sort((a, b) => a.begin - b.begin);
  let out = '';
  let at = 0;
  for (const f of spans) {
    if (f.end <= at) continue;
    out += text.slice(at, Math.max(at, f.begin)) + `[${f.type}]`;
    at = Math.max(at, f.end);
  }
  return out + text.slice(at);
}

/**
 * Splits text into pieces of at most `maxBytes` UTF-8 bytes at whitespace (never inside a word when
 * one fits), runs `detect` on each and shifts the offsets back into the whole text.
 */
export async function detectInChunks(
  text: string, maxBytes: number, detect: (chunk: string) => Promise<Finding[]>, minScore: number,
): Promise<Finding[]> {
  const found: Finding[] = [];
  for (const { start, chunk } of chunks(text, maxBytes)) {
    if (!chunk.trim()) continue;
    for (const f of await detect(chunk)) {
      if (f.score >= minScore) found.push({ type: f.type, score: round(f.score), begin: f.begin + start, end: f.end + start });
    }
  }
  return found;
}

/** The text's pieces of at most `maxBytes` UTF-8 bytes, cut at the last whitespace when there is one. */
export function chunks(text: string, maxBytes: number): Array<{ start: number; chunk: string }> {
  const out: Array<{ start: number; chunk: string }> = [];
  let start = 0;
  while (start < text.length) {
    let piece = cutBytes(text.slice(start), maxBytes);
    if (start + piece.length < text.length) {
      const ws = piece.search(/\s\S*$/);
      if (ws > 0) piece = piece.slice(0, ws + 1);
    }
    if (piece.length === 0) break;
    out.push({ start, chunk: piece });
    start += piece.length;
  }
  return out;
}

/** The longest prefix of `text` of at most `maxBytes` UTF-8 bytes, never half a character. */
export function cutBytes(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  let lo = 0;
  let hi = Math.min(text.length, maxBytes);
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (Buffer.byteLength(text.slice(0, mid)) <= maxBytes) lo = mid;
    else hi = mid - 1;
  }
  let cut = text.slice(0, lo);
  const last = cut.charCodeAt(cut.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1);
  return cut;
}

function distinctTypes(findings: readonly Finding[]): string[] {
  return [...new Set(findings.map((f) => f.type))].sort();
}

function round(x: number): number {
  return Math.round(x * 10000) / 10000;
}
