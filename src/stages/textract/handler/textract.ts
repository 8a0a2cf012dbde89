/**
 * Core of the Textract stage handler. Pure: it receives its clients and configuration and has no
 * module-level side effects, so it runs the same in Lambda, in unit tests and in the local runner.
 *
 * One Lambda serves two events:
 * - a `StageInvocation` from the stage's `lambda:invoke.waitForTaskToken` task: validates the
 *   input, preflights the document, then either extracts the text synchronously (one page, small)
 *   and sends the task success, or starts an asynchronous Textract job and returns;
 * - the SNS notification Textract publishes when that job ends: collects the text, validates the
 *   output, writes the stage's audit record and sends the task success or failure.
 */
import { createHash } from 'crypto';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import {
  AnalyzeDocumentCommand,
  Block,
  DetectDocumentTextCommand,
  FeatureType,
  GetDocumentAnalysisCommand,
  GetDocumentAnalysisCommandOutput,
  GetDocumentTextDetectionCommand,
  StartDocumentAnalysisCommand,
  StartDocumentTextDetectionCommand,
  TextractClient,
} from '@aws-sdk/client-textract';
import type { SNSEvent, SNSEventRecord } from 'aws-lambda';
import { analyzeBlocks, queriesFor, QueryAnswer } from './analysis';
import { HEADER_BYTES, inspectDocument, needsFullRead, PreflightReport, checkSize, sniffType } from './preflight';
import { blocksToText, lineCount } from './text';
import { CapacityControl } from '../../../runtime/capacity';
import { StageValidators } from '../../../runtime/contracts';
import { LogPort } from '../../../runtime/logger';
import { headObject, readObject, writeJson } from '../../../runtime/s3';
import { beginStage, checkInput, failStage, finishStage, StageContext, StageStart } from '../../../runtime/stage-runner';
import {
  DocumentRef,
  ErrorNames,
  Keys,
  PipelineError,
  S3Pointer,
  StageInvocation,
  TextractAnalysisConfig,
  TextractStageConfig,
  TRANSIENT_ERRORS,
} from '../../../shared';

/** Values the construct passes as environment variables (see `Env`). */
export interface TextractHandlerEnv {
  /** PIPELINE_NAME */
  readonly pipeline: string;
  /** WORK_BUCKET: where `text.json` and the job records go. */
  readonly workBucket: string;
  /** AUDIT_BUCKET */
  readonly auditBucket: string;
  /** AUDIT_BUS */
  readonly auditBus: string;
  /** TEXTRACT_TOPIC_ARN: the topic Textract notifies job completion on (this Lambda is subscribed). */
  readonly topicArn: string;
  /** TEXTRACT_ROLE_ARN: the role Textract assumes to publish on the topic. */
  readonly roleArn: string;
}

/** Everything the core needs. */
export interface TextractHandlerDeps {
  readonly s3: S3Client;
  readonly textract: TextractClient;
  readonly sfn: SFNClient;
  readonly events: EventBridgeClient;
  /** The stage's generated validators (`input`, `output`). */
  readonly validators: StageValidators;
  /** The stage's `stage-config.json`. */
  readonly config: TextractStageConfig;
  readonly env: TextractHandlerEnv;
  readonly logger: LogPort;
  /** Clock, injectable for tests. */
  readonly now?: () => Date;
  /** The capacity control of the stage's Textract quota, when it has one (dimensions named after the APIs). */
  readonly capacity?: CapacityControl;
}

/** The stage's output: a pointer to the `ExtractedText`, the page count and how it was extracted. */
export interface TextractStageOutput {
  readonly text: S3Pointer;
  readonly pages: number;
  readonly mode: 'sync' | 'async';
  readonly [key: string]: unknown;
}

/** How many key-value pairs the output carries inline (all of them are in `analysis.json`). */
export const INLINE_KEY_VALUES = 50;
/** Longest key, and value or answer, kept inline, in characters (whole in `analysis.json`). */
export const INLINE_KEY_CHARS = 100;
export const INLINE_VALUE_CHARS = 300;

/**
 * A Textract analysis stage's output: the text as for text detection, the whole analysis by pointer,
 * and inline what routing rules read (the first key-value pairs, counts, the best answer per query).
 */
export interface TextractAnalysisOutput extends TextractStageOutput {
  readonly analysis: S3Pointer;
  readonly keyValues: Array<{ key: string; value: string; confidence: number; page: number }>;
  readonly keyValueCount: number;
  readonly tableCount: number;
  readonly queryAnswers: { [alias: string]: QueryAnswer };
  readonly signatureCount?: number;
}

/** What the invocation returns when it started an asynchronous job (Step Functions ignores it). */
export interface TextractJobStarted {
  readonly status: 'STARTED';
  readonly jobId: string;
}

/** Written to the work bucket at `Keys.textractJob(stage, jobId)` when a job starts; read on completion. */
export interface TextractJobRecord {
  readonly taskToken: string;
  readonly runId: string;
  readonly document: DocumentRef;
  /** When the stage started (the audit record's `startedAt`). */
  readonly startedAt: string;
  /** sha256 of the stage's input view (the audit record's `inputSha256`). */
  readonly inputSha256: string;
  /** Page count from the preflight; absent for TIFF (Textract counts). */
  readonly pages?: number;
  /** Active content the preflight found (absent when none). */
  readonly activeContent?: string[];
}

/** The message Textract publishes on the topic when an asynchronous job ends. */
export interface TextractNotification {
  readonly JobId: string;
  readonly Status: string;
  readonly API?: string;
  readonly JobTag?: string;
  readonly Timestamp?: number;
  readonly DocumentLocation?: { readonly S3ObjectName?: string; readonly S3Bucket?: string };
}

const TEXT_FILE = 'text.json';
const ANALYSIS_FILE = 'analysis.json';
const STAGE_KIND = 'textract';
/** SFN errors meaning the task is already closed: nothing left to tell it, and retrying cannot help. */
const TASK_GONE = ['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken'];
/** Textract's own answers about the document, as named errors. */
const TEXTRACT_DOCUMENT_ERRORS: { [sdkName: string]: string } = {
  UnsupportedDocumentException: ErrorNames.DOCUMENT_UNSUPPORTED_TYPE,
  BadDocumentException: ErrorNames.DOCUMENT_CORRUPT,
  DocumentTooLargeException: ErrorNames.DOCUMENT_TOO_LARGE,
  InvalidS3ObjectException: ErrorNames.SOURCE_ACCESS_DENIED,
};

/**
 * The handler's single entry point: dispatches on the event's shape (SNS notification or stage
 * invocation).
 */
export async function handleTextractEvent(
  deps: TextractHandlerDeps,
  event: StageInvocation | SNSEvent,
): Promise<TextractStageOutput | TextractJobStarted | void> {
  if (isSnsEvent(event)) return completeJobs(deps, event);
  return startStage(deps, event);
}

/** True when the event is an SNS delivery (Textract's completion notification). */
export function isSnsEvent(event: unknown): event is SNSEvent {
  const records = (event as any)?.Records;
  return Array.isArray(records) && records.length > 0 && records.every((r: any) => r && typeof r.Sns === 'object');
}

/** Idempotency token of a run's job: the same run and stage never start two Textract jobs. */
export function clientRequestToken(runId: string, stage: string, taskToken: string): string {
  // The task token changes with each Step Functions attempt: a retried task starts a fresh job (whose
  // completion carries the new token), while a Lambda retry of the same attempt reuses the job.
  return createHash('sha256').update(`${runId}/${stage}/${taskToken}`).digest('hex'); // 64 chars of [0-9a-f]
}

/** A stage id as a Textract `JobTag` (`[a-zA-Z0-9_.\-:]+`, at most 64 characters). */
export function jobTag(stage: string): string {
  return (stage.replace(/[^a-zA-Z0-9_.\-:]/g, '-') || 'stage').slice(0, 64);
}

// -------------------------------------------------------------------------------------------------
// Invocation: preflight, then sync extraction or async start
// -------------------------------------------------------------------------------------------------

/** The common stage context of this stage: the same begin, finish and fail as every other kind. */
function stageContext(deps: TextractHandlerDeps): StageContext {
  return {
    s3: deps.s3,
    events: deps.events,
    validators: deps.validators,
    logger: deps.logger,
    pipeline: deps.env.pipeline,
    stage: deps.config.stage,
    stageKind: STAGE_KIND,
    workBucket: deps.env.workBucket,
    auditBucket: deps.env.auditBucket,
    auditBus: deps.env.auditBus,
    now: deps.now,
  };
}

async function startStage(deps: TextractHandlerDeps, invocation: StageInvocation): Promise<TextractStageOutput | TextractJobStarted> {
  const { config, logger } = deps;
  const ctx = stageContext(deps);
  const { start, view } = beginStage(ctx, invocation);
  const ids = { runId: invocation.runId, stage: config.stage };

  // Input contract and preflight, then either the text now (one page) or a job whose completion
  // finishes the stage later (from the job record: the same start). A failure is recorded and re-thrown.
  let output: TextractStageOutput;
  try {
    checkInput(ctx, view);
    const report = await preflightObject(deps, view.document);
    logger.info('preflight passed', { ...ids, type: report.type, size: report.size, pages: report.pages, mode: report.mode });
    if (report.activeContent.length > 0) {
      // Recorded, not rejected: the kinds go in the stage's output (and so its audit hash) for routing and people.
      logger.warn('active content in the document', { ...ids, activeContent: report.activeContent });
    }
    if (report.mode === 'async') {
      if (!invocation.taskToken) {
        throw new PipelineError(ErrorNames.CONTRACT_INPUT_VIOLATION,
          `stage ${config.stage} needs a task token (lambda:invoke.waitForTaskToken) to extract a multi-page document`);
      }
      const jobId = await startJob(deps, invocation, report, start);
      logger.info('textract job started', { ...ids, jobId });
      return { status: 'STARTED', jobId };
    }
    const extracted = await extractSync(deps, invocation.runId, view.document, report.activeContent, invocation.enteredAt);
    output = await finishStage(ctx, start, { output: extracted }, { input: view }) as TextractStageOutput;
  } catch (err: any) {
    // Waiting for capacity is not an outcome of the stage: no record (failStage writes none), the state machine retries.
    await failStage(ctx, start, err, { input: view });
    throw err;
  }
  if (invocation.taskToken) {
    await deps.sfn.send(new SendTaskSuccessCommand({ taskToken: invocation.taskToken, output: JSON.stringify(output) }));
  }
  return output;
}

/**
 * HeadObject (size limits), then the first bytes (type), then for a PDF the whole object (pages,
 * encryption). Images are never read whole: Textract reads them from S3.
 */
async function preflightObject(deps: TextractHandlerDeps, document: DocumentRef): Promise<PreflightReport> {
  const { maxDocumentBytes, maxPages, maxDecompressedBytes } = deps.config;
  const limits = { maxDocumentBytes, maxPages, maxDecompressedBytes };
  const head = await headObject(deps.s3, document);
  checkSize(head.size, limits);
  let bytes = await readObject(deps.s3, document, `bytes=0-${Math.min(HEADER_BYTES, head.size) - 1}`);
  if (needsFullRead(sniffType(bytes))) bytes = await readObject(deps.s3, document);
  // A TIFF's directory can be anywhere in the file: the structure check reads it by range.
  return inspectDocument(bytes, limits, head.size, (start, end) => readObject(deps.s3, document, `bytes=${start}-${end}`));
}

/** Runs a Textract call under the stage's quota (dimension: the API's name), when it has one. */
function underQuota<T>(deps: TextractHandlerDeps, api: string, call: () => Promise<T>, enteredAt?: string): Promise<T> {
  return deps.capacity ? deps.capacity.run({ [api]: 1 }, call, undefined, enteredAt) : call();
}

async function extractSync(
  deps: TextractHandlerDeps,
  runId: string,
  document: DocumentRef,
  activeContent: readonly string[],
  enteredAt?: string,
): Promise<TextractStageOutput> {
  let blocks: Block[];
  const analysis = deps.config.analysis;
  try {
    if (analysis) {
      const out = await underQuota(deps, 'AnalyzeDocument', () => deps.textract.send(new AnalyzeDocumentCommand({
        Document: { S3Object: s3Object(document) },
        ...analysisRequest(analysis, 1),
      })), enteredAt);
      blocks = out.Blocks ?? [];
    } else {
      const out = await underQuota(deps, 'DetectDocumentText',
        () => deps.textract.send(new DetectDocumentTextCommand({ Document: { S3Object: s3Object(document) } })), enteredAt);
      blocks = out.Blocks ?? [];
    }
  } catch (err) {
    throw textractError(err);
  }
  deps.logger.info('text detected', { runId, stage: deps.config.stage, mode: 'sync', blocks: blocks.length, lines: lineCount(blocks) });
  return writeText(deps, runId, blocks, 1, 'sync', activeContent);
}

async function startJob(
  deps: TextractHandlerDeps,
  invocation: StageInvocation,
  report: PreflightReport,
  start: StageStart,
): Promise<string> {
  const { config, env } = deps;
  const document = invocation.state.document;
  let jobId: string | undefined;
  const job = {
    DocumentLocation: { S3Object: s3Object(document) },
    ClientRequestToken: clientRequestToken(invocation.runId, config.stage, invocation.taskToken ?? ''),
    JobTag: jobTag(config.stage),
    NotificationChannel: { SNSTopicArn: env.topicArn, RoleArn: env.roleArn },
  };
  const api = config.analysis ? 'StartDocumentAnalysis' : 'StartDocumentTextDetection';
  try {
    const analysis = config.analysis;
    const out = await underQuota(deps, api, () => (analysis
      ? deps.textract.send(new StartDocumentAnalysisCommand({ ...job, ...analysisRequest(analysis, report.pages) }))
      : deps.textract.send(new StartDocumentTextDetectionCommand(job))), invocation.enteredAt);
    jobId = out.JobId;
  } catch (err) {
    throw textractError(err);
  }
  if (!jobId) throw new Error(`${api} returned no JobId`);
  const record: TextractJobRecord = {
    taskToken: invocation.taskToken!,
    runId: invocation.runId,
    document,
    startedAt: start.startedAt,
    inputSha256: start.inputSha256,
    ...(report.pages !== undefined ? { pages: report.pages } : {}),
    ...(report.activeContent.length > 0 ? { activeContent: report.activeContent } : {}),
  };
  await writeJson(deps.s3, env.workBucket, Keys.textractJob(config.stage, jobId), record);
  return jobId;
}

// -------------------------------------------------------------------------------------------------
// Completion: Textract's SNS notification
// -------------------------------------------------------------------------------------------------

async function completeJobs(deps: TextractHandlerDeps, event: SNSEvent): Promise<void> {
  let transient: unknown;
  for (const record of event.Records) {
    try {
      await completeJob(deps, record);
    } catch (err) {
      // Named failures are answered inside completeJob; what escapes (throttling, S3 or SFN outages)
      // is worth retrying: let Lambda's async retry run, after the other records.
      transient = transient ?? err;
    }
  }
  if (transient) throw transient;
}

async function completeJob(deps: TextractHandlerDeps, record: SNSEventRecord): Promise<void> {
  const { config, logger } = deps;
  let message: TextractNotification;
  try {
    message = JSON.parse(record.Sns.Message);
  } catch {
    logger.error('notification ignored: not JSON', { stage: config.stage, messageId: record.Sns.MessageId });
    return;
  }
  if (typeof message?.JobId !== 'string' || (message.JobTag !== undefined && message.JobTag !== jobTag(config.stage))) {
    logger.warn('notification ignored: not a job of this stage', { stage: config.stage, messageId: record.Sns.MessageId, jobTag: message?.JobTag });
    return;
  }
  const jobId = message.JobId;

  let job: TextractJobRecord;
  try {
    const bytes = await readObject(deps.s3, { bucket: deps.env.workBucket, key: Keys.textractJob(config.stage, jobId) });
    job = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (err: any) {
    if (err?.name === ErrorNames.SOURCE_GONE || err instanceof SyntaxError) {
      // No task to answer: the job was not started by this stage (or its record is gone).
      logger.error('notification ignored: no job record', { stage: config.stage, jobId, errorName: err?.name });
      return;
    }
    throw err;
  }
  const ids = { runId: job.runId, stage: config.stage, jobId };
  const ctx = stageContext(deps);
  // The stage began when the task started the job: its record's start and input hash come from the job record.
  const start: StageStart = { runId: job.runId, document: job.document, inputSha256: job.inputSha256, startedAt: job.startedAt };

  let output: TextractStageOutput;
  try {
    if (message.Status !== 'SUCCEEDED') {
      throw new PipelineError(ErrorNames.TEXTRACT_JOB_FAILED, `Textract job ${jobId} ended with status ${message.Status}`);
    }
    const { blocks, pages } = await getAllBlocks(deps, jobId);
    logger.info('text detected', { ...ids, mode: 'async', blocks: blocks.length, lines: lineCount(blocks), pages });
    if (pages > config.maxPages) {
      throw new PipelineError(ErrorNames.DOCUMENT_TOO_LARGE, `the document has ${pages} pages, over the stage's limit of ${config.maxPages} pages`);
    }
    const extracted = await writeText(deps, job.runId, blocks, pages, 'async', job.activeContent ?? []);
    output = await finishStage(ctx, start, { output: extracted }) as TextractStageOutput;
  } catch (err: any) {
    if (isTransient(err)) {
      logger.warn('transient error on completion, retrying', { ...ids, errorName: err?.name });
      throw err;
    }
    const errorName: string = err?.name ?? 'Error';
    await failStage(ctx, start, err);
    await answerTask(deps, ids, new SendTaskFailureCommand({
      taskToken: job.taskToken,
      error: errorName.slice(0, 256),
      cause: String(err?.message ?? errorName).slice(0, 1000),
    }));
    return;
  }
  await answerTask(deps, ids, new SendTaskSuccessCommand({ taskToken: job.taskToken, output: JSON.stringify(output) }));
}

/** All blocks of a finished job (pages of at most 1000 blocks) and the document's page count. */
async function getAllBlocks(deps: TextractHandlerDeps, jobId: string): Promise<{ blocks: Block[]; pages: number }> {
  const blocks: Block[] = [];
  let pages = 0;
  let nextToken: string | undefined;
  do {
    const request = { JobId: jobId, MaxResults: 1000, NextToken: nextToken };
    // Both answers have the same shape (JobStatus, Warnings, DocumentMetadata, Blocks, NextToken).
    const out: GetDocumentAnalysisCommandOutput = deps.config.analysis
      ? await deps.textract.send(new GetDocumentAnalysisCommand(request))
      : await deps.textract.send(new GetDocumentTextDetectionCommand(request));
    if (out.JobStatus === 'FAILED') {
      throw new PipelineError(ErrorNames.TEXTRACT_JOB_FAILED, `Textract job ${jobId} failed`);
    }
    if (out.Warnings?.length) {
      deps.logger.warn('textract job warnings', { jobId, warnings: out.Warnings.map((w) => ({ code: w.ErrorCode, pages: w.Pages?.length ?? 0 })) });
    }
    pages = Math.max(pages, out.DocumentMetadata?.Pages ?? 0);
    blocks.push(...(out.Blocks ?? []));
    nextToken = out.NextToken;
  } while (nextToken);
  return { blocks, pages: Math.max(pages, 1) };
}

/** Sends the task's answer; a task already closed (timed out, answered) is logged, not retried. */
async function answerTask(deps: TextractHandlerDeps, ids: object, command: SendTaskSuccessCommand | SendTaskFailureCommand): Promise<void> {
  try {
    await deps.sfn.send(command as any);
  } catch (err: any) {
    if (TASK_GONE.includes(err?.name)) {
      deps.logger.warn('task already closed', { ...ids, errorName: err.name });
      return;
    }
    throw err;
  }
}

// -------------------------------------------------------------------------------------------------
// Shared pieces
// -------------------------------------------------------------------------------------------------

async function writeText(
  deps: TextractHandlerDeps,
  runId: string,
  blocks: readonly Block[],
  pageCount: number,
  mode: 'sync' | 'async',
  activeContent: readonly string[] = [],
): Promise<TextractStageOutput> {
  const text = blocksToText(blocks, pageCount);
  const pointer = await writeJson(deps.s3, deps.env.workBucket, Keys.stageWork(deps.config.stage, runId, TEXT_FILE), text);
  const output = { text: pointer, pages: text.pages.length, mode, ...(activeContent.length > 0 ? { activeContent: [...activeContent] } : {}) };
  const analysis = deps.config.analysis;
  if (!analysis) return output;
  const found = analyzeBlocks(blocks, analysis.queries);
  const analysisPointer = await writeJson(deps.s3, deps.env.workBucket, Keys.stageWork(deps.config.stage, runId, ANALYSIS_FILE), found);
  deps.logger.info('document analyzed', {
    runId,
    stage: deps.config.stage,
    keyValues: found.keyValues.length,
    tables: found.tables.length,
    answered: Object.values(found.queryAnswers).filter((a) => a.text.length > 0).length,
    signatures: found.signatures.length,
  });
  const analyzed: TextractAnalysisOutput = {
    ...output,
    analysis: analysisPointer,
    keyValues: found.keyValues.slice(0, INLINE_KEY_VALUES).map((kv) => ({
      ...kv, key: kv.key.slice(0, INLINE_KEY_CHARS), value: kv.value.slice(0, INLINE_VALUE_CHARS),
    })),
    keyValueCount: found.keyValues.length,
    tableCount: found.tables.length,
    queryAnswers: Object.fromEntries(Object.entries(found.queryAnswers)
      .map(([alias, a]) => [alias, { ...a, text: a.text.slice(0, INLINE_VALUE_CHARS) }])),
    ...(analysis.features.includes('SIGNATURES') ? { signatureCount: found.signatures.length } : {}),
  };
  return analyzed;
}

/** AnalyzeDocument's and StartDocumentAnalysis's analysis parameters. */
export interface AnalysisRequest {
  readonly FeatureTypes: FeatureType[];
  readonly QueriesConfig?: { Queries: Array<{ Text: string; Alias: string; Pages?: string[] }> };
}

/**
 * FeatureTypes and QueriesConfig of an analysis for a document of `pageCount` pages (absent: unknown).
 * Queries none of whose pages the document has are not sent; when that leaves nothing to ask,
 * the layout is asked for instead (AnalyzeDocument needs one feature) and every answer stays empty.
 */
export function analysisRequest(analysis: TextractAnalysisConfig, pageCount?: number): AnalysisRequest {
  const queries = analysis.features.includes('QUERIES') ? queriesFor(analysis.queries, pageCount) : [];
  const features = analysis.features.filter((f) => f !== 'QUERIES' || queries.length > 0) as FeatureType[];
  return {
    FeatureTypes: features.length > 0 ? features : ['LAYOUT'],
    ...(queries.length > 0 ? { QueriesConfig: { Queries: queries } } : {}),
  };
}

function s3Object(document: DocumentRef) {
  return { Bucket: document.bucket, Name: document.key, ...(document.versionId ? { Version: document.versionId } : {}) };
}

/** Maps Textract's verdicts on the document to named errors; anything else passes through. */
function textractError(err: any): Error {
  const name = TEXTRACT_DOCUMENT_ERRORS[err?.name];
  return name ? new PipelineError(name, `Textract rejected the document: ${err.name}`) : err;
}

/** Throttling and transient service errors: worth another try (not named pipeline errors). */
export function isTransient(err: any): boolean {
  if (err instanceof PipelineError) return false;
  const name: string = err?.name ?? '';
  const transientNames: readonly string[] = [...TRANSIENT_ERRORS.textract, ...TRANSIENT_ERRORS.s3, 'ThrottlingException', 'Throttling', 'TooManyRequestsException', 'ServiceUnavailable', 'InternalServerError', 'TimeoutError'];
  if (transientNames.includes(name)) return true;
  if (err?.$retryable) return true;
  const status = err?.$metadata?.httpStatusCode;
  return typeof status === 'number' && (status >= 500 || status === 429);
}
