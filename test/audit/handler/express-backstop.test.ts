/** The Express backstop core (ADR-0031): log subscription deliveries to run records, the document from the run claim. */
import { gzipSync } from 'zlib';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { CloudWatchLogsEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { ExpressBackstopDeps, recordAny, runIdOfExecutionArn } from '../../../src/audit/handler/express-backstop';
import { runRecordSha256 } from '../../../src/audit/handler/recorder';
import { awsError, docRef, fixedClock, RecordingLogger } from '../../helpers/handler-test-kit';

const s3 = mockClient(S3Client);
const events = mockClient(EventBridgeClient);
const dynamodb = mockClient(DynamoDBClient);
let logger: RecordingLogger;

const ARN = (name: string) => `arn:aws:states:us-east-1:111111111111:express:Contracts:${name}:0b4c5e6f-1111-2222-3333-444455556666`;
const STOP = Date.parse('2025-01-01T00:05:00.000Z');

beforeEach(() => {
  s3.reset();
  events.reset();
  dynamodb.reset();
  logger = new RecordingLogger();
  s3.on(PutObjectCommand).resolves({ VersionId: 'av1' });
  s3.on(GetObjectCommand).rejects(awsError('NoSuchKey', 404));
  s3.on(HeadObjectCommand).rejects(awsError('NotFound', 404));
  events.on(PutEventsCommand).resolves({ FailedEntryCount: 0 });
  dynamodb.on(GetItemCommand).resolves({
    Item: {
      runId: { S: 'run-7' },
      state: { S: 'STARTED' },
      claimedAt: { N: String(Date.parse('2025-01-01T00:00:00.000Z')) },
      document: { S: JSON.stringify(docRef()) },
      executionArn: { S: ARN('run-7') },
      startDate: { S: '2025-01-01T00:00:01.000Z' },
    },
  });
});

function deps(overrides: Partial<ExpressBackstopDeps> = {}): ExpressBackstopDeps {
  return {
    s3: new S3Client({}),
    events: new EventBridgeClient({}),
    pipeline: 'Contracts',
    auditBucket: 'audit-bucket',
    auditBus: 'audit-bus',
    stageOrder: ['Extract', 'Classify'],
    logger,
    now: fixedClock('2025-01-01T00:06:00.000Z'),
    claims: { dynamodb: new DynamoDBClient({}), table: 'claims-table' },
    ...overrides,
  };
}

/** What CloudWatch Logs delivers: base64 of gzip of the JSON batch, each message one execution log event. */
function delivery(messages: object[], messageType = 'DATA_MESSAGE'): CloudWatchLogsEvent {
  const batch = {
    messageType,
    owner: '111111111111',
    logGroup: '/aws/vendedlogs/states/cdk-ai-pipeline-x',
    logStream: 'states/Contracts/2025-01-01-00-05/abc',
    subscriptionFilters: ['ExpressBackstop'],
    logEvents: messages.map((m, i) => ({ id: String(i), timestamp: STOP, message: JSON.stringify(m) })),
  };
  return { awslogs: { data: gzipSync(Buffer.from(JSON.stringify(batch))).toString('base64') } };
}

const logEvent = (type: string, name = 'run-7', details: object = {}) => ({
  id: '12', type, details, previous_event_id: '11', event_timestamp: String(STOP), execution_arn: ARN(name), redrive_count: '0',
});

function putBody(): any {
  const calls = s3.commandCalls(PutObjectCommand);
  expect(calls).toHaveLength(1);
  return JSON.parse(calls[0].args[0].input.Body as string);
}

test('the run id is the execution name in an Express (or Standard) execution ARN', () => {
  expect(runIdOfExecutionArn(ARN('abc'))).toBe('abc');
  expect(runIdOfExecutionArn('arn:aws:states:us-east-1:111111111111:execution:Contracts:abc')).toBe('abc');
  expect(runIdOfExecutionArn('not-an-arn')).toBeUndefined();
});

test.each([
  ['ExecutionTimedOut', 'TIMED_OUT'],
  ['ExecutionAborted', 'ABORTED'],
  ['ExecutionFailed', 'FAILED'],
])('%s without a run record: one FAILED run record, the document and start from the run claim', async (type, status) => {
  const out = await recordAny(deps(), delivery([logEvent(type)]));

  expect(dynamodb).toHaveReceivedCommandWith(GetItemCommand, { TableName: 'claims-table', Key: { runId: { S: 'run-7' } } });
  expect(out).toEqual([{ record: { bucket: 'audit-bucket', key: 'runs/run-7.json', versionId: 'av1', sha256: expect.any(String) } }]);
  const body = putBody();
  expect(body).toEqual({
    schemaVersion: '1',
    kind: 'run',
    runId: 'run-7',
    pipeline: 'Contracts',
    document: docRef(),
    startedAt: '2025-01-01T00:00:01.000Z',
    endedAt: '2025-01-01T00:05:00.000Z',
    outcome: 'FAILED',
    errorName: `Execution.${status}`,
    route: { rule: 'backstop', destination: 'quarantine' },
    chain: [],
    recordSha256: runRecordSha256(body),
  });
  expect(events.commandCalls(PutEventsCommand)[0].args[0].input.Entries![0].DetailType).toBe('Run Failed');
});

test('a run already recorded (its failure path wrote the record) gets none, and its claim is not read', async () => {
  s3.on(HeadObjectCommand).resolves({ ContentLength: 100 });
  await expect(recordAny(deps(), delivery([logEvent('ExecutionFailed')]))).resolves.toEqual([{ skipped: 'exists' }]);
  expect(s3).not.toHaveReceivedCommand(PutObjectCommand);
  expect(dynamodb.calls()).toHaveLength(0);
  expect(events.calls()).toHaveLength(0);
});

test('a non-terminal event (the filter should not pass it) and a message that is not an execution event are ignored', async () => {
  const batch = delivery([logEvent('ExecutionSucceeded'), logEvent('TaskStateEntered')]);
  const raw = delivery([]);
  await expect(recordAny(deps(), batch)).resolves.toEqual([{ skipped: 'status' }, { skipped: 'status' }]);
  await expect(recordAny(deps(), raw)).resolves.toEqual([]);
  expect(s3.calls()).toHaveLength(0);
  expect(dynamodb.calls()).toHaveLength(0);
});

test('CloudWatch Logs\' control message (the reachability check) records nothing', async () => {
  await expect(recordAny(deps(), delivery([logEvent('ExecutionFailed')], 'CONTROL_MESSAGE'))).resolves.toEqual([]);
  expect(s3.calls()).toHaveLength(0);
});

test('no claim for the run: a run record with the run id and an empty document pointer, logged as an error', async () => {
  dynamodb.on(GetItemCommand).resolves({});
  await recordAny(deps(), delivery([logEvent('ExecutionTimedOut', 'run-8')]));
  expect(putBody()).toMatchObject({
    runId: 'run-8', document: { bucket: '', key: '' }, errorName: 'Execution.TIMED_OUT', startedAt: '2025-01-01T00:06:00.000Z', endedAt: '2025-01-01T00:05:00.000Z',
  });
  expect(logger.entries).toContainEqual(expect.objectContaining({ level: 'error', message: 'no run claim names the document: recorded without one' }));
});

test('a trigger without a claim table: recorded without a document, nothing read from DynamoDB', async () => {
  await recordAny(deps({ claims: undefined }), delivery([logEvent('ExecutionAborted')]));
  expect(putBody()).toMatchObject({ runId: 'run-7', document: { bucket: '', key: '' }, errorName: 'Execution.ABORTED' });
  expect(dynamodb.calls()).toHaveLength(0);
  expect(logger.entries).toContainEqual(expect.objectContaining({ level: 'error', message: 'no run-claim table: recorded without a document' }));
});

test('a failed claim read is thrown (Lambda retries, then the on-failure destination keeps the delivery)', async () => {
  dynamodb.on(GetItemCommand).rejects(awsError('ProvisionedThroughputExceededException', 400));
  await expect(recordAny(deps(), delivery([logEvent('ExecutionFailed')]))).rejects.toMatchObject({ name: 'ProvisionedThroughputExceededException' });
  expect(s3).not.toHaveReceivedCommand(PutObjectCommand);
});

test('Audit.RecorderUnavailable with the delivered route in the logged cause: recorded as delivered (ADR-0026)', async () => {
  const route = { rule: 'low-risk', destination: 'approved' };
  await recordAny(deps(), delivery([logEvent('ExecutionFailed', 'run-7', { error: 'Audit.RecorderUnavailable', cause: JSON.stringify(route) })]));
  expect(putBody()).toMatchObject({ outcome: 'SUCCEEDED', errorName: 'Audit.RecorderUnavailable', route });
});

test('the recorder\'s own events still go to the recorder', async () => {
  await expect(recordAny(deps(), { nothing: true } as any)).rejects.toThrow(/event it does not know/);
});
