import { Duration, Names, Stack, Token } from 'aws-cdk-lib';
import * as bedrock from 'aws-cdk-lib/aws-bedrock';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { BedrockModel } from './bedrock-model';
import { capabilitiesOf, priceOf, structuredSchema } from './model-catalog';
import { PromptTemplate } from './prompt-template';
import { cloneSchema, DOCUMENT_INPUT_SCHEMA, POINTER_SCHEMA } from '../../contracts/schemas';
import { StageContract } from '../../contracts/stage-contract';
import { mergeObjectSchemas, schemaRequiringPaths } from '../../private/contract-check';
import { Bundles, stageBundle, stageCode } from '../../private/handler-asset';
import { invalid, outOfRange, whereOf } from '../../private/validation';
import { BedrockScreeningConfig, BedrockStageConfig, PROMPT_ATTACK_GUARDRAIL_ENV, TRANSIENT_ERRORS } from '../../shared';
import { InferenceStageBase, InferenceStageOptions, StageKind } from '../inference-stage-base';

/** A Bedrock guardrail applied to the stage's calls. */
export interface BedrockGuardrail {
  /** The guardrail's id. */
  readonly guardrailId: string;
  /** The guardrail's version (a number, or 'DRAFT'). */
  readonly guardrailVersion: string;
}

/** Converse features a Bedrock model supports; a field left out is looked up in the built-in table. */
export interface BedrockModelCapabilities {
  /**
   * Converse JSON-schema structured output (`outputConfig.textFormat`).
   * @default - from the built-in table (false for a model not in it)
   */
  readonly structuredOutput?: boolean;
  /**
   * Converse prompt caching (a `cachePoint` block).
   * @default - from the built-in table (false for a model not in it)
   */
  readonly promptCaching?: boolean;
}

/** List prices of a Bedrock model in USD per 1,000 tokens, and where they come from. */
export interface BedrockModelPrice {
  /** Input (prompt) tokens, per 1,000. */
  readonly inputPer1k: number;
  /** Output tokens, per 1,000. */
  readonly outputPer1k: number;
  /**
   * Tokens read from the prompt cache, per 1,000.
   * @default - the input price
   */
  readonly cacheReadPer1k?: number;
  /**
   * Tokens written to the prompt cache, per 1,000.
   * @default - the input price
   */
  readonly cacheWritePer1k?: number;
  /** Where the prices come from; every audit record that uses them names it. */
  readonly source: string;
}

/** How the stage gets JSON from the model. */
export enum StructuredOutputMode {
  /** JSON-schema structured output when the model supports it (built-in table or `modelCapabilities`), otherwise parse and repair. */
  AUTO = 'auto',
  /** Always ask Converse for JSON-schema structured output (the model must support it). */
  ON = 'on',
  /** Never: the reply is parsed from free text, with one repair attempt. */
  OFF = 'off',
}

/** The Converse service tier a stage's calls run in (`serviceTier`). */
export enum BedrockServiceTier {
  /** The standard tier. */
  DEFAULT = 'default',
  /** Lower price, longer and less predictable latency: batch-like stages. */
  FLEX = 'flex',
  /** Higher price, preferred processing: latency-sensitive stages. */
  PRIORITY = 'priority',
  /** Reserved capacity bought for the account. */
  RESERVED = 'reserved',
}

/** What a prompt-injection screening layer's findings do. */
export enum ScreeningMode {
  /** The layer runs and a finding blocks every auto-approve rule (the run goes to the next rule or the default route). */
  ENFORCE = 'enforce',
  /** The layer runs and its findings are recorded in `screening.patterns`, but they do not block auto-approve. */
  REPORT = 'report',
  /** The layer does not run. */
  OFF = 'off',
}

/** Strength of the prompt-attack filter: higher catches more attacks and flags more ordinary text. */
export enum PromptAttackStrength {
  /** Blocks only attacks detected with high confidence. */
  LOW = 'LOW',
  /** Blocks attacks detected with medium or high confidence. */
  MEDIUM = 'MEDIUM',
  /** Blocks attacks detected with low, medium or high confidence. */
  HIGH = 'HIGH',
}

/**
 * The layers of a Bedrock stage's prompt-injection screening of the untrusted text it puts into
 * its prompt (see docs/prompt-injection.md). Every layer enforces by default: a finding of any
 * layer keeps every auto-approve rule from firing.
 */
export interface InjectionScreeningOptions {
  /**
   * Normalization: undo disguises (look-alike letters, invisible characters, spaced-out letters,
   * words hyphenated across lines, digits for letters, base64/hex runs) before the other local
   * layers, and flag deliberate hiding. When OFF, the other local layers see the text only lower-cased.
   * @default ScreeningMode.ENFORCE
   */
  readonly normalization?: ScreeningMode;
  /**
   * Multilingual phrases (English, German, French, Spanish, Italian, Portuguese, Dutch) that try
   * to override instructions, change the output or get the document approved.
   * @default ScreeningMode.ENFORCE
   */
  readonly phrases?: ScreeningMode;
  /**
   * Structure: the prompt's own data delimiters, chat-role markup, JSON shaped like the output
   * contract, sentences addressed to an AI, a model, an assistant or a reviewer.
   * @default ScreeningMode.ENFORCE
   */
  readonly structure?: ScreeningMode;
  /**
   * Amazon Bedrock Guardrails' prompt-attack filter over the untrusted text (ApplyGuardrail,
   * source INPUT). Costs one guardrail call per 10,000 characters of untrusted text.
   * @default ScreeningMode.ENFORCE
   */
  readonly guardrail?: ScreeningMode;
  /**
   * Spotlighting: the untrusted text goes into the prompt between markers drawn at random for each
   * run, and the model reports `injectionSuspected` in its reply (the stage takes the field out
   * before checking the reply against its contract). A reply without the field counts as a finding.
   * @default ScreeningMode.ENFORCE
   */
  readonly spotlight?: ScreeningMode;
  /**
   * Strength of the prompt-attack filter of the guardrail the stage creates.
   * @default PromptAttackStrength.HIGH
   */
  readonly promptAttackStrength?: PromptAttackStrength;
  /**
   * An existing guardrail to screen with instead of the one the stage creates. It must have the
   * prompt-attack filter on input; the stage is granted `bedrock:ApplyGuardrail` on it.
   * @default - the stage creates a guardrail with only the prompt-attack filter
   */
  readonly promptAttackGuardrail?: BedrockGuardrail;
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
   * A guardrail applied to every Converse call (for example content filters on the model's reply).
   * Independent of the prompt-injection screening's guardrail (`screening.promptAttackGuardrail`).
   * @default - none
   */
  readonly guardrail?: BedrockGuardrail;
  /**
   * How the stage gets JSON from the model: Converse JSON-schema structured output
   * (`outputConfig.textFormat`, the output contract's model schema as the schema) or free text
   * parsed with one repair attempt. The reply is validated against the contract either way.
   * @default StructuredOutputMode.AUTO
   */
  readonly structuredOutput?: StructuredOutputMode;
  /**
   * What the model supports, over the built-in table (for a model the table does not know, or to
   * turn a feature off).
   * @default - the built-in table
   */
  readonly modelCapabilities?: BedrockModelCapabilities;
  /**
   * The Converse service tier of the stage's calls.
   * @default - none sent: the account's default tier
   */
  readonly serviceTier?: BedrockServiceTier;
  /**
   * Put a Converse cache point after the system prompt, so repeated calls read the static
   * instructions from the prompt cache. Needs a `systemPrompt` long enough for the model's minimum
   * cacheable length; a model without prompt caching fails synth when this is true.
   * @default - on when the model supports prompt caching and the prompt has a system prompt
   */
  readonly promptCaching?: boolean;
  /**
   * List prices of the model: each call's cost (input, output and cache tokens) goes into the
   * stage's audit record with `source` named.
   * @default - the built-in table (us-east-1 on-demand list prices); no cost for a model it does not know
   */
  readonly price?: BedrockModelPrice;
  /**
   * The prompt-injection screening of the untrusted text: turn layers off, make them report only,
   * raise the prompt-attack filter's strength, or screen with your own guardrail.
   * @default - every layer enforces; the stage creates a guardrail with the prompt-attack filter at HIGH
   */
  readonly screening?: InjectionScreeningOptions;
}

const LAYER_NAMES = ['normalization', 'phrases', 'structure', 'guardrail', 'spotlight'] as const;

/** The fields the Bedrock handler adds to every reply; `screening.layers` has one flag per enforced layer. */
function addedOutput(enforced: readonly string[]): { [field: string]: any } {
  return {
    response: POINTER_SCHEMA,
    screening: {
      type: 'object',
      required: ['promptInjection', 'patterns', 'injectionSuspected', 'layers'],
      properties: {
        promptInjection: { type: 'boolean' },
        patterns: { type: 'array', items: { type: 'string' } },
        injectionSuspected: { type: 'boolean' },
        layers: {
          type: 'object',
          required: [...enforced],
          properties: Object.fromEntries(enforced.map((l) => [l, { type: 'boolean' }])),
          additionalProperties: false,
        },
      },
    },
    usage: USAGE_SCHEMA,
  };
}

const USAGE_SCHEMA = {
  type: 'object',
  required: ['inputTokens', 'outputTokens'],
  properties: {
    inputTokens: { type: 'integer' },
    outputTokens: { type: 'integer' },
    cacheReadInputTokens: { type: 'integer' },
    cacheWriteInputTokens: { type: 'integer' },
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
  /** The guardrail with the prompt-attack filter the stage created for its screening, if it created one. */
  public readonly promptAttackGuardrail?: bedrock.CfnGuardrail;

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
    const sc = props.screening ?? {};
    type Modes = { [l in typeof LAYER_NAMES[number]]: ScreeningMode };
    const modes = Object.fromEntries(LAYER_NAMES.map((l) => [l, sc[l] ?? ScreeningMode.ENFORCE])) as Modes;
    const enforced = LAYER_NAMES.filter((l) => modes[l] === ScreeningMode.ENFORCE);
    if (sc.promptAttackStrength !== undefined && sc.promptAttackGuardrail) {
      invalid(where, `\`screening.promptAttackStrength\` applies only to the guardrail the stage creates, got: ${sc.promptAttackStrength} with \`screening.promptAttackGuardrail\` '${sc.promptAttackGuardrail.guardrailId}'. Set the strength on your guardrail, or drop promptAttackGuardrail.`);
    }
    if (modes.guardrail === ScreeningMode.OFF && (sc.promptAttackGuardrail || sc.promptAttackStrength !== undefined)) {
      invalid(where, `\`screening.guardrail\` is OFF, so \`screening.${sc.promptAttackGuardrail ? 'promptAttackGuardrail' : 'promptAttackStrength'}\` has no effect. Remove it, or set \`screening.guardrail\` to ENFORCE or REPORT.`);
    }
    if (modes.spotlight !== ScreeningMode.OFF && 'injectionSuspected' in (modelSchema.properties ?? {})) {
      invalid(where, `the output contract (${props.output.source}) declares 'injectionSuspected', which the stage asks the model for itself when \`screening.spotlight\` is on (got: ${modes.spotlight}). Rename that field, or set \`screening.spotlight\` to ScreeningMode.OFF.`);
    }
    const output = cloneSchema(modelSchema);
    output.type = 'object';
    output.properties = { ...(output.properties ?? {}) };
    for (const field of offload) {
      if (output.properties[field]?.type !== 'string') {
        invalid(where, `\`offloadFields\` names '${field}', which the output contract (${props.output.source}) does not declare as a string property. Offload only top-level string fields, or declare '${field}' as { "type": "string" }.`);
      }
      output.properties[field] = cloneSchema(POINTER_SCHEMA);
    }
    const added = addedOutput(enforced);
    for (const [name, schema] of Object.entries(added)) {
      if (name in (modelSchema.properties ?? {})) {
        invalid(where, `the output contract (${props.output.source}) declares '${name}', which the Bedrock stage adds itself. Rename that field.`);
      }
      output.properties[name] = cloneSchema(schema);
    }
    output.required = [...new Set([...(output.required ?? []), ...Object.keys(added)])];

    const screening: BedrockScreeningConfig = {
      normalization: modes.normalization,
      phrases: modes.phrases,
      structure: modes.structure,
      guardrail: modes.guardrail,
      spotlight: modes.spotlight,
      delimiterTags: [...new Set([...(props.prompt.text.matchAll(/<\/?\s*([A-Za-z][\w.-]{0,40})\s*>/g))].map((m) => m[1].toLowerCase()))],
      outputFields: Object.keys(modelSchema.properties ?? {}),
    };

    const caps = capabilitiesOf(props.model.modelId, props.modelCapabilities);
    const soMode = props.structuredOutput ?? StructuredOutputMode.AUTO;
    if (soMode === StructuredOutputMode.ON && !caps.structuredOutput) {
      invalid(where, `\`structuredOutput\` is ON, but the model '${props.model.modelId}' has no Converse JSON-schema structured output in the built-in table. Use StructuredOutputMode.AUTO or OFF, or set \`modelCapabilities.structuredOutput\` to true if the model supports it.`);
    }
    if (props.promptCaching === true && !caps.promptCaching) {
      invalid(where, `\`promptCaching\` is true, but the model '${props.model.modelId}' has no prompt caching in the built-in table. Remove promptCaching, or set \`modelCapabilities.promptCaching\` to true if the model supports it.`);
    }
    if (props.promptCaching === true && !props.prompt.systemPrompt) {
      invalid(where, `\`promptCaching\` is true, but the prompt (v${props.prompt.version}) has no system prompt to cache. Put the static instructions in the prompt's systemPrompt, or remove promptCaching.`);
    }
    if (props.guardrail && !Token.isUnresolved(props.guardrail.guardrailVersion) && !/^(DRAFT|[1-9][0-9]{0,7})$/.test(props.guardrail.guardrailVersion)) {
      invalid(where, `\`guardrail.guardrailVersion\` must be a version number or 'DRAFT', got: '${props.guardrail.guardrailVersion}'. Pass the number of a published version of guardrail '${props.guardrail.guardrailId}'.`);
    }
    const price = priceOf(props.model.modelId, props.price);
    if (props.price) {
      const { inputPer1k, outputPer1k, cacheReadPer1k, cacheWritePer1k } = props.price;
      for (const [name, v] of Object.entries({ inputPer1k, outputPer1k, cacheReadPer1k, cacheWritePer1k })) {
        if (v !== undefined && !Token.isUnresolved(v) && outOfRange(v, 0, 1000)) {
          invalid(where, `\`price.${name}\` must be a USD price per 1,000 tokens from 0 to 1000, got: ${v}.`);
        }
      }
      if (props.price.source.trim().length === 0) {
        invalid(where, '`price.source` is empty. Name where the prices come from (a pricing page and its date, or your contract).');
      }
    }

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
      screening,
      ...(soMode !== StructuredOutputMode.OFF && caps.structuredOutput ? {
        structuredOutput: {
          name: id.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64),
          schema: JSON.stringify(structuredSchema(modelSchema, modes.spotlight !== ScreeningMode.OFF)),
        },
      } : {}),
      ...(props.serviceTier ? { serviceTier: props.serviceTier } : {}),
      promptCache: (props.promptCaching ?? caps.promptCaching) && Boolean(props.prompt.systemPrompt),
      ...(price ? { price } : {}),
    };
    const outputContract = StageContract.fromObject(output);
    super(scope, id, {
      kind: StageKind.BEDROCK,
      code: stageCode(stageBundle(Bundles.BEDROCK, props.quota), config, {
        input: input.schema,
        output: outputContract.schema,
        model: modelSchema,
      }),
      inputContract: input,
      outputContract,
      transientErrors: [...TRANSIENT_ERRORS.bedrock, ...TRANSIENT_ERRORS.s3],
      timeout: props.timeout ?? Duration.minutes(5),
      memorySize: props.memorySize ?? 512,
      retry: props.retry,
      quota: props.quota,
      standalone: props.standalone,
      readsText: props.prompt.variables.includes('text'),
      description: `Bedrock Converse with ${props.model.modelId}, prompt v${props.prompt.version}`,
    });
    this.model = props.model;
    this.promptVersion = props.prompt.version;
    this._capacityFacts = { model: props.model.modelId, maxTokens, promptChars: props.prompt.text.length + (props.prompt.systemPrompt?.length ?? 0) };
    const quotaFor = props.quota?.resourceName;
    if (props.quota?.service === 'bedrock' && quotaFor && quotaFor !== props.model.modelId) {
      invalid(this, `\`quota\` is for model '${quotaFor}', but the stage calls '${props.model.modelId}'. Quotas are per model: give the stage the quota of its own model.`);
    }

    // The screening guardrail reaches the handler through its environment (its id is known only at deploy time).
    let screeningGuardrail: { id: string; version: string; arn: string } | undefined;
    if (modes.guardrail !== ScreeningMode.OFF) {
      if (sc.promptAttackGuardrail) {
        const { guardrailId, guardrailVersion } = sc.promptAttackGuardrail;
        screeningGuardrail = { id: guardrailId, version: guardrailVersion, arn: guardrailArn(Stack.of(this), guardrailId) };
      } else {
        this.promptAttackGuardrail = new bedrock.CfnGuardrail(this, 'PromptAttackGuardrail', {
          name: Names.uniqueResourceName(this, { maxLength: 50, separator: '-' }),
          description: `Prompt-attack filter over the untrusted text of the Bedrock stage ${id} (cdk-ai-pipeline)`,
          blockedInputMessaging: 'Blocked by the prompt-attack filter.',
          blockedOutputsMessaging: 'Blocked by the guardrail.',
          contentPolicyConfig: {
            filtersConfig: [{ type: 'PROMPT_ATTACK', inputStrength: sc.promptAttackStrength ?? PromptAttackStrength.HIGH, outputStrength: 'NONE' }],
          },
        });
        // DRAFT is the guardrail's current configuration: a changed strength applies on the next deploy.
        screeningGuardrail = { id: this.promptAttackGuardrail.attrGuardrailId, version: 'DRAFT', arn: this.promptAttackGuardrail.attrGuardrailArn };
      }
      this.addHandlerEnvironment(PROMPT_ATTACK_GUARDRAIL_ENV.id, screeningGuardrail.id);
      this.addHandlerEnvironment(PROMPT_ATTACK_GUARDRAIL_ENV.version, screeningGuardrail.version);
    }

    this.role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['bedrock:InvokeModel'],
      resources: props.model.resourceArns(this),
    }));
    const guardrailArns = [
      ...(props.guardrail ? [guardrailArn(Stack.of(this), props.guardrail.guardrailId)] : []),
      ...(screeningGuardrail ? [screeningGuardrail.arn] : []),
    ];
    if (guardrailArns.length > 0) {
      this.role.addToPrincipalPolicy(new iam.PolicyStatement({
        actions: ['bedrock:ApplyGuardrail'],
        resources: [...new Set(guardrailArns)],
      }));
    }
  }
}

/** The ARN of a guardrail in the stack's account and region, from its id (or an ARN given as the id). */
function guardrailArn(stack: Stack, guardrailId: string): string {
  if (!Token.isUnresolved(guardrailId) && guardrailId.startsWith('arn:')) return guardrailId;
  return `arn:${stack.partition}:bedrock:${stack.region}:${stack.account}:guardrail/${guardrailId}`;
}
