/**
 * The static configuration of a stage handler, written by the construct at synth time into
 * `stage-config.json` beside the handler bundle (too large for environment variables: prompts).
 * Tokens (bucket names, ARNs) are never in here; they travel as environment variables (see `Env`).
 */
export interface StageConfigBase {
  /** The stage id: its state name and its key under `results`. */
  readonly stage: string;
  readonly kind: 'textract' | 'bedrock' | 'sagemaker' | 'lambda' | 'comprehend' | 'translate' | 'http' | 'transcribe';
}

export interface TextractStageConfig extends StageConfigBase {
  readonly kind: 'textract';
  /** Largest document accepted, in bytes (Document.TooLarge above). */
  readonly maxDocumentBytes: number;
  /** Most pages accepted (Document.TooLarge above). */
  readonly maxPages: number;
  /** Most bytes a PDF's streams may inflate to, all together (Document.TooLarge above); absent: the preflight's default. */
  readonly maxDecompressedBytes?: number;
  /** Document analysis (AnalyzeDocument, StartDocumentAnalysis) instead of text detection; absent: text detection. */
  readonly analysis?: TextractAnalysisConfig;
}

/** A Textract analysis feature (the API's `FeatureTypes` values this library supports). */
export type TextractFeatureName = 'FORMS' | 'TABLES' | 'QUERIES' | 'SIGNATURES';

/** One Textract query: the question, the alias its answer is kept under, the pages it applies to. */
export interface TextractQueryConfig {
  readonly text: string;
  readonly alias: string;
  /** Textract's page selectors (`1`, `2-4`, `3-*`, `*`); absent: page 1 (Textract's default). */
  readonly pages?: string[];
}

/** What a Textract analysis stage asks for. */
export interface TextractAnalysisConfig {
  readonly features: TextractFeatureName[];
  /** The queries when `features` has QUERIES; empty otherwise. */
  readonly queries: TextractQueryConfig[];
}

export interface BedrockStageConfig extends StageConfigBase {
  readonly kind: 'bedrock';
  /** Model id or inference profile id passed to Converse. */
  readonly modelId: string;
  /** The prompt template; `{{path}}` placeholders read the stage view (`text`, `document.key`, `results.X.y`). */
  readonly prompt: string;
  readonly promptVersion: string;
  readonly systemPrompt?: string;
  readonly maxTokens: number;
  readonly temperature: number;
  /** Top-level string fields of the model's reply moved to S3 and replaced by a pointer. */
  readonly offloadFields: string[];
  /** Longest text put into the prompt, in characters; longer text is cut. */
  readonly maxInputChars: number;
  readonly guardrail?: { readonly id: string; readonly version: string };
  /** Prompt-injection screening; absent in configs written before it: the deterministic layers only. */
  readonly screening?: BedrockScreeningConfig;
  /**
   * Converse JSON-schema structured output (`outputConfig.textFormat`): the schema (the model
   * contract, closed, with the spotlight field when spotlighting is on) as JSON text, and its name.
   * Absent: the reply is parsed and repaired from free text.
   */
  readonly structuredOutput?: { readonly name: string; readonly schema: string };
  /** Converse `serviceTier.type` ('default', 'flex', 'priority', 'reserved'); absent: not sent. */
  readonly serviceTier?: string;
  /** Put a cache point after the system prompt (Converse prompt caching). */
  readonly promptCache?: boolean;
  /** List prices of the model, per 1,000 tokens, for the cost of each call in the audit record. */
  readonly price?: BedrockPriceConfig;
}

/** A Bedrock model's list prices in USD per 1,000 tokens, and where they come from. */
export interface BedrockPriceConfig {
  readonly inputPer1k: number;
  readonly outputPer1k: number;
  /** Cache reads; absent: priced as input tokens. */
  readonly cacheReadPer1k?: number;
  /** Cache writes; absent: priced as input tokens. */
  readonly cacheWritePer1k?: number;
  /** Where the prices come from (named in every audit record that uses them). */
  readonly source: string;
}

/** Environment variables of a Bedrock stage's handler naming its prompt-attack guardrail. */
export const PROMPT_ATTACK_GUARDRAIL_ENV = { id: 'PROMPT_ATTACK_GUARDRAIL_ID', version: 'PROMPT_ATTACK_GUARDRAIL_VERSION' } as const;

/** What each screening layer's findings do: block auto-approve, only be recorded, or the layer does not run. */
export type ScreeningLayerMode = 'enforce' | 'report' | 'off';

/** The Bedrock stage's prompt-injection screening (see src/stages/bedrock/handler/screening). */
export interface BedrockScreeningConfig {
  readonly normalization: ScreeningLayerMode;
  readonly phrases: ScreeningLayerMode;
  readonly structure: ScreeningLayerMode;
  readonly guardrail: ScreeningLayerMode;
  readonly spotlight: ScreeningLayerMode;
  /**
   * The guardrail with the prompt-attack filter that ApplyGuardrail screens the untrusted text with.
   * Not in the config file (its id is a deploy-time value): the entry reads PROMPT_ATTACK_GUARDRAIL_ENV.
   */
  readonly promptAttackGuardrail?: { readonly id: string; readonly version: string };
  /** Tag names of the prompt template (its data delimiters). */
  readonly delimiterTags: string[];
  /** Top-level property names of the model's output contract. */
  readonly outputFields: string[];
}

export interface SageMakerStageConfig extends StageConfigBase {
  readonly kind: 'sagemaker';
  /** Request body fields and the stage-view path each is read from (pointers are dereferenced). */
  readonly request: { [field: string]: string };
  readonly maxInputChars: number;
}

export interface LambdaStageConfig extends StageConfigBase {
  readonly kind: 'lambda';
}

/** What a Comprehend stage asks for: the `ComprehendFeature` values. */
export type ComprehendFeatureName = 'language' | 'sentiment' | 'entities' | 'pii';

export interface ComprehendStageConfig extends StageConfigBase {
  readonly kind: 'comprehend';
  readonly features: ComprehendFeatureName[];
  /** Language of sentiment, entities and PII; absent: the detected language when supported, else 'en'. */
  readonly languageCode?: string;
  /** Write the text with PII replaced by `[TYPE]` as a new `text` pointer. */
  readonly redactPii: boolean;
  /** PII entity types that count (and are redacted); empty: every type. */
  readonly piiTypes: string[];
  /** Lowest confidence (0-1) at which an entity or PII finding counts. */
  readonly minScore: number;
}

export interface TranslateStageConfig extends StageConfigBase {
  readonly kind: 'translate';
  /** Target language code. */
  readonly targetLanguage: string;
  /** Source language code, or 'auto' (Amazon Translate detects it). */
  readonly sourceLanguage: string;
  /** Stage-view path of a language code that overrides `sourceLanguage` when present (e.g. results.Detect.language). */
  readonly sourceLanguagePath?: string;
}

export interface HttpStageConfig extends StageConfigBase {
  readonly kind: 'http';
  /** The HTTP method of the call (for the audit record). */
  readonly method: string;
  /** The URL called, without query (for the audit record). */
  readonly url: string;
}

/**
 * The state that calls the API of an HTTP stage (the stage's own state, named by its id, checks the
 * response against the output contract).
 */
export function httpCallState(stageId: string): string {
  return `${stageId}-Call`;
}

export interface TranscribeStageConfig extends StageConfigBase {
  readonly kind: 'transcribe';
  /** Language of the recordings (a Transcribe language code such as 'en-US'). */
  readonly languageCode: string;
  /** Largest recording accepted, in bytes (Document.TooLarge above). */
  readonly maxMediaBytes: number;
  /** Transcription job names start with this (the completion rule matches it): `cdkaip-<hash>-`. */
  readonly jobPrefix: string;
}

export type StageConfig =
  | TextractStageConfig | BedrockStageConfig | SageMakerStageConfig | LambdaStageConfig | ComprehendStageConfig | TranslateStageConfig
  | HttpStageConfig | TranscribeStageConfig;

/** The text a text-producing stage writes to S3 (`results.<stage>.text` points at it). */
export interface ExtractedText {
  readonly pages: ReadonlyArray<{ readonly page: number; readonly text: string }>;
}
