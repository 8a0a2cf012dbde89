import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { S3Client } from '@aws-sdk/client-s3';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { LocalQueue } from '../../../src/cli/local/outputs';
import { OutputConfig, OutputDeps, OutputInvocation, runOutput } from '../../../src/outputs/handler/output';
import { SqsQueue } from '../../../src/outputs/handler/sqs-queue';
import { awsError, RecordingLogger } from '../../helpers/handler-test-kit';

const sqs = mockClient(SQSClient);
const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/111111111111/replies';
const RUN_ID = 'd'.repeat(64);

const DRAFT = { intent: 'BILLING', reply: 'Dear customer, we are checking your invoice. Customer Care', followUp: true };
const review = (decision: string, corrections?: object) => ({
  decision,
  reviewer: 'arn:aws:sts::111111111111:assumed-role/agents/sam',
  decidedAt: '2026-01-01T01:00:00.000Z',
  taskTokenSha256: 'a'.repeat(64),
  ...(corrections ? { corrections } : {}),
});
function invocation(results: { [stage: string]: unknown }, route?: { rule: string; destination: string }): OutputInvocation {
  return {
    runId: RUN_ID,
    startedAt: '2026-01-01T00:00:00.000Z',
    state: { document: { bucket: 'calls', key: 'calls/billing.wav', versionId: 'v1' }, results, ...(route ? { route } : {}) },
  };
}

const REPLY: OutputConfig = {
  kind: 'sqs', output: 'Replies', pipeline: 'Calls', stages: ['Transcribe', 'Draft'], field: 'Draft.reply', approvedBy: { review: 'AgentReview', stage: 'Draft' },
};

function deps(config: OutputConfig): OutputDeps {
  return { s3: new S3Client({}), config, auditBucket: 'audit-bucket', queue: new SqsQueue(new SQSClient({}), QUEUE_URL), logger: new RecordingLogger() };
}

const sentBody = () => JSON.parse(sqs.commandCalls(SendMessageCommand)[0].args[0].input.MessageBody!);

beforeEach(() => {
  sqs.reset();
  sqs.on(SendMessageCommand).resolves({ MessageId: 'm-1' });
});

test('an approved run sends the field, with the run, the document and who approved it', async () => {
  const out = await runOutput(deps(REPLY), invocation({ Draft: DRAFT, AgentReview: review('approve') }));
  expect(out).toEqual({ sent: true, messageId: 'm-1' });
  expect(sqs).toHaveReceivedCommandWith(SendMessageCommand, { QueueUrl: QUEUE_URL });
  expect(sentBody()).toEqual({
    schemaVersion: '1',
    pipeline: 'Calls',
    runId: RUN_ID,
    document: { bucket: 'calls', key: 'calls/billing.wav', versionId: 'v1' },
    route: null,
    field: 'Draft.reply',
    value: DRAFT.reply,
    approval: { review: 'AgentReview', decision: 'approve', reviewer: expect.stringContaining('agents/sam'), decidedAt: '2026-01-01T01:00:00.000Z', corrected: false },
  });
});

test('a corrected run sends the reviewer\'s value, not the draft', async () => {
  await runOutput(deps(REPLY), invocation({ Draft: DRAFT, AgentReview: review('correct', { reply: 'Dear customer, your address is updated. Customer Care' }) }));
  expect(sentBody()).toEqual(expect.objectContaining({ value: 'Dear customer, your address is updated. Customer Care', approval: expect.objectContaining({ decision: 'correct', corrected: true }) }));
});

test('a correction of another field leaves the draft\'s value', async () => {
  await runOutput(deps(REPLY), invocation({ Draft: DRAFT, AgentReview: review('correct', { intent: 'ACCOUNT' }) }));
  expect(sentBody()).toEqual(expect.objectContaining({ value: DRAFT.reply, approval: expect.objectContaining({ corrected: false }) }));
});

test.each([
  ['a run the review never reached (a gate escalated it)', { Sentiment: { sentiment: 'NEGATIVE' } }],
  ['a run whose review timed out (no decision in the results)', { Draft: DRAFT }],
])('%s sends nothing', async (_what, results) => {
  expect(await runOutput(deps(REPLY), invocation(results, { rule: 'angry-caller', destination: 'supervisor' }))).toEqual({ sent: false, reason: 'not-approved' });
  expect(sqs).toHaveReceivedCommandTimes(SendMessageCommand, 0);
});

test('without a field, the whole result document; a run without the field sends nothing', async () => {
  const whole: OutputConfig = { kind: 'sqs', output: 'All', pipeline: 'Calls', stages: ['Transcribe', 'Draft'] };
  await runOutput(deps(whole), invocation({ Draft: DRAFT }, { rule: 'default', destination: 'review' }));
  expect(sentBody()).toEqual(expect.objectContaining({ schemaVersion: '1', runId: RUN_ID, results: { Draft: DRAFT }, route: { rule: 'default', destination: 'review' } }));
  sqs.resetHistory();
  expect(await runOutput(deps({ ...whole, field: 'Draft.reply' }), invocation({}))).toEqual({ sent: false, reason: 'field-absent' });
  expect(sqs).toHaveReceivedCommandTimes(SendMessageCommand, 0);
});

test('a FIFO queue gets the pipeline as group and the run id as deduplication id', async () => {
  await runOutput(deps({ ...REPLY, fifo: true }), invocation({ Draft: DRAFT, AgentReview: review('approve') }));
  expect(sqs).toHaveReceivedCommandWith(SendMessageCommand, { MessageGroupId: 'Calls', MessageDeduplicationId: RUN_ID });
});

test('SQS throttling is thrown (the output task retries it)', async () => {
  sqs.on(SendMessageCommand).rejects(awsError('RequestThrottled', 400));
  await expect(runOutput(deps(REPLY), invocation({ Draft: DRAFT, AgentReview: review('approve') }))).rejects.toMatchObject({ name: 'RequestThrottled' });
});

test('the local queue: one JSON line per message; a FIFO deduplication id is sent once', async () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'queue-')), 'queues', 'Replies.jsonl');
  const queue = new LocalQueue(file);
  const a = await queue.send(JSON.stringify({ n: 1 }), { groupId: 'Calls', deduplicationId: 'run-1' });
  const again = await queue.send(JSON.stringify({ n: 1 }), { groupId: 'Calls', deduplicationId: 'run-1' });
  await queue.send(JSON.stringify({ n: 2 }));
  const lines = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  expect(again.messageId).toBe(a.messageId);
  expect(lines.map((l) => l.body)).toEqual([{ n: 1 }, { n: 2 }]);
});
