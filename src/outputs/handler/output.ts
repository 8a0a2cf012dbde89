/**
 * Core of the pipeline's output steps: builds the run's result document (see
 * `result-document.schema.json`) from the run state, and writes it to S3 under a results prefix or
 * indexes it in OpenSearch (named fields, optionally an embedding of the document's text).
 * Pure: clients, the index and the embedder come in as arguments.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { LogPort } from '../../runtime/logger';
import { dereference, writeJson } from '../../runtime/s3';
import { DocumentRef, Keys, S3Pointer } from '../../shared';
import { OutputConfig, OutputEnv } from '../../shared/outputs-config';

/** Version of the result document's schema; bumped on an incompatible change. */
export const RESULT_DOCUMENT_VERSION = '1';

export { OutputEnv };
export type { OutputConfig };

/** A queue the SQS output sends to (SQS in Lambda, a file in the local runner). */
export interface QueuePort {
  /** Sends one message; FIFO queues get a group and a deduplication id. */
  send(body: string, fifo?: { readonly groupId: string; readonly deduplicationId: string }): Promise<{ messageId: string }>;
}

/** The message the SQS output sends when it names a `field`. */
export interface FieldMessage {
  readonly schemaVersion: string;
  readonly pipeline: string;
  readonly runId: string;
  readonly document: DocumentRef;
  readonly route: { rule: string; destination: string } | null;
  /** The dotted path under results the value comes from. */
  readonly field: string;
  readonly value: unknown;
  /** The review that approved the run: its decision, reviewer and time; `corrected` when the value is the reviewer's. */
  readonly approval?: {
    readonly review: string;
    readonly decision: string;
    readonly reviewer?: string;
    readonly decidedAt?: string;
    readonly corrected: boolean;
  };
}

/** What the output task receives: the run state and the execution's name and start. */
export interface OutputInvocation {
  readonly state: {
    document: DocumentRef;
    results?: { [stage: string]: any };
    route?: { rule: string; destination: string };
    outputs?: { [id: string]: unknown };
  };
  readonly runId: string;
  readonly startedAt: string;
}

/** The run's result document (the published schema). */
export interface ResultDocument {
  readonly schemaVersion: string;
  readonly pipeline: string;
  readonly runId: string;
  readonly startedAt: string;
  readonly document: DocumentRef;
  readonly results: { [stage: string]: any };
  readonly route: { rule: string; destination: string } | null;
  readonly audit: { readonly run: S3Pointer; readonly stages: { [stage: string]: S3Pointer } };
}

/** A search index the output writes to (OpenSearch over SigV4 in Lambda, files in the local runner). */
export interface IndexPort {
  /** Creates the index with its settings and mappings, when it does not exist yet. */
  ensureIndex(index: string, body: object): Promise<void>;
  /** Indexes a document; under `id` when given (replacing an earlier one), else under a new id. */
  put(index: string, id: string | undefined, doc: object): Promise<{ id: string }>;
}

export interface OutputDeps {
  readonly s3: S3Client;
  readonly config: OutputConfig;
  readonly resultsBucket?: string;
  readonly auditBucket: string;
  readonly index?: IndexPort;
  /** Embeds a text with the configured model. */
  readonly embed?: (text: string) => Promise<number[]>;
  /** The SQS output's queue. */
  readonly queue?: QueuePort;
  readonly logger: LogPort;
}

/** What an output step adds to the run state at `$.outputs.<id>`. */
export interface OutputResult {
  readonly bucket?: string;
  readonly key?: string;
  readonly versionId?: string;
  readonly sha256?: string;
  readonly index?: string;
  readonly id?: string;
  /** SQS: whether a message was sent, its id, or why none was (`not-approved`, `field-absent`). */
  readonly sent?: boolean;
  readonly messageId?: string;
  readonly reason?: string;
}

export function resultDocument(config: OutputConfig, auditBucket: string, input: OutputInvocation): ResultDocument {
  return {
    schemaVersion: RESULT_DOCUMENT_VERSION,
    pipeline: config.pipeline,
    runId: input.runId,
    startedAt: input.startedAt,
    document: input.state.document,
    results: input.state.results ?? {},
    route: input.state.route ? { rule: input.state.route.rule, destination: input.state.route.destination } : null,
    audit: {
      run: { bucket: auditBucket, key: Keys.runAudit(input.runId) },
      stages: Object.fromEntries(config.stages
        .filter((s) => input.state.results?.[s] !== undefined)
        .map((s) => [s, { bucket: auditBucket, key: Keys.stageAudit(s, input.runId) }])),
    },
  };
}

/** The key of a run's result document. */
export function resultKey(prefix: string, pipeline: string, runId: string): string {
  return `${prefix}${pipeline}/${runId}.json`;
}

/** Reads a dotted path under an object. */
function valueAt(root: any, dotted: string): unknown {
  let node = root;
  for (const part of dotted.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = node[part];
  }
  return node;
}

/** Sets a dotted path in a nested object. */
function setAt(root: { [k: string]: any }, dotted: string, value: unknown): void {
  const parts = dotted.split('.');
  let node = root;
  for (const part of parts.slice(0, -1)) node = node[part] = node[part] ?? {};
  node[parts[parts.length - 1]] = value;
}

/** The document the index holds for a run: ids, route, the named fields (nested as in results), the embedding. */
export async function indexDocument(deps: OutputDeps, result: ResultDocument): Promise<{ [field: string]: unknown }> {
  const doc: { [field: string]: any } = {
    runId: result.runId,
    pipeline: result.pipeline,
    startedAt: result.startedAt,
    document: { bucket: result.document.bucket, key: result.document.key },
    route: result.route ?? undefined,
    results: {},
  };
  for (const field of deps.config.fields ?? []) {
    const value = valueAt(result.results, field);
    if (value !== undefined) setAt(doc.results, field, value);
  }
  const embedding = deps.config.embedding;
  if (embedding) {
    if (!deps.embed) throw new Error('the output embeds text but has no embedding model');
    const pointer = valueAt(result.results, `${embedding.textFrom}.text`);
    const text = await dereference(deps.s3, pointer);
    if (typeof text === 'string' && text.trim().length > 0) {
      const vector = await deps.embed(text.slice(0, embedding.maxChars));
      if (vector.length !== embedding.dimension) {
        throw new Error(`the embedding model answered ${vector.length} dimensions; the index expects ${embedding.dimension}`);
      }
      doc.embedding = vector;
    }
  }
  return doc;
}

/** Runs one output step. */
export async function runOutput(deps: OutputDeps, input: OutputInvocation): Promise<OutputResult> {
  const config = deps.config;
  const result = resultDocument(config, deps.auditBucket, input);
  if (config.kind === 's3') {
    if (!deps.resultsBucket) throw new Error(`environment variable ${OutputEnv.RESULTS_BUCKET} is not set`);
    const pointer = await writeJson(deps.s3, deps.resultsBucket, resultKey(config.prefix ?? '', config.pipeline, input.runId), result);
    deps.logger.info('result written', { runId: input.runId, output: config.output });
    return pointer;
  }
  if (config.kind === 'sqs') return sendToQueue(deps, result);
  if (!deps.index || !config.index) throw new Error('the OpenSearch output has no index');
  await deps.index.ensureIndex(config.index, config.indexBody ?? {});
  const doc = await indexDocument(deps, result);
  const out = await deps.index.put(config.index, config.customIds === false ? undefined : input.runId, doc);
  deps.logger.info('result indexed', { runId: input.runId, output: config.output, index: config.index });
  return { index: config.index, id: out.id };
}

/** The SQS output's message for a run, or why it sends none (a run not approved, a field the run does not have). */
export function queueMessage(config: OutputConfig, result: ResultDocument): { body?: object; reason?: string } {
  const approvedBy = config.approvedBy;
  const review = approvedBy ? result.results[approvedBy.review] : undefined;
  if (approvedBy && !(review && (review.decision === 'approve' || review.decision === 'correct'))) return { reason: 'not-approved' };
  if (!config.field) return { body: result };
  let value = valueAt(result.results, config.field);
  let corrected = false;
  const [stage, ...rest] = config.field.split('.');
  if (approvedBy && review?.decision === 'correct' && stage === approvedBy.stage && rest.length > 0) {
    const correction = valueAt(review.corrections ?? {}, rest.join('.'));
    if (correction !== undefined) {
      value = correction;
      corrected = true;
    }
  }
  if (value === undefined) return { reason: 'field-absent' };
  const message: FieldMessage = {
    schemaVersion: RESULT_DOCUMENT_VERSION,
    pipeline: result.pipeline,
    runId: result.runId,
    document: result.document,
    route: result.route,
    field: config.field,
    value,
    ...(approvedBy ? {
      approval: { review: approvedBy.review, decision: review.decision, reviewer: review.reviewer, decidedAt: review.decidedAt, corrected },
    } : {}),
  };
  return { body: message };
}

async function sendToQueue(deps: OutputDeps, result: ResultDocument): Promise<OutputResult> {
  const { config } = deps;
  if (!deps.queue) throw new Error(`environment variable ${OutputEnv.QUEUE_URL} is not set`);
  const { body, reason } = queueMessage(config, result);
  if (!body) {
    deps.logger.info('no message sent', { runId: result.runId, output: config.output, reason });
    return { sent: false, reason };
  }
  const out = await deps.queue.send(JSON.stringify(body),
    config.fifo ? { groupId: config.pipeline, deduplicationId: result.runId } : undefined);
  deps.logger.info('result sent', { runId: result.runId, output: config.output });
  return { sent: true, messageId: out.messageId };
}
