import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { SendTaskFailureCommand, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import {
  Block,
  DetectDocumentTextCommand,
  GetDocumentTextDetectionCommand,
  StartDocumentTextDetectionCommand,
} from '@aws-sdk/client-textract';
import type { SNSEvent } from 'aws-lambda';
import 'aws-sdk-client-mock-jest';
import { events, s3, sfn, textract, textractDeps, textractEnv, TOKEN, useTextractMocks } from './textract-kit';
import { sha256 } from '../../../../src/runtime/s3';
import { AuditRecord, StageInvocation, TextractStageConfig } from '../../../../src/shared';
import { blocksToText } from '../../../../src/stages/textract/handler/text';
import {
  clientRequestToken,
  handleTextractEvent,
  isSnsEvent,
  isTransient,
  jobTag,
  TextractHandlerDeps,
  TextractJobRecord,
} from '../../../../src/stages/textract/handler/textract';
import {
  awsError,
  docRef,
  ImageFixtures,
  invocation,
  makeEncryptedPdf,
  makePdf,
  makeValidators,
  POINTER_SCHEMA,
  RecordingLogger,
  s3Body,
  STAGE_VIEW_SCHEMA,
} from '../../../helpers/handler-test-kit';


const OUTPUT_SCHEMA = {
  type: 'object',
  required: ['text', 'pages', 'mode'],
  properties: {
    text: POINTER_SCHEMA,
    pages: { type: 'integer', minimum: 1 },
    mode: { enum: ['sync', 'async'] },
  },
  additionalProperties: false,
};
const VALIDATORS = makeValidators({ input: STAGE_VIEW_SCHEMA, output: OUTPUT_SCHEMA });
const CONFIG: TextractStageConfig = { stage: 'Extract', kind: 'textract', maxDocumentBytes: 20 * 1024 * 1024, maxPages: 50 };
const ENV = textractEnv('Contracts');
const SECRET_LINE = 'CONFIDENTIAL: the purchase price is 4,200,000 USD';
const TEXT_KEY = 'stages/Extract/run-0001/text.json';
const AUDIT_KEY = 'stages/Extract/run-0001.json';

const currentLogger = useTextractMocks();
let logger: RecordingLogger;
beforeEach(() => { logger = currentLogger(); });

function deps(overrides: Partial<TextractHandlerDeps> = {}): TextractHandlerDeps {
  return textractDeps(CONFIG, VALIDATORS, ENV, logger, overrides);
}

/** The document in the source bucket: HeadObject answers `size`, GetObject the bytes (or a range). */
function givenDocument(bytes: Uint8Array, size = bytes.length) {
  s3.on(HeadObjectCommand).resolves({ ContentLength: size });
  s3.on(GetObjectCommand, { Bucket: 'docs-bucket' }).callsFake((input) => ({
    Body: s3Body(input.Range ? rangeOf(bytes, input.Range) : bytes),
  }));
}

/** The bytes a `bytes=a-b` range names (clipped to the object, as S3 does). */
function rangeOf(bytes: Uint8Array, range: string): Uint8Array {
  const [, a, b] = /^bytes=(\d+)-(\d+)$/.exec(range)!;
  return bytes.slice(Number(a), Number(b) + 1);
}

function line(text: string, page?: number): Block {
  return { BlockType: 'LINE', Text: text, ...(page ? { Page: page } : {}) };
}

function putBody(key: string): any {
  const call = s3.commandCalls(PutObjectCommand).find((c) => c.args[0].input.Key === key);
  if (!call) throw new Error(`no PutObject to ${key}`);
  return JSON.parse(call.args[0].input.Body as string);
}

function putKeys(): string[] {
  return s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input.Key!);
}

function stageInvocation(): StageInvocation {
  return invocation({ taskToken: TOKEN });
}

const INPUT_SHA = sha256(JSON.stringify({ document: docRef(), results: {} }));

describe('synchronous extraction (one page)', () => {
  test('a single-page PDF: DetectDocumentText, text.json, audit record, task success', async () => {
    givenDocument(await makePdf(1));
    textract.on(DetectDocumentTextCommand).resolves({
      DocumentMetadata: { Pages: 1 },
      Blocks: [{ BlockType: 'PAGE' }, line('This Agreement'), { BlockType: 'WORD', Text: 'This' }, line('is made', 1)],
    });

    const out = await handleTextractEvent(deps(), stageInvocation());

    const text = { pages: [{ page: 1, text: 'This Agreement\nis made' }] };
    const expected = {
      text: { bucket: 'work-bucket', key: TEXT_KEY, versionId: 'wv', sha256: sha256(JSON.stringify(text)) },
      pages: 1,
      mode: 'sync',
    };
    expect(out).toEqual(expected);
    expect(s3).toHaveReceivedCommandWith(HeadObjectCommand, { Bucket: 'docs-bucket', Key: 'incoming/contract.pdf', VersionId: 'v1' });
    // First the magic bytes, then the whole PDF for its page count.
    expect(s3.commandCalls(GetObjectCommand).map((c) => c.args[0].input.Range)).toEqual(['bytes=0-63', undefined]);
    expect(textract).toHaveReceivedCommandTimes(DetectDocumentTextCommand, 1);
    expect(textract).toHaveReceivedCommandWith(DetectDocumentTextCommand, {
      Document: { S3Object: { Bucket: 'docs-bucket', Name: 'incoming/contract.pdf', Version: 'v1' } },
    });
    expect(textract).not.toHaveReceivedCommand(StartDocumentTextDetectionCommand);
    expect(putBody(TEXT_KEY)).toEqual(text);
    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, { Bucket: 'work-bucket', Key: TEXT_KEY, ContentType: 'application/json' });

    const record: AuditRecord = putBody(AUDIT_KEY);
    expect(record).toEqual({
      schemaVersion: '1',
      kind: 'stage',
      runId: 'run-0001',
      pipeline: 'Contracts',
      stage: 'Extract',
      stageKind: 'textract',
      document: docRef(),
      inputSha256: INPUT_SHA,
      outputSha256: sha256(JSON.stringify(expected)),
      startedAt: '2025-01-01T00:00:00.000Z',
      endedAt: '2025-01-01T00:00:01.000Z',
      outcome: 'SUCCEEDED',
      // The input view and the output, kept beside the record (ADR-0017).
      content: {
        input: { key: 'stages/Extract/run-0001/input.json', sha256: INPUT_SHA, versionId: 'wv' },
        output: { key: 'stages/Extract/run-0001/output.json', sha256: sha256(JSON.stringify(expected)), versionId: 'wv' },
      },
    });
    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, { Bucket: 'audit-bucket', Key: AUDIT_KEY });
    expect(events).toHaveReceivedCommandTimes(PutEventsCommand, 1);
    expect(events.commandCalls(PutEventsCommand)[0].args[0].input.Entries![0]).toMatchObject({
      Source: 'cdk-ai-pipeline', DetailType: 'Stage Succeeded', EventBusName: 'audit-bus',
    });

    expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
    expect(sfn).toHaveReceivedCommandWith(SendTaskSuccessCommand, { taskToken: TOKEN, output: JSON.stringify(expected) });
  });

  test('a PNG is read only for its header and extracted synchronously', async () => {
    givenDocument(ImageFixtures.png(2048));
    textract.on(DetectDocumentTextCommand).resolves({ Blocks: [line('Scanned page')] });

    const out = await handleTextractEvent(deps(), stageInvocation());

    expect(out).toMatchObject({ pages: 1, mode: 'sync' });
    expect(s3).toHaveReceivedCommandTimes(GetObjectCommand, 1);
    expect(s3).toHaveReceivedCommandWith(GetObjectCommand, { Range: 'bytes=0-63' });
  });

  test('without a version id the S3Object has no Version', async () => {
    givenDocument(ImageFixtures.jpeg());
    textract.on(DetectDocumentTextCommand).resolves({ Blocks: [line('x')] });
    const inv = invocation({ taskToken: TOKEN, state: { document: docRef({ versionId: undefined }), results: {} } });

    await handleTextractEvent(deps(), inv);

    expect(textract.commandCalls(DetectDocumentTextCommand)[0].args[0].input).toEqual({
      Document: { S3Object: { Bucket: 'docs-bucket', Name: 'incoming/contract.pdf' } },
    });
  });

  test('without a task token the output is returned and no task is answered (plain invoke)', async () => {
    givenDocument(ImageFixtures.png());
    textract.on(DetectDocumentTextCommand).resolves({ Blocks: [line('x')] });

    await expect(handleTextractEvent(deps(), invocation())).resolves.toMatchObject({ mode: 'sync', pages: 1 });
    expect(sfn).not.toHaveReceivedCommand(SendTaskSuccessCommand);
  });

  test('no LINE block is Document.NoText: FAILED audit record, no task success', async () => {
    givenDocument(await makePdf(1));
    textract.on(DetectDocumentTextCommand).resolves({ Blocks: [{ BlockType: 'PAGE' }] });

    await expect(handleTextractEvent(deps(), stageInvocation())).rejects.toMatchObject({ name: 'Document.NoText' });

    expect(putKeys()).toEqual(['stages/Extract/run-0001/input.json', AUDIT_KEY]);
    expect(putBody(AUDIT_KEY)).toMatchObject({ outcome: 'FAILED', errorName: 'Document.NoText', stage: 'Extract' });
    expect(events.commandCalls(PutEventsCommand)[0].args[0].input.Entries![0].DetailType).toBe('Stage Failed');
    expect(sfn).not.toHaveReceivedCommand(SendTaskSuccessCommand);
  });

  test('an output that breaks the contract is Contract.OutputViolation', async () => {
    givenDocument(ImageFixtures.png());
    textract.on(DetectDocumentTextCommand).resolves({ Blocks: [line('x')] });
    const strict = makeValidators({ input: STAGE_VIEW_SCHEMA, output: { ...OUTPUT_SCHEMA, properties: { ...OUTPUT_SCHEMA.properties, mode: { const: 'async' } } } });

    await expect(handleTextractEvent(deps({ validators: strict }), stageInvocation()))
      .rejects.toMatchObject({ name: 'Contract.OutputViolation' });
    expect(putBody(AUDIT_KEY)).toMatchObject({ outcome: 'FAILED', errorName: 'Contract.OutputViolation' });
    expect(sfn).not.toHaveReceivedCommand(SendTaskSuccessCommand);
  });

  test.each([
    ['UnsupportedDocumentException', 'Document.UnsupportedType'],
    ['BadDocumentException', 'Document.Corrupt'],
    ['DocumentTooLargeException', 'Document.TooLarge'],
    ['InvalidS3ObjectException', 'Source.AccessDenied'],
  ])('Textract %s becomes %s', async (sdkName, errorName) => {
    givenDocument(ImageFixtures.png());
    textract.on(DetectDocumentTextCommand).rejects(awsError(sdkName));

    await expect(handleTextractEvent(deps(), stageInvocation())).rejects.toMatchObject({ name: errorName });
    expect(putBody(AUDIT_KEY)).toMatchObject({ outcome: 'FAILED', errorName });
  });

  test('Textract throttling is re-thrown as is (the task retries it)', async () => {
    givenDocument(ImageFixtures.png());
    textract.on(DetectDocumentTextCommand).rejects(awsError('ProvisionedThroughputExceededException'));

    await expect(handleTextractEvent(deps(), stageInvocation())).rejects.toMatchObject({ name: 'ProvisionedThroughputExceededException' });
  });

  test('document text never reaches the logs', async () => {
    givenDocument(ImageFixtures.png());
    textract.on(DetectDocumentTextCommand).resolves({ Blocks: [line(SECRET_LINE)] });

    await handleTextractEvent(deps(), stageInvocation());

    expect(logger.entries.length).toBeGreaterThan(0);
    expect(logger.text()).not.toContain('4,200,000');
  });
});

describe('preflight failures are audited and re-thrown', () => {
  test('input contract violation: no S3 call', async () => {
    const bad = { ...stageInvocation(), state: { document: { bucket: 'docs-bucket' } as any } };
    await expect(handleTextractEvent(deps(), bad)).rejects.toMatchObject({ name: 'Contract.InputViolation' });
    expect(s3).not.toHaveReceivedCommand(HeadObjectCommand);
    expect(putBody(AUDIT_KEY)).toMatchObject({ outcome: 'FAILED', errorName: 'Contract.InputViolation' });
  });

  test('empty object: Document.Empty before any read', async () => {
    givenDocument(new Uint8Array(), 0);
    await expect(handleTextractEvent(deps(), stageInvocation())).rejects.toMatchObject({ name: 'Document.Empty' });
    expect(s3).not.toHaveReceivedCommand(GetObjectCommand);
    expect(putBody(AUDIT_KEY)).toEqual({
      schemaVersion: '1',
      kind: 'stage',
      runId: 'run-0001',
      pipeline: 'Contracts',
      stage: 'Extract',
      stageKind: 'textract',
      document: docRef(),
      inputSha256: INPUT_SHA,
      startedAt: '2025-01-01T00:00:00.000Z',
      endedAt: '2025-01-01T00:00:01.000Z',
      outcome: 'FAILED',
      errorName: 'Document.Empty',
      content: { input: { key: 'stages/Extract/run-0001/input.json', sha256: INPUT_SHA, versionId: 'wv' } },
    });
  });

  test('over maxDocumentBytes: Document.TooLarge', async () => {
    givenDocument(await makePdf(1), CONFIG.maxDocumentBytes + 1);
    await expect(handleTextractEvent(deps(), stageInvocation())).rejects.toMatchObject({ name: 'Document.TooLarge' });
    expect(s3).not.toHaveReceivedCommand(GetObjectCommand);
  });

  test('over maxPages: Document.TooLarge, no Textract call', async () => {
    givenDocument(await makePdf(4));
    await expect(handleTextractEvent(deps({ config: { ...CONFIG, maxPages: 3 } }), stageInvocation()))
      .rejects.toMatchObject({ name: 'Document.TooLarge' });
    expect(textract.calls()).toHaveLength(0);
  });

  test('encrypted PDF: Document.Encrypted, no Textract call', async () => {
    givenDocument(await makeEncryptedPdf());
    await expect(handleTextractEvent(deps(), stageInvocation())).rejects.toMatchObject({ name: 'Document.Encrypted' });
    expect(textract.calls()).toHaveLength(0);
    expect(putBody(AUDIT_KEY)).toMatchObject({ outcome: 'FAILED', errorName: 'Document.Encrypted' });
  });

  test('unsupported type: Document.UnsupportedType', async () => {
    givenDocument(ImageFixtures.gif());
    await expect(handleTextractEvent(deps(), stageInvocation())).rejects.toMatchObject({ name: 'Document.UnsupportedType' });
  });

  test.each([
    ['NotFound', 404, 'Source.Gone'],
    ['Forbidden', 403, 'Source.AccessDenied'],
  ])('HeadObject %s: %s', async (sdkName, status, errorName) => {
    s3.on(HeadObjectCommand).rejects(awsError(sdkName, status));
    await expect(handleTextractEvent(deps(), stageInvocation())).rejects.toMatchObject({ name: errorName });
    expect(putBody(AUDIT_KEY)).toMatchObject({ outcome: 'FAILED', errorName });
  });

  test('GetObject NoSuchVersion: Source.Gone', async () => {
    s3.on(HeadObjectCommand).resolves({ ContentLength: 10 });
    s3.on(GetObjectCommand).rejects(awsError('NoSuchVersion', 404));
    await expect(handleTextractEvent(deps(), stageInvocation())).rejects.toMatchObject({ name: 'Source.Gone' });
  });

  test('a failure to write the audit record does not hide the named error', async () => {
    givenDocument(new Uint8Array(), 0);
    s3.on(PutObjectCommand).rejects(awsError('InternalError', 500));
    await expect(handleTextractEvent(deps(), stageInvocation())).rejects.toMatchObject({ name: 'Document.Empty' });
    expect(logger.entries).toContainEqual(expect.objectContaining({ level: 'error', message: 'audit record not written' }));
  });
});

describe('asynchronous start (multi-page)', () => {
  test('a 3-page PDF starts a job, writes its record and leaves the task waiting', async () => {
    givenDocument(await makePdf(3));
    textract.on(StartDocumentTextDetectionCommand).resolves({ JobId: 'job-123' });

    const out = await handleTextractEvent(deps(), stageInvocation());

    expect(out).toEqual({ status: 'STARTED', jobId: 'job-123' });
    expect(textract).toHaveReceivedCommandTimes(StartDocumentTextDetectionCommand, 1);
    expect(textract.commandCalls(StartDocumentTextDetectionCommand)[0].args[0].input).toEqual({
      DocumentLocation: { S3Object: { Bucket: 'docs-bucket', Name: 'incoming/contract.pdf', Version: 'v1' } },
      ClientRequestToken: sha256(`run-0001/Extract/${TOKEN}`),
      JobTag: 'Extract',
      NotificationChannel: { SNSTopicArn: ENV.topicArn, RoleArn: ENV.roleArn },
    });
    expect(textract).not.toHaveReceivedCommand(DetectDocumentTextCommand);
    const job: TextractJobRecord = putBody('stages/Extract/jobs/job-123.json');
    expect(job).toEqual({
      taskToken: TOKEN,
      runId: 'run-0001',
      document: docRef(),
      startedAt: '2025-01-01T00:00:00.000Z',
      inputSha256: INPUT_SHA,
      pages: 3,
    });
    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, { Bucket: 'work-bucket', Key: 'stages/Extract/jobs/job-123.json' });
    // No audit record and no answer yet: the completion writes and sends them.
    expect(putKeys()).toEqual(['stages/Extract/jobs/job-123.json']);
    expect(events).not.toHaveReceivedCommand(PutEventsCommand);
    expect(sfn.calls()).toHaveLength(0);
  });

  test('a TIFF goes async without a page count in the job record', async () => {
    givenDocument(ImageFixtures.tiffBigEndian(4096));
    textract.on(StartDocumentTextDetectionCommand).resolves({ JobId: 'job-tiff' });

    await handleTextractEvent(deps(), stageInvocation());

    expect(putBody('stages/Extract/jobs/job-tiff.json')).not.toHaveProperty('pages');
    expect(s3).toHaveReceivedCommandTimes(GetObjectCommand, 1);
  });

  test('a one-page PDF over 10 MiB goes async', async () => {
    givenDocument(await makePdf(1), 11 * 1024 * 1024);
    textract.on(StartDocumentTextDetectionCommand).resolves({ JobId: 'job-big' });
    await expect(handleTextractEvent(deps(), stageInvocation())).resolves.toEqual({ status: 'STARTED', jobId: 'job-big' });
  });

  test('a multi-page document without a task token is Contract.InputViolation', async () => {
    givenDocument(await makePdf(2));
    await expect(handleTextractEvent(deps(), invocation())).rejects.toMatchObject({ name: 'Contract.InputViolation' });
    expect(textract.calls()).toHaveLength(0);
    expect(putBody(AUDIT_KEY)).toMatchObject({ outcome: 'FAILED', errorName: 'Contract.InputViolation' });
  });

  test('a start failure is audited and re-thrown', async () => {
    givenDocument(await makePdf(2));
    textract.on(StartDocumentTextDetectionCommand).rejects(awsError('ThrottlingException'));
    await expect(handleTextractEvent(deps(), stageInvocation())).rejects.toMatchObject({ name: 'ThrottlingException' });
    expect(putBody(AUDIT_KEY)).toMatchObject({ outcome: 'FAILED', errorName: 'ThrottlingException' });
  });
});

describe('asynchronous completion (SNS)', () => {
  const JOB: TextractJobRecord = {
    taskToken: TOKEN,
    runId: 'run-0001',
    document: docRef(),
    startedAt: '2024-12-31T23:59:00.000Z',
    inputSha256: INPUT_SHA,
    pages: 3,
  };

  function snsEvent(message: object | string): SNSEvent {
    return {
      Records: [{
        EventSource: 'aws:sns',
        EventVersion: '1.0',
        EventSubscriptionArn: `${ENV.topicArn}:sub`,
        Sns: {
          Type: 'Notification',
          MessageId: 'msg-1',
          TopicArn: ENV.topicArn,
          Subject: '',
          Message: typeof message === 'string' ? message : JSON.stringify(message),
          Timestamp: '2025-01-01T00:00:00.000Z',
          SignatureVersion: '1',
          Signature: '',
          SigningCertUrl: '',
          UnsubscribeUrl: '',
          MessageAttributes: {},
        },
      }],
    };
  }

  function notification(status = 'SUCCEEDED', extra: object = {}) {
    return snsEvent({
      JobId: 'job-123',
      Status: status,
      API: 'StartDocumentTextDetection',
      JobTag: 'Extract',
      Timestamp: 1735689600000,
      DocumentLocation: { S3ObjectName: 'incoming/contract.pdf', S3Bucket: 'docs-bucket' },
      ...extra,
    });
  }

  function givenJob(job: TextractJobRecord = JOB) {
    s3.on(GetObjectCommand, { Bucket: 'work-bucket', Key: 'stages/Extract/jobs/job-123.json' }).resolves({ Body: s3Body(job) });
  }

  function givenBlocks(pages: Block[][], pageCount = 3) {
    textract.on(GetDocumentTextDetectionCommand).callsFake((input) => {
      const i = input.NextToken ? Number(input.NextToken) : 0;
      return {
        JobStatus: 'SUCCEEDED',
        DocumentMetadata: { Pages: pageCount },
        Blocks: pages[i],
        ...(i + 1 < pages.length ? { NextToken: String(i + 1) } : {}),
      };
    });
  }

  test('SUCCEEDED: paginates, writes text.json and the audit record, sends task success', async () => {
    givenJob();
    givenBlocks([[line('Page one, line one', 1), line('Page one, line two', 1)], [line('Page three', 3)]]);

    await expect(handleTextractEvent(deps(), notification())).resolves.toBeUndefined();

    expect(textract.commandCalls(GetDocumentTextDetectionCommand).map((c) => c.args[0].input)).toEqual([
      { JobId: 'job-123', MaxResults: 1000, NextToken: undefined },
      { JobId: 'job-123', MaxResults: 1000, NextToken: '1' },
    ]);
    const text = {
      pages: [
        { page: 1, text: 'Page one, line one\nPage one, line two' },
        { page: 2, text: '' },
        { page: 3, text: 'Page three' },
      ],
    };
    expect(putBody(TEXT_KEY)).toEqual(text);
    const output = {
      text: { bucket: 'work-bucket', key: TEXT_KEY, versionId: 'wv', sha256: sha256(JSON.stringify(text)) },
      pages: 3,
      mode: 'async',
    };
    expect(putBody(AUDIT_KEY)).toEqual({
      schemaVersion: '1',
      kind: 'stage',
      runId: 'run-0001',
      pipeline: 'Contracts',
      stage: 'Extract',
      stageKind: 'textract',
      document: docRef(),
      inputSha256: INPUT_SHA,
      outputSha256: sha256(JSON.stringify(output)),
      startedAt: JOB.startedAt,
      endedAt: '2025-01-01T00:00:00.000Z',
      outcome: 'SUCCEEDED',
      // The async completion knows the output (the job record holds only the input's sha256).
      content: { output: { key: 'stages/Extract/run-0001/output.json', sha256: sha256(JSON.stringify(output)), versionId: 'wv' } },
    });
    expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
    expect(sfn).toHaveReceivedCommandWith(SendTaskSuccessCommand, { taskToken: TOKEN, output: JSON.stringify(output) });
    expect(sfn).not.toHaveReceivedCommand(SendTaskFailureCommand);
  });

  test('FAILED: Textract.JobFailed audit record and task failure', async () => {
    givenJob();

    await handleTextractEvent(deps(), notification('FAILED'));

    expect(textract.calls()).toHaveLength(0);
    expect(putBody(AUDIT_KEY)).toMatchObject({ outcome: 'FAILED', errorName: 'Textract.JobFailed', startedAt: JOB.startedAt });
    expect(sfn).toHaveReceivedCommandWith(SendTaskFailureCommand, {
      taskToken: TOKEN,
      error: 'Textract.JobFailed',
      cause: 'Textract job job-123 ended with status FAILED',
    });
    expect(sfn).not.toHaveReceivedCommand(SendTaskSuccessCommand);
  });

  test('ERROR status is Textract.JobFailed too', async () => {
    givenJob();
    await handleTextractEvent(deps(), notification('ERROR'));
    expect(sfn).toHaveReceivedCommandWith(SendTaskFailureCommand, { error: 'Textract.JobFailed' });
  });

  test('no text: Document.NoText task failure, message without document text', async () => {
    givenJob();
    givenBlocks([[{ BlockType: 'PAGE', Page: 1 }]]);

    await handleTextractEvent(deps(), notification());

    expect(sfn).toHaveReceivedCommandWith(SendTaskFailureCommand, {
      taskToken: TOKEN, error: 'Document.NoText', cause: 'Textract found no line of text in the document',
    });
    expect(putBody(AUDIT_KEY)).toMatchObject({ outcome: 'FAILED', errorName: 'Document.NoText' });
    expect(putKeys()).not.toContain(TEXT_KEY);
  });

  test('output contract violation: Contract.OutputViolation task failure', async () => {
    givenJob();
    givenBlocks([[line('x')]], 1);
    const strict = makeValidators({ input: STAGE_VIEW_SCHEMA, output: { ...OUTPUT_SCHEMA, properties: { ...OUTPUT_SCHEMA.properties, mode: { const: 'sync' } } } });

    await handleTextractEvent(deps({ validators: strict }), notification());

    expect(sfn).toHaveReceivedCommandWith(SendTaskFailureCommand, { taskToken: TOKEN, error: 'Contract.OutputViolation' });
    expect(putBody(AUDIT_KEY)).toMatchObject({ outcome: 'FAILED', errorName: 'Contract.OutputViolation' });
  });

  test('more pages than maxPages (a TIFF): Document.TooLarge task failure', async () => {
    givenJob({ ...JOB, pages: undefined });
    givenBlocks([[line('x')]], 80);
    await handleTextractEvent(deps(), notification());
    expect(sfn).toHaveReceivedCommandWith(SendTaskFailureCommand, { error: 'Document.TooLarge' });
  });

  test('throttling is re-thrown for Lambda to retry: nothing answered, nothing audited', async () => {
    givenJob();
    textract.on(GetDocumentTextDetectionCommand).rejects(awsError('ProvisionedThroughputExceededException'));

    await expect(handleTextractEvent(deps(), notification())).rejects.toMatchObject({ name: 'ProvisionedThroughputExceededException' });

    expect(sfn.calls()).toHaveLength(0);
    expect(s3).not.toHaveReceivedCommand(PutObjectCommand);
  });

  test('a task that already closed is logged, not retried', async () => {
    givenJob();
    givenBlocks([[line('x')]], 1);
    sfn.on(SendTaskSuccessCommand).rejects(awsError('TaskTimedOut'));

    await expect(handleTextractEvent(deps(), notification())).resolves.toBeUndefined();
    expect(logger.entries).toContainEqual(expect.objectContaining({ level: 'warn', message: 'task already closed' }));
  });

  test('a transient SendTaskSuccess failure is re-thrown', async () => {
    givenJob();
    givenBlocks([[line('x')]], 1);
    sfn.on(SendTaskSuccessCommand).rejects(awsError('ThrottlingException'));
    await expect(handleTextractEvent(deps(), notification())).rejects.toMatchObject({ name: 'ThrottlingException' });
  });

  test('a job without a record is ignored', async () => {
    s3.on(GetObjectCommand).rejects(awsError('NoSuchKey', 404));
    await expect(handleTextractEvent(deps(), notification())).resolves.toBeUndefined();
    expect(textract.calls()).toHaveLength(0);
    expect(sfn.calls()).toHaveLength(0);
  });

  test("another stage's job (JobTag) is ignored", async () => {
    await handleTextractEvent(deps(), notification('SUCCEEDED', { JobTag: 'Other' }));
    expect(s3.calls()).toHaveLength(0);
    expect(sfn.calls()).toHaveLength(0);
  });

  test('a message that is not JSON is ignored', async () => {
    await expect(handleTextractEvent(deps(), snsEvent('not json'))).resolves.toBeUndefined();
    expect(s3.calls()).toHaveLength(0);
  });

  test('document text never reaches the logs', async () => {
    givenJob();
    givenBlocks([[line(SECRET_LINE)]], 1);
    await handleTextractEvent(deps(), notification());
    expect(logger.text()).not.toContain('4,200,000');
  });
});

describe('helpers', () => {
  test('blocksToText groups LINE blocks by page, page 1 by default', () => {
    expect(blocksToText([line('a'), line('b', 2), line('c', 1), { BlockType: 'WORD', Text: 'w' }], 2)).toEqual({
      pages: [{ page: 1, text: 'a\nc' }, { page: 2, text: 'b' }],
    });
  });

  test('blocksToText without LINE blocks is Document.NoText', () => {
    expect(() => blocksToText([{ BlockType: 'PAGE' }])).toThrow(expect.objectContaining({ name: 'Document.NoText' }));
  });

  test('clientRequestToken: 64 chars of the allowed alphabet, one per run, stage and task token', () => {
    const token = clientRequestToken('a-very-long-run-id-'.repeat(10), 'Extract', 'token-1');
    expect(token).toMatch(/^[a-zA-Z0-9-_]{1,64}$/);
    expect(clientRequestToken('r', 's', 'k')).not.toBe(clientRequestToken('q', 's', 'k'));
    expect(clientRequestToken('r', 's', 'k')).not.toBe(clientRequestToken('r', 't', 'k'));
    // a retried task (new task token) starts a fresh job whose completion carries the new token
    expect(clientRequestToken('r', 's', 'k1')).not.toBe(clientRequestToken('r', 's', 'k2'));
  });

  test('jobTag sanitizes and cuts the stage id', () => {
    expect(jobTag('Extract text (OCR)')).toBe('Extract-text--OCR-');
    expect(jobTag('x'.repeat(100))).toHaveLength(64);
  });

  test('isSnsEvent tells SNS deliveries from stage invocations', () => {
    expect(isSnsEvent({ Records: [{ Sns: { Message: '{}' } }] })).toBe(true);
    expect(isSnsEvent(invocation())).toBe(false);
    expect(isSnsEvent({ Records: [] })).toBe(false);
  });

  test('isTransient', () => {
    expect(isTransient(awsError('ProvisionedThroughputExceededException'))).toBe(true);
    expect(isTransient(awsError('Whatever', 503))).toBe(true);
    expect(isTransient(awsError('InvalidJobIdException'))).toBe(false);
  });
});
