import { createHash } from 'crypto';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { documentFromRecord, executionName, startRuns, StarterDeps } from '../../../src/trigger/handler/starter';
import { awsError, RecordingLogger } from '../../helpers/handler-test-kit';

const sfn = mockClient(SFNClient);
const STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:111111111111:stateMachine:Contracts';
let logger: RecordingLogger;

beforeEach(() => {
  sfn.reset();
  logger = new RecordingLogger();
  sfn.on(StartExecutionCommand).callsFake((input) => ({
    executionArn: `${STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${input.name}`,
    startDate: new Date(0),
  }));
});

function deps(): StarterDeps {
  return { sfn: new SFNClient({}), stateMachineArn: STATE_MACHINE_ARN, logger };
}

/** An EventBridge "Object Created" event as the rule delivers it to SQS. */
function objectCreated(object: { 'key': string; 'size'?: number; 'etag'?: string; 'version-id'?: string }, bucket = 'docs-bucket') {
  return {
    'version': '0',
    'id': 'e1',
    'detail-type': 'Object Created',
    'source': 'aws.s3',
    'account': '111111111111',
    'time': '2025-01-01T00:00:00Z',
    'region': 'us-east-1',
    'resources': [`arn:aws:s3:::${bucket}`],
    'detail': { 'version': '0', 'bucket': { name: bucket }, object, 'request-id': 'r', 'requester': '111111111111', 'reason': 'PutObject' },
  };
}

function record(messageId: string, body: unknown): SQSRecord {
  return {
    messageId,
    receiptHandle: `rh-${messageId}`,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '0',
      SenderId: 's',
      ApproximateFirstReceiveTimestamp: '0',
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:111111111111:buffer',
    awsRegion: 'us-east-1',
  };
}

function sqs(...records: SQSRecord[]): SQSEvent {
  return { Records: records };
}

const hex = (s: string) => createHash('sha256').update(s).digest('hex');

describe('startRuns', () => {
  test('starts one execution per record, named from bucket/key/versionId', async () => {
    const event = sqs(record('m1', objectCreated({ 'key': 'incoming/msa.pdf', 'size': 8643, 'etag': 'abc', 'version-id': '3Lg' })));

    await expect(startRuns(deps(), event)).resolves.toEqual({ batchItemFailures: [] });

    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
    expect(sfn.commandCalls(StartExecutionCommand)[0].args[0].input).toEqual({
      stateMachineArn: STATE_MACHINE_ARN,
      name: hex('docs-bucket/incoming/msa.pdf/3Lg'),
      input: JSON.stringify({ document: { bucket: 'docs-bucket', key: 'incoming/msa.pdf', versionId: '3Lg', size: 8643, etag: 'abc' } }),
    });
  });

  test('without a version id the ETag names the execution', async () => {
    await startRuns(deps(), sqs(record('m1', objectCreated({ key: 'a.pdf', size: 1, etag: 'e-1' }))));
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, {
      name: hex('docs-bucket/a.pdf/e-1'),
      input: JSON.stringify({ document: { bucket: 'docs-bucket', key: 'a.pdf', size: 1, etag: 'e-1' } }),
    });
  });

  test('the key is kept as EventBridge delivers it (not URL-decoded)', async () => {
    await startRuns(deps(), sqs(record('m1', objectCreated({ 'key': 'incoming/my+contract%20v2.pdf', 'version-id': 'v' }))));
    const input = JSON.parse(sfn.commandCalls(StartExecutionCommand)[0].args[0].input.input!);
    expect(input.document.key).toBe('incoming/my+contract%20v2.pdf');
  });

  test('the same object twice gives the same name; ExecutionAlreadyExists counts as success', async () => {
    sfn.on(StartExecutionCommand)
      .resolvesOnce({ executionArn: 'arn:1', startDate: new Date(0) })
      .rejects(awsError('ExecutionAlreadyExists'));
    const body = objectCreated({ 'key': 'a.pdf', 'version-id': 'v1' });

    await expect(startRuns(deps(), sqs(record('m1', body), record('m2', body)))).resolves.toEqual({ batchItemFailures: [] });

    const names = sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input.name);
    expect(names).toEqual([hex('docs-bucket/a.pdf/v1'), hex('docs-bucket/a.pdf/v1')]);
    expect(logger.entries).toContainEqual(expect.objectContaining({ message: 'duplicate event: run already exists' }));
  });

  test('other errors report only that record for retry (partial batch response)', async () => {
    sfn.on(StartExecutionCommand, { name: hex('docs-bucket/b.pdf/v') }).rejects(awsError('ThrottlingException'));
    const event = sqs(
      record('m1', objectCreated({ 'key': 'a.pdf', 'version-id': 'v' })),
      record('m2', objectCreated({ 'key': 'b.pdf', 'version-id': 'v' })),
      record('m3', objectCreated({ 'key': 'c.pdf', 'version-id': 'v' })),
    );

    await expect(startRuns(deps(), event)).resolves.toEqual({ batchItemFailures: [{ itemIdentifier: 'm2' }] });
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 3);
    expect(logger.entries).toContainEqual(expect.objectContaining({ level: 'error', message: 'run not started' }));
  });

  test.each([
    ['not JSON', 'this is not json'],
    ['no bucket', { detail: { object: { key: 'a.pdf' } } }],
    ['no key', { detail: { bucket: { name: 'b' }, object: {} } }],
    ['empty object', {}],
  ])('an unusable body (%s) is logged and reported as a failure', async (_name, body) => {
    const event = sqs(record('bad', body), record('ok', objectCreated({ 'key': 'a.pdf', 'version-id': 'v' })));

    await expect(startRuns(deps(), event)).resolves.toEqual({ batchItemFailures: [{ itemIdentifier: 'bad' }] });
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
    expect(logger.entries).toContainEqual(expect.objectContaining({ level: 'error', message: 'message not understood' }));
  });

  test('an empty batch does nothing', async () => {
    await expect(startRuns(deps(), sqs())).resolves.toEqual({ batchItemFailures: [] });
    expect(sfn.calls()).toHaveLength(0);
  });
});

describe('executionName', () => {
  test('is 64 lowercase hex chars: a valid Step Functions name', () => {
    const name = executionName({ bucket: 'b', key: 'k'.repeat(1024), versionId: 'v' });
    expect(name).toMatch(/^[0-9a-f]{64}$/);
  });

  test('prefers versionId over etag, and falls back to nothing', () => {
    expect(executionName({ bucket: 'b', key: 'k', versionId: 'v', etag: 'e' })).toBe(hex('b/k/v'));
    expect(executionName({ bucket: 'b', key: 'k', etag: 'e' })).toBe(hex('b/k/e'));
    expect(executionName({ bucket: 'b', key: 'k' })).toBe(hex('b/k/'));
  });

  test('a new version is a new run', () => {
    expect(executionName({ bucket: 'b', key: 'k', versionId: '1' })).not.toBe(executionName({ bucket: 'b', key: 'k', versionId: '2' }));
  });
});

test('documentFromRecord reads bucket, key, size, etag and version', () => {
  expect(documentFromRecord(record('m', objectCreated({ 'key': 'k', 'size': 3, 'etag': 'e', 'version-id': 'v' }, 'bkt'))))
    .toEqual({ bucket: 'bkt', key: 'k', versionId: 'v', size: 3, etag: 'e' });
});
