/**
 * Core of the Transcribe stage handler. Pure: it receives its clients and configuration, so it runs
 * the same in Lambda, in unit tests and in the local runner.
 *
 * One Lambda serves two events (no Lambda waits on a job, see ADR-0003 and ADR-0022):
 * - a `StageInvocation` from the stage's `lambda:invoke.waitForTaskToken` task: validates the input,
 *   checks the recording (size, container by magic bytes), starts a transcription job whose result
 *   Transcribe writes, KMS-encrypted, under the stage's prefix of the working bucket, keeps the task
 *   token in a job record and returns;
 * - the EventBridge event Transcribe sends when the job ends: reads the result, writes the transcript
 *   as the stage's `text` pointer (sha256 inside), writes the stage's audit record and answers the
 *   task (success, or failure with a named error).
 */
import { createHash } from 'crypto';
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import {
  GetTranscriptionJobCommand,
  LanguageCode,
  StartTranscriptionJobCommand,
  TranscribeClient,
} from '@aws-sdk/client-transcribe';
import { checkMedia, MEDIA_MAGIC_BYTES, transcriptText } from './media';
import { headObject, readObject, readPointer, sha256, writeJson } from '../../../runtime/s3';
import { beginStage, checkInput, failStage, finishStage, StageContext, StageStart } from '../../../runtime/stage-runner';
import {
  DocumentRef,
  ErrorNames,
  Keys,
  PipelineError,
  S3Pointer,
  StageInvocation,
  TranscribeStageConfig,
  TRANSIENT_ERRORS,
} from '../../../shared';

/** What the Transcribe stage core needs. */
export interface TranscribeStageDeps {
  readonly ctx: StageContext;
  readonly transcribe: TranscribeClient;
  readonly sfn: SFNClient;
  readonly config: TranscribeStageConfig;
  /** ARN of the KMS key Transcribe encrypts its result with (the working bucket's key); absent: the bucket's default. */
  readonly outputKey?: string;
}

/** The event Transcribe puts on the default bus when a job ends (`Transcribe Job State Change`). */
export interface TranscribeJobEvent {
  readonly 'source': string;
  readonly 'detail-type': string;
  readonly 'detail': {
    readonly TranscriptionJobName: string;
    readonly TranscriptionJobStatus: string;
    readonly FailureReason?: string;
  };
}

/** The stage's output: the transcript as a text pointer, Transcribe's own result file, the language and container. */
export interface TranscribeStageOutput {
  readonly text: S3Pointer;
  readonly transcript: S3Pointer;
  readonly languageCode: string;
  readonly mediaFormat: string;
  readonly [key: string]: unknown;
}

/** Written to the working bucket at `Keys.stageJob(stage, jobName)` when a job starts; read when it ends. */
export interface TranscribeJobRecord {
  readonly taskToken: string;
  readonly runId: string;
  readonly document: DocumentRef;
  readonly startedAt: string;
  readonly inputSha256: string;
  readonly mediaFormat: string;
  /** Where Transcribe writes its result file. */
  readonly resultKey: string;
}

/** Source and detail-type of Transcribe's job events. */
export const TRANSCRIBE_EVENT = { source: 'aws.transcribe', detailType: 'Transcribe Job State Change' } as const;

const RESULT_FILE = 'transcribe.json';
const TEXT_FILE = 'text.json';
/** SFN errors meaning the task is already closed: nothing left to tell it. */
const TASK_GONE = ['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken'];

/** The handler's single entry point: a job event from EventBridge, or a stage invocation. */
export async function handleTranscribeEvent(
  deps: TranscribeStageDeps,
  event: StageInvocation | TranscribeJobEvent,
): Promise<{ status: 'STARTED'; jobName: string } | void> {
  if (isJobEvent(event)) return completeJob(deps, event);
  return startJob(deps, event);
}

/** True when the event is Transcribe's job state change. */
export function isJobEvent(event: unknown): event is TranscribeJobEvent {
  const e = event as any;
  return e?.source === TRANSCRIBE_EVENT.source && typeof e?.detail?.TranscriptionJobName === 'string';
}

/**
 * The job's name: the stage's prefix and a hash of run, stage and task token. A retried Step
 * Functions attempt (a new token) starts a new job; a Lambda retry of the same attempt finds its job.
 */
export function jobName(prefix: string, runId: string, stage: string, taskToken: string): string {
  return `${prefix}${createHash('sha256').update(`${runId}/${stage}/${taskToken}`).digest('hex').slice(0, 48)}`;
}

// -------------------------------------------------------------------------------------------------
// Invocation: checks, then the job
// -------------------------------------------------------------------------------------------------

async function startJob(deps: TranscribeStageDeps, invocation: StageInvocation): Promise<{ status: 'STARTED'; jobName: string }> {
  const { ctx, config } = deps;
  const { start, view } = beginStage(ctx, invocation);
  const ids = { runId: invocation.runId, stage: ctx.stage };
  try {
    checkInput(ctx, view);
    if (!invocation.taskToken) {
      throw new PipelineError(ErrorNames.CONTRACT_INPUT_VIOLATION,
        `stage ${ctx.stage} needs a task token (lambda:invoke.waitForTaskToken): a transcription job answers asynchronously`);
    }
    const document = view.document;
    const head = await headObject(ctx.s3, document);
    const first = head.size > 0 ? await readObject(ctx.s3, document, `bytes=0-${MEDIA_MAGIC_BYTES - 1}`) : new Uint8Array();
    const mediaFormat = checkMedia(head.size, first, config.maxMediaBytes);
    const name = jobName(config.jobPrefix, invocation.runId, ctx.stage, invocation.taskToken);
    const resultKey = Keys.stageWork(ctx.stage, invocation.runId, RESULT_FILE);
    // The record first: the job's event may arrive before this invocation returns.
    const record: TranscribeJobRecord = {
      taskToken: invocation.taskToken,
      runId: invocation.runId,
      document,
      startedAt: start.startedAt,
      inputSha256: start.inputSha256,
      mediaFormat,
      resultKey,
    };
    await writeJson(ctx.s3, ctx.workBucket, Keys.stageJob(ctx.stage, name), record);
    try {
      await deps.transcribe.send(new StartTranscriptionJobCommand({
        TranscriptionJobName: name,
        LanguageCode: config.languageCode as LanguageCode,
        MediaFormat: mediaFormat,
        // Transcribe reads the latest version of the key (MediaFileUri takes no version id).
        Media: { MediaFileUri: `s3://${document.bucket}/${document.key}` },
        OutputBucketName: ctx.workBucket,
        OutputKey: resultKey,
        ...(deps.outputKey ? { OutputEncryptionKMSKeyId: deps.outputKey } : {}),
      }));
    } catch (err: any) {
      // The same attempt delivered twice (a Lambda retry): its job runs already.
      if (err?.name !== 'ConflictException') throw mediaError(err);
      ctx.logger.warn('transcription job already started', { ...ids, jobName: name });
    }
    ctx.logger.info('transcription job started', { ...ids, jobName: name, mediaFormat, size: head.size });
    return { status: 'STARTED', jobName: name };
  } catch (err: any) {
    if (isTransient(err)) throw err;
    await failStage(ctx, start, err, { input: view });
    throw err;
  }
}

// -------------------------------------------------------------------------------------------------
// Completion: Transcribe's job event
// -------------------------------------------------------------------------------------------------

async function completeJob(deps: TranscribeStageDeps, event: TranscribeJobEvent): Promise<void> {
  const { ctx, config } = deps;
  const name = event.detail.TranscriptionJobName;
  if (!name.startsWith(config.jobPrefix)) {
    ctx.logger.warn('job event ignored: not a job of this stage', { stage: ctx.stage, jobName: name });
    return;
  }
  let job: TranscribeJobRecord;
  try {
    job = JSON.parse(Buffer.from(await readObject(ctx.s3, { bucket: ctx.workBucket, key: Keys.stageJob(ctx.stage, name) })).toString('utf8'));
  } catch (err: any) {
    if (err?.name === ErrorNames.SOURCE_GONE || err instanceof SyntaxError) {
      ctx.logger.error('job event ignored: no job record', { stage: ctx.stage, jobName: name, errorName: err?.name });
      return;
    }
    throw err;
  }
  const ids = { runId: job.runId, stage: ctx.stage, jobName: name };
  // The stage began when the task started the job: its record's start and input hash come from the job record.
  const start: StageStart = { runId: job.runId, document: job.document, inputSha256: job.inputSha256, startedAt: job.startedAt };
  let output: TranscribeStageOutput;
  try {
    // The event says how the job ended; the job itself is the authority (an event may be replayed).
    const got = await deps.transcribe.send(new GetTranscriptionJobCommand({ TranscriptionJobName: name }));
    const status = got.TranscriptionJob?.TranscriptionJobStatus ?? event.detail.TranscriptionJobStatus;
    if (status === 'IN_PROGRESS' || status === 'QUEUED') {
      ctx.logger.warn('job event ignored: the job is still running', { ...ids, status });
      return;
    }
    if (status !== 'COMPLETED') {
      const reason = got.TranscriptionJob?.FailureReason ?? event.detail.FailureReason ?? 'no reason given';
      throw new PipelineError(ErrorNames.TRANSCRIBE_JOB_FAILED, `transcription job ${name} ended ${status}: ${reason.slice(0, 300)}`);
    }
    const resultBytes = await readObject(ctx.s3, { bucket: ctx.workBucket, key: job.resultKey });
    const transcript: S3Pointer = { bucket: ctx.workBucket, key: job.resultKey, sha256: sha256(resultBytes) };
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(resultBytes).toString('utf8'));
    } catch {
      throw new PipelineError(ErrorNames.CONTRACT_OUTPUT_VIOLATION, `the result of transcription job ${name} is not JSON`);
    }
    const text = transcriptText(parsed);
    if (text.length === 0) throw new PipelineError(ErrorNames.DOCUMENT_NO_TEXT, 'Transcribe heard no speech in the recording');
    const pointer = await writeJson(ctx.s3, ctx.workBucket, Keys.stageWork(ctx.stage, job.runId, TEXT_FILE), { pages: [{ page: 1, text }] });
    const transcribed: TranscribeStageOutput = {
      text: pointer,
      transcript,
      languageCode: got.TranscriptionJob?.LanguageCode ?? config.languageCode,
      mediaFormat: job.mediaFormat,
    };
    output = await finishStage(ctx, start, { output: transcribed }) as TranscribeStageOutput;
  } catch (err: any) {
    if (isTransient(err)) {
      ctx.logger.warn('transient error on completion, retrying', { ...ids, errorName: err?.name });
      throw err;
    }
    const errorName: string = err?.name ?? 'Error';
    await failStage(ctx, start, err);
    await answerTask(deps, ids, new SendTaskFailureCommand({
      taskToken: job.taskToken, error: errorName.slice(0, 256), cause: String(err?.message ?? errorName).slice(0, 1000),
    }));
    return;
  }
  await answerTask(deps, ids, new SendTaskSuccessCommand({ taskToken: job.taskToken, output: JSON.stringify(output) }));
}

/**
 * Reads a transcript the stage wrote, checked against the sha256 its pointer carries
 * (`Text.IntegrityViolation` when it changed): for tools and tests; later stages read it through
 * the `text` alias, which checks the same way.
 */
export async function readTranscript(s3: StageContext['s3'], pointer: S3Pointer): Promise<string> {
  const parsed = JSON.parse(Buffer.from(await readPointer(s3, pointer)).toString('utf8'));
  return (parsed.pages ?? []).map((p: { text: string }) => p.text).join('\n\n');
}

async function answerTask(deps: TranscribeStageDeps, ids: object, command: SendTaskSuccessCommand | SendTaskFailureCommand): Promise<void> {
  try {
    await deps.sfn.send(command as any);
  } catch (err: any) {
    if (TASK_GONE.includes(err?.name)) {
      deps.ctx.logger.warn('task already closed', { ...ids, errorName: err.name });
      return;
    }
    throw err;
  }
}

/** Transcribe's verdict that it cannot read the media, as a named error; anything else passes through. */
function mediaError(err: any): Error {
  if (err?.name === 'BadRequestException' && /media|format|sample rate|duration|file/i.test(String(err?.message ?? ''))) {
    return new PipelineError(ErrorNames.DOCUMENT_UNSUPPORTED_TYPE, 'Amazon Transcribe cannot read the recording (BadRequestException)');
  }
  return err;
}

/** Throttling and transient service errors: worth another try (never named pipeline errors). */
export function isTransient(err: any): boolean {
  if (err instanceof PipelineError) return false;
  const names: readonly string[] = [...TRANSIENT_ERRORS.transcribe, ...TRANSIENT_ERRORS.s3, 'TooManyRequestsException', 'ServiceUnavailable', 'TimeoutError'];
  if (names.includes(err?.name ?? '')) return true;
  if (err?.$retryable) return true;
  const status = err?.$metadata?.httpStatusCode;
  return typeof status === 'number' && (status >= 500 || status === 429);
}
