/**
 * Core of the trigger's starter: turns the S3 "Object Created" events buffered in SQS into
 * pipeline executions, each started at most once. Pure: clients and settings come in as arguments.
 *
 * Exactly-once: the execution name is derived from bucket, key and version (or ETag), so a
 * duplicate event asks Step Functions for an execution that already exists, which it refuses with
 * `ExecutionAlreadyExists`; that refusal counts as success. Any other failure reports the record
 * in `batchItemFailures` so SQS delivers it again and, after `maxReceiveCount`, moves it to the DLQ.
 * For an Express pipeline the start core claims the run id first (ADR-0029); a record whose run another
 * starter is still starting is retried the same way.
 */
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { executionName, startRun, StartRunDeps } from './start-run';
import { DocumentRef } from '../../shared';

export { executionName } from './start-run';

export type StarterDeps = StartRunDeps;

/** The part of an EventBridge S3 "Object Created" event the starter reads. */
interface ObjectCreatedEvent {
  readonly detail?: {
    readonly bucket?: { readonly name?: string };
    readonly object?: { readonly 'key'?: string; readonly 'size'?: number; readonly 'etag'?: string; readonly 'version-id'?: string };
  };
}

/** The document an SQS record's EventBridge event is about; the key stays as EventBridge delivers it. */
export function documentFromRecord(record: SQSRecord): DocumentRef {
  let event: ObjectCreatedEvent;
  try {
    event = JSON.parse(record.body);
  } catch {
    throw new Error('the message body is not JSON');
  }
  const bucket = event?.detail?.bucket?.name;
  const object = event?.detail?.object;
  if (typeof bucket !== 'string' || !bucket || typeof object?.key !== 'string' || !object.key) {
    throw new Error('the message is not an S3 Object Created event (detail.bucket.name, detail.object.key)');
  }
  return {
    bucket,
    key: object.key,
    ...(object['version-id'] ? { versionId: object['version-id'] } : {}),
    ...(typeof object.size === 'number' ? { size: object.size } : {}),
    ...(object.etag ? { etag: object.etag } : {}),
  };
}

/** Starts one execution per record; returns the records to retry (SQS partial batch response). */
export async function startRuns(deps: StarterDeps, event: SQSEvent): Promise<SQSBatchResponse> {
  const failures: SQSBatchResponse['batchItemFailures'] = [];
  for (const record of event.Records) {
    const messageId = record.messageId;
    let document: DocumentRef;
    try {
      document = documentFromRecord(record);
    } catch (err: any) {
      deps.logger.error('message not understood', { messageId, reason: err?.message });
      failures.push({ itemIdentifier: messageId });
      continue;
    }
    const name = executionName(document);
    try {
      const out = await startRun(deps, document, name);
      if (out.started) {
        deps.logger.info('run started', { messageId, runId: name, executionArn: out.executionArn, size: document.size });
      } else if (out.pending) {
        // Express: another starter claimed the run and has not marked it started yet. Retry later
        // (after the visibility timeout): by then it is started, or its claim is stale and taken over.
        deps.logger.warn('run being started by another starter: retried later', { messageId, runId: name });
        failures.push({ itemIdentifier: messageId });
      } else {
        deps.logger.info('duplicate event: run already exists', { messageId, runId: name });
      }
    } catch (err: any) {
      deps.logger.error('run not started', { messageId, runId: name, errorName: err?.name ?? 'Error' });
      failures.push({ itemIdentifier: messageId });
    }
  }
  return { batchItemFailures: failures };
}
