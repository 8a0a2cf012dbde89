/**
 * Types shared by the constructs (which lay out the state) and the handlers (which read and write it).
 * Nothing here may import the AWS SDK: constructs depend on this module.
 */

/** Where an object lives in S3. Large data (document text, model replies) travels as one of these. */
export interface S3Pointer {
  readonly bucket: string;
  readonly key: string;
  readonly versionId?: string;
  /** Hex sha256 of the object's bytes. */
  readonly sha256?: string;
}

/** The document a run is about: a pointer to the uploaded object. */
export interface DocumentRef {
  readonly bucket: string;
  readonly key: string;
  readonly versionId?: string;
  readonly size?: number;
  readonly etag?: string;
}

/** The route a run took, as written by the RoutingPolicy's destination states. */
export interface RouteTaken {
  readonly rule: string;
  readonly destination: string;
  /** The message id of an SNS or SQS delivery. */
  readonly messageId?: string;
}

/** The state that travels between the states of a pipeline run. Kept small: pointers only. */
export interface RunState {
  readonly document: DocumentRef;
  /** Each stage's output, under the stage's id. */
  readonly results?: { [stage: string]: any };
  readonly route?: RouteTaken;
  readonly error?: { readonly Error: string; readonly Cause?: string };
  /** Set by the catch of a failed stage: the stage's id (see shared/failures.ts). */
  readonly failedStage?: string;
  /** Set by a routing policy with spot checks: the run's draw, and `sampled` when it was drawn. */
  readonly spotCheck?: SpotCheck;
}

/** A run's spot-check draw: drawn (`sampled`) when `draw` (0..9999) is below `percent * 100`. */
export interface SpotCheck {
  readonly percent: number;
  readonly draw: number;
  /** True when the run was sent to the default route for a person to check. */
  readonly sampled?: boolean;
  /** The auto-approve rule that would have approved a sampled run. */
  readonly rule?: string;
}

/** What a stage task sends to its handler. */
export interface StageInvocation {
  /** The whole run state at the stage. */
  readonly state: RunState;
  /** The execution's name: the run id. */
  readonly runId: string;
  /** The execution's ARN. */
  readonly executionArn?: string;
  /** Present when the task waits for a callback (asynchronous Textract). */
  readonly taskToken?: string;
  /** When the task state was entered (`$$.State.EnteredTime`): set for stages with a quota, to measure the wait. */
  readonly enteredAt?: string;
}

/** The part of the run state a stage's input contract is written against. */
export interface StageView {
  readonly document: DocumentRef;
  readonly results: { [stage: string]: any };
}

/** One audit record: one per stage execution and one per run. Its JSON schema is `src/audit/audit-record.schema.json`. */
export interface AuditRecord {
  readonly schemaVersion: '1';
  readonly kind: 'stage' | 'run';
  readonly runId: string;
  readonly pipeline: string;
  readonly stage?: string;
  readonly stageKind?: string;
  readonly document: DocumentRef;
  readonly inputSha256?: string;
  readonly outputSha256?: string;
  readonly modelId?: string;
  readonly promptVersion?: string;
  readonly startedAt: string;
  readonly endedAt: string;
  readonly outcome: 'SUCCEEDED' | 'FAILED';
  readonly errorName?: string;
  readonly route?: RouteTaken;
  /** For run records of a policy with spot checks: the draw, and whether the run was sent for a spot check. */
  readonly spotCheck?: SpotCheck;
  /** For run records: the stages whose results the run holds, with the sha256 of each result. */
  readonly stages?: ReadonlyArray<{ readonly name: string; readonly outputSha256: string }>;
  /** For stage records of a stage run per chunk: which chunk (the step, the chunk's index, how many). */
  readonly chunk?: { readonly step: string; readonly index: number; readonly count: number };
  /** For stage records: the content kept in the audit bucket (input view, output, prompt, raw replies). */
  readonly content?: AuditContentRefs;
  /** For stage records: the paths replaced by `[REDACTED sha256:<hex>]` in the kept input view and output. */
  readonly redacted?: readonly string[];
  /** For stage records of model stages: the calls made, tokens in and out, and the model's own latency. */
  readonly model?: ModelUsage;
  /** For run records: the run's stage records in pipeline order, each linked to the one before it. */
  readonly chain?: readonly ChainLink[];
  /** For run records: the sha256 of the last stage record of the chain (absent when the run has none). */
  readonly previous?: string;
  /** For run records: sha256 of the record's own JSON without this field (see ADR-0017). */
  readonly recordSha256?: string;
  /** For run records: each human review the run reached, with who decided what and when (or that it timed out). */
  readonly reviews?: ReadonlyArray<ReviewTaken>;
}

/** An object kept in the audit bucket beside a stage record: its key and the sha256 of its bytes. */
export interface ContentRef {
  readonly key: string;
  readonly sha256: string;
  readonly versionId?: string;
}

/** The content objects of one stage record. */
export interface AuditContentRefs {
  readonly input?: ContentRef;
  readonly output?: ContentRef;
  /** Model stages: the rendered prompt. */
  readonly prompt?: ContentRef;
  /** Model stages: the model's raw replies (a repair attempt included). */
  readonly reply?: ContentRef;
}

/** What a model stage's calls cost in tokens and time. */
export interface ModelUsage {
  readonly calls: number;
  /** Absent when the service reports no token counts (a SageMaker endpoint). */
  readonly inputTokens?: number;
  readonly outputTokens?: number;
  /** The model's own latency summed over the calls (Converse `metrics.latencyMs`), when reported. */
  readonly latencyMs?: number;
  /** Prompt tokens read from and written to the model's prompt cache, when reported. */
  readonly cacheReadInputTokens?: number;
  readonly cacheWriteInputTokens?: number;
  /** The calls' cost in USD at the list prices named by `priceSource`, when the stage has prices. */
  readonly costUsd?: number;
  readonly priceSource?: string;
}

/** One link of a run's audit chain: a stage record, its sha256, and the sha256 of the record before it. */
export interface ChainLink {
  readonly stage: string;
  readonly key: string;
  readonly sha256: string;
  /** The sha256 of the previous link's record; absent on the first link. */
  readonly previous?: string;
}

/** A human review as the run record keeps it: the decision, the reviewer's IAM ARN, the time, the decision record. */
export interface ReviewTaken {
  readonly name: string;
  /** approve, reject or correct; `timeout` when the deadline passed without a decision. */
  readonly decision: string;
  readonly reviewer?: string;
  readonly decidedAt?: string;
  /** Hex sha256 of the task token the decision answered (never the token). */
  readonly taskTokenSha256?: string;
  /** The decision record the decision API wrote. */
  readonly record?: S3Pointer;
}

/** Source of the audit events the handlers put on the audit bus. */
export const AUDIT_EVENT_SOURCE = 'cdk-ai-pipeline';

/** detail-type of the audit events. */
export const AuditEventTypes = {
  STAGE_SUCCEEDED: 'Stage Succeeded',
  STAGE_FAILED: 'Stage Failed',
  RUN_SUCCEEDED: 'Run Succeeded',
  RUN_FAILED: 'Run Failed',
  REVIEW_DECIDED: 'Review Decided',
} as const;

/** Environment variables the constructs set and the handlers read. */
export const Env = {
  PIPELINE_NAME: 'PIPELINE_NAME',
  STAGE_NAME: 'STAGE_NAME',
  WORK_BUCKET: 'WORK_BUCKET',
  AUDIT_BUCKET: 'AUDIT_BUCKET',
  AUDIT_BUS: 'AUDIT_BUS',
  /** Textract: the SNS topic and the role Textract publishes job completion with. */
  TEXTRACT_TOPIC_ARN: 'TEXTRACT_TOPIC_ARN',
  TEXTRACT_ROLE_ARN: 'TEXTRACT_ROLE_ARN',
  /** Transcribe: the KMS key Transcribe encrypts its transcript with (the working bucket's key), when it has one. */
  TRANSCRIBE_OUTPUT_KEY: 'TRANSCRIBE_OUTPUT_KEY',
  /** SageMaker: the endpoint. */
  ENDPOINT_NAME: 'ENDPOINT_NAME',
  /** Lambda stage: the user's function. */
  TARGET_FUNCTION: 'TARGET_FUNCTION',
  /** Trigger: the state machine to start. */
  STATE_MACHINE_ARN: 'STATE_MACHINE_ARN',
  /** Trigger of an Express pipeline: the table its starter claims run ids in (ADR-0029). */
  CLAIM_TABLE: 'CLAIM_TABLE',
  /** Trigger of an Express pipeline: after this many seconds a claim whose start never happened may be taken over. */
  CLAIM_STALE_SECONDS: 'CLAIM_STALE_SECONDS',
  /** Recorder: the ordered stage ids of the pipeline, comma-separated. */
  STAGE_ORDER: 'STAGE_ORDER',
  /** Stage handlers: the JSON array of run-state paths redacted in the content kept for audit. */
  AUDIT_REDACT_FIELDS: 'AUDIT_REDACT_FIELDS',
  /** Recorder: the pipeline's human review steps, comma-separated. Decision API: its review's name. */
  REVIEW_STEPS: 'REVIEW_STEPS',
  /**
   * Recorder: every name with per-run records to chain (stages and chunked steps), in order,
   * comma-separated; a stage run per chunk ends with '*' (one record per chunk).
   */
  CHAIN_ORDER: 'CHAIN_ORDER',
  /** A stage run per chunk: the chunked step whose chunk reference is at `results.<step>` of its input. */
  CHUNK_STEP: 'CHUNK_STEP',
} as const;

/** Key layout in the working and audit buckets; every stage owns the prefix `stages/<stage>/`. */
export const Keys = {
  stagePrefix: (stage: string) => `stages/${stage}/`,
  stageAudit: (stage: string, runId: string) => `stages/${stage}/${runId}.json`,
  /** A content object kept beside a stage record in the audit bucket (input view, output, prompt, reply). */
  stageAuditContent: (stage: string, runId: string, name: string) => `stages/${stage}/${runId}/${name}`,
  /** A stage run once per chunk keeps one record per chunk (they run at once: one key each). */
  stageChunkPrefix: (stage: string, runId: string) => `stages/${stage}/${runId}/chunks/`,
  stageChunkAudit: (stage: string, runId: string, index: number) => `stages/${stage}/${runId}/chunks/${String(index).padStart(5, '0')}.json`,
  stageChunkAuditContent: (stage: string, runId: string, index: number, name: string) => `stages/${stage}/${runId}/chunks/${String(index).padStart(5, '0')}/${name}`,
  stageWork: (stage: string, runId: string, name: string) => `stages/${stage}/${runId}/${name}`,
  textractJob: (stage: string, jobId: string) => `stages/${stage}/jobs/${jobId}.json`,
  /** The record of an asynchronous job a stage started (task token, run id), read when the job ends. */
  stageJob: (stage: string, jobId: string) => `stages/${stage}/jobs/${jobId}.json`,
  runAudit: (runId: string) => `runs/${runId}.json`,
  runsPrefix: 'runs/',
  /** One decision attempt on a review task, keyed by the token's hash (the API never sees the run id). */
  reviewDecision: (review: string, tokenSha256: string, decidedAtMs: number) => `stages/${review}/decisions/${tokenSha256}/${decidedAtMs}.json`,
} as const;

/** Inline state a stage may return; anything larger goes to S3 and travels as a pointer. */
export const MAX_INLINE_OUTPUT_BYTES = 32 * 1024;

/**
 * The modules a stage's generated `validators.js` may require: ajv's runtime helpers that ajv's
 * standalone code for JSON Schema 2020-12 uses, and ajv-formats' formats. The handler bundles carry
 * exactly these (src/runtime/contracts.ts); synth fails on a contract whose code needs another.
 */
export const VALIDATOR_RUNTIME_MODULES: readonly string[] = [
  'ajv/dist/runtime/equal',
  'ajv/dist/runtime/ucs2length',
  'ajv/dist/runtime/validation_error',
  'ajv-formats/dist/formats',
];

/** The files placed beside a stage handler's bundle at synth time. */
export const StageAssetFiles = {
  CONFIG: 'stage-config.json',
  VALIDATORS: 'validators.js',
  /** The stage's contracts as JSON Schemas (`input`, `output`, `model`): what the local runner's stand-ins answer. */
  CONTRACTS: 'contracts.json',
} as const;
