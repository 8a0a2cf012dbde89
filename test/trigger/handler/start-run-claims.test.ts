/**
 * The start core of an Express pipeline (ADR-0029): Express does not deduplicate execution names, so
 * each start claims its run id first (a conditional put), starts, then marks the claim started. The
 * claim table is a fake that evaluates exactly the conditions the core sends (and refuses others).
 */
import {
  AttributeValue, ConditionalCheckFailedException, DeleteItemCommand, DynamoDBClient, GetItemCommand, PutItemCommand, UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEvent, SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { handleApiRequest } from '../../../src/trigger/handler/api';
import { startBatch } from '../../../src/trigger/handler/batch-starter';
import { claimsFromEnv, executionName, idempotentName, RunClaimsDeps, startRun, StartRunDeps } from '../../../src/trigger/handler/start-run';
import { startRuns } from '../../../src/trigger/handler/starter';
import { awsError, RecordingLogger } from '../../helpers/handler-test-kit';

const sfn = mockClient(SFNClient);
const ddb = mockClient(DynamoDBClient);
const s3 = mockClient(S3Client);
const ARN = 'arn:aws:states:us-east-1:111111111111:stateMachine:Screening';
const TABLE = 'claims';
const STALE = 60;
const DOC = { bucket: 'docs', key: 'transactions/t1.json', versionId: 'v1' };
const NAME = executionName(DOC);
const T0 = Date.parse('2026-11-29T07:00:00Z');

let table: Map<string, Record<string, AttributeValue>>;
let clock: number;
let ids: number;
let logger: RecordingLogger;
/** The next n StartExecution calls fail. */
let failStarts: number;
/** The run's claim state when each StartExecution came. */
let claimAtStart: Array<string | undefined>;

const PUT_CONDITION = 'attribute_not_exists(#runId) OR (#state = :claimed AND #claimedAt < :staleBefore)';

/** A claim table that evaluates the core's conditions (and refuses any it does not know). */
function fakeClaimTable(): void {
  ddb.on(PutItemCommand).callsFake((input: any) => {
    expect(input.ConditionExpression).toBe(PUT_CONDITION);
    expect(input.TableName).toBe(TABLE);
    const id = input.Item.runId.S;
    const old = table.get(id);
    const stale = old && old.state.S === 'CLAIMED' && Number(old.claimedAt.N) < Number(input.ExpressionAttributeValues[':staleBefore'].N);
    if (old && !stale) {
      throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {}, ...(input.ReturnValuesOnConditionCheckFailure === 'ALL_OLD' ? { Item: old } : {}) });
    }
    table.set(id, input.Item);
    return {};
  });
  ddb.on(UpdateItemCommand).callsFake((input: any) => {
    expect(input.ConditionExpression).toBe('#claimId = :mine');
    const old = table.get(input.Key.runId.S);
    if (!old || old.claimId.S !== input.ExpressionAttributeValues[':mine'].S) throw new ConditionalCheckFailedException({ message: 'failed', $metadata: {} });
    const v = input.ExpressionAttributeValues;
    table.set(input.Key.runId.S, { ...old, state: v[':started'], executionArn: v[':arn'], startDate: v[':startDate'] });
    return {};
  });
  ddb.on(DeleteItemCommand).callsFake((input: any) => {
    expect(input.ConditionExpression).toBe('#claimId = :mine AND #state = :claimed');
    const old = table.get(input.Key.runId.S);
    if (!old || old.claimId.S !== input.ExpressionAttributeValues[':mine'].S || old.state.S !== 'CLAIMED') {
      throw new ConditionalCheckFailedException({ message: 'failed', $metadata: {} });
    }
    table.delete(input.Key.runId.S);
    return {};
  });
  ddb.on(GetItemCommand).callsFake((input: any) => ({ Item: table.get(input.Key.runId.S) }));
}

beforeEach(() => {
  sfn.reset();
  ddb.reset();
  s3.reset();
  table = new Map();
  clock = T0;
  ids = 0;
  logger = new RecordingLogger();
  fakeClaimTable();
  failStarts = 0;
  claimAtStart = [];
  // Express: StartExecution never refuses a name it has seen.
  sfn.on(StartExecutionCommand).callsFake((input: any) => {
    claimAtStart.push(table.get(input.name)?.state.S);
    if (failStarts > 0) {
      failStarts--;
      throw awsError('ServiceUnavailable', 503);
    }
    return {
      executionArn: `${ARN.replace(':stateMachine:', ':express:')}:${input.name}:uuid-${sfn.commandCalls(StartExecutionCommand).length}`,
      startDate: new Date(clock),
    };
  });
});

function claims(): RunClaimsDeps {
  return { dynamodb: new DynamoDBClient({}), table: TABLE, staleSeconds: STALE, now: () => new Date(clock), newClaimId: () => `claim-${++ids}` };
}

function deps(): StartRunDeps {
  return { sfn: new SFNClient({}), stateMachineArn: ARN, logger, claims: claims() };
}

describe('startRun with a claim table (Express)', () => {
  test('the first start claims the run id, starts, and marks the claim started', async () => {
    const out = await startRun(deps(), DOC);
    expect(out).toEqual({ runId: NAME, executionArn: expect.stringContaining(`:express:Screening:${NAME}:`), started: true });
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, { stateMachineArn: ARN, name: NAME, input: JSON.stringify({ document: DOC }) });
    const claim = table.get(NAME)!;
    expect(claim.state.S).toBe('STARTED');
    expect(claim.executionArn.S).toBe(out.executionArn);
    expect(JSON.parse(claim.document.S!)).toEqual(DOC);
    // Kept 90 days (TTL, epoch seconds), as long as Step Functions keeps a Standard execution's name.
    expect(Number(claim.expiresAt.N)).toBe(T0 / 1000 + 90 * 24 * 3600);
    // Claimed before the start, marked started after it.
    expect(claimAtStart).toEqual(['CLAIMED']);
    expect(ddb.calls()).toHaveLength(2);
    expect(ddb.call(0).args[0]).toBeInstanceOf(PutItemCommand);
    expect(ddb.call(1).args[0]).toBeInstanceOf(UpdateItemCommand);
  });

  test('a duplicate start of a started run starts nothing (ConditionalCheckFailedException is the answer, not an error)', async () => {
    await startRun(deps(), DOC);
    clock += 5_000;
    const again = await startRun(deps(), DOC);
    expect(again).toEqual({ runId: NAME, executionArn: table.get(NAME)!.executionArn.S, started: false, claimedDocument: DOC });
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
    // Long after the starter's timeout, a started run is still never started again.
    clock += 30 * 24 * 3600 * 1000;
    expect((await startRun(deps(), DOC)).started).toBe(false);
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
  });

  test('a duplicate within the window of a claim not yet started is pending and starts nothing', async () => {
    table.set(NAME, { runId: { S: NAME }, claimId: { S: 'other' }, state: { S: 'CLAIMED' }, claimedAt: { N: String(T0 - 10_000) }, document: { S: JSON.stringify(DOC) } });
    const out = await startRun(deps(), DOC);
    expect(out).toMatchObject({ started: false, pending: true });
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 0);
    expect(table.get(NAME)!.claimId.S).toBe('other');
  });

  test('a stale claim (its starter died between claim and start) is taken over and started', async () => {
    table.set(NAME, { runId: { S: NAME }, claimId: { S: 'dead' }, state: { S: 'CLAIMED' }, claimedAt: { N: String(T0 - (STALE + 1) * 1000) } });
    const out = await startRun(deps(), DOC);
    expect(out.started).toBe(true);
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
    expect(table.get(NAME)).toMatchObject({ claimId: { S: 'claim-1' }, state: { S: 'STARTED' } });
  });

  test('a claim exactly at the window\'s edge is not yet stale', async () => {
    table.set(NAME, { runId: { S: NAME }, claimId: { S: 'alive' }, state: { S: 'CLAIMED' }, claimedAt: { N: String(T0 - STALE * 1000) } });
    expect(await startRun(deps(), DOC)).toMatchObject({ started: false, pending: true });
  });

  test('a Step Functions error after the claim releases it: the error is thrown and a retry starts the run', async () => {
    failStarts = 1;
    await expect(startRun(deps(), DOC)).rejects.toMatchObject({ name: 'ServiceUnavailable' });
    expect(table.has(NAME)).toBe(false);
    const retry = await startRun(deps(), DOC);
    expect(retry.started).toBe(true);
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 2);
  });

  test('when the release fails too, the claim stays and is taken over once stale', async () => {
    failStarts = 1;
    ddb.on(DeleteItemCommand).rejects(awsError('InternalServerError', 500));
    await expect(startRun(deps(), DOC)).rejects.toMatchObject({ name: 'ServiceUnavailable' });
    expect(logger.entries.map((e) => e.message)).toContain('claim not released: it can be taken over once stale');
    expect(await startRun(deps(), DOC)).toMatchObject({ started: false, pending: true });
    clock += (STALE + 1) * 1000;
    expect((await startRun(deps(), DOC)).started).toBe(true);
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 2);
  });

  test('a claim error other than the condition is thrown, and nothing starts', async () => {
    ddb.on(PutItemCommand).rejectsOnce(awsError('ProvisionedThroughputExceededException', 400));
    await expect(startRun(deps(), DOC)).rejects.toMatchObject({ name: 'ProvisionedThroughputExceededException' });
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 0);
  });

  test('without a claim table (Standard) nothing is claimed', async () => {
    await startRun({ sfn: new SFNClient({}), stateMachineArn: ARN, logger }, DOC);
    expect(ddb.calls()).toHaveLength(0);
  });

  test('claimsFromEnv: no table means Standard; a table needs a positive stale window', () => {
    const client = () => new DynamoDBClient({});
    expect(claimsFromEnv({}, 'CLAIM_TABLE', 'CLAIM_STALE_SECONDS', client)).toBeUndefined();
    expect(claimsFromEnv({ CLAIM_TABLE: 't', CLAIM_STALE_SECONDS: '60' }, 'CLAIM_TABLE', 'CLAIM_STALE_SECONDS', client)).toMatchObject({ table: 't', staleSeconds: 60 });
    expect(() => claimsFromEnv({ CLAIM_TABLE: 't' }, 'CLAIM_TABLE', 'CLAIM_STALE_SECONDS', client)).toThrow(/CLAIM_STALE_SECONDS must be a positive number/);
  });
});

describe('the three starters over the claim table', () => {
  const sqsEvent = (...messageIds: string[]): SQSEvent => ({
    Records: messageIds.map((messageId) => ({
      messageId,
      body: JSON.stringify({ detail: { bucket: { name: DOC.bucket }, object: { 'key': DOC.key, 'version-id': DOC.versionId } } }),
    })) as any,
  });

  test('S3 starter: a duplicate event starts nothing; one whose run is still being started is retried', async () => {
    expect(await startRuns(deps(), sqsEvent('m1', 'm2'))).toEqual({ batchItemFailures: [] });
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
    table.set(NAME, { ...table.get(NAME)!, state: { S: 'CLAIMED' }, claimedAt: { N: String(clock) } });
    expect(await startRuns(deps(), sqsEvent('m3'))).toEqual({ batchItemFailures: [{ itemIdentifier: 'm3' }] });
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
  });

  test('batch starter: started, skipped and pending counts; a batch run twice starts nothing twice', async () => {
    s3.on(HeadObjectCommand).callsFake((input: any) => ({ VersionId: input.Key === DOC.key ? 'v1' : 'v2', ContentLength: 10, ETag: '"e"' }));
    const batchDeps = { ...deps(), s3: new S3Client({}), documentBucket: 'docs', documentPrefix: 'transactions/', documentSuffixes: ['.json'] };
    const items = { Items: [{ Key: DOC.key }, { Key: 'transactions/t2.json' }] };
    expect(await startBatch(batchDeps, items)).toEqual({ started: 2, skipped: 0, ignored: 0, gone: 0, pending: 0 });
    expect(await startBatch(batchDeps, items)).toEqual({ started: 0, skipped: 2, ignored: 0, gone: 0, pending: 0 });
    const other = executionName({ bucket: 'docs', key: 'transactions/t2.json', versionId: 'v2' });
    table.set(other, { ...table.get(other)!, state: { S: 'CLAIMED' }, claimedAt: { N: String(clock) } });
    expect(await startBatch(batchDeps, items)).toEqual({ started: 0, skipped: 1, ignored: 0, gone: 0, pending: 1 });
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 2);
  });

  describe('API', () => {
    const apiDeps = () => ({
      ...deps(),
      s3: new S3Client({}),
      presignPut: async () => 'https://x',
      documentBucket: 'docs',
      documentPrefix: 'transactions/',
      documentSuffixes: ['.json'],
      uploadUrlSeconds: 900,
    });
    const req = (httpMethod: string, resource: string, body?: unknown, runId?: string): APIGatewayProxyEvent => ({
      httpMethod,
      resource,
      path: resource,
      body: body === undefined ? null : JSON.stringify(body),
      isBase64Encoded: false,
      pathParameters: runId ? { runId } : null,
    } as any);
    beforeEach(() => {
      s3.on(HeadObjectCommand).callsFake((input: any) => ({ VersionId: input.Key === DOC.key ? 'v1' : 'v2', ContentLength: 10 }));
    });

    test('POST /runs twice starts one run; GET /runs/{runId} reads the claim (no DescribeExecution for Express)', async () => {
      const first = await handleApiRequest(apiDeps(), req('POST', '/runs', { key: DOC.key }));
      expect(first.statusCode).toBe(202);
      const second = await handleApiRequest(apiDeps(), req('POST', '/runs', { key: DOC.key }));
      expect([second.statusCode, JSON.parse(second.body).status]).toEqual([200, 'ALREADY_STARTED']);
      expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
      const get = await handleApiRequest(apiDeps(), req('GET', '/runs/{runId}', undefined, NAME));
      expect(get.statusCode).toBe(200);
      expect(JSON.parse(get.body)).toMatchObject({
        runId: NAME,
        status: 'STARTED',
        statusSource: 'run-claim',
        document: { key: DOC.key, versionId: 'v1' },
        executionArn: expect.stringContaining(':express:'),
        startDate: new Date(T0).toISOString(),
      });
      expect(sfn.calls().filter((c) => c.args[0].constructor.name === 'DescribeExecutionCommand')).toHaveLength(0);
      const missing = await handleApiRequest(apiDeps(), req('GET', '/runs/{runId}', undefined, 'a'.repeat(64)));
      expect(missing.statusCode).toBe(404);
    });

    test('an idempotency key reused for another document is a conflict, read from the claim', async () => {
      expect((await handleApiRequest(apiDeps(), req('POST', '/runs', { key: DOC.key, idempotencyKey: 'order-1' }))).statusCode).toBe(202);
      const same = await handleApiRequest(apiDeps(), req('POST', '/runs', { key: DOC.key, idempotencyKey: 'order-1' }));
      expect(same.statusCode).toBe(200);
      const other = await handleApiRequest(apiDeps(), req('POST', '/runs', { key: 'transactions/t2.json', idempotencyKey: 'order-1' }));
      expect([other.statusCode, JSON.parse(other.body).field]).toEqual([409, 'idempotencyKey']);
      expect(table.has(idempotentName('order-1'))).toBe(true);
      expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
    });

    test('a run another request is still starting answers 409 StartInProgress with when to retry', async () => {
      table.set(NAME, { runId: { S: NAME }, claimId: { S: 'other' }, state: { S: 'CLAIMED' }, claimedAt: { N: String(T0 - 1000) }, document: { S: JSON.stringify(DOC) } });
      const res = await handleApiRequest(apiDeps(), req('POST', '/runs', { key: DOC.key }));
      expect(res.statusCode).toBe(409);
      expect(JSON.parse(res.body)).toMatchObject({ error: 'StartInProgress', status: 'STARTING', retryAfterSeconds: STALE });
      const get = await handleApiRequest(apiDeps(), req('GET', '/runs/{runId}', undefined, NAME));
      expect(JSON.parse(get.body).status).toBe('STARTING');
      expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 0);
    });
  });
});
