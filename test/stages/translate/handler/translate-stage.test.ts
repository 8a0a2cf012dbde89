import 'aws-sdk-client-mock-jest';
import { TranslateClient, TranslateTextCommand } from '@aws-sdk/client-translate';
import { mockClient } from 'aws-sdk-client-mock';
import { S3Pointer, StageInvocation, TranslateStageConfig } from '../../../../src/shared';
import { runTranslateStage, TRANSLATE_MAX_BYTES, TranslateStageDeps } from '../../../../src/stages/translate/handler/translate-stage';
import { invocation, makeValidators, runState } from '../../../helpers/handler-test-kit';
import { mockText, REGION, stageContext, WORK_BUCKET, workObject } from '../../bedrock/handler/bedrock-test-kit';

const TEXT: S3Pointer = { bucket: WORK_BUCKET, key: 'stages/Extract/run-0001/text.json', versionId: 'tv1' };
const CONFIG: TranslateStageConfig = { stage: 'Translate', kind: 'translate', targetLanguage: 'en', sourceLanguage: 'auto', sourceLanguagePath: 'results.Language.language' };

function setup(pages: string[], config: Partial<TranslateStageConfig> = {}) {
  const fx = stageContext('Translate', 'translate', makeValidators({}));
  const translate = new TranslateClient(REGION);
  const translateMock = mockClient(translate);
  translateMock.on(TranslateTextCommand).callsFake((input: any) => ({ TranslatedText: `<${input.Text.toUpperCase()}>`, SourceLanguageCode: input.SourceLanguageCode === 'auto' ? 'de' : input.SourceLanguageCode, TargetLanguageCode: 'en' }));
  mockText(fx.s3Mock, TEXT, pages);
  const deps: TranslateStageDeps = { ctx: fx.ctx, translate, config: { ...CONFIG, ...config } };
  return { ...fx, translateMock, deps };
}

function event(language?: string): StageInvocation {
  const results: any = { Extract: { text: TEXT, pages: 1 } };
  if (language) results.Language = { language, languageScore: 0.99 };
  return invocation({ state: runState({ results }) });
}

describe('Translate stage', () => {
  test('translates the latest text into a new text pointer, the source language read from an earlier result', async () => {
    const { deps, translateMock, s3Mock } = setup(['Der Vertrag endet am 1. Mai.']);
    const out: any = await runTranslateStage(deps, event('de'));
    expect(out).toMatchObject({ sourceLanguage: 'de', targetLanguage: 'en', translated: true });
    expect(out.text.key).toBe('stages/Translate/run-0001/translated.json');
    expect((workObject(s3Mock, out.text.key) as any).pages[0].text).toBe('<DER VERTRAG ENDET AM 1. MAI.>');
    expect(translateMock).toHaveReceivedCommandWith(TranslateTextCommand, { SourceLanguageCode: 'de', TargetLanguageCode: 'en' });
  });

  test('text already in the target language is passed on without a call', async () => {
    const { deps, translateMock } = setup(['Already English.']);
    const out: any = await runTranslateStage(deps, event('en'));
    expect(out).toEqual({ text: TEXT, sourceLanguage: 'en', targetLanguage: 'en', translated: false });
    expect(translateMock).toHaveReceivedCommandTimes(TranslateTextCommand, 0);
  });

  test('long text goes in pieces of at most 10,000 bytes, joined in order; auto source reports the detected language', async () => {
    const page = Array.from({ length: 3000 }, (_, i) => `wort${i}`).join(' ');
    const { deps, translateMock, s3Mock } = setup([page]);
    const out: any = await runTranslateStage(deps, event());
    const calls = translateMock.commandCalls(TranslateTextCommand);
    expect(calls.length).toBeGreaterThan(1);
    for (const c of calls) expect(Buffer.byteLength(c.args[0].input.Text!)).toBeLessThanOrEqual(TRANSLATE_MAX_BYTES);
    expect(calls.map((c) => c.args[0].input.Text).join('')).toBe(page);
    expect(out.sourceLanguage).toBe('de');
    expect((workObject(s3Mock, out.text.key) as any).pages[0].text.startsWith('<WORT0 WORT1')).toBe(true);
  });
});
