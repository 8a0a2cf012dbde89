/**
 * Duplicate upload events give exactly one execution. The starter's real core runs against an SFN
 * client that behaves like Step Functions Standard: StartExecution with a name already used and the
 * same input while that execution runs returns the existing execution; with another input, or once
 * the execution has closed, it fails with ExecutionAlreadyExists. Events arrive in the shape the
 * starter consumes: SQS batches of EventBridge "Object Created" events.
 */
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { startRuns, StarterDeps } from '../../src/trigger/handler/starter';
import { awsError, RecordingLogger } from '../helpers/handler-test-kit';

const STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:111111111111:stateMachine:Contracts';

/** Step Functions' bookkeeping of executions by name, as the service keeps it. */
class FakeStepFunctions {
  public readonly executions = new Map<string, { input: string; status: 'RUNNING' | 'SUCCEEDED'; arn: string }>();
  /** StartExecution calls that failed with a throttling error before any execution was looked at. */
  public throttleNext = 0;

  public async start(input: { name?: string; input?: string }) {
    // Every call is answered asynchronously, so concurrent callers interleave as they would over HTTP.
    await new Promise((resolve) => setImmediate(resolve));
    if (this.throttleNext > 0) {
      this.throttleNext--;
      throw awsError('ThrottlingException', 400, 'Rate exceeded');
    }
    const name = input.name!;
    const existing = this.executions.get(name);
    if (existing) {
      if (existing.status === 'RUNNING' && existing.input === input.input) return { executionArn: existing.arn, startDate: new Date(0) };
      throw awsError('ExecutionAlreadyExists', 400, `Execution Already Exists: '${existing.arn}'`);
    }
    const arn = `${STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${name}`;
    this.executions.set(name, { input: input.input!, status: 'RUNNING', arn });
    return { executionArn: arn, startDate: new Date(0) };
  }

  public closeAll() {
    for (const e of this.executions.values()) e.status = 'SUCCEEDED';
  }
}

const sfnMock = mockClient(SFNClient);
let stepFunctions: FakeStepFunctions;
let logger: RecordingLogger;
let deliveries = 0;

beforeEach(() => {
  sfnMock.reset();
  stepFunctions = new FakeStepFunctions();
  logger = new RecordingLogger();
  sfnMock.on(StartExecutionCommand).callsFake((input) => stepFunctions.start(input));
});

const deps = (): StarterDeps => ({ sfn: new SFNClient({}), stateMachineArn: STATE_MACHINE_ARN, logger });

/** One EventBridge delivery of "Object Created" (each delivery has its own event id and message id). */
function delivery(object: { 'key': string; 'size'?: number; 'etag'?: string; 'version-id'?: string }, bucket = 'docs-bucket'): SQSRecord {
  deliveries++;
  const body = {
    'version': '0',
    'id': `event-${deliveries}`,
    'detail-type': 'Object Created',
    'source': 'aws.s3',
    'account': '111111111111',
    'time': `2026-01-01T00:00:${String(deliveries % 60).padStart(2, '0')}Z`,
    'region': 'us-east-1',
    'resources': [`arn:aws:s3:::${bucket}`],
    'detail': { 'version': '0', 'bucket': { name: bucket }, object, 'request-id': `r-${deliveries}`, 'requester': '111111111111', 'reason': 'PutObject' },
  };
  return {
    messageId: `m-${deliveries}`,
    receiptHandle: `rh-${deliveries}`,
    body: JSON.stringify(body),
    attributes: { ApproximateReceiveCount: '1', SentTimestamp: '0', SenderId: 's', ApproximateFirstReceiveTimestamp: '0' },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:111111111111:buffer',
    awsRegion: 'us-east-1',
  };
}

const batch = (...records: SQSRecord[]): SQSEvent => ({ Records: records });
const UPLOAD = { 'key': 'incoming/msa 2026 #1 – Ünïcode.pdf', 'size': 8643, 'etag': 'abc', 'version-id': '3Lg' };

const tally = { cases: 0, events: 0, executions: 0 };
afterAll(() => {
  // eslint-disable-next-line no-console
  console.log(`duplicate events: ${tally.cases} cases, ${tally.events} deliveries of one upload, ${tally.executions} executions started (exactly one per case)`);
});

/** Checks the case's count of executions and records it in the summary. */
function expectExecutions(n: number, events: number) {
  expect(stepFunctions.executions.size).toBe(n);
  tally.cases++;
  tally.events += events;
  tally.executions += n;
}

test('3 identical events in a row (3 invocations): one execution, no record sent back for retry', async () => {
  for (let i = 0; i < 3; i++) {
    await expect(startRuns(deps(), batch(delivery(UPLOAD)))).resolves.toEqual({ batchItemFailures: [] });
  }
  expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(3);
  expectExecutions(1, 3);
});

test('2 identical events at once (2 concurrent invocations): one execution', async () => {
  const results = await Promise.all([startRuns(deps(), batch(delivery(UPLOAD))), startRuns(deps(), batch(delivery(UPLOAD)))]);
  expect(results).toEqual([{ batchItemFailures: [] }, { batchItemFailures: [] }]);
  expectExecutions(1, 2);
});

test('3 duplicates inside one SQS batch: one execution', async () => {
  await expect(startRuns(deps(), batch(delivery(UPLOAD), delivery(UPLOAD), delivery(UPLOAD)))).resolves.toEqual({ batchItemFailures: [] });
  expectExecutions(1, 3);
});

test('a duplicate after the run has finished is refused (ExecutionAlreadyExists) and dropped, not retried', async () => {
  await startRuns(deps(), batch(delivery(UPLOAD)));
  stepFunctions.closeAll();
  await expect(startRuns(deps(), batch(delivery(UPLOAD)))).resolves.toEqual({ batchItemFailures: [] });
  expect(logger.entries).toContainEqual(expect.objectContaining({ message: 'duplicate event: run already exists' }));
  expectExecutions(1, 2);
});

test('a throttled start is sent back for retry; its redelivery and a duplicate still give one execution', async () => {
  stepFunctions.throttleNext = 1;
  const first = delivery(UPLOAD);
  await expect(startRuns(deps(), batch(first))).resolves.toEqual({ batchItemFailures: [{ itemIdentifier: first.messageId }] });
  expect(stepFunctions.executions.size).toBe(0);
  // SQS redelivers the same message; EventBridge delivered a duplicate meanwhile: both in one batch.
  await expect(startRuns(deps(), batch(first, delivery(UPLOAD)))).resolves.toEqual({ batchItemFailures: [] });
  expectExecutions(1, 3);
});

test('two at once from two batches of 2 duplicates each: one execution', async () => {
  await Promise.all([
    startRuns(deps(), batch(delivery(UPLOAD), delivery(UPLOAD))),
    startRuns(deps(), batch(delivery(UPLOAD), delivery(UPLOAD))),
  ]);
  expectExecutions(1, 4);
});

test('control: a new version of the same key, and another key, are new documents and start their own runs', async () => {
  await startRuns(deps(), batch(delivery(UPLOAD), delivery({ ...UPLOAD, 'version-id': '4Mh', 'etag': 'def' }), delivery({ ...UPLOAD, key: 'incoming/other.pdf' })));
  await startRuns(deps(), batch(delivery(UPLOAD)));
  expect(stepFunctions.executions.size).toBe(3);
});
