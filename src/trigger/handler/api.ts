/**
 * Core of the API trigger: the REST API's three routes, behind API Gateway (proxy integration).
 *
 * - `POST /runs` `{ key, bucket?, idempotencyKey? }` starts the run of a document already in S3. With an
 *   idempotency key the execution is named after the key, else after the document's version: the same
 *   request twice gives one run (the second answer says `ALREADY_STARTED`).
 * - `POST /uploads` `{ fileName, idempotencyKey? }` returns a presigned PUT URL and the key to upload to;
 *   the caller then starts the run with `POST /runs { key }`.
 * - `GET /runs/{runId}` returns the run's status and, once it succeeded, its route, outputs and audit record.
 *
 * A bad request answers 400 with the field it is about. Pure: clients and settings come in as arguments.
 */
import { createHash, randomUUID } from 'crypto';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { executionArnOf, headDocument, idempotentName, keyAccepted, readClaim, startRun, StartRunDeps } from './start-run';
import { DocumentRef } from '../../shared';

import { ApiEnv } from '../../shared/trigger-env';

export { ApiEnv };

export interface ApiDeps extends StartRunDeps {
  readonly s3: S3Client;
  /** Presigns a PUT of `key` in `bucket`, valid for `seconds`. */
  readonly presignPut: (bucket: string, key: string, seconds: number) => Promise<string>;
  readonly documentBucket: string;
  readonly documentPrefix: string;
  readonly documentSuffixes: readonly string[];
  readonly uploadUrlSeconds: number;
  /** New upload folder names when no idempotency key is given. @default randomUUID */
  readonly newId?: () => string;
}

/** Presigned PUT URLs signed with the S3 client's own credentials (the handler role's). */
export function s3PresignPut(s3: S3Client): ApiDeps['presignPut'] {
  return (bucket, key, seconds) => getSignedUrl(s3, new PutObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: seconds });
}

/** Idempotency keys: what a caller can reasonably send (a UUID, an order number, a hash). */
export const IDEMPOTENCY_KEY = /^[A-Za-z0-9._:-]{1,128}$/;
/** File names of uploads: one path segment, no control characters. */
const FILE_NAME = /^[^/\\\u0000-\u001f]{1,255}$/;
const RUN_ID = /^[0-9a-f]{64}$/;
const MAX_KEY_BYTES = 1024;

/** A request the API refuses, with the field it is about. */
class BadRequest extends Error {
  constructor(readonly field: string, message: string, readonly status = 400) {
    super(message);
  }
}

const reply = (statusCode: number, payload: object): APIGatewayProxyResult => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(payload),
});

/** Routes one API Gateway request. */
export async function handleApiRequest(deps: ApiDeps, event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  try {
    const route = `${event.httpMethod} ${event.resource}`;
    switch (route) {
      case 'POST /runs': return await postRun(deps, body(event));
      case 'POST /uploads': return await postUpload(deps, body(event));
      case 'GET /runs/{runId}': return await getRun(deps, event.pathParameters?.runId ?? '');
      default: return reply(404, { error: 'NotFound', message: `no route ${route}` });
    }
  } catch (err: any) {
    if (err instanceof BadRequest) {
      const error = err.status === 400 ? 'BadRequest' : err.status === 404 ? 'NotFound' : 'Conflict';
      return reply(err.status, { error, field: err.field, message: err.message });
    }
    deps.logger.error('request failed', { errorName: err?.name ?? 'Error' });
    return reply(500, { error: 'InternalError', message: 'the request failed; retry it (the same request never starts a second run)' });
  }
}

function body(event: APIGatewayProxyEvent): { [field: string]: unknown } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('utf8') : event.body ?? '');
  } catch {
    throw new BadRequest('body', 'the body must be a JSON object, got text that is not JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new BadRequest('body', `the body must be a JSON object, got: ${Array.isArray(parsed) ? 'an array' : JSON.stringify(parsed)}`);
  }
  return parsed as { [field: string]: unknown };
}

function stringField(input: { [field: string]: unknown }, field: string, required: boolean): string | undefined {
  const value = input[field];
  if (value === undefined) {
    if (required) throw new BadRequest(field, `\`${field}\` is required`);
    return undefined;
  }
  if (typeof value !== 'string' || value.length === 0) {
    throw new BadRequest(field, `\`${field}\` must be a non-empty string, got: ${JSON.stringify(value)}`);
  }
  return value;
}

function idempotencyKeyOf(input: { [field: string]: unknown }): string | undefined {
  const key = stringField(input, 'idempotencyKey', false);
  if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
    throw new BadRequest('idempotencyKey', `\`idempotencyKey\` must be 1-128 letters, digits, '.', '_', ':' or '-', got: ${JSON.stringify(key.slice(0, 140))}`);
  }
  return key;
}

function checkKey(deps: ApiDeps, key: string, field: string): void {
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) throw new BadRequest(field, `\`${field}\` must be at most ${MAX_KEY_BYTES} bytes (an S3 key)`);
  if (!keyAccepted(key, deps.documentPrefix, deps.documentSuffixes)) {
    const suffixes = deps.documentSuffixes.length > 0 ? ` and end with ${deps.documentSuffixes.map((s) => `'${s}'`).join(' or ')}` : '';
    throw new BadRequest(field, `\`${field}\` must start with '${deps.documentPrefix}'${suffixes}, got: ${JSON.stringify(key)}`);
  }
}

async function postRun(deps: ApiDeps, input: { [field: string]: unknown }): Promise<APIGatewayProxyResult> {
  const key = stringField(input, 'key', true)!;
  const bucket = stringField(input, 'bucket', false) ?? deps.documentBucket;
  const idempotencyKey = idempotencyKeyOf(input);
  for (const field of Object.keys(input)) {
    if (!['key', 'bucket', 'idempotencyKey'].includes(field)) throw new BadRequest(field, `\`${field}\` is not a field of this request; send key, bucket (optional) and idempotencyKey (optional)`);
  }
  if (bucket !== deps.documentBucket) {
    throw new BadRequest('bucket', `\`bucket\` must be the pipeline's document bucket '${deps.documentBucket}', got: ${JSON.stringify(bucket)}`);
  }
  checkKey(deps, key, 'key');
  const document = await headDocument(deps.s3, bucket, key);
  if (!document) throw new BadRequest('key', `no object ${JSON.stringify(key)} in the document bucket; upload it first (POST /uploads)`, 404);
  const out = idempotencyKey ? await startRun(deps, document, idempotentName(idempotencyKey)) : await startRun(deps, document);
  if (!out.started && idempotencyKey) {
    // The key was used before: only for the same document is this the same request. An Express
    // pipeline's claim keeps the document; a Standard execution is described.
    const was: DocumentRef | undefined = deps.claims
      ? out.claimedDocument
      : parseJson((await deps.sfn.send(new DescribeExecutionCommand({ executionArn: out.executionArn }))).input)?.document;
    if (was?.bucket !== document.bucket || was?.key !== document.key) {
      throw new BadRequest('idempotencyKey', '`idempotencyKey` was already used for another document; use a new key for a new request', 409);
    }
  }
  if (out.pending) {
    deps.logger.warn('run being started by another request', { runId: out.runId });
    return reply(409, {
      error: 'StartInProgress',
      runId: out.runId,
      status: 'STARTING',
      message: `another request is starting this run; send the same request again in ${deps.claims?.staleSeconds ?? 60} seconds (it never starts a second run)`,
      retryAfterSeconds: deps.claims?.staleSeconds ?? 60,
    });
  }
  deps.logger.info(out.started ? 'run started' : 'run already started', { runId: out.runId, size: document.size });
  return reply(out.started ? 202 : 200, {
    runId: out.runId,
    status: out.started ? 'STARTED' : 'ALREADY_STARTED',
    document,
    links: { run: `/runs/${out.runId}` },
  });
}

async function postUpload(deps: ApiDeps, input: { [field: string]: unknown }): Promise<APIGatewayProxyResult> {
  const fileName = stringField(input, 'fileName', true)!;
  const idempotencyKey = idempotencyKeyOf(input);
  for (const field of Object.keys(input)) {
    if (!['fileName', 'idempotencyKey'].includes(field)) throw new BadRequest(field, `\`${field}\` is not a field of this request; send fileName and idempotencyKey (optional)`);
  }
  if (!FILE_NAME.test(fileName) || fileName === '.' || fileName === '..') {
    throw new BadRequest('fileName', `\`fileName\` must be one file name (no '/', at most 255 characters), got: ${JSON.stringify(fileName.slice(0, 260))}`);
  }
  // The same idempotency key gets the same upload key, so a retried request overwrites, never forks.
  const folder = idempotencyKey ? createHash('sha256').update(`upload/${idempotencyKey}`).digest('hex').slice(0, 32) : (deps.newId ?? randomUUID)();
  const key = `${deps.documentPrefix}uploads/${folder}/${fileName}`;
  checkKey(deps, key, 'fileName');
  const uploadUrl = await deps.presignPut(deps.documentBucket, key, deps.uploadUrlSeconds);
  return reply(201, {
    uploadUrl,
    method: 'PUT',
    bucket: deps.documentBucket,
    key,
    expiresInSeconds: deps.uploadUrlSeconds,
    next: { method: 'POST', path: '/runs', body: { key, ...(idempotencyKey ? { idempotencyKey } : {}) } },
  });
}

async function getRun(deps: ApiDeps, runId: string): Promise<APIGatewayProxyResult> {
  if (!RUN_ID.test(runId)) throw new BadRequest('runId', `\`runId\` must be 64 lowercase hex characters (as POST /runs returns it), got: ${JSON.stringify(runId.slice(0, 80))}`);
  if (deps.claims) return getExpressRun(deps, runId);
  let execution;
  try {
    execution = await deps.sfn.send(new DescribeExecutionCommand({ executionArn: executionArnOf(deps.stateMachineArn, runId) }));
  } catch (err: any) {
    if (err?.name === 'ExecutionDoesNotExist') throw new BadRequest('runId', `no run ${runId}`, 404);
    throw err;
  }
  const output = parseJson(execution.output);
  return reply(200, {
    runId,
    status: execution.status,
    startDate: execution.startDate?.toISOString(),
    ...(execution.stopDate ? { stopDate: execution.stopDate.toISOString() } : {}),
    document: parseJson(execution.input)?.document,
    ...(output?.route ? { route: output.route } : {}),
    ...(output?.outputs ? { outputs: output.outputs } : {}),
    ...(output?.audit?.record ? { audit: output.audit.record } : {}),
    ...(execution.error ? { error: execution.error } : {}),
  });
}

/**
 * An Express execution cannot be described (DescribeExecution is Standard only): the run's claim says
 * whether it started, when, and for which document; its outcome is in the audit trail (ADR-0029).
 */
async function getExpressRun(deps: ApiDeps, runId: string): Promise<APIGatewayProxyResult> {
  const claim = await readClaim(deps.claims!, runId);
  if (!claim) throw new BadRequest('runId', `no run ${runId}`, 404);
  return reply(200, {
    runId,
    status: claim.state === 'STARTED' ? 'STARTED' : 'STARTING',
    ...(claim.startDate ? { startDate: claim.startDate.toISOString() } : {}),
    ...(claim.executionArn ? { executionArn: claim.executionArn } : {}),
    document: claim.document,
    statusSource: 'run-claim',
    note: 'An Express workflow\'s execution cannot be described: its outcome (route, outputs, errors) is in the run\'s audit record (runs/<runId>.json in the audit bucket) and the state machine\'s log group.',
  });
}

function parseJson(text: string | undefined): any {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
