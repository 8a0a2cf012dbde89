import 'aws-sdk-client-mock-jest';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { GetTranscriptionJobCommand, StartTranscriptionJobCommand, TranscribeClient } from '@aws-sdk/client-transcribe';
import { mockClient } from 'aws-sdk-client-mock';
import { wavFile } from '../../../../projenrc/make-call-center-samples';
import { TRANSCRIBE_OUTPUT_SCHEMA } from '../../../../src/contracts/schemas';
import { ErrorNames, Keys, TranscribeStageConfig } from '../../../../src/shared';
import { checkMedia, sniffMedia } from '../../../../src/stages/transcribe/handler/media';
import {
  handleTranscribeEvent, jobName, readTranscript, TranscribeJobEvent, TranscribeJobRecord, TranscribeStageDeps,
} from '../../../../src/stages/transcribe/handler/transcribe-stage';
import { awsError, docRef, invocation, makeValidators, runState, s3Body } from '../../../helpers/handler-test-kit';
import { auditRecords, caught, REGION, stageContext, WORK_BUCKET, workObject } from '../../bedrock/handler/bedrock-test-kit';

const CONFIG: TranscribeStageConfig = { stage: 'Transcribe', kind: 'transcribe', languageCode: 'en-US', maxMediaBytes: 1_000_000, jobPrefix: 'cdkaip-abc123-' };
const DOC = docRef({ key: 'calls/billing.wav', size: 48_000 });
const WAV = wavFile('billing', 1, 'I have a question about my invoice.');
const KEY_ARN = 'arn:aws:kms:us-east-1:111111111111:key/work';
const NAME = jobName(CONFIG.jobPrefix, 'run-0001', 'Transcribe', 'token-1');
const RESULT_KEY = 'stages/Transcribe/run-0001/transcribe.json';

function setup() {
  const fx = stageContext('Transcribe', 'transcribe', makeValidators({ output: TRANSCRIBE_OUTPUT_SCHEMA }));
  const transcribe = new TranscribeClient(REGION);
  const sfn = new SFNClient(REGION);
  const transcribeMock = mockClient(transcribe);
  const sfnMock = mockClient(sfn);
  sfnMock.on(SendTaskSuccessCommand).resolves({});
  sfnMock.on(SendTaskFailureCommand).resolves({});
  transcribeMock.on(StartTranscriptionJobCommand).resolves({ TranscriptionJob: { TranscriptionJobName: NAME, TranscriptionJobStatus: 'IN_PROGRESS' } });
  fx.s3Mock.on(HeadObjectCommand, { Key: DOC.key }).resolves({ ContentLength: WAV.length });
  fx.s3Mock.on(GetObjectCommand, { Key: DOC.key }).resolves({ Body: s3Body(WAV.subarray(0, 16)) } as any);
  const deps: TranscribeStageDeps = { ctx: fx.ctx, transcribe, sfn, config: CONFIG, outputKey: KEY_ARN };
  return { ...fx, transcribeMock, sfnMock, deps };
}

const start = (taskToken: string | null = 'token-1') => invocation({ state: runState({ document: DOC }), ...(taskToken ? { taskToken } : {}) });

function jobEvent(status = 'COMPLETED', name = NAME): TranscribeJobEvent {
  return { 'source': 'aws.transcribe', 'detail-type': 'Transcribe Job State Change', 'detail': { TranscriptionJobName: name, TranscriptionJobStatus: status } };
}

/** The job record `start` wrote, served back on completion; Transcribe's result file at its key. */
function completed(fx: ReturnType<typeof setup>, transcript: string | null, status = 'COMPLETED') {
  const record = workObject(fx.s3Mock, Keys.stageJob('Transcribe', NAME)) as TranscribeJobRecord;
  fx.s3Mock.on(GetObjectCommand, { Key: Keys.stageJob('Transcribe', NAME) }).resolves({ Body: s3Body(record) } as any);
  if (transcript !== null) {
    const result = { jobName: NAME, results: { transcripts: [{ transcript }], items: [] } };
    fx.s3Mock.on(GetObjectCommand, { Key: RESULT_KEY }).resolves({ Body: s3Body(result) } as any);
  }
  fx.transcribeMock.on(GetTranscriptionJobCommand).resolves({
    TranscriptionJob: { TranscriptionJobName: NAME, TranscriptionJobStatus: status as any, LanguageCode: 'en-US', ...(status === 'FAILED' ? { FailureReason: 'The media format is not valid.' } : {}) },
  });
}

describe('Transcribe stage: start', () => {
  test('checks the recording, keeps the token in a job record, starts a job writing KMS-encrypted under its prefix, and returns', async () => {
    const fx = setup();
    expect(await handleTranscribeEvent(fx.deps, start())).toEqual({ status: 'STARTED', jobName: NAME });
    expect(fx.transcribeMock).toHaveReceivedCommandWith(StartTranscriptionJobCommand, {
      TranscriptionJobName: NAME,
      LanguageCode: 'en-US',
      MediaFormat: 'wav',
      Media: { MediaFileUri: 's3://docs-bucket/calls/billing.wav' },
      OutputBucketName: WORK_BUCKET,
      OutputKey: RESULT_KEY,
      OutputEncryptionKMSKeyId: KEY_ARN,
    });
    expect(workObject(fx.s3Mock, Keys.stageJob('Transcribe', NAME))).toEqual(expect.objectContaining({ taskToken: 'token-1', runId: 'run-0001', resultKey: RESULT_KEY }));
    // The run waits: no answer yet, and only the magic bytes of the recording were read.
    expect(fx.sfnMock).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 0);
    expect(fx.s3Mock).toHaveReceivedCommandWith(GetObjectCommand, { Key: DOC.key, Range: 'bytes=0-15' });
  });

  test('the job name: the prefix and a hash of run, stage and token; a new token (a retried task) a new job', () => {
    expect(NAME).toMatch(/^cdkaip-abc123-[0-9a-f]{48}$/);
    expect(jobName(CONFIG.jobPrefix, 'run-0001', 'Transcribe', 'token-2')).not.toBe(NAME);
  });

  test('a job already started by the same attempt (a Lambda retry) is not an error', async () => {
    const fx = setup();
    fx.transcribeMock.on(StartTranscriptionJobCommand).rejects(awsError('ConflictException', 409));
    expect(await handleTranscribeEvent(fx.deps, start())).toEqual({ status: 'STARTED', jobName: NAME });
  });

  test.each([
    ['a text file', Buffer.from('not audio at all, just words'), ErrorNames.DOCUMENT_UNSUPPORTED_TYPE],
    ['an empty file', Buffer.alloc(0), ErrorNames.DOCUMENT_EMPTY],
  ])('%s fails %s before any Transcribe call, with a FAILED record', async (_what, bytes, name) => {
    const fx = setup();
    fx.s3Mock.on(HeadObjectCommand, { Key: DOC.key }).resolves({ ContentLength: bytes.length });
    fx.s3Mock.on(GetObjectCommand, { Key: DOC.key }).resolves({ Body: s3Body(bytes) } as any);
    expect((await caught(() => handleTranscribeEvent(fx.deps, start()))).name).toBe(name);
    expect(fx.transcribeMock).toHaveReceivedCommandTimes(StartTranscriptionJobCommand, 0);
    expect(auditRecords(fx.s3Mock)).toEqual([expect.objectContaining({ outcome: 'FAILED', errorName: name, stageKind: 'transcribe' })]);
  });

  test('a recording over maxMediaBytes is Document.TooLarge; without a task token the input is refused', async () => {
    const fx = setup();
    fx.s3Mock.on(HeadObjectCommand, { Key: DOC.key }).resolves({ ContentLength: 2_000_000 });
    expect((await caught(() => handleTranscribeEvent(fx.deps, start()))).name).toBe(ErrorNames.DOCUMENT_TOO_LARGE);
    expect((await caught(() => handleTranscribeEvent(setup().deps, start(null)))).name).toBe(ErrorNames.CONTRACT_INPUT_VIOLATION);
  });

  test('throttling is thrown for the task to retry, with no FAILED record', async () => {
    const fx = setup();
    fx.transcribeMock.on(StartTranscriptionJobCommand).rejects(awsError('LimitExceededException', 400));
    expect((await caught(() => handleTranscribeEvent(fx.deps, start()))).name).toBe('LimitExceededException');
    expect(auditRecords(fx.s3Mock)).toEqual([]);
  });
});

describe('Transcribe stage: completion event', () => {
  test('writes the transcript as a sha256-checked text pointer, records the stage and sends the task success', async () => {
    const fx = setup();
    await handleTranscribeEvent(fx.deps, start());
    completed(fx, 'I have a question about my invoice.');
    await handleTranscribeEvent(fx.deps, jobEvent());
    const sent = fx.sfnMock.commandCalls(SendTaskSuccessCommand)[0].args[0].input;
    expect(sent.taskToken).toBe('token-1');
    const output = JSON.parse(sent.output!);
    expect(output).toEqual({
      text: { bucket: WORK_BUCKET, key: 'stages/Transcribe/run-0001/text.json', versionId: 'ver-1', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
      transcript: { bucket: WORK_BUCKET, key: RESULT_KEY, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
      languageCode: 'en-US',
      mediaFormat: 'wav',
    });
    expect(workObject(fx.s3Mock, 'stages/Transcribe/run-0001/text.json')).toEqual({ pages: [{ page: 1, text: 'I have a question about my invoice.' }] });
    expect(auditRecords(fx.s3Mock)).toEqual([expect.objectContaining({ outcome: 'SUCCEEDED', stage: 'Transcribe', outputSha256: expect.any(String) })]);
  });

  test('the text pointer is checked on read: a changed object is Text.IntegrityViolation', async () => {
    const fx = setup();
    await handleTranscribeEvent(fx.deps, start());
    completed(fx, 'I have a question about my invoice.');
    await handleTranscribeEvent(fx.deps, jobEvent());
    const text = JSON.parse(fx.sfnMock.commandCalls(SendTaskSuccessCommand)[0].args[0].input.output!).text;
    const written = fx.s3Mock.commandCalls(PutObjectCommand).find((c) => c.args[0].input.Key === text.key)!.args[0].input.Body as string;
    fx.s3Mock.on(GetObjectCommand, { Key: text.key }).resolves({ Body: s3Body(written) } as any);
    expect(await readTranscript(fx.ctx.s3, text)).toBe('I have a question about my invoice.');
    fx.s3Mock.on(GetObjectCommand, { Key: text.key }).resolves({ Body: s3Body(written.replace('invoice', 'refund')) } as any);
    expect((await caught(() => readTranscript(fx.ctx.s3, text))).name).toBe(ErrorNames.TEXT_INTEGRITY_VIOLATION);
  });

  test('a FAILED job answers the task with Transcribe.JobFailed and Transcribe\'s reason', async () => {
    const fx = setup();
    await handleTranscribeEvent(fx.deps, start());
    completed(fx, null, 'FAILED');
    await handleTranscribeEvent(fx.deps, jobEvent('FAILED'));
    expect(fx.sfnMock).toHaveReceivedCommandWith(SendTaskFailureCommand, {
      taskToken: 'token-1', error: ErrorNames.TRANSCRIBE_JOB_FAILED, cause: expect.stringContaining('The media format is not valid.'),
    });
    expect(auditRecords(fx.s3Mock)).toEqual([expect.objectContaining({ outcome: 'FAILED', errorName: ErrorNames.TRANSCRIBE_JOB_FAILED })]);
  });

  test('no speech is Document.NoText', async () => {
    const fx = setup();
    await handleTranscribeEvent(fx.deps, start());
    completed(fx, '  ');
    await handleTranscribeEvent(fx.deps, jobEvent());
    expect(fx.sfnMock).toHaveReceivedCommandWith(SendTaskFailureCommand, { taskToken: 'token-1', error: ErrorNames.DOCUMENT_NO_TEXT });
  });

  test('events of other stages\' jobs, and jobs with no record, are ignored', async () => {
    const fx = setup();
    await handleTranscribeEvent(fx.deps, jobEvent('COMPLETED', 'cdkaip-other-0001'));
    fx.s3Mock.on(GetObjectCommand, { Key: Keys.stageJob('Transcribe', NAME) }).rejects(awsError('NoSuchKey', 404));
    await handleTranscribeEvent(fx.deps, jobEvent());
    expect(fx.transcribeMock).toHaveReceivedCommandTimes(GetTranscriptionJobCommand, 0);
    expect(fx.sfnMock).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 0);
    expect(fx.sfnMock).toHaveReceivedCommandTimes(SendTaskFailureCommand, 0);
  });

  test('a transient error on completion is thrown (Lambda retries the event); a task already closed is not', async () => {
    const fx = setup();
    await handleTranscribeEvent(fx.deps, start());
    completed(fx, 'Hello.');
    fx.transcribeMock.on(GetTranscriptionJobCommand).rejects(awsError('LimitExceededException', 400));
    expect((await caught(() => handleTranscribeEvent(fx.deps, jobEvent()))).name).toBe('LimitExceededException');
    completed(fx, 'Hello.');
    fx.sfnMock.on(SendTaskSuccessCommand).rejects(awsError('TaskTimedOut', 400));
    await expect(handleTranscribeEvent(fx.deps, jobEvent())).resolves.toBeUndefined();
  });
});

describe('media checks', () => {
  test.each([
    ['RIFF\0\0\0\0WAVEfmt ', 'wav'], ['fLaC\0\0\0\0', 'flac'], ['OggS\0\0', 'ogg'], ['ID3\x04\0', 'mp3'],
    ['\0\0\0\x20ftypM4A ', 'm4a'], ['\0\0\0\x20ftypisom', 'mp4'], ['#!AMR\n', 'amr'],
  ])('%j is %s', (head, format) => {
    expect(sniffMedia(Buffer.from(head, 'latin1'))).toBe(format);
  });

  test('a PDF is no recording', () => {
    expect(sniffMedia(Buffer.from('%PDF-1.7\n', 'latin1'))).toBeUndefined();
    expect(() => checkMedia(10, Buffer.from('%PDF-1.7\n', 'latin1'), 100)).toThrow(/not in a container Amazon Transcribe reads/);
  });
});
