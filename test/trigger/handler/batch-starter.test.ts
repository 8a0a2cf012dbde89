import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { BatchStarterDeps, startBatch } from '../../../src/trigger/handler/batch-starter';
import { executionName } from '../../../src/trigger/handler/start-run';
import { fakeStepFunctions, FakeExecution, sfnClient } from '../../helpers/fake-sfn';
import { awsError, RecordingLogger } from '../../helpers/handler-test-kit';

const sfn = mockClient(SFNClient);
const s3 = mockClient(S3Client);
const STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:111111111111:stateMachine:Contracts';
const BUCKET = 'docs-bucket';
let executions: Map<string, FakeExecution>;

const VERSIONS: { [key: string]: string } = { 'incoming/a.pdf': 'va', 'incoming/b.pdf': 'vb', 'incoming/c.pdf': 'vc' };

beforeEach(() => {
  executions = fakeStepFunctions(sfn, STATE_MACHINE_ARN);
  s3.reset();
  s3.on(HeadObjectCommand).callsFake((input: any) => {
    const v = VERSIONS[input.Key];
    if (!v) throw awsError('NotFound', 404);
    return { VersionId: v, ContentLength: 10, ETag: '"etag"' };
  });
});

function deps(): BatchStarterDeps {
  return {
    sfn: sfnClient(),
    s3: new S3Client({}),
    stateMachineArn: STATE_MACHINE_ARN,
    documentBucket: BUCKET,
    documentPrefix: 'incoming/',
    documentSuffixes: ['.pdf'],
    logger: new RecordingLogger(),
  };
}

const listed = (...keys: string[]) => ({ Items: keys.map((Key) => ({ Key, ETag: '"etag"', Size: 10 })) });

test('starts each listed document once, named after its version; already-run documents are skipped', async () => {
  // b.pdf was run before (by its upload event, under the same name).
  executions.set(executionName({ bucket: BUCKET, key: 'incoming/b.pdf', versionId: 'vb' }), { name: 'x', input: '{}', status: 'SUCCEEDED' });
  const counts = await startBatch(deps(), listed('incoming/a.pdf', 'incoming/b.pdf', 'incoming/c.pdf'));
  expect(counts).toEqual({ started: 2, skipped: 1, ignored: 0, gone: 0, pending: 0 });
  const started = sfn.commandCalls(StartExecutionCommand).map((c) => [c.args[0].input.name, JSON.parse(c.args[0].input.input!).document]);
  expect(started).toEqual([
    [executionName({ bucket: BUCKET, key: 'incoming/a.pdf', versionId: 'va' }), { bucket: BUCKET, key: 'incoming/a.pdf', versionId: 'va', size: 10, etag: 'etag' }],
    [executionName({ bucket: BUCKET, key: 'incoming/b.pdf', versionId: 'vb' }), expect.objectContaining({ key: 'incoming/b.pdf' })],
    [executionName({ bucket: BUCKET, key: 'incoming/c.pdf', versionId: 'vc' }), expect.objectContaining({ key: 'incoming/c.pdf' })],
  ]);
});

test('the same batch run twice (a retried map item, an overlapping schedule) starts nothing twice', async () => {
  const first = await startBatch(deps(), listed('incoming/a.pdf', 'incoming/c.pdf'));
  const again = await startBatch(deps(), listed('incoming/a.pdf', 'incoming/c.pdf'));
  expect(first).toEqual({ started: 2, skipped: 0, ignored: 0, gone: 0, pending: 0 });
  expect(again).toEqual({ started: 0, skipped: 2, ignored: 0, gone: 0, pending: 0 });
  expect(executions.size).toBe(2);
});

test('keys outside the filter and folder markers are ignored; a key deleted since the listing is gone', async () => {
  const counts = await startBatch(deps(), listed('incoming/', 'incoming/notes.txt', 'other/a.pdf', 'incoming/deleted.pdf', 'incoming/a.pdf'));
  expect(counts).toEqual({ started: 1, skipped: 0, ignored: 3, gone: 1, pending: 0 });
  expect(s3).toHaveReceivedCommandTimes(HeadObjectCommand, 2);
});

test('a throttled StartExecution fails the batch, so the map retries it', async () => {
  sfn.on(StartExecutionCommand).rejects(awsError('ThrottlingException'));
  await expect(startBatch(deps(), listed('incoming/a.pdf'))).rejects.toThrow('ThrottlingException');
});
