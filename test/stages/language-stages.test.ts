/** The Comprehend and Translate stage kinds: contracts, least-privilege roles, validation, cdk-nag. */
import * as fs from 'fs';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ComprehendFeature, ComprehendStage } from '../../src/stages/comprehend/comprehend-stage';
import { InferenceStage, StageKind } from '../../src/stages/inference-stage';
import { TranslateStage } from '../../src/stages/translate/translate-stage';
import { allActions, attachStage, newAttachment, newStack, roleStatements, stageAssetDir, stateMachineOf, statementsWith } from '../helpers/construct-test-kit';

const contractsOf = (stage: ComprehendStage | TranslateStage) => JSON.parse(fs.readFileSync(path.join(stageAssetDir(stage), 'contracts.json'), 'utf8'));

describe('ComprehendStage', () => {
  test('language only by default: DetectDominantLanguage alone, output { language, languageScore }', () => {
    const stack = newStack({ withEnv: true });
    const stage = InferenceStage.comprehend(stack, 'Language');
    attachStage(stage, newAttachment(stack));
    const template = Template.fromStack(stack);
    expect(stage.kind).toBe(StageKind.COMPREHEND);
    expect(stage.readsText).toBe(true);
    const comprehend = allActions(roleStatements(template, stage.role)).filter((a) => a.startsWith('comprehend:'));
    expect(comprehend).toEqual(['comprehend:DetectDominantLanguage']);
    expect(stage.outputContract.schema).toMatchObject({ required: ['language', 'languageScore'], additionalProperties: false });
    expect(contractsOf(stage).output.required).toEqual(['language', 'languageScore']);
  });

  test('each feature grants exactly its Detect action (plus language detection when no languageCode)', () => {
    const stack = newStack({ withEnv: true });
    const stage = InferenceStage.comprehend(stack, 'Pii', { features: [ComprehendFeature.PII, ComprehendFeature.SENTIMENT], redactPii: true });
    attachStage(stage, newAttachment(stack));
    const statements = statementsWith(roleStatements(Template.fromStack(stack), stage.role), 'comprehend:DetectPiiEntities');
    expect(statements).toEqual([{
      Action: ['comprehend:DetectDominantLanguage', 'comprehend:DetectPiiEntities', 'comprehend:DetectSentiment'],
      Effect: 'Allow',
      Resource: '*',
    }]);
    // The redacted text is the stage's `text` pointer: later {{text}} readers read it.
    expect(stage.outputContract.schema.required).toEqual(expect.arrayContaining(['piiTypes', 'piiCount', 'findings', 'sentiment', 'text']));
  });

  test('a languageCode means no language detection call and no permission for it', () => {
    const stack = newStack({ withEnv: true });
    const stage = InferenceStage.comprehend(stack, 'Entities', { features: [ComprehendFeature.ENTITIES], languageCode: 'en' });
    attachStage(stage, newAttachment(stack));
    expect(allActions(roleStatements(Template.fromStack(stack), stage.role)).filter((a) => a.startsWith('comprehend:'))).toEqual(['comprehend:DetectEntities']);
  });

  test.each([
    [{ features: [] }, '`features` must name at least one feature, got: []'],
    [{ redactPii: true }, '`redactPii` is true but `features` (language) does not include ComprehendFeature.PII'],
    [{ languageCode: 'english' }, "`languageCode` must be a Comprehend language code such as 'en' or 'zh-TW', got: 'english'"],
    [{ minScore: 2 }, '`minScore` must be between 0 and 1, got: 2'],
  ])('invalid props %p fail with a message naming the construct and the prop', (props, message) => {
    const stack = newStack({ withEnv: true });
    expect(() => InferenceStage.comprehend(stack, 'Bad', props as any)).toThrow(message);
    expect(() => InferenceStage.comprehend(newStack({ withEnv: true }), 'Bad', props as any)).toThrow(/ComprehendStage/);
  });
});

describe('TranslateStage', () => {
  test('TranslateText (and language detection for auto), output a text pointer; the task retries Translate throttling', () => {
    const stack = newStack({ withEnv: true });
    const stage = InferenceStage.translate(stack, 'ToEnglish', { targetLanguage: 'en', sourceLanguagePath: 'results.Language.language' });
    attachStage(stage, newAttachment(stack));
    const template = Template.fromStack(stack);
    expect(statementsWith(roleStatements(template, stage.role), 'translate:TranslateText')).toEqual([{
      Action: ['translate:TranslateText', 'comprehend:DetectDominantLanguage'], Effect: 'Allow', Resource: '*',
    }]);
    expect(stage.outputContract.schema.required).toEqual(['text', 'sourceLanguage', 'targetLanguage', 'translated']);
    const retry = stateMachineOf(stage).asl.States.ToEnglish.Retry;
    expect(retry.flatMap((r: any) => r.ErrorEquals)).toEqual(expect.arrayContaining(['ThrottlingException', 'TooManyRequestsException']));
  });

  test('a fixed source language needs no detection permission', () => {
    const stack = newStack({ withEnv: true });
    const stage = InferenceStage.translate(stack, 'FromGerman', { targetLanguage: 'en', sourceLanguage: 'de' });
    attachStage(stage, newAttachment(stack));
    expect(allActions(roleStatements(Template.fromStack(stack), stage.role)).filter((a) => a.startsWith('comprehend:') || a.startsWith('translate:'))).toEqual(['translate:TranslateText']);
  });

  test.each([
    [{ targetLanguage: 'English' }, "`targetLanguage` must be an Amazon Translate language code such as 'en' or 'zh-TW', got: 'English'"],
    [{ targetLanguage: 'en', sourceLanguage: 'en' }, "`sourceLanguage` and `targetLanguage` are both 'en'"],
    [{ targetLanguage: 'en', sourceLanguagePath: 'Language.language' }, "`sourceLanguagePath` must read 'document.<field>' or 'results.<Stage>.<field>', got: 'Language.language'"],
  ])('invalid props %p fail with a message naming the prop', (props, message) => {
    expect(() => InferenceStage.translate(newStack({ withEnv: true }), 'Bad', props as any)).toThrow(message);
  });
});

test('both kinds pass cdk-nag AwsSolutions with zero unacknowledged findings', () => {
  const app = new App({ builtinCloudFormationValidation: false });
  const stack = new Stack(app, 'Lang', { env: { account: '123456789012', region: 'us-east-1' } });
  const language = InferenceStage.comprehend(stack, 'Language', { features: [ComprehendFeature.DOMINANT_LANGUAGE, ComprehendFeature.PII], redactPii: true });
  const translate = InferenceStage.translate(stack, 'ToEnglish', { targetLanguage: 'en' });
  const attachment = newAttachment(stack);
  attachStage(language, attachment);
  attachStage(translate, attachment);
  Template.fromStack(stack);
  const violations = new AwsSolutionsChecks(app).validateScope(stack).violations
    .flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`))
    .filter((v) => v.includes('/Language/') || v.includes('/ToEnglish/'));
  expect(violations).toEqual([]);
});
