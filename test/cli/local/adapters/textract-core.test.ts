/**
 * The REAL Textract stage core (`handleTextractEvent`) over the local adapters: S3 on disk, the PDF
 * text layer standing in for Textract, the callback API and the audit bus recorded in memory.
 */
import * as fs from 'fs';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { TextractClient } from '@aws-sdk/client-textract';
import { makeScannedPdf, makeTextPdf, tempDir } from './fixtures';
import { LocalEvents } from '../../../../src/cli/local/adapters/local-events';
import { LocalS3 } from '../../../../src/cli/local/adapters/local-s3';
import { LocalSfn } from '../../../../src/cli/local/adapters/local-sfn';
import { LocalTextract, toSnsEvent } from '../../../../src/cli/local/adapters/local-textract';
import { AuditEventTypes, ErrorNames, StageInvocation, TextractStageConfig } from '../../../../src/shared';
import { handleTextractEvent, TextractHandlerDeps } from '../../../../src/stages/textract/handler/textract';
import { fixedClock, makeValidators, POINTER_SCHEMA, RecordingLogger, STAGE_VIEW_SCHEMA } from '../../../helpers/handler-test-kit';

const OUTPUT_SCHEMA = {
  type: 'object',
  required: ['text', 'pages', 'mode'],
  properties: { text: POINTER_SCHEMA, pages: { type: 'integer', minimum: 1 }, mode: { enum: ['sync', 'async'] } },
  additionalProperties: false,
};
const VALIDATORS = makeValidators({ input: STAGE_VIEW_SCHEMA, output: OUTPUT_SCHEMA });
const CONFIG: TextractStageConfig = { stage: 'Extract', kind: 'textract', maxDocumentBytes: 50 * 1024 * 1024, maxPages: 300 };
const ENV = {
  pipeline: 'Contracts',
  workBucket: 'work',
  auditBucket: 'audit',
  auditBus: 'audit-bus',
  topicArn: 'arn:aws:sns:us-east-1:111111111111:textract-done',
  roleArn: 'arn:aws:iam::111111111111:role/textract-publish',
};

let warn: jest.SpyInstance;
beforeAll(() => { warn = jest.spyOn(console, 'warn').mockImplementation(() => {}); });
afterAll(() => warn.mockRestore());

let cleanup: () => void;
let s3: LocalS3;
let textract: LocalTextract;
let sfn: LocalSfn;
let events: LocalEvents;
let deps: TextractHandlerDeps;
beforeEach(() => {
  const t = tempDir();
  cleanup = t.cleanup;
  s3 = new LocalS3(t.dir);
  textract = new LocalTextract(s3);
  sfn = new LocalSfn();
  events = new LocalEvents();
  deps = {
    s3: s3 as unknown as S3Client,
    textract: textract as unknown as TextractClient,
    sfn: sfn as unknown as SFNClient,
    events: events as unknown as EventBridgeClient,
    validators: VALIDATORS,
    config: CONFIG,
    env: ENV,
    logger: new RecordingLogger(),
    now: fixedClock(),
  };
});
afterEach(() => cleanup());

async function upload(key: string, bytes: Uint8Array): Promise<StageInvocation> {
  const put = await s3.putObject('docs', key, bytes);
  return {
    state: { document: { bucket: 'docs', key, versionId: put.VersionId, size: bytes.length }, results: {} },
    runId: 'run-0001',
    taskToken: `token-for-${key}`,
  };
}

test('async path: a 3-page PDF starts a job; delivering its notification answers the task with the text', async () => {
  const pages = [['MASTER SERVICES AGREEMENT', 'between Gamma and Acme'], ['2. Fees'], ['3. Liability', 'unlimited']];
  const invocation = await upload('incoming/msa.pdf', await makeTextPdf(pages));

  const started = await handleTextractEvent(deps, invocation);
  expect(started).toEqual({ status: 'STARTED', jobId: expect.stringMatching(/^[0-9a-f]{64}$/) });
  expect(sfn.peek(invocation.taskToken!)).toBeUndefined();

  // What the runner does: take Textract's completion messages and deliver them as SNS would.
  const notifications = textract.takeNotifications();
  expect(notifications).toHaveLength(1);
  expect(notifications[0].topicArn).toBe(ENV.topicArn);
  expect(notifications[0].message.JobTag).toBe('Extract');
  await expect(handleTextractEvent(deps, toSnsEvent(notifications))).resolves.toBeUndefined();

  const answer = sfn.take(invocation.taskToken!);
  expect(answer).toEqual({
    status: 'SUCCESS',
    output: { text: { bucket: 'work', key: 'stages/Extract/run-0001/text.json', versionId: expect.any(String), sha256: expect.any(String) }, pages: 3, mode: 'async' },
  });
  expect(s3.getJson('work', 'stages/Extract/run-0001/text.json')).toEqual({
    pages: [
      { page: 1, text: 'MASTER SERVICES AGREEMENT\nbetween Gamma and Acme' },
      { page: 2, text: '2. Fees' },
      { page: 3, text: '3. Liability\nunlimited' },
    ],
  });
  expect(s3.getJson('audit', 'stages/Extract/run-0001.json')).toMatchObject({ outcome: 'SUCCEEDED', stage: 'Extract', runId: 'run-0001' });
  expect(events.entries().map((e) => e.detailType)).toEqual([AuditEventTypes.STAGE_SUCCEEDED]);
  expect(sfn.take(invocation.taskToken!)).toBeUndefined();
});

test('async path: a 250-page PDF (several result pages) ends with 250 pages of text', async () => {
  const pages = Array.from({ length: 250 }, (_v, i) => [`Page ${i + 1}`, `Words on page ${i + 1}`]);
  const invocation = await upload('incoming/big.pdf', await makeTextPdf(pages));
  await handleTextractEvent(deps, invocation);
  await handleTextractEvent(deps, toSnsEvent(textract.takeNotifications()));
  const answer = sfn.take(invocation.taskToken!);
  expect(answer).toMatchObject({ status: 'SUCCESS', output: { pages: 250, mode: 'async' } });
  const text = s3.getJson('work', 'stages/Extract/run-0001/text.json');
  expect(text.pages[249]).toEqual({ page: 250, text: 'Page 250\nWords on page 250' });
});

test('sync path: a 1-page PDF returns the output and answers the task at once', async () => {
  const invocation = await upload('incoming/nda.pdf', await makeTextPdf([['NON-DISCLOSURE AGREEMENT', 'between Acme and Beta']]));
  const output = await handleTextractEvent(deps, invocation);
  expect(output).toMatchObject({ pages: 1, mode: 'sync', text: { bucket: 'work', key: 'stages/Extract/run-0001/text.json' } });
  expect(textract.takeNotifications()).toEqual([]);
  expect(sfn.take(invocation.taskToken!)).toEqual({ status: 'SUCCESS', output });
  expect(s3.getJson('work', 'stages/Extract/run-0001/text.json')).toEqual({
    pages: [{ page: 1, text: 'NON-DISCLOSURE AGREEMENT\nbetween Acme and Beta' }],
  });
});

test('a scanned 1-page PDF fails with Document.NoText, audited', async () => {
  const invocation = await upload('incoming/scan.pdf', await makeScannedPdf(1));
  await expect(handleTextractEvent(deps, invocation)).rejects.toMatchObject({ name: ErrorNames.DOCUMENT_NO_TEXT });
  expect(s3.getJson('audit', 'stages/Extract/run-0001.json')).toMatchObject({ outcome: 'FAILED', errorName: ErrorNames.DOCUMENT_NO_TEXT });
  expect(events.entries(AuditEventTypes.STAGE_FAILED)).toHaveLength(1);
});

test('a scanned 3-page PDF fails the task with Document.NoText after the notification', async () => {
  const invocation = await upload('incoming/scan3.pdf', await makeScannedPdf(3));
  await handleTextractEvent(deps, invocation);
  await handleTextractEvent(deps, toSnsEvent(textract.takeNotifications()));
  expect(sfn.take(invocation.taskToken!)).toEqual({ status: 'FAILURE', error: ErrorNames.DOCUMENT_NO_TEXT, cause: expect.any(String) });
});

test('a document deleted after upload is Source.Gone', async () => {
  const invocation = await upload('incoming/gone.pdf', await makeTextPdf([['x']]));
  fs.rmSync(s3.localPath('docs', 'incoming/gone.pdf'));
  await expect(handleTextractEvent(deps, invocation)).rejects.toMatchObject({ name: ErrorNames.SOURCE_GONE });
});
