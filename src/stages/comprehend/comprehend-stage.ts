import { Duration, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { cloneSchema, DOCUMENT_INPUT_SCHEMA, POINTER_SCHEMA } from '../../contracts/schemas';
import { StageContract } from '../../contracts/stage-contract';
import { acknowledgeWildcards } from '../../private/acknowledge';
import { Bundles, stageCode } from '../../private/handler-asset';
import { invalid, outOfRange, whereOf } from '../../private/validation';
import { ComprehendFeatureName, ComprehendStageConfig, TRANSIENT_ERRORS } from '../../shared';
import { InferenceStageBase, InferenceStageOptions, StageKind } from '../inference-stage-base';

/** What a Comprehend stage detects. */
export enum ComprehendFeature {
  /** The dominant language (`language`, `languageScore`), DetectDominantLanguage. */
  DOMINANT_LANGUAGE = 'language',
  /** Sentiment of the first 5 KB (`sentiment`, `sentimentScores`), DetectSentiment. */
  SENTIMENT = 'sentiment',
  /** Named entities (`entityTypes`, `entityCount`; the findings by pointer), DetectEntities. */
  ENTITIES = 'entities',
  /** Personal data (`piiTypes`, `piiCount`; the findings by pointer), DetectPiiEntities; English and Spanish only. */
  PII = 'pii',
}

/** Props of a Comprehend stage. */
export interface ComprehendStageProps extends InferenceStageOptions {
  /**
   * What to detect, over the text of the latest earlier stage that produced a `text` pointer.
   * @default [ComprehendFeature.DOMINANT_LANGUAGE]
   */
  readonly features?: ComprehendFeature[];
  /**
   * Language of the text for sentiment, entities and PII (a Comprehend language code, e.g. 'en').
   * @default - the detected dominant language when Comprehend analyses it, else 'en'
   */
  readonly languageCode?: string;
  /**
   * Write the text with each PII span replaced by `[TYPE]` as this stage's `text` pointer: later
   * stages reading `{{text}}` then read the redacted text. Needs `ComprehendFeature.PII`.
   * @default false
   */
  readonly redactPii?: boolean;
  /**
   * PII entity types that count and are redacted (e.g. 'EMAIL', 'SSN', 'NAME').
   * @default - every type Comprehend detects
   */
  readonly piiEntityTypes?: string[];
  /**
   * Lowest confidence (0 to 1) at which an entity or PII finding counts.
   * @default 0.5
   */
  readonly minScore?: number;
}

const LANGUAGE = /^[a-z]{2}(-[A-Z]{2})?$/;
const FINDINGS = cloneSchema(POINTER_SCHEMA);
const PARTS: { [feature: string]: { required: string[]; properties: { [name: string]: object } } } = {
  language: {
    required: ['language', 'languageScore'],
    properties: {
      language: { type: 'string', pattern: '^([a-z]{2,3}(-[A-Za-z]{2,4})?|und)$' },
      languageScore: { type: 'number', minimum: 0, maximum: 1 },
    },
  },
  sentiment: {
    required: ['sentiment', 'sentimentScores'],
    properties: {
      sentiment: { enum: ['POSITIVE', 'NEGATIVE', 'NEUTRAL', 'MIXED'] },
      sentimentScores: {
        type: 'object',
        required: ['positive', 'negative', 'neutral', 'mixed'],
        properties: Object.fromEntries(['positive', 'negative', 'neutral', 'mixed'].map((k) => [k, { type: 'number', minimum: 0, maximum: 1 }])),
      },
    },
  },
  entities: {
    required: ['entityTypes', 'entityCount', 'findings'],
    properties: { entityTypes: { type: 'array', items: { type: 'string' } }, entityCount: { type: 'integer', minimum: 0 }, findings: FINDINGS },
  },
  pii: {
    required: ['piiTypes', 'piiCount', 'findings'],
    properties: { piiTypes: { type: 'array', items: { type: 'string' } }, piiCount: { type: 'integer', minimum: 0 }, findings: FINDINGS },
  },
};

/** The output contract of a Comprehend stage with these features. */
function comprehendOutputSchema(features: readonly string[], redactPii: boolean): { [key: string]: any } {
  const required = new Set<string>();
  const properties: { [name: string]: object } = {};
  for (const f of features) {
    PARTS[f].required.forEach((r) => required.add(r));
    Object.assign(properties, cloneSchema(PARTS[f].properties));
  }
  if (redactPii) {
    required.add('text');
    properties.text = cloneSchema(POINTER_SCHEMA);
  }
  return { type: 'object', required: [...required], additionalProperties: false, properties };
}

/**
 * Amazon Comprehend over the text of an earlier stage: dominant language, sentiment, entities, PII
 * (optionally redacted into a new text pointer). Entity and PII texts never travel in the run state:
 * only their types and counts; the findings (types, scores, offsets) go to the working bucket.
 * The role may call exactly the Detect actions of the features asked for.
 */
export class ComprehendStage extends InferenceStageBase {
  /** What the stage detects. */
  public readonly features: ComprehendFeature[];

  constructor(scope: Construct, id: string, props: ComprehendStageProps = {}) {
    const where = whereOf('ComprehendStage', scope, id);
    if (props.quota) {
      invalid(where, '`quota` is not supported on Comprehend stages yet: ServiceQuota covers Bedrock models, Textract and SageMaker endpoints. Remove `quota` (throttling is retried as `retry` says).');
    }
    const features = [...new Set(props.features ?? [ComprehendFeature.DOMINANT_LANGUAGE])];
    if (features.length === 0) {
      invalid(where, '`features` must name at least one feature, got: []. For example [ComprehendFeature.DOMINANT_LANGUAGE].');
    }
    const redactPii = props.redactPii ?? false;
    if (redactPii && !features.includes(ComprehendFeature.PII)) {
      invalid(where, `\`redactPii\` is true but \`features\` (${features.join(', ')}) does not include ComprehendFeature.PII. Add it, or drop redactPii.`);
    }
    if (props.languageCode !== undefined && !Token.isUnresolved(props.languageCode) && !LANGUAGE.test(props.languageCode)) {
      invalid(where, `\`languageCode\` must be a Comprehend language code such as 'en' or 'zh-TW', got: '${props.languageCode}'.`);
    }
    const minScore = props.minScore ?? 0.5;
    if (outOfRange(minScore, 0, 1)) {
      invalid(where, `\`minScore\` must be between 0 and 1, got: ${minScore}.`);
    }
    const output = StageContract.fromObject(comprehendOutputSchema(features, redactPii));
    const input = props.input ?? StageContract.fromObject(cloneSchema(DOCUMENT_INPUT_SCHEMA));
    const config: ComprehendStageConfig = {
      stage: id,
      kind: 'comprehend',
      features: features as string[] as ComprehendFeatureName[],
      ...(props.languageCode ? { languageCode: props.languageCode } : {}),
      redactPii,
      piiTypes: props.piiEntityTypes ?? [],
      minScore,
    };
    super(scope, id, {
      kind: StageKind.COMPREHEND,
      code: stageCode(Bundles.COMPREHEND, config, { input: input.schema, output: output.schema }),
      inputContract: input,
      outputContract: output,
      transientErrors: [...TRANSIENT_ERRORS.comprehend, ...TRANSIENT_ERRORS.s3],
      timeout: props.timeout ?? Duration.minutes(2),
      memorySize: props.memorySize ?? 512,
      retry: props.retry,
      standalone: props.standalone,
      readsText: true,
      description: `Comprehend ${features.join(', ')}`,
    });
    this.features = features;
    const actions = features.map((f) => ({
      language: 'comprehend:DetectDominantLanguage',
      sentiment: 'comprehend:DetectSentiment',
      entities: 'comprehend:DetectEntities',
      pii: 'comprehend:DetectPiiEntities',
    })[f]);
    // Sentiment, entities and PII without a language code first detect it.
    if (!props.languageCode && features.length > 0 && !features.includes(ComprehendFeature.DOMINANT_LANGUAGE)
      && features.some((f) => f !== ComprehendFeature.DOMINANT_LANGUAGE)) {
      actions.push('comprehend:DetectDominantLanguage');
    }
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: [...new Set(actions)].sort(), resources: ['*'] }));
    acknowledgeWildcards(this, [{
      matches: (f, acts) => f === 'Resource::*' && acts.every((a) => a.startsWith('comprehend:Detect')),
      reason: 'Amazon Comprehend\'s built-in Detect actions take no resource ARN; the role grants only the ones its features call.',
    }]);
  }
}
