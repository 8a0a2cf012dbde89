import { PutEventsCommand, EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { outputPaths, redact } from './redact';
import { sha256, writeJson } from './s3';
import { AUDIT_EVENT_SOURCE, AuditContentRefs, AuditEventTypes, AuditRecord, ContentRef, Keys, ModelUsage, S3Pointer } from '../shared';

/** Where audit records and events go. */
export interface AuditTarget {
  readonly bucket: string;
  readonly busName: string;
  /** Run-state paths redacted in the kept input views and outputs (see `redact`). */
  readonly redactFields?: readonly string[];
}

/** One model call as a stage made it: the raw reply text and what it cost. */
export interface ModelCall {
  readonly reply: string;
  readonly stopReason?: string;
  /** Token counts, when the service reports them (Bedrock does; a SageMaker endpoint does not). */
  readonly inputTokens?: number;
  readonly outputTokens?: number;
  /** The model's own latency for the call, as the service reports it. */
  readonly latencyMs?: number;
  /** Prompt tokens read from and written to the prompt cache, when the service reports them. */
  readonly cacheReadInputTokens?: number;
  readonly cacheWriteInputTokens?: number;
  /** The call's cost in USD at the trace's list prices (`StageTrace.priceSource`). */
  readonly costUsd?: number;
}

/**
 * What a stage body tells the audit trail besides its output: filled as the body runs, so a stage
 * that fails after calling its model still keeps the prompt and the replies.
 */
export interface StageTrace {
  /** The rendered prompt (system prompt first when there is one). */
  prompt?: string;
  /** Each model call, in order. */
  readonly calls: ModelCall[];
  /** Where the prices behind the calls' `costUsd` come from. */
  priceSource?: string;
}

/** A new, empty trace. */
export function newTrace(): StageTrace {
  return { calls: [] };
}

/** What a stage record keeps beside it in the audit bucket; each part is optional. */
export interface StageContent {
  /** The stage view the stage was given. */
  readonly input?: unknown;
  /** The stage's output. */
  readonly output?: unknown;
  readonly trace?: StageTrace;
}

/** The token and latency totals of a trace; undefined when it holds no call. */
export function modelUsage(trace: StageTrace | undefined): ModelUsage | undefined {
  if (!trace || trace.calls.length === 0) return undefined;
  const sum = (values: Array<number | undefined>) => {
    const known = values.filter((v): v is number => typeof v === 'number');
    return known.length > 0 ? known.reduce((n, v) => n + v, 0) : undefined;
  };
  const inputTokens = sum(trace.calls.map((c) => c.inputTokens));
  const outputTokens = sum(trace.calls.map((c) => c.outputTokens));
  const latencyMs = sum(trace.calls.map((c) => c.latencyMs));
  const cacheReadInputTokens = sum(trace.calls.map((c) => c.cacheReadInputTokens));
  const cacheWriteInputTokens = sum(trace.calls.map((c) => c.cacheWriteInputTokens));
  const cost = sum(trace.calls.map((c) => c.costUsd));
  return {
    calls: trace.calls.length,
    ...(inputTokens !== undefined ? { inputTokens } : {}),
    ...(outputTokens !== undefined ? { outputTokens } : {}),
    ...(latencyMs !== undefined ? { latencyMs } : {}),
    ...(cacheReadInputTokens !== undefined ? { cacheReadInputTokens } : {}),
    ...(cacheWriteInputTokens !== undefined ? { cacheWriteInputTokens } : {}),
    ...(cost !== undefined && trace.priceSource ? { costUsd: roundUsd(cost), priceSource: trace.priceSource } : {}),
  };
}

/** A cost rounded to a millionth of a dollar (sums of per-token prices carry float noise). */
export function roundUsd(usd: number): number {
  return Math.round(usd * 1e6) / 1e6;
}

/** Writes audit records to the audit bucket and puts the matching event on the audit bus. */
export class AuditWriter {
  constructor(private readonly s3: S3Client, private readonly events: EventBridgeClient, private readonly target: AuditTarget) {}

  /**
   * The record of one stage execution, under the stage's own prefix. The content given is written
   * first, beside the record (`stages/<stage>/<runId>/...`), with the target's paths redacted; the
   * record then names each object with its sha256, the paths redacted, and the model usage.
   */
  public async stage(record: AuditRecord, content: StageContent = {}): Promise<S3Pointer> {
    const stage = record.stage!;
    const chunk = record.chunk;
    const key = chunk ? Keys.stageChunkAudit(stage, record.runId, chunk.index) : Keys.stageAudit(stage, record.runId);
    const type = record.outcome === 'SUCCEEDED' ? AuditEventTypes.STAGE_SUCCEEDED : AuditEventTypes.STAGE_FAILED;
    const paths = this.target.redactFields ?? [];
    const name = (n: string) => (chunk
      ? Keys.stageChunkAuditContent(stage, record.runId, chunk.index, n)
      : Keys.stageAuditContent(stage, record.runId, n));
    const refs: { -readonly [K in keyof AuditContentRefs]: ContentRef } = {};
    const redacted: string[] = [];
    if (content.input !== undefined) {
      const r = redact(content.input, paths);
      redacted.push(...r.redacted);
      refs.input = await this.put(name('input.json'), JSON.stringify(r.value), 'application/json');
    }
    if (content.output !== undefined) {
      const r = redact(content.output, outputPaths(paths, stage));
      redacted.push(...r.redacted.map((p) => `results.${stage}.${p}`));
      refs.output = await this.put(name('output.json'), JSON.stringify(r.value), 'application/json');
    }
    const trace = content.trace;
    if (trace?.prompt !== undefined) refs.prompt = await this.put(name('prompt.txt'), trace.prompt, 'text/plain; charset=utf-8');
    if (trace && trace.calls.length > 0) {
      refs.reply = await this.put(name('reply.json'), JSON.stringify({ replies: trace.calls }), 'application/json');
    }
    const usage = modelUsage(trace);
    return this.write(key, {
      ...record,
      ...(Object.keys(refs).length > 0 ? { content: refs } : {}),
      ...(redacted.length > 0 ? { redacted } : {}),
      ...(usage ? { model: usage } : {}),
    }, type);
  }

  /** The record of a whole run. */
  public async run(record: AuditRecord): Promise<S3Pointer> {
    const type = record.outcome === 'SUCCEEDED' ? AuditEventTypes.RUN_SUCCEEDED : AuditEventTypes.RUN_FAILED;
    return this.write(Keys.runAudit(record.runId), record, type);
  }

  /** Writes one content object; its ref carries the sha256 of the exact bytes written. */
  private async put(key: string, body: string, contentType: string): Promise<ContentRef> {
    const out = await this.s3.send(new PutObjectCommand({ Bucket: this.target.bucket, Key: key, Body: body, ContentType: contentType }));
    return { key, sha256: sha256(body), ...(out.VersionId ? { versionId: out.VersionId } : {}) };
  }

  /**
   * Announces a run record that is already written (its write succeeded, its event did not): the
   * event only, so a retried recorder adds no second version of the record.
   */
  public async announceRun(pointer: S3Pointer, record: AuditRecord): Promise<S3Pointer> {
    await this.announce(pointer, record, record.outcome === 'SUCCEEDED' ? AuditEventTypes.RUN_SUCCEEDED : AuditEventTypes.RUN_FAILED);
    return pointer;
  }

  private async write(key: string, record: AuditRecord, detailType: string): Promise<S3Pointer> {
    const pointer = await writeJson(this.s3, this.target.bucket, key, record);
    await this.announce(pointer, record, detailType);
    return pointer;
  }

  private async announce(pointer: S3Pointer, record: AuditRecord, detailType: string): Promise<void> {
    await this.events.send(new PutEventsCommand({
      Entries: [{
        Source: AUDIT_EVENT_SOURCE,
        DetailType: detailType,
        EventBusName: this.target.busName,
        Detail: JSON.stringify({ record: pointer, ...summary(record) }),
      }],
    }));
  }
}

/** The fields of a record that are safe and useful in an event (no payloads). */
function summary(r: AuditRecord) {
  return {
    runId: r.runId,
    pipeline: r.pipeline,
    stage: r.stage,
    outcome: r.outcome,
    errorName: r.errorName,
    route: r.route,
  };
}
