/**
 * The backstop of an Express pipeline (ADR-0031). EventBridge sends no execution status changes for
 * Express workflows, so the state machine's log group (level ALL, no execution data) is subscribed with a
 * filter that passes only this state machine's `ExecutionFailed`, `ExecutionTimedOut` and
 * `ExecutionAborted` events. CloudWatch Logs delivers them base64-gzipped (`awslogs.data`); each one is
 * written as a run record by the recorder's backstop core, unless the run already has one. The log
 * carries no input, so the document comes from the run's claim (the trigger's run-claim table).
 * Pure: clients and settings come in as arguments.
 */
import { gunzipSync } from 'zlib';
import type { CloudWatchLogsDecodedData, CloudWatchLogsEvent } from 'aws-lambda';
import { BackstopResult, recordRun, RecorderDeps, RecorderEvent, writeBackstopRecord } from './recorder';
import { DocumentRef } from '../../shared';
import { EXPRESS_BACKSTOP_EVENTS } from '../../shared/run-claims';
import { readClaim, RunClaimsDeps } from '../../trigger/handler/start-run';

/** A Step Functions execution log event (the `message` of a log event), as far as the backstop reads it. */
export interface ExecutionLogEvent {
  readonly type?: string;
  /** `arn:<partition>:states:<region>:<account>:express:<state machine>:<execution name>:<execution id>` */
  readonly execution_arn?: string;
  /** Epoch milliseconds, as a string. */
  readonly event_timestamp?: string;
  /** For a failure: `error` and `cause`, when the log has them. */
  readonly details?: { readonly error?: string; readonly cause?: string };
}

export interface ExpressBackstopDeps extends RecorderDeps {
  /** The trigger's run-claim table, where the run's document is: `undefined` when the trigger keeps none. */
  readonly claims?: Pick<RunClaimsDeps, 'dynamodb' | 'table'>;
}

/** The recorder's events plus CloudWatch Logs' subscription delivery. */
export type RecorderOrLogsEvent = RecorderEvent | CloudWatchLogsEvent;

/** Dispatches a log subscription delivery to the Express backstop, anything else to the recorder. */
export async function recordAny(deps: ExpressBackstopDeps, event: RecorderOrLogsEvent) {
  if (typeof (event as CloudWatchLogsEvent)?.awslogs?.data === 'string') return recordExpressBackstop(deps, event as CloudWatchLogsEvent);
  return recordRun(deps, event as RecorderEvent);
}

/** The execution name (the run id) in an execution ARN, Express (`:express:sm:name:id`) or Standard (`:execution:sm:name`). */
export function runIdOfExecutionArn(arn: string | undefined): string | undefined {
  const parts = (arn ?? '').split(':');
  return parts.length >= 8 && parts[7] ? parts[7] : undefined;
}

/** Decodes `awslogs.data` (base64 of gzip of JSON). */
export function decodeLogsPayload(event: CloudWatchLogsEvent): CloudWatchLogsDecodedData {
  return JSON.parse(gunzipSync(Buffer.from(event.awslogs.data, 'base64')).toString('utf8')) as CloudWatchLogsDecodedData;
}

/**
 * One result per log event: the run record written, or why none was (`status`: not a terminal
 * failure; `exists`: the run is already recorded). A failure to write throws, so Lambda retries the
 * delivery and then hands it to the on-failure destination.
 */
export async function recordExpressBackstop(deps: ExpressBackstopDeps, event: CloudWatchLogsEvent): Promise<BackstopResult[]> {
  const data = decodeLogsPayload(event);
  // CloudWatch Logs checks that the destination is reachable with a control message: nothing to record.
  if (data.messageType !== 'DATA_MESSAGE') return [];
  const results: BackstopResult[] = [];
  for (const logEvent of data.logEvents ?? []) {
    let message: ExecutionLogEvent;
    try {
      message = JSON.parse(logEvent.message) as ExecutionLogEvent;
    } catch {
      deps.logger.warn('log event is not an execution event: ignored', { id: logEvent.id });
      results.push({ skipped: 'status' });
      continue;
    }
    const runId = runIdOfExecutionArn(message.execution_arn);
    const status = message.type ? EXPRESS_BACKSTOP_EVENTS[message.type] : undefined;
    const stopDate = Number(message.event_timestamp ?? logEvent.timestamp);
    results.push(await writeBackstopRecord(deps, {
      runId,
      status,
      stopDate: Number.isFinite(stopDate) ? stopDate : undefined,
      error: message.details?.error,
      cause: message.details?.cause,
      missingDocument: deps.claims ? 'no run claim names the document: recorded without one' : 'no run-claim table: recorded without a document',
      started: async (): Promise<{ document?: DocumentRef; startDate?: number }> => {
        if (!deps.claims || !runId) return {};
        const claim = await readClaim({ ...deps.claims, staleSeconds: 0 }, runId);
        return { document: claim?.document, startDate: claim?.startDate?.getTime() };
      },
    }));
  }
  return results;
}
