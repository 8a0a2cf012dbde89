/**
 * Core of the audit recorder: writes the record of each pipeline run. Pure: clients and settings
 * come in as arguments. Three events:
 * - `{ action: 'run' }` at the end of the happy path: the SUCCEEDED run record;
 * - `{ action: 'failure' }` from the workflow's catch-all: the FAILED run record, naming the stage
 *   that failed and where the run goes (quarantine, review or failed); the document stays put;
 * - EventBridge's "Step Functions Execution Status Change" (FAILED, TIMED_OUT, ABORTED): the
 *   backstop for failures the workflow could not catch; writes a FAILED record unless one exists.
 */
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { EventBridgeEvent } from 'aws-lambda';
import { AuditWriter } from '../../runtime/audit';
import { LogPort } from '../../runtime/logger';
import { sha256 } from '../../runtime/s3';
import {
  AuditRecord,
  ChainLink,
  failedStageOf,
  DocumentRef,
  ErrorNames,
  Keys,
  QUARANTINE_ERRORS,
  REVIEW_ERRORS,
  ReviewTaken,
  RouteTaken,
  RunState,
  S3Pointer,
  SpotCheck,
} from '../../shared';

export interface RecorderDeps {
  readonly s3: S3Client;
  readonly events: EventBridgeClient;
  /** PIPELINE_NAME */
  readonly pipeline: string;
  /** AUDIT_BUCKET */
  readonly auditBucket: string;
  /** AUDIT_BUS */
  readonly auditBus: string;
  /** STAGE_ORDER: the pipeline's stage ids, in order. */
  readonly stageOrder: readonly string[];
  /**
   * CHAIN_ORDER: the names whose per-run records the run record chains, in order (the stages and
   * the chunked steps, whose split and reduce keep a record of their own).
   * @default - stageOrder
   */
  readonly chainOrder?: readonly string[];
  /** REVIEW_STEPS: the pipeline's human reviews (their decisions are at `results.<review>`). */
  readonly reviewSteps?: readonly string[];
  readonly logger: LogPort;
  /** Clock, injectable for tests. */
  readonly now?: () => Date;
}

/** Sent by the workflow at the end of the happy path. */
export interface RunRecordRequest {
  readonly action: 'run';
  readonly state: RunState;
  readonly runId: string;
  /** The execution's start time (ISO 8601). */
  readonly startedAt: string;
}

/** Sent by the workflow's catch-all; `state.error` holds the caught `{ Error, Cause }`. */
export interface FailureRecordRequest {
  readonly action: 'failure';
  readonly state: RunState;
  readonly runId: string;
  readonly startedAt: string;
}

/** The detail of EventBridge's "Step Functions Execution Status Change" event. */
export interface ExecutionStatusDetail {
  readonly executionArn?: string;
  readonly stateMachineArn?: string;
  /** The execution's name: the run id. */
  readonly name: string;
  readonly status: string;
  /** Epoch milliseconds. */
  readonly startDate?: number;
  readonly stopDate?: number | null;
  /** The execution's input, as a JSON string. */
  readonly input?: string | null;
  /** The error a FAILED execution ended with. */
  readonly error?: string | null;
  /** Its cause: for `Audit.RecorderUnavailable`, the delivered route as JSON. */
  readonly cause?: string | null;
}

export type ExecutionStatusEvent = EventBridgeEvent<'Step Functions Execution Status Change', ExecutionStatusDetail>;

export type RecorderEvent = RunRecordRequest | FailureRecordRequest | ExecutionStatusEvent;

/** What the recorder returns to the workflow after a failure: the error to fail with and the route. */
export interface FailureRecorded {
  readonly error: string;
  readonly cause: string;
  readonly record: S3Pointer;
  readonly route: RouteTaken;
}

export const EXECUTION_STATUS_CHANGE = 'Step Functions Execution Status Change';
/** Execution statuses the backstop records. */
export const BACKSTOP_STATUSES: readonly string[] = ['FAILED', 'TIMED_OUT', 'ABORTED'];

/** Where a failed run goes, by the error it failed with. */
export function failureDestination(errorName: string): 'quarantine' | 'review' | 'failed' {
  if (QUARANTINE_ERRORS.includes(errorName)) return 'quarantine';
  if (REVIEW_ERRORS.includes(errorName)) return 'review';
  return 'failed';
}

/** Parses STAGE_ORDER (`A,B,C`). */
export function parseStageOrder(value: string | undefined): string[] {
  return (value ?? '').split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}

/** What the backstop returns: the record it wrote, or why it wrote none. */
export interface BackstopResult {
  readonly record?: S3Pointer;
  /** The delivered route the record names, when the execution's cause carried one (`Audit.RecorderUnavailable`). */
  readonly route?: RouteTaken;
  readonly skipped?: 'status' | 'exists';
}

/** Dispatches on the event's shape. */
export async function recordRun(deps: RecorderDeps, event: RecorderEvent): Promise<{ record: S3Pointer } | FailureRecorded | BackstopResult> {
  if ((event as any)?.action === 'run') return recordSuccess(deps, event as RunRecordRequest);
  if ((event as any)?.action === 'failure') return recordFailure(deps, event as FailureRecordRequest);
  if ((event as any)?.['detail-type'] === EXECUTION_STATUS_CHANGE) return recordBackstop(deps, event as ExecutionStatusEvent);
  throw new Error('the audit recorder got an event it does not know (expected action run or failure, or an execution status change)');
}

/** The SUCCEEDED run record, with the sha256 of each stage's result. */
export async function recordSuccess(deps: RecorderDeps, request: RunRecordRequest): Promise<{ record: S3Pointer }> {
  const existing = await existingRunRecord(deps, request.runId);
  if (existing) return { record: existing.pointer };
  const results = request.state.results ?? {};
  const stages = deps.stageOrder
    .filter((id) => Object.prototype.hasOwnProperty.call(results, id))
    .map((name) => ({ name, outputSha256: sha256(JSON.stringify(results[name])) }));
  const record: AuditRecord = {
    ...base(deps, request.runId, request.state.document, request.startedAt),
    outcome: 'SUCCEEDED',
    ...(request.state.route ? { route: routeOf(request.state.route) } : {}),
    ...spotCheckOf(request.state.spotCheck),
    stages,
    ...reviewsOf(deps, results),
  };
  const pointer = await writer(deps).run(await sealed(deps, record));
  deps.logger.info('run recorded', { runId: request.runId, outcome: 'SUCCEEDED', stages: stages.length, route: request.state.route?.rule, spotCheck: record.spotCheck?.sampled });
  return { record: pointer };
}

/** The FAILED run record of a caught failure; the document is neither moved nor deleted. */
export async function recordFailure(deps: RecorderDeps, request: FailureRecordRequest): Promise<FailureRecorded> {
  const results = request.state.results ?? {};
  const errorName = request.state.error?.Error || 'States.Unknown';
  const existing = await existingRunRecord(deps, request.runId);
  if (existing) {
    // The run is already recorded (its record task failed after writing, e.g. on the event): that
    // record stands; the workflow still fails with the error, and the route is the recorded one.
    const recorded = existing.record;
    return {
      error: errorName,
      cause: `run ${request.runId} failed with ${errorName} after it was already recorded as ${recorded.outcome}; audit record s3://${existing.pointer.bucket}/${existing.pointer.key}`,
      record: existing.pointer,
      route: recorded.route ?? { rule: 'failure', destination: failureDestination(errorName) },
    };
  }
  // The catch names the stage that failed; without it (an error outside a stage), no stage is named.
  const stage = failedStageOf(request.state, deps.stageOrder);
  const route: RouteTaken = { rule: 'failure', destination: failureDestination(errorName) };
  const stages = deps.stageOrder
    .filter((id) => Object.prototype.hasOwnProperty.call(results, id))
    .map((name) => ({ name, outputSha256: sha256(JSON.stringify(results[name])) }));
  const record: AuditRecord = {
    ...base(deps, request.runId, request.state.document, request.startedAt),
    ...(stage ? { stage } : {}),
    outcome: 'FAILED',
    errorName,
    route,
    ...spotCheckOf(request.state.spotCheck),
    stages,
    ...reviewsOf(deps, results),
  };
  const pointer = await writer(deps).run(await sealed(deps, record));
  deps.logger.info('run recorded', { runId: request.runId, outcome: 'FAILED', stage, errorName, destination: route.destination });
  // The caught Cause may carry arbitrary text (even document text): it is never repeated here.
  const where = stage ? `at stage ${stage}` : 'outside its stages';
  return {
    error: errorName,
    cause: `run ${request.runId} failed ${where} with ${errorName}; audit record s3://${pointer.bucket}/${pointer.key}`,
    record: pointer,
    route,
  };
}

/** The backstop: a FAILED run record for an execution that ended without writing one. */
export async function recordBackstop(deps: RecorderDeps, event: ExecutionStatusEvent): Promise<BackstopResult> {
  const detail = event.detail;
  return writeBackstopRecord(deps, {
    runId: detail?.name,
    status: detail?.status,
    stopDate: detail?.stopDate,
    error: detail?.error,
    cause: detail?.cause,
    started: async () => ({ document: documentFromInput(detail?.input), startDate: detail?.startDate }),
    missingDocument: 'execution input names no document',
  });
}

/** An ended execution as both backstops (EventBridge for Standard, the log subscription for Express) see it. */
export interface EndedExecution {
  readonly runId: string | undefined;
  /** FAILED, TIMED_OUT or ABORTED; anything else is ignored. */
  readonly status: string | undefined;
  /** Epoch milliseconds, when known. */
  readonly stopDate?: number | null;
  readonly error?: string | null;
  readonly cause?: string | null;
  /** The run's document and start (epoch milliseconds), when known; read only when a record is to be written. */
  readonly started: () => Promise<{ document?: DocumentRef; startDate?: number | null }>;
  /** What the error log says when there is no document (the run is recorded without one). */
  readonly missingDocument: string;
}

/** Writes the backstop's run record unless the run already has one (at most one run record per run). */
export async function writeBackstopRecord(deps: RecorderDeps, execution: EndedExecution): Promise<BackstopResult> {
  const runId = execution.runId;
  const status = execution.status ?? '';
  if (!runId || !BACKSTOP_STATUSES.includes(status)) {
    deps.logger.warn('status change ignored', { runId, status });
    return { skipped: 'status' };
  }
  if (await runRecordExists(deps, runId)) {
    deps.logger.info('run already recorded', { runId, status });
    return { skipped: 'exists' };
  }
  const { document, startDate } = await execution.started();
  if (!document) deps.logger.error(execution.missingDocument, { runId });
  const now = deps.now ?? (() => new Date());
  const startedAt = typeof startDate === 'number' ? new Date(startDate).toISOString() : now().toISOString();
  const endedAt = typeof execution.stopDate === 'number' ? new Date(execution.stopDate).toISOString() : undefined;
  // The route was delivered before the recorder went down: the record tells that truth (the
  // document reached its destination) and names the gap (no run record at the time, no stage hashes).
  const delivered = status === 'FAILED' && execution.error === ErrorNames.AUDIT_RECORDER_UNAVAILABLE ? routeFromCause(execution.cause) : undefined;
  const errorName = delivered ? ErrorNames.AUDIT_RECORDER_UNAVAILABLE : `Execution.${status}`;
  const route: RouteTaken = delivered ?? { rule: 'backstop', destination: 'quarantine' };
  const outcome = delivered ? 'SUCCEEDED' : 'FAILED';
  const record: AuditRecord = {
    ...base(deps, runId, document ?? { bucket: '', key: '' }, startedAt),
    ...(endedAt ? { endedAt } : {}),
    outcome,
    errorName,
    route,
  };
  const pointer = await writer(deps).run(await sealed(deps, record));
  deps.logger.info('run recorded by backstop', { runId, outcome, errorName, destination: route.destination });
  return { record: pointer, ...(delivered ? { route } : {}) };
}

/** The delivered route a `RecordingFailedAfterDelivery` cause carries (`{ rule, destination, messageId? }` as JSON). */
function routeFromCause(cause: string | null | undefined): RouteTaken | undefined {
  try {
    const r = JSON.parse(cause ?? '');
    if (r && typeof r.rule === 'string' && typeof r.destination === 'string') return routeOf(r);
  } catch {
    // not a route: recorded as a failed execution
  }
  return undefined;
}

/**
 * The route as the record schema has it: rule, destination and, for an SNS or SQS delivery, the
 * message id (the destination states also put `failedEntryCount` and the like into `$.route`).
 */
function routeOf(route: RouteTaken): RouteTaken {
  const messageId = (route as { messageId?: unknown }).messageId;
  return { rule: route.rule, destination: route.destination, ...(typeof messageId === 'string' ? { messageId } : {}) };
}

/** The run's spot-check draw as recorded (`sampled` false unless the run was drawn); nothing without a draw. */
function spotCheckOf(spot: SpotCheck | undefined): { spotCheck?: SpotCheck } {
  if (!spot || typeof spot.percent !== 'number' || typeof spot.draw !== 'number') return {};
  return { spotCheck: { percent: spot.percent, draw: spot.draw, sampled: spot.sampled === true, ...(typeof spot.rule === 'string' ? { rule: spot.rule } : {}) } };
}

/**
 * The human reviews the run reached: who decided what and when (with the decision record), or that
 * the deadline passed. Only the review's own fields are kept; free text (the comment) stays in the
 * decision record.
 */
function reviewsOf(deps: RecorderDeps, results: { [key: string]: any }): { reviews?: ReviewTaken[] } {
  const reviews: ReviewTaken[] = [];
  for (const name of deps.reviewSteps ?? []) {
    const r = results[name];
    if (!r || typeof r !== 'object' || typeof r.decision !== 'string') continue;
    const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
    const record = r.record && typeof r.record.bucket === 'string' && typeof r.record.key === 'string'
      ? { bucket: r.record.bucket, key: r.record.key } : undefined;
    reviews.push({
      name,
      decision: r.decision,
      ...(str(r.reviewer) ? { reviewer: r.reviewer } : {}),
      ...(str(r.decidedAt) ? { decidedAt: r.decidedAt } : {}),
      ...(str(r.taskTokenSha256) ? { taskTokenSha256: r.taskTokenSha256 } : {}),
      ...(record ? { record } : {}),
    });
  }
  return reviews.length > 0 ? { reviews } : {};
}

/**
 * The run's record when one is already written, announced again (its event may be what failed):
 * the run record and the catch-all's record are written at most once per run, however often their
 * task is retried or follows a half-failed record task. The event is at least once; the record, once.
 */
async function existingRunRecord(deps: RecorderDeps, runId: string): Promise<{ pointer: S3Pointer; record: AuditRecord } | undefined> {
  const key = Keys.runAudit(runId);
  let out;
  try {
    out = await deps.s3.send(new GetObjectCommand({ Bucket: deps.auditBucket, Key: key }));
  } catch (err: any) {
    if (err?.name === 'NoSuchKey' || err?.name === 'NotFound' || err?.$metadata?.httpStatusCode === 404) return undefined;
    throw err;
  }
  const text = out.Body ? await out.Body.transformToString() : '';
  const record = JSON.parse(text) as AuditRecord;
  const pointer: S3Pointer = { bucket: deps.auditBucket, key, ...(out.VersionId ? { versionId: out.VersionId } : {}), sha256: sha256(text) };
  deps.logger.warn('run already recorded: announcing the existing record, writing none', { runId, outcome: record.outcome });
  await writer(deps).announceRun(pointer, record);
  return { pointer, record };
}

async function runRecordExists(deps: RecorderDeps, runId: string): Promise<boolean> {
  try {
    await deps.s3.send(new HeadObjectCommand({ Bucket: deps.auditBucket, Key: Keys.runAudit(runId) }));
    return true;
  } catch (err: any) {
    if (err?.name === 'NotFound' || err?.name === 'NoSuchKey' || err?.$metadata?.httpStatusCode === 404) return false;
    throw err;
  }
}

/** The document pointer from an execution's input (`{ "document": {...} }`), if it has one. */
function documentFromInput(input: string | null | undefined): DocumentRef | undefined {
  if (!input) return undefined;
  try {
    const doc = JSON.parse(input)?.document;
    if (doc && typeof doc.bucket === 'string' && typeof doc.key === 'string') {
      const { bucket, key, versionId, size, etag } = doc;
      return {
        bucket,
        key,
        ...(typeof versionId === 'string' ? { versionId } : {}),
        ...(typeof size === 'number' ? { size } : {}),
        ...(typeof etag === 'string' ? { etag } : {}),
      };
    }
  } catch {
    // fall through: no document
  }
  return undefined;
}

function base(deps: RecorderDeps, runId: string, document: DocumentRef, startedAt: string) {
  const now = deps.now ?? (() => new Date());
  return {
    schemaVersion: '1' as const,
    kind: 'run' as const,
    runId,
    pipeline: deps.pipeline,
    document,
    startedAt,
    endedAt: now().toISOString(),
  };
}

/**
 * The run's audit chain (ADR-0017): each stage record of the run that exists, in the pipeline's stage
 * order, with the sha256 of its exact bytes and of the record before it. Stages that did not run
 * (a conditional stage, the stages after a failure) have no record and no link.
 */
export async function chainOf(deps: RecorderDeps, runId: string): Promise<ChainLink[]> {
  const links: ChainLink[] = [];
  const order = deps.chainOrder && deps.chainOrder.length > 0 ? deps.chainOrder : deps.stageOrder;
  const link = (stage: string, key: string, bytes: Uint8Array) => {
    const previous = links.length > 0 ? links[links.length - 1].sha256 : undefined;
    links.push({ stage, key, sha256: sha256(bytes), ...(previous ? { previous } : {}) });
  };
  for (const name of order) {
    if (name.endsWith('*')) {
      // A stage run per chunk: one record per chunk, in chunk order.
      const stage = name.slice(0, -1);
      for (const key of await chunkRecordKeys(deps, stage, runId)) {
        const bytes = await readIfExists(deps, key);
        if (bytes !== undefined) link(stage, key, bytes);
      }
      continue;
    }
    const key = Keys.stageAudit(name, runId);
    const bytes = await readIfExists(deps, key);
    if (bytes !== undefined) link(name, key, bytes);
  }
  return links;
}

/** The per-chunk records of a stage in one run (`stages/<stage>/<runId>/chunks/<index>.json`), in key order. */
async function chunkRecordKeys(deps: RecorderDeps, stage: string, runId: string): Promise<string[]> {
  const prefix = Keys.stageChunkPrefix(stage, runId);
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await deps.s3.send(new ListObjectsV2Command({ Bucket: deps.auditBucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) if (o.Key && CHUNK_RECORD.test(o.Key.slice(prefix.length))) keys.push(o.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys.sort();
}

const CHUNK_RECORD = /^\d{5}\.json$/;

/** The sha256 a run record carries of itself: of its JSON without `recordSha256`, keys in written order. */
export function runRecordSha256(record: AuditRecord): string {
  const { recordSha256: _self, ...rest } = record;
  return sha256(JSON.stringify(rest));
}

/** The run record with its chain, the link to the chain's last record, and its own sha256. */
async function sealed(deps: RecorderDeps, record: AuditRecord): Promise<AuditRecord> {
  const chain = await chainOf(deps, record.runId);
  const linked: AuditRecord = {
    ...record,
    chain,
    ...(chain.length > 0 ? { previous: chain[chain.length - 1].sha256 } : {}),
  };
  return { ...linked, recordSha256: runRecordSha256(linked) };
}

async function readIfExists(deps: RecorderDeps, key: string): Promise<Uint8Array | undefined> {
  try {
    const out = await deps.s3.send(new GetObjectCommand({ Bucket: deps.auditBucket, Key: key }));
    return out.Body ? await out.Body.transformToByteArray() : new Uint8Array();
  } catch (err: any) {
    if (err?.name === 'NoSuchKey' || err?.name === 'NotFound' || err?.$metadata?.httpStatusCode === 404) return undefined;
    throw err;
  }
}

function writer(deps: RecorderDeps): AuditWriter {
  return new AuditWriter(deps.s3, deps.events, { bucket: deps.auditBucket, busName: deps.auditBus });
}
