/**
 * The one implementation of "start a run exactly once", shared by every trigger kind (S3 upload,
 * API, schedule). Pure: clients come in as arguments.
 *
 * A run's execution name is deterministic: sha256 of `bucket/key/versionId-or-etag` for a document,
 * or of `idempotency/<key>` when the caller gives an idempotency key. Starting the same name twice makes
 * Step Functions refuse with `ExecutionAlreadyExists`; that refusal means "already started" and is
 * not an error. Step Functions keeps names unique for 90 days after an execution closes.
 */
import { createHash } from 'crypto';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { LogPort } from '../../runtime/logger';
import { DocumentRef } from '../../shared';

export interface StartRunDeps {
  readonly sfn: SFNClient;
  readonly stateMachineArn: string;
  readonly logger: LogPort;
}

/** What a start did: started a new execution, or found the one with that name. */
export interface StartOutcome {
  /** The execution name: the run id. */
  readonly runId: string;
  readonly executionArn: string;
  /** False when an execution with this name already existed (a duplicate start). */
  readonly started: boolean;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The execution name of a document: hex sha256 of `bucket/key/versionId-or-etag` (64 chars, a valid name). */
export function executionName(document: DocumentRef): string {
  return sha256(`${document.bucket}/${document.key}/${document.versionId ?? document.etag ?? ''}`);
}

/** The execution name of a caller's idempotency key: hex sha256 of `idempotency/<key>`. */
export function idempotentName(idempotencyKey: string): string {
  return sha256(`idempotency/${idempotencyKey}`);
}

/** The ARN of the execution named `runId` of a state machine. */
export function executionArnOf(stateMachineArn: string, runId: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${runId}`;
}

/**
 * Starts the run of a document under `name` (default: the document's own name); a duplicate start
 * returns `started: false`. Any other failure is thrown to the caller, which retries.
 */
export async function startRun(deps: StartRunDeps, document: DocumentRef, name: string = executionName(document)): Promise<StartOutcome> {
  try {
    const out = await deps.sfn.send(new StartExecutionCommand({
      stateMachineArn: deps.stateMachineArn,
      name,
      input: JSON.stringify({ document }),
    }));
    return { runId: name, executionArn: out.executionArn ?? executionArnOf(deps.stateMachineArn, name), started: true };
  } catch (err: any) {
    if (err?.name === 'ExecutionAlreadyExists') {
      return { runId: name, executionArn: executionArnOf(deps.stateMachineArn, name), started: false };
    }
    throw err;
  }
}

/**
 * The document at bucket/key as S3 has it now (version, size, ETag), so a start by API or schedule
 * gets the same execution name as the upload event of that version. `undefined` when there is no such object.
 */
export async function headDocument(s3: S3Client, bucket: string, key: string): Promise<DocumentRef | undefined> {
  try {
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return {
      bucket,
      key,
      ...(head.VersionId && head.VersionId !== 'null' ? { versionId: head.VersionId } : {}),
      ...(typeof head.ContentLength === 'number' ? { size: head.ContentLength } : {}),
      ...(head.ETag ? { etag: head.ETag.replace(/"/g, '') } : {}),
    };
  } catch (err: any) {
    if (err?.name === 'NotFound' || err?.name === 'NoSuchKey' || err?.$metadata?.httpStatusCode === 404) return undefined;
    throw err;
  }
}

/** True when a key is under the prefix and ends with one of the suffixes (any key when there are none). */
export function keyAccepted(key: string, prefix: string, suffixes: readonly string[]): boolean {
  return key.startsWith(prefix) && (suffixes.length === 0 || suffixes.some((s) => key.endsWith(s)));
}
