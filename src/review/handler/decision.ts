/**
 * Core of a human review's decision API (a Lambda function URL with AWS_IAM auth). Pure: clients and
 * settings come in as arguments, so the same code runs in Lambda, in tests with aws-sdk-client-mock,
 * and in the local runner.
 *
 * - `POST /` (or `/decision`) `{ taskToken, decision, comment?, corrections? }`: validates the body
 *   against the decision contract (400 naming the field), answers the waiting task with
 *   SendTaskSuccess, and writes the decision record (reviewer ARN, decision, time, the token's hash,
 *   never the token) to the audit bucket. A closed task (deadline passed, decided already) is a 409,
 *   and the refused attempt is recorded too.
 * - `POST /heartbeat` `{ taskToken }`: SendTaskHeartbeat, for reviews with a heartbeat deadline.
 *
 * The reviewer is the caller's IAM identity from the signed request, never a field of the body.
 */
import { PutEventsCommand, EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { SendTaskHeartbeatCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import type { LambdaFunctionURLEvent, LambdaFunctionURLResult } from 'aws-lambda';
import { Validator } from '../../runtime/contracts';
import { LogPort } from '../../runtime/logger';
import { sha256, writeJson } from '../../runtime/s3';
import { AUDIT_EVENT_SOURCE, AuditEventTypes, Keys, S3Pointer } from '../../shared';
import { MAX_DECISION_BYTES } from '../decision-contract';

/** The validators generated at synth time from the decision contract. */
export interface DecisionValidators {
  /** The request body. */
  readonly request: Validator;
  /** Corrections: the reviewed stage's output contract, every field optional. */
  readonly corrections: Validator;
}

export interface DecisionDeps {
  readonly sfn: SFNClient;
  readonly s3: S3Client;
  readonly events: EventBridgeClient;
  /** The review's name (its state name and key under `$.results`). */
  readonly review: string;
  readonly pipeline: string;
  readonly auditBucket: string;
  readonly auditBus: string;
  readonly validators: DecisionValidators;
  readonly logger: LogPort;
  /** Clock, injectable for tests. */
  readonly now?: () => Date;
}

/** What the waiting task gets (and what lands at `$.results.<review>`). */
export interface ReviewDecisionOutput {
  readonly decision: 'approve' | 'reject' | 'correct';
  readonly reviewer: string;
  readonly decidedAt: string;
  readonly comment?: string;
  readonly corrections?: { [field: string]: unknown };
  readonly taskTokenSha256: string;
  readonly record: S3Pointer;
}

/** The decision record written to the audit bucket, per attempt. */
export interface ReviewDecisionRecord {
  readonly schemaVersion: '1';
  readonly kind: 'review-decision';
  readonly pipeline: string;
  readonly review: string;
  readonly decision: string;
  readonly reviewer: string;
  readonly reviewerAccount?: string;
  readonly decidedAt: string;
  readonly taskTokenSha256: string;
  readonly comment?: string;
  readonly corrections?: { [field: string]: unknown };
  /** True when the waiting task took the decision; false when it was closed already. */
  readonly accepted: boolean;
  /** Why a refused decision was refused (the Step Functions error). */
  readonly refusedWith?: string;
}

type Response = LambdaFunctionURLResult & { statusCode: number; body: string };

const json = (statusCode: number, body: object): Response => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

/** A 400 that names the field at fault. */
const badRequest = (field: string, message: string): Response => json(400, { error: 'InvalidDecision', field, message });

/** The caller's IAM identity, as the function URL's AWS_IAM auth puts it in the request context. */
export function callerIdentity(event: LambdaFunctionURLEvent): { arn: string; account?: string } | undefined {
  const iam = (event?.requestContext as any)?.authorizer?.iam;
  if (!iam || typeof iam.userArn !== 'string' || iam.userArn.length === 0) return undefined;
  return { arn: iam.userArn, ...(typeof iam.accountId === 'string' ? { account: iam.accountId } : {}) };
}

/** `corrections/riskScore` style instance paths as the field name a person reads: `corrections.riskScore`. */
function fieldOf(prefix: string, error: { instancePath: string; keyword: string; params?: any } | undefined): string {
  const parts = (error?.instancePath ?? '').split('/').filter((p) => p.length > 0);
  if (error?.keyword === 'required') parts.push(String(error.params?.missingProperty));
  if (error?.keyword === 'additionalProperties') parts.push(String(error.params?.additionalProperty));
  return [prefix, ...parts].filter((p) => p.length > 0).join('.') || '(body)';
}

function problemOf(error: { keyword: string; message?: string; params?: any } | undefined): string {
  if (!error) return 'is not valid';
  switch (error.keyword) {
    case 'required': return 'is required';
    case 'additionalProperties': return 'is not a field of the decision contract';
    case 'enum': return `must be one of ${JSON.stringify(error.params?.allowedValues)}`;
    case 'type': return `must be ${error.params?.type}`;
    default: return error.message ?? `fails '${error.keyword}'`;
  }
}

/** The request body as JSON, or a 4xx response. */
function parseBody(event: LambdaFunctionURLEvent): { body: any } | { response: Response } {
  const raw = event.body ?? '';
  const text = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  if (Buffer.byteLength(text) > MAX_DECISION_BYTES) {
    return { response: json(413, { error: 'DecisionTooLarge', field: '(body)', message: `the body must be at most ${MAX_DECISION_BYTES} bytes` }) };
  }
  try {
    return { body: JSON.parse(text) };
  } catch {
    return { response: badRequest('(body)', 'the body must be a JSON object') };
  }
}

/** Step Functions errors that mean the task cannot take an answer, and what the caller is told. */
function closedTask(err: any): Response | undefined {
  switch (err?.name) {
    case 'TaskTimedOut':
      return json(409, { error: 'ReviewClosed', field: 'taskToken', message: 'the review task is closed: its deadline passed (the run escalated) or it was decided already' });
    case 'TaskDoesNotExist':
    case 'InvalidToken':
      return badRequest('taskToken', 'names no waiting review task');
    default:
      return undefined;
  }
}

/** Handles one request to the decision API. */
export async function handleDecisionRequest(deps: DecisionDeps, event: LambdaFunctionURLEvent): Promise<Response> {
  const method = event?.requestContext?.http?.method ?? 'POST';
  if (method !== 'POST') return json(405, { error: 'MethodNotAllowed', message: 'use POST' });
  const route = (event?.rawPath ?? '/').replace(/\/+$/, '') || '/';
  if (route !== '/' && route !== '/decision' && route !== '/heartbeat') {
    return json(404, { error: 'NotFound', message: 'POST / (or /decision) with a decision, or /heartbeat with a taskToken' });
  }
  const caller = callerIdentity(event);
  if (!caller) {
    return json(403, { error: 'NoIdentity', message: 'the request carries no IAM identity: call the function URL with SigV4 (AWS_IAM auth)' });
  }
  const parsed = parseBody(event);
  if ('response' in parsed) return parsed.response;
  const body = parsed.body;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return badRequest('(body)', 'the body must be a JSON object');
  if (route === '/heartbeat') return heartbeat(deps, body);
  return decide(deps, body, caller);
}

async function heartbeat(deps: DecisionDeps, body: any): Promise<Response> {
  if (typeof body.taskToken !== 'string' || body.taskToken.length === 0 || body.taskToken.length > 1024) {
    return badRequest('taskToken', 'is required: the token the review notification carried');
  }
  try {
    await deps.sfn.send(new SendTaskHeartbeatCommand({ taskToken: body.taskToken }));
  } catch (err: any) {
    const refused = closedTask(err);
    if (refused) return refused;
    throw err;
  }
  deps.logger.info('review heartbeat', { review: deps.review, taskTokenSha256: sha256(body.taskToken) });
  return json(200, { heartbeat: true });
}

async function decide(deps: DecisionDeps, body: any, caller: { arn: string; account?: string }): Promise<Response> {
  if ('reviewer' in body) {
    return badRequest('reviewer', 'is not accepted in the body: the reviewer is the IAM identity that signed the request. Remove the field');
  }
  const { request, corrections } = deps.validators;
  if (!request(body)) return badRequest(fieldOf('', request.errors?.[0]), problemOf(request.errors?.[0]));
  if (body.decision === 'correct' && body.corrections === undefined) {
    return badRequest('corrections', 'is required with decision \'correct\': the corrected fields of the reviewed result');
  }
  if (body.decision !== 'correct' && body.corrections !== undefined) {
    return badRequest('corrections', `go only with decision 'correct', got decision '${body.decision}'`);
  }
  if (body.corrections !== undefined && !corrections(body.corrections)) {
    const e = corrections.errors?.[0];
    return badRequest(fieldOf('corrections', e), `${problemOf(e)} (the reviewed stage's output contract)`);
  }

  const now = (deps.now ?? (() => new Date()))();
  const decidedAt = now.toISOString();
  const taskTokenSha256 = sha256(body.taskToken);
  const key = Keys.reviewDecision(deps.review, taskTokenSha256, now.getTime());
  const output: ReviewDecisionOutput = {
    decision: body.decision,
    reviewer: caller.arn,
    decidedAt,
    ...(body.comment !== undefined ? { comment: body.comment } : {}),
    ...(body.corrections !== undefined ? { corrections: body.corrections } : {}),
    taskTokenSha256,
    record: { bucket: deps.auditBucket, key },
  };
  let refusal: Response | undefined;
  let refusedWith: string | undefined;
  try {
    await deps.sfn.send(new SendTaskSuccessCommand({ taskToken: body.taskToken, output: JSON.stringify(output) }));
  } catch (err: any) {
    refusal = closedTask(err);
    if (!refusal) throw err;
    // A token that names no task is not recorded (anyone can send garbage); a closed task's late decision is.
    if (refusal.statusCode !== 409) return refusal;
    refusedWith = err.name;
  }
  const record: ReviewDecisionRecord = {
    schemaVersion: '1',
    kind: 'review-decision',
    pipeline: deps.pipeline,
    review: deps.review,
    decision: body.decision,
    reviewer: caller.arn,
    ...(caller.account ? { reviewerAccount: caller.account } : {}),
    decidedAt,
    taskTokenSha256,
    ...(body.comment !== undefined ? { comment: body.comment } : {}),
    ...(body.corrections !== undefined ? { corrections: body.corrections } : {}),
    accepted: refusal === undefined,
    ...(refusedWith ? { refusedWith } : {}),
  };
  const pointer = await writeJson(deps.s3, deps.auditBucket, key, record);
  await deps.events.send(new PutEventsCommand({
    Entries: [{
      Source: AUDIT_EVENT_SOURCE,
      DetailType: AuditEventTypes.REVIEW_DECIDED,
      EventBusName: deps.auditBus,
      Detail: JSON.stringify({
        record: pointer, pipeline: deps.pipeline, review: deps.review, decision: body.decision, reviewer: caller.arn, accepted: record.accepted,
      }),
    }],
  }));
  deps.logger.info('review decided', { review: deps.review, decision: body.decision, accepted: record.accepted, taskTokenSha256 });
  return refusal ?? json(200, { accepted: true, decision: body.decision, reviewer: caller.arn, decidedAt, record: pointer });
}
