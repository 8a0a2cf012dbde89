import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { BedrockModel } from './bedrock-model';
import { PromptTemplate } from './prompt-template';
import { cloneSchema, DOCUMENT_INPUT_SCHEMA, POINTER_SCHEMA } from '../../contracts/schemas';
import { StageContract } from '../../contracts/stage-contract';
import { mergeObjectSchemas, schemaRequiringPaths } from '../../private/contract-check';
import { Bundles, stageCode } from '../../private/handler-asset';
import { invalid, outOfRange, whereOf } from '../../private/validation';
import { BedrockStageConfig, TRANSIENT_ERRORS } from '../../shared';
import { InferenceStageBase, InferenceStageOptions, StageKind } from '../inference-stage-base';

/** A Bedrock guardrail applied to the stage's calls. */
export interface BedrockGuardrail {
  /** The guardrail's id. */
  readonly guardrailId: string;
  /** The guardrail's version (a number, or 'DRAFT'). */
  readonly guardrailVersion: string;
}

/** Props of a Bedrock stage. */
export interface BedrockStageProps extends InferenceStageOptions {
  /** The model (or inference profile) to call. */
  readonly model: BedrockModel;
  /** The versioned prompt. */
  readonly prompt: PromptTemplate;
  /** Contract of the model's JSON reply; a reply that breaks it gets one repair attempt, then `Model.InvalidOutput`. */
  readonly output: StageContract;
  /**
   * Top-level string fields of the reply stored in S3 and passed on as pointers (long summaries).
   * @default - none
   */
  readonly offloadFields?: string[];
  /**
   * Most tokens the model may generate.
   * @default 2048
   */
  readonly maxTokens?: number;
  /**
   * Sampling temperature (0 for the most repeatable replies).
   * @default 0
   */
  readonly temperature?: number;
  /**
   * Longest value put into the prompt, in characters; longer text is cut.
   * @default 200000
   */
  readonly maxInputChars?: number;
  /**
   * A guardrail applied to every call.
   * @default - none
   */
  readonly guardrail?: BedrockGuardrail;
}

/** The fields the Bedrock handler adds to every reply. */
const ADDED_OUTPUT = {
  response: POINTER_SCHEMA,
  screening: {
    type: 'object',
    required: ['promptInjection', 'patterns'],
    properties: { promptInjection: { type: 'boolean' }, patterns: { type: 'array', items: { type: 'string' } } },
  },
  usage: {
    type: 'object',
    required: ['inputTokens', 'outputTokens'],
    properties: { inputTokens: { type: 'integer' }, outputTokens: { type: 'integer' } },
  },
};

/**
 * A model on Amazon Bedrock, called through Converse with a versioned prompt and a JSON reply
 * checked against a contract. The stage's output is the reply, plus `response` (the full reply in
 * S3), `screening` (a deterministic prompt-injection check of the inputs, which the pipeline uses so
 * a model's output alone can never auto-approve) and `usage`.
 */
export class BedrockStage extends InferenceStageBase {
  /** The model the stage calls. */
  public readonly model: BedrockModel;
  /** The prompt's version. */
  public readonly promptVersion: string;

  constructor(scope: Construct, id: string, props: BedrockStageProps) {
    const where = whereOf('BedrockStage', scope, id);
    const maxTokens = props.maxTokens ?? 2048;
    const temperature = props.temperature ?? 0;
    const maxInputChars = props.maxInputChars ?? 200_000;
    if (outOfRange(maxTokens, 1, 200_000, true)) {
      invalid(where, `\`maxTokens\` must be a whole number from 1 to 200000, got: ${maxTokens}.`);
    }
    if (outOfRange(temperature, 0, 1)) {
      invalid(where, `\`temperature\` must be between 0 and 1, got: ${temperature}.`);
    }
    if (outOfRange(maxInputChars, 1, Number.MAX_SAFE_INTEGER, true)) {
      invalid(where, `\`maxInputChars\` must be a positive whole number, got: ${maxInputChars}.`);
    }
    const modelSchema = props.output.schema;
    const offload = props.offloadFields ?? [];
    const output = cloneSchema(modelSchema);
    output.type = 'object';
    output.properties = { ...(output.properties ?? {}) };
    for (const field of offload) {
      if (output.properties[field]?.type !== 'string') {
        invalid(where, `\`offloadFields\` names '${field}', which the output contract (${props.output.source}) does not declare as a string property. Offload only top-level string fields, or declare '${field}' as { "type": "string" }.`);
      }
      output.properties[field] = cloneSchema(POINTER_SCHEMA);
    }
    for (const [name, schema] of Object.entries(ADDED_OUTPUT)) {
      if (name in (modelSchema.properties ?? {})) {
        invalid(where, `the output contract (${props.output.source}) declares '${name}', which the Bedrock stage adds itself. Rename that field.`);
      }
      output.properties[name] = cloneSchema(schema);
    }
    output.required = [...new Set([...(output.required ?? []), ...Object.keys(ADDED_OUTPUT)])];

    const vars = props.prompt.variables.filter((v) => v !== 'text');
    const input = props.input ?? StageContract.fromObject(mergeObjectSchemas(cloneSchema(DOCUMENT_INPUT_SCHEMA), schemaRequiringPaths(vars)));
    const config: BedrockStageConfig = {
      stage: id,
      kind: 'bedrock',
      modelId: props.model.modelId,
      prompt: props.prompt.text,
      promptVersion: props.prompt.version,
      systemPrompt: props.prompt.systemPrompt,
      maxTokens,
      temperature,
      offloadFields: offload,
      maxInputChars,
      guardrail: props.guardrail ? { id: props.guardrail.guardrailId, version: props.guardrail.guardrailVersion } : undefined,
    };
    const outputContract = StageContract.fromObject(output);
    super(scope, id, {
      kind: StageKind.BEDROCK,
      code: stageCode(Bundles.BEDROCK, config, { input: input.schema, output: outputContract.schema, model: modelSchema }),
      inputContract: input,
      outputContract,
      transientErrors: [...TRANSIENT_ERRORS.bedrock, ...TRANSIENT_ERRORS.s3],
      timeout: props.timeout ?? Duration.minutes(5),
      memorySize: props.memorySize ?? 512,
      retry: props.retry,
      standalone: props.standalone,
      readsText: props.prompt.variables.includes('text'),
      description: `Bedrock Converse with ${props.model.modelId}, prompt v${props.prompt.version}`,
    });
    this.model = props.model;
    this.promptVersion = props.prompt.version;

    this.role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['bedrock:InvokeModel'],
      resources: props.model.resourceArns(this),
    }));
    if (props.guardrail) {
      const stack = Stack.of(this);
      this.role.addToPrincipalPolicy(new iam.PolicyStatement({
        actions: ['bedrock:ApplyGuardrail'],
        resources: [`arn:${stack.partition}:bedrock:${stack.region}:${stack.account}:guardrail/${props.guardrail.guardrailId}`],
      }));
    }
  }
}
