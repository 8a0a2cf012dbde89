import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { AuditWriter, newTrace, StageContent, StageTrace } from './audit';
import { CapacityControl } from './capacity';
import { assertValid, StageValidators } from './contracts';
import { LogPort } from './logger';
import { sha256 } from './s3';
import { CAPACITY_WAIT, ErrorNames, MAX_INLINE_OUTPUT_BYTES, PipelineError, StageInvocation, StageView } from '../shared';

/** What every stage core needs besides its own service client. */
export interface StageContext {
  readonly s3: S3Client;
  readonly events: EventBridgeClient;
  readonly validators: StageValidators;
  readonly logger: LogPort;
  readonly pipeline: string;
  readonly stage: string;
  readonly stageKind: string;
  readonly workBucket: string;
  readonly auditBucket: string;
  readonly auditBus: string;
  /** CHUNK_STEP: when the stage runs once per chunk, the chunked step (its chunk is at `results.<step>`). */
  readonly chunkStep?: string;
  /** Clock, injectable for tests. */
  readonly now?: () => Date;
  /** The model the stage calls, when known up front: audit records carry it even when the call fails. */
  readonly modelId?: string;
  /** The prompt's version, when the stage has one. */
  readonly promptVersion?: string;
  /** Run-state paths redacted in the input view and output kept for audit (AUDIT_REDACT_FIELDS). */
  readonly redactFields?: readonly string[];
  /** The capacity control of the stage's quota, when it has one: the core acquires before each service call. */
  readonly capacity?: CapacityControl;
}

/** What a stage body returns: its output, and the model facts the audit record carries. */
export interface StageResult {
  readonly output: { [key: string]: unknown };
  readonly modelId?: string;
  readonly promptVersion?: string;
}

/** The stage's view of the run state: what its input contract is written against. */
export function stageView(invocation: StageInvocation): StageView {
  return { document: invocation.state.document, results: invocation.state.results ?? {} };
}

/**
 * A stage run that has begun: what its audit record needs from the start. Plain data, so a stage that
 * ends later in another invocation (an asynchronous job resumed by a task token) keeps it until then.
 */
export interface StageStart {
  readonly runId: string;
  readonly document: StageView['document'];
  /** sha256 of the stage's input view. */
  readonly inputSha256: string;
  /** When the stage started (ISO 8601). */
  readonly startedAt: string;
  /** Which chunk, for a stage run once per chunk. */
  readonly chunk?: { readonly step: string; readonly index: number; readonly count: number };
}

/** Begins a stage run: its input view, the view's hash, the start time and the chunk it works on. */
export function beginStage(ctx: StageContext, invocation: StageInvocation): { start: StageStart; view: StageView } {
  const now = ctx.now ?? (() => new Date());
  const view = stageView(invocation);
  return {
    view,
    start: {
      runId: invocation.runId,
      document: invocation.state.document,
      inputSha256: sha256(JSON.stringify(view)),
      startedAt: now().toISOString(),
      ...chunkOf(ctx, invocation.state),
    },
  };
}

/** Checks the input view against the stage's input contract (`Contract.InputViolation`). */
export function checkInput(ctx: StageContext, view: StageView): void {
  assertValid(ctx.validators.input, view, ErrorNames.CONTRACT_INPUT_VIOLATION, `the input of stage ${ctx.stage}`);
}

function recordBase(ctx: StageContext, start: StageStart) {
  return {
    schemaVersion: '1' as const,
    kind: 'stage' as const,
    runId: start.runId,
    pipeline: ctx.pipeline,
    stage: ctx.stage,
    stageKind: ctx.stageKind,
    document: start.document,
    ...(start.chunk ? { chunk: start.chunk } : {}),
    inputSha256: start.inputSha256,
    startedAt: start.startedAt,
  };
}

function auditWriter(ctx: StageContext): AuditWriter {
  return new AuditWriter(ctx.s3, ctx.events, { bucket: ctx.auditBucket, busName: ctx.auditBus, redactFields: ctx.redactFields });
}

/**
 * Finishes a stage run that produced `result`: validates and size-checks the output, then writes the
 * SUCCEEDED record with `content` (and the output) kept beside it. Throws the named error of a bad
 * output, or the audit bucket's error (the caller fails the stage, or retries).
 */
export async function finishStage(
  ctx: StageContext,
  start: StageStart,
  result: StageResult,
  content: StageContent = {},
): Promise<{ [key: string]: unknown }> {
  const now = ctx.now ?? (() => new Date());
  assertValid(ctx.validators.output, result.output, ErrorNames.CONTRACT_OUTPUT_VIOLATION, `the output of stage ${ctx.stage}`);
  const serialized = JSON.stringify(result.output);
  if (Buffer.byteLength(serialized) > MAX_INLINE_OUTPUT_BYTES) {
    throw new PipelineError(ErrorNames.CONTRACT_OUTPUT_VIOLATION,
      `the output of stage ${ctx.stage} is ${Buffer.byteLength(serialized)} bytes inline, over the ${MAX_INLINE_OUTPUT_BYTES}-byte limit: move large fields to S3 and return pointers`);
  }
  await auditWriter(ctx).stage({
    ...recordBase(ctx, start),
    outputSha256: sha256(serialized),
    modelId: result.modelId ?? ctx.modelId,
    promptVersion: result.promptVersion ?? ctx.promptVersion,
    endedAt: now().toISOString(),
    outcome: 'SUCCEEDED',
  }, { ...content, output: result.output });
  ctx.logger.info('stage succeeded', { runId: start.runId, stage: ctx.stage, outputBytes: serialized.length });
  return result.output;
}

/**
 * Records a failed stage run: the FAILED record with the error's name and `content` kept beside it.
 * Never throws (the original error is what matters); waiting for capacity is not an outcome and
 * writes nothing.
 */
export async function failStage(
  ctx: StageContext,
  start: StageStart,
  err: unknown,
  content: StageContent = {},
  facts: { modelId?: string; promptVersion?: string } = {},
): Promise<void> {
  const now = ctx.now ?? (() => new Date());
  const errorName = (err as any)?.name ?? 'Error';
  if (errorName === CAPACITY_WAIT) return;
  ctx.logger.error('stage failed', { runId: start.runId, stage: ctx.stage, errorName });
  try {
    await auditWriter(ctx).stage({
      ...recordBase(ctx, start),
      modelId: facts.modelId ?? ctx.modelId,
      promptVersion: facts.promptVersion ?? ctx.promptVersion,
      endedAt: now().toISOString(),
      outcome: 'FAILED',
      errorName,
    }, content);
  } catch (auditErr: any) {
    ctx.logger.error('audit record not written', { runId: start.runId, stage: ctx.stage, errorName: auditErr?.name });
  }
}

/**
 * Runs one stage in one invocation: begins it, checks its input, runs the body, then finishes it
 * (output checked, SUCCEEDED record) or fails it (FAILED record), with its input view, its output and
 * (for model stages) the trace the body filled kept beside the record. Errors are re-thrown with their
 * names so the state machine's Retry and Catch can match them.
 */
export async function runStage(
  ctx: StageContext,
  invocation: StageInvocation,
  body: (view: StageView, trace: StageTrace) => Promise<StageResult>,
): Promise<{ [key: string]: unknown }> {
  const { start, view } = beginStage(ctx, invocation);
  // Model stages fill the trace as they call: it is kept whatever the outcome.
  const trace = newTrace();
  let result: StageResult | undefined;
  try {
    checkInput(ctx, view);
    result = await body(view, trace);
    return await finishStage(ctx, start, result, { input: view, trace });
  } catch (err: any) {
    // Waiting for capacity is not an outcome of the stage: no record, the state machine retries.
    await failStage(ctx, start, err, { input: view, trace }, { modelId: result?.modelId, promptVersion: result?.promptVersion });
    throw err;
  }
}

/** The chunk a stage run per chunk is working on, from its input (`results.<step>`); none otherwise. */
function chunkOf(ctx: StageContext, state: { results?: { [id: string]: any } }): { chunk?: { step: string; index: number; count: number } } {
  if (!ctx.chunkStep) return {};
  const ref = state.results?.[ctx.chunkStep];
  if (!Number.isInteger(ref?.index) || !Number.isInteger(ref?.count)) return {};
  return { chunk: { step: ctx.chunkStep, index: ref.index, count: ref.count } };
}
