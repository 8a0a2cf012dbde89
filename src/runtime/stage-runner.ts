import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { AuditWriter, newTrace, StageTrace } from './audit';
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
 * Runs one stage: validates its input, runs the body, validates and size-checks its output, and
 * writes the stage's audit record whatever the outcome, with its input view, its output and (for
 * model stages) the trace the body filled kept beside it in the audit bucket. Errors are re-thrown with their names so
 * the state machine's Retry and Catch can match them.
 */
export async function runStage(
  ctx: StageContext,
  invocation: StageInvocation,
  body: (view: StageView, trace: StageTrace) => Promise<StageResult>,
): Promise<{ [key: string]: unknown }> {
  const now = ctx.now ?? (() => new Date());
  const startedAt = now().toISOString();
  const view = stageView(invocation);
  const inputSha256 = sha256(JSON.stringify(view));
  const audit = new AuditWriter(ctx.s3, ctx.events, { bucket: ctx.auditBucket, busName: ctx.auditBus, redactFields: ctx.redactFields });
  // Model stages fill the trace as they call: it is kept whatever the outcome.
  const trace = newTrace();
  const base = {
    schemaVersion: '1' as const,
    kind: 'stage' as const,
    runId: invocation.runId,
    pipeline: ctx.pipeline,
    stage: ctx.stage,
    stageKind: ctx.stageKind,
    document: invocation.state.document,
    ...chunkOf(ctx, invocation.state),
    inputSha256,
    startedAt,
  };
  let result: StageResult | undefined;
  try {
    assertValid(ctx.validators.input, view, ErrorNames.CONTRACT_INPUT_VIOLATION, `the input of stage ${ctx.stage}`);
    result = await body(view, trace);
    assertValid(ctx.validators.output, result.output, ErrorNames.CONTRACT_OUTPUT_VIOLATION, `the output of stage ${ctx.stage}`);
    const serialized = JSON.stringify(result.output);
    if (Buffer.byteLength(serialized) > MAX_INLINE_OUTPUT_BYTES) {
      throw new PipelineError(ErrorNames.CONTRACT_OUTPUT_VIOLATION,
        `the output of stage ${ctx.stage} is ${Buffer.byteLength(serialized)} bytes inline, over the ${MAX_INLINE_OUTPUT_BYTES}-byte limit: move large fields to S3 and return pointers`);
    }
    await audit.stage({
      ...base,
      outputSha256: sha256(serialized),
      modelId: result.modelId ?? ctx.modelId,
      promptVersion: result.promptVersion ?? ctx.promptVersion,
      endedAt: now().toISOString(),
      outcome: 'SUCCEEDED',
    }, { input: view, output: result.output, trace });
    ctx.logger.info('stage succeeded', { runId: invocation.runId, stage: ctx.stage, outputBytes: serialized.length });
    return result.output;
  } catch (err: any) {
    const errorName = err?.name ?? 'Error';
    // Waiting for capacity is not an outcome of the stage: no record, the state machine retries.
    if (errorName === CAPACITY_WAIT) throw err;
    ctx.logger.error('stage failed', { runId: invocation.runId, stage: ctx.stage, errorName });
    try {
      await audit.stage({
        ...base,
        modelId: result?.modelId ?? ctx.modelId,
        promptVersion: result?.promptVersion ?? ctx.promptVersion,
        endedAt: now().toISOString(),
        outcome: 'FAILED',
        errorName,
      }, { input: view, trace });
    } catch (auditErr: any) {
      ctx.logger.error('audit record not written', { runId: invocation.runId, stage: ctx.stage, errorName: auditErr?.name });
    }
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
