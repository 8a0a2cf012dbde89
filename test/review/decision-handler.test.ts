import { createHash } from 'crypto';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SendTaskHeartbeatCommand, SendTaskSuccessCommand, SFNClient, TaskTimedOut } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { generateValidators } from '../../src/private/validator-codegen';
import { correctionsSchema, decisionRequestSchema } from '../../src/review/decision-contract';
import { DecisionDeps, DecisionValidators, handleDecisionRequest } from '../../src/review/handler/decision';
import { loadValidatorsSource } from '../../src/runtime/contracts';
import { SILENT_LOGGER } from '../../src/runtime/logger';

/** The reviewed stage's output contract (a summary with a risk score). */
const SUMMARY = {
  type: 'object',
  required: ['riskScore', 'summary'],
  additionalProperties: false,
  properties: { riskScore: { type: 'number', minimum: 0, maximum: 1 }, summary: { type: 'string' }, level: { enum: ['low', 'high'] } },
};

const validators = loadValidatorsSource(
  generateValidators({ request: decisionRequestSchema(), corrections: correctionsSchema(SUMMARY) }),
) as unknown as DecisionValidators;

const sfn = mockClient(SFNClient);
const s3 = mockClient(S3Client);
const events = mockClient(EventBridgeClient);
const REVIEWER = 'arn:aws:sts::111111111111:assumed-role/Reviewers/alice';
const AT = new Date('2026-11-28T12:00:00.000Z');

const deps = (): DecisionDeps => ({
  sfn: new SFNClient({}),
  s3: new S3Client({}),
  events: new EventBridgeClient({}),
  review: 'LegalReview',
  pipeline: 'Contracts',
  auditBucket: 'audit-bucket',
  auditBus: 'audit-bus',
  validators,
  logger: SILENT_LOGGER,
  now: () => AT,
});

/** A function URL request signed by `userArn` (AWS_IAM auth puts the caller in the request context). */
function request(body: unknown, options: { userArn?: string | null; path?: string; method?: string; base64?: boolean } = {}): any {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const iam = options.userArn === null ? undefined : { accessKey: 'AKIA', accountId: '111111111111', callerId: 'AROA:alice', userArn: options.userArn ?? REVIEWER, userId: 'AROA:alice', cognitoIdentity: null, principalOrgId: null };
  return {
    version: '2.0',
    rawPath: options.path ?? '/',
    requestContext: { http: { method: options.method ?? 'POST' }, ...(iam ? { authorizer: { iam } } : {}) },
    body: options.base64 ? Buffer.from(text).toString('base64') : text,
    isBase64Encoded: options.base64 ?? false,
  };
}

const tokenHash = (t: string) => createHash('sha256').update(t).digest('hex');

beforeEach(() => {
  sfn.reset();
  s3.reset();
  events.reset();
  sfn.on(SendTaskSuccessCommand).resolves({});
  sfn.on(SendTaskHeartbeatCommand).resolves({});
  s3.on(PutObjectCommand).resolves({ VersionId: 'v1' });
  events.on(PutEventsCommand).resolves({ FailedEntryCount: 0 });
});

const written = () => JSON.parse(s3.commandCalls(PutObjectCommand)[0].args[0].input.Body as string);
const sentOutput = () => JSON.parse(sfn.commandCalls(SendTaskSuccessCommand)[0].args[0].input.output!);

describe('valid decisions answer the task and are audited', () => {
  test('approve: the reviewer is the signing IAM identity; the record holds the token hash, never the token', async () => {
    const res = await handleDecisionRequest(deps(), request({ taskToken: 'tok-1', decision: 'approve', comment: 'fine' }));
    expect(res.statusCode).toBe(200);
    const key = `stages/LegalReview/decisions/${tokenHash('tok-1')}/${AT.getTime()}.json`;
    expect(sfn.commandCalls(SendTaskSuccessCommand)[0].args[0].input.taskToken).toBe('tok-1');
    expect(sentOutput()).toEqual({
      decision: 'approve',
      reviewer: REVIEWER,
      decidedAt: AT.toISOString(),
      comment: 'fine',
      taskTokenSha256: tokenHash('tok-1'),
      record: { bucket: 'audit-bucket', key },
    });
    expect(s3.commandCalls(PutObjectCommand)[0].args[0].input).toMatchObject({ Bucket: 'audit-bucket', Key: key });
    expect(written()).toEqual({
      schemaVersion: '1',
      kind: 'review-decision',
      pipeline: 'Contracts',
      review: 'LegalReview',
      decision: 'approve',
      reviewer: REVIEWER,
      reviewerAccount: '111111111111',
      decidedAt: AT.toISOString(),
      taskTokenSha256: tokenHash('tok-1'),
      comment: 'fine',
      accepted: true,
    });
    expect(s3.commandCalls(PutObjectCommand)[0].args[0].input.Body).not.toContain('tok-1');
    const event = events.commandCalls(PutEventsCommand)[0].args[0].input.Entries![0];
    expect(event).toMatchObject({ DetailType: 'Review Decided', EventBusName: 'audit-bus' });
    expect(JSON.parse(event.Detail!)).toMatchObject({ review: 'LegalReview', decision: 'approve', reviewer: REVIEWER, accepted: true });
  });

  test('reject, with a base64 body as function URLs may send it', async () => {
    const res = await handleDecisionRequest(deps(), request({ taskToken: 'tok-2', decision: 'reject' }, { base64: true, path: '/decision' }));
    expect(res.statusCode).toBe(200);
    expect(sentOutput()).toMatchObject({ decision: 'reject', reviewer: REVIEWER });
    expect(sentOutput()).not.toHaveProperty('corrections');
  });

  test('correct: corrections valid against the reviewed stage\'s contract travel with the decision', async () => {
    const res = await handleDecisionRequest(deps(), request({ taskToken: 'tok-3', decision: 'correct', corrections: { riskScore: 0.9, level: 'high' } }));
    expect(res.statusCode).toBe(200);
    expect(sentOutput()).toMatchObject({ decision: 'correct', corrections: { riskScore: 0.9, level: 'high' } });
    expect(written()).toMatchObject({ decision: 'correct', corrections: { riskScore: 0.9, level: 'high' }, accepted: true });
  });
});

describe('invalid decisions are a 400 naming the field; nothing is answered or written', () => {
  test.each([
    ['a decision outside the contract', { taskToken: 't', decision: 'maybe' }, 'decision', /must be one of \["approve","reject","correct"\]/],
    ['no task token', { decision: 'approve' }, 'taskToken', /is required/],
    ['a reviewer in the body', { taskToken: 't', decision: 'approve', reviewer: 'mallory' }, 'reviewer', /IAM identity that signed the request/],
    ['an unknown field', { taskToken: 't', decision: 'approve', score: 1 }, 'score', /not a field of the decision contract/],
    ['correct without corrections', { taskToken: 't', decision: 'correct' }, 'corrections', /required with decision 'correct'/],
    ['corrections with approve', { taskToken: 't', decision: 'approve', corrections: { riskScore: 0.1 } }, 'corrections', /only with decision 'correct'/],
    ['a correction of the wrong type', { taskToken: 't', decision: 'correct', corrections: { riskScore: 'high' } }, 'corrections.riskScore', /must be number/],
    ['a correction out of the contract\'s range', { taskToken: 't', decision: 'correct', corrections: { riskScore: 7 } }, 'corrections.riskScore', /must be <= 1/],
    ['a correction to a field the contract does not have', { taskToken: 't', decision: 'correct', corrections: { verdict: 'ok' } }, 'corrections.verdict', /not a field/],
    ['a comment too long', { taskToken: 't', decision: 'approve', comment: 'x'.repeat(2001) }, 'comment', /2000/],
  ])('%s', async (_what, body, field, message) => {
    const res = await handleDecisionRequest(deps(), request(body));
    expect(res.statusCode).toBe(400);
    const parsed = JSON.parse(res.body);
    expect(parsed.field).toBe(field);
    expect(parsed.message).toMatch(message);
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  test('not JSON, not POST, no IAM identity, an unknown path', async () => {
    expect(JSON.parse((await handleDecisionRequest(deps(), request('{nope'))).body)).toMatchObject({ field: '(body)' });
    expect((await handleDecisionRequest(deps(), request({}, { method: 'GET' }))).statusCode).toBe(405);
    expect((await handleDecisionRequest(deps(), request({ taskToken: 't', decision: 'approve' }, { userArn: null }))).statusCode).toBe(403);
    expect((await handleDecisionRequest(deps(), request({}, { path: '/admin' }))).statusCode).toBe(404);
    expect(sfn.calls()).toHaveLength(0);
  });
});

describe('closed tasks and heartbeats', () => {
  test('a decision after the deadline is a 409 and is recorded as refused', async () => {
    sfn.on(SendTaskSuccessCommand).rejects(new TaskTimedOut({ message: 'Task Timed Out', $metadata: {} }));
    const res = await handleDecisionRequest(deps(), request({ taskToken: 'late', decision: 'approve' }));
    expect(res.statusCode).toBe(409);
    expect(JSON.parse(res.body)).toMatchObject({ error: 'ReviewClosed', field: 'taskToken' });
    expect(written()).toMatchObject({ decision: 'approve', accepted: false, refusedWith: 'TaskTimedOut', reviewer: REVIEWER });
  });

  test('an unexpected Step Functions error is thrown (the caller gets a 5xx), nothing is recorded', async () => {
    sfn.on(SendTaskSuccessCommand).rejects(Object.assign(new Error('boom'), { name: 'InternalFailure' }));
    await expect(handleDecisionRequest(deps(), request({ taskToken: 't', decision: 'approve' }))).rejects.toThrow('boom');
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  test('/heartbeat sends SendTaskHeartbeat for the token', async () => {
    const res = await handleDecisionRequest(deps(), request({ taskToken: 'tok-h' }, { path: '/heartbeat' }));
    expect(res.statusCode).toBe(200);
    expect(sfn.commandCalls(SendTaskHeartbeatCommand)[0].args[0].input).toEqual({ taskToken: 'tok-h' });
    expect((await handleDecisionRequest(deps(), request({}, { path: '/heartbeat' }))).statusCode).toBe(400);
  });
});
