import { Duration, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { cloneSchema, DOCUMENT_INPUT_SCHEMA, POINTER_SCHEMA } from '../../contracts/schemas';
import { StageContract } from '../../contracts/stage-contract';
import { acknowledgeWildcards } from '../../private/acknowledge';
import { Bundles, stageCode } from '../../private/handler-asset';
import { invalid, whereOf } from '../../private/validation';
import { TranslateStageConfig, TRANSIENT_ERRORS } from '../../shared';
import { InferenceStageBase, InferenceStageOptions, StageKind } from '../inference-stage-base';

/** Props of a Translate stage. */
export interface TranslateStageProps extends InferenceStageOptions {
  /** The language to translate into (an Amazon Translate language code, e.g. 'en'). */
  readonly targetLanguage: string;
  /**
   * The language of the text, or 'auto' to let Amazon Translate detect it.
   * @default 'auto'
   */
  readonly sourceLanguage?: string;
  /**
   * A stage-view path holding the source language code (for example the result of a Comprehend
   * stage, `results.Language.language`); when it has a value, it wins over `sourceLanguage`.
   * @default - none: `sourceLanguage` is used
   */
  readonly sourceLanguagePath?: string;
}

const LANGUAGE = /^[a-z]{2,3}(-[A-Za-z]{2,4})?$/;
const PATH = /^(document|results)\.[A-Za-z0-9_.-]+$/;

/** The output contract of a Translate stage. */
const TRANSLATE_OUTPUT_SCHEMA = {
  type: 'object',
  required: ['text', 'sourceLanguage', 'targetLanguage', 'translated'],
  additionalProperties: false,
  properties: {
    text: POINTER_SCHEMA,
    sourceLanguage: { type: 'string' },
    targetLanguage: { type: 'string' },
    translated: { type: 'boolean' },
  },
} as const;

/**
 * Amazon Translate over the text of an earlier stage: a text pointer in, a new text pointer out,
 * which later stages reading `{{text}}` then read. Text already in the target language is passed on
 * without a call. The role may call only translate:TranslateText (and DetectDominantLanguage through
 * Translate when the source is 'auto').
 */
export class TranslateStage extends InferenceStageBase {
  /** The language the stage translates into. */
  public readonly targetLanguage: string;

  constructor(scope: Construct, id: string, props: TranslateStageProps) {
    const where = whereOf('TranslateStage', scope, id);
    if (props.quota) {
      invalid(where, '`quota` is not supported on Translate stages yet: ServiceQuota covers Bedrock models, Textract and SageMaker endpoints. Remove `quota` (throttling is retried as `retry` says).');
    }
    if (!Token.isUnresolved(props.targetLanguage) && !LANGUAGE.test(props.targetLanguage)) {
      invalid(where, `\`targetLanguage\` must be an Amazon Translate language code such as 'en' or 'zh-TW', got: '${props.targetLanguage}'.`);
    }
    const source = props.sourceLanguage ?? 'auto';
    if (!Token.isUnresolved(source) && source !== 'auto' && !LANGUAGE.test(source)) {
      invalid(where, `\`sourceLanguage\` must be 'auto' or a language code such as 'de', got: '${source}'.`);
    }
    if (source === props.targetLanguage) {
      invalid(where, `\`sourceLanguage\` and \`targetLanguage\` are both '${source}': nothing to translate. Set sourceLanguage to 'auto' or another language.`);
    }
    if (props.sourceLanguagePath !== undefined && !PATH.test(props.sourceLanguagePath)) {
      invalid(where, `\`sourceLanguagePath\` must read 'document.<field>' or 'results.<Stage>.<field>', got: '${props.sourceLanguagePath}'.`);
    }
    const output = StageContract.fromObject(cloneSchema(TRANSLATE_OUTPUT_SCHEMA));
    const input = props.input ?? StageContract.fromObject(cloneSchema(DOCUMENT_INPUT_SCHEMA));
    const config: TranslateStageConfig = {
      stage: id,
      kind: 'translate',
      targetLanguage: props.targetLanguage,
      sourceLanguage: source,
      ...(props.sourceLanguagePath ? { sourceLanguagePath: props.sourceLanguagePath } : {}),
    };
    super(scope, id, {
      kind: StageKind.TRANSLATE,
      code: stageCode(Bundles.TRANSLATE, config, { input: input.schema, output: output.schema }),
      inputContract: input,
      outputContract: output,
      transientErrors: [...TRANSIENT_ERRORS.translate, ...TRANSIENT_ERRORS.s3],
      timeout: props.timeout ?? Duration.minutes(5),
      memorySize: props.memorySize ?? 512,
      retry: props.retry,
      standalone: props.standalone,
      readsText: true,
      description: `Translate into ${props.targetLanguage}`,
    });
    this.targetLanguage = props.targetLanguage;
    const actions = ['translate:TranslateText'];
    // With 'auto', Amazon Translate calls Comprehend's language detection as the caller.
    if (source === 'auto') actions.push('comprehend:DetectDominantLanguage');
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources: ['*'] }));
    acknowledgeWildcards(this, [{
      matches: (f, acts) => f === 'Resource::*' && acts.every((a) => a === 'translate:TranslateText' || a === 'comprehend:DetectDominantLanguage'),
      reason: 'TranslateText (without custom terminology) and Comprehend\'s DetectDominantLanguage take no resource ARN; the role grants only those.',
    }]);
  }
}
