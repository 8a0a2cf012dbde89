import { TranslateClient, TranslateTextCommand } from '@aws-sdk/client-translate';
import { writeJson } from '../../../runtime/s3';
import { lookup, resolveInput, TEXT_ALIAS } from '../../../runtime/stage-inputs';
import { runStage, StageContext } from '../../../runtime/stage-runner';
import { ErrorNames, Keys, PipelineError, StageInvocation, TranslateStageConfig } from '../../../shared';
import { chunks } from '../../comprehend/handler/comprehend-stage';

/** What the Translate stage core needs: the common stage context, its client and its config. */
export interface TranslateStageDeps {
  readonly ctx: StageContext;
  readonly translate: TranslateClient;
  readonly config: TranslateStageConfig;
}

/** TranslateText takes at most 10,000 bytes of UTF-8 per request. */
export const TRANSLATE_MAX_BYTES = 10_000;
/** Longest text read from the pointer, in characters. */
const MAX_TEXT_CHARS = 5_000_000;
const LANGUAGE = /^[a-z]{2,3}(-[A-Za-z]{2,4})?$/;

/**
 * Runs a Translate stage: the latest text pointer in, a new text pointer out (the translation, in
 * pieces of at most 10,000 bytes cut at whitespace), plus the source and target languages. A text
 * already in the target language is not sent to the service: its pointer is passed on as it is.
 */
export async function runTranslateStage(deps: TranslateStageDeps, invocation: StageInvocation): Promise<{ [key: string]: unknown }> {
  const { ctx, config } = deps;
  return runStage(ctx, invocation, async (view) => {
    const pointer = lookup(view, TEXT_ALIAS);
    const raw = await resolveInput(ctx.s3, view, TEXT_ALIAS, MAX_TEXT_CHARS);
    if (raw === undefined || pointer === undefined) {
      throw new PipelineError(ErrorNames.CONTRACT_INPUT_VIOLATION, `stage ${ctx.stage}: no earlier stage produced a text pointer`);
    }
    const given = config.sourceLanguagePath ? lookup(view, config.sourceLanguagePath) : undefined;
    const source = typeof given === 'string' && LANGUAGE.test(given) ? given : config.sourceLanguage;
    if (source === config.targetLanguage) {
      return { output: { text: pointer, sourceLanguage: source, targetLanguage: config.targetLanguage, translated: false } };
    }
    const text = typeof raw === 'string' ? raw : JSON.stringify(raw);
    const parts: string[] = [];
    let detected = source;
    for (const { chunk } of chunks(text, TRANSLATE_MAX_BYTES)) {
      if (!chunk.trim()) {
        parts.push(chunk);
        continue;
      }
      const out = await deps.translate.send(new TranslateTextCommand({
        Text: chunk,
        SourceLanguageCode: source,
        TargetLanguageCode: config.targetLanguage,
      }));
      parts.push(out.TranslatedText ?? '');
      if (out.SourceLanguageCode) detected = out.SourceLanguageCode;
    }
    const translated = await writeJson(ctx.s3, ctx.workBucket, Keys.stageWork(ctx.stage, invocation.runId, 'translated.json'),
      { pages: [{ page: 1, text: parts.join('') }] });
    ctx.logger.info('translated', { runId: invocation.runId, stage: ctx.stage, chars: text.length, pieces: parts.length, from: detected, to: config.targetLanguage });
    return { output: { text: translated, sourceLanguage: detected, targetLanguage: config.targetLanguage, translated: true } };
  });
}
