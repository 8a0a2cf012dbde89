/**
 * The one implementation of "start a run exactly once", shared by every trigger kind (S3 upload,
 * API, schedule). Pure: clients come in as arguments.
 *
 * A run's execution name is deterministic: sha256 of `bucket/key/versionId-or-etag` for a document,
 * or of `idempotency/<key>` when the caller gives an idempotency key. Starting the same name twice makes
 * Step Functions refuse with `ExecutionAlreadyExists`; that refusal means "already started" and is
 * not an error. Step Functions keeps names unique for 90 days after an execution closes.
 *
 * An Express state machine does not deduplicate names (ADR-0029): with `claims`, the core first claims
 * the run id with a conditional put in a DynamoDB table, then starts, then marks the claim started. A
 * claim not marked started within `staleSeconds` (the starter's timeout: its claimer is surely gone)
 * is taken over; a start that fails releases its claim, so a retry can claim again at once.
 */
import { createHash, randomUUID } from 'crypto';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { DeleteItemCommand, DynamoDBClient, GetItemCommand, PutItemCommand, UpdateItemCommand } from '../../runtime/dynamodb';
import { LogPort } from '../../runtime/logger';
import { DocumentRef } from '../../shared';
import { CLAIM_ATTRIBUTES, CLAIM_RETENTION_SECONDS } from '../../shared/run-claims';

/** The run-claim table of an Express pipeline's trigger. */
export interface RunClaimsDeps {
  readonly dynamodb: DynamoDBClient;
  readonly table: string;
  /** A claim not marked started after this many seconds may be taken over. */
  readonly staleSeconds: number;
  /** The clock. @default () => new Date() */
  readonly now?: () => Date;
  /** Claim ids (a claimer marks and releases only its own claim). @default randomUUID */
  readonly newClaimId?: () => string;
}

export interface StartRunDeps {
  readonly sfn: SFNClient;
  readonly stateMachineArn: string;
  readonly logger: LogPort;
  /** Set for an Express pipeline: claim each run id before starting it. @default - Standard: names deduplicate */
  readonly claims?: RunClaimsDeps;
}

/** What a start did: started a new execution, or found the one with that name. */
export interface StartOutcome {
  /** The execution name: the run id. */
  readonly runId: string;
  readonly executionArn: string;
  /** False when an execution with this name already existed (a duplicate start). */
  readonly started: boolean;
  /**
   * Express only: a duplicate start found a fresh claim not yet marked started (another starter is
   * starting the run, or died doing it: retry after `staleSeconds`).
   */
  readonly pending?: boolean;
  /** Express only, on a duplicate start: the document the run id was claimed for. */
  readonly claimedDocument?: DocumentRef;
}

/** A run claim as the table keeps it. */
export interface RunClaim {
  readonly runId: string;
  /** CLAIMED: being started; STARTED: StartExecution succeeded. */
  readonly state: 'CLAIMED' | 'STARTED';
  readonly claimedAt: Date;
  readonly document?: DocumentRef;
  readonly executionArn?: string;
  readonly startDate?: Date;
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
  if (deps.claims) return startClaimed(deps, deps.claims, document, name);
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

const CLAIMED = 'CLAIMED';
const STARTED = 'STARTED';
const A = { ...CLAIM_ATTRIBUTES, CLAIM_ID: 'claimId', STATE: 'state', CLAIMED_AT: 'claimedAt', DOCUMENT: 'document', EXECUTION_ARN: 'executionArn', START_DATE: 'startDate' } as const;

/** Claim, start, mark started (Express). */
async function startClaimed(deps: StartRunDeps, claims: RunClaimsDeps, document: DocumentRef, name: string): Promise<StartOutcome> {
  const now = (claims.now ?? (() => new Date()))();
  const claimId = (claims.newClaimId ?? randomUUID)();
  const key = { [A.RUN_ID]: { S: name } };
  try {
    await claims.dynamodb.send(new PutItemCommand({
      TableName: claims.table,
      Item: {
        ...key,
        [A.CLAIM_ID]: { S: claimId },
        [A.STATE]: { S: CLAIMED },
        [A.CLAIMED_AT]: { N: String(now.getTime()) },
        [A.DOCUMENT]: { S: JSON.stringify(document) },
        [A.EXPIRES_AT]: { N: String(Math.floor(now.getTime() / 1000) + CLAIM_RETENTION_SECONDS) },
      },
      // A new run id, or a claim whose claimer died before it started the run.
      ConditionExpression: 'attribute_not_exists(#runId) OR (#state = :claimed AND #claimedAt < :staleBefore)',
      ExpressionAttributeNames: { '#runId': A.RUN_ID, '#state': A.STATE, '#claimedAt': A.CLAIMED_AT },
      ExpressionAttributeValues: { ':claimed': { S: CLAIMED }, ':staleBefore': { N: String(now.getTime() - claims.staleSeconds * 1000) } },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    }));
  } catch (err: any) {
    if (err?.name !== 'ConditionalCheckFailedException') throw err;
    const earlier = claimOf(err.Item);
    return {
      runId: name,
      executionArn: earlier?.executionArn ?? executionArnOf(deps.stateMachineArn, name),
      started: false,
      ...(earlier?.state === STARTED ? {} : { pending: true }),
      ...(earlier?.document ? { claimedDocument: earlier.document } : {}),
    };
  }
  let executionArn: string;
  let startDate: Date;
  try {
    const out = await deps.sfn.send(new StartExecutionCommand({ stateMachineArn: deps.stateMachineArn, name, input: JSON.stringify({ document }) }));
    executionArn = out.executionArn ?? executionArnOf(deps.stateMachineArn, name);
    startDate = out.startDate ?? now;
  } catch (err) {
    // Not started: give the claim back so a retry claims it at once (else it is taken over once stale).
    try {
      await claims.dynamodb.send(new DeleteItemCommand({
        TableName: claims.table,
        Key: key,
        ConditionExpression: '#claimId = :mine AND #state = :claimed',
        ExpressionAttributeNames: { '#claimId': A.CLAIM_ID, '#state': A.STATE },
        ExpressionAttributeValues: { ':mine': { S: claimId }, ':claimed': { S: CLAIMED } },
      }));
    } catch (release: any) {
      deps.logger.warn('claim not released: it can be taken over once stale', { runId: name, errorName: release?.name ?? 'Error', staleSeconds: claims.staleSeconds });
    }
    throw err;
  }
  try {
    await claims.dynamodb.send(new UpdateItemCommand({
      TableName: claims.table,
      Key: key,
      UpdateExpression: 'SET #state = :started, #executionArn = :arn, #startDate = :startDate',
      ConditionExpression: '#claimId = :mine',
      ExpressionAttributeNames: { '#state': A.STATE, '#executionArn': A.EXECUTION_ARN, '#startDate': A.START_DATE, '#claimId': A.CLAIM_ID },
      ExpressionAttributeValues: { ':started': { S: STARTED }, ':arn': { S: executionArn }, ':startDate': { S: startDate.toISOString() }, ':mine': { S: claimId } },
    }));
  } catch (err: any) {
    // The run did start: report it started. Its claim stays CLAIMED; a duplicate after `staleSeconds` could start it again (ADR-0029).
    deps.logger.error('run started, but its claim was not marked started', { runId: name, errorName: err?.name ?? 'Error' });
  }
  return { runId: name, executionArn, started: true };
}

/** The claim of a run id (Express), `undefined` when there is none. */
export async function readClaim(claims: RunClaimsDeps, runId: string): Promise<RunClaim | undefined> {
  const out = await claims.dynamodb.send(new GetItemCommand({
    TableName: claims.table, Key: { [A.RUN_ID]: { S: runId } }, ConsistentRead: true,
  }));
  return claimOf(out.Item);
}

function claimOf(item: Record<string, AttributeValue> | undefined): RunClaim | undefined {
  const text = (name: string): string | undefined => item?.[name]?.S;
  const runId = text(A.RUN_ID);
  if (!runId) return undefined;
  let document: DocumentRef | undefined;
  try {
    const json = text(A.DOCUMENT);
    document = json ? JSON.parse(json) : undefined;
  } catch {
    document = undefined;
  }
  const executionArn = text(A.EXECUTION_ARN);
  const startDate = text(A.START_DATE);
  return {
    runId,
    state: text(A.STATE) === STARTED ? STARTED : CLAIMED,
    claimedAt: new Date(Number(item?.[A.CLAIMED_AT]?.N ?? 0)),
    ...(document ? { document } : {}),
    ...(executionArn ? { executionArn } : {}),
    ...(startDate ? { startDate: new Date(startDate) } : {}),
  };
}

/** The claims settings from a starter's environment; `undefined` for a Standard pipeline (no claim table). */
export function claimsFromEnv(
  env: { [name: string]: string | undefined }, tableVar: string, staleVar: string, client: () => DynamoDBClient = () => new DynamoDBClient({}),
): RunClaimsDeps | undefined {
  const table = env[tableVar];
  if (!table) return undefined;
  const staleSeconds = Number(env[staleVar]);
  if (!Number.isFinite(staleSeconds) || staleSeconds <= 0) throw new Error(`environment variable ${staleVar} must be a positive number of seconds`);
  return { dynamodb: client(), table, staleSeconds };
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
