/**
 * What the Textract handler's tests share (text detection and analysis): the mocked clients, their
 * default answers before each test, the environment and the handler's dependencies.
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { TextractClient } from '@aws-sdk/client-textract';
import { mockClient } from 'aws-sdk-client-mock';
import { StageValidators } from '../../../../src/runtime/contracts';
import { TextractStageConfig } from '../../../../src/shared';
import { TextractHandlerDeps } from '../../../../src/stages/textract/handler/textract';
import { fixedClock, RecordingLogger } from '../../../helpers/handler-test-kit';

export const s3 = mockClient(S3Client);
export const textract = mockClient(TextractClient);
export const sfn = mockClient(SFNClient);
export const events = mockClient(EventBridgeClient);

export const TOKEN = 'task-token-1';

/** The handler's environment for a pipeline of this name. */
export function textractEnv(pipeline: string): TextractHandlerDeps['env'] {
  return {
    pipeline,
    workBucket: 'work-bucket',
    auditBucket: 'audit-bucket',
    auditBus: 'audit-bus',
    topicArn: 'arn:aws:sns:us-east-1:111111111111:textract-done',
    roleArn: 'arn:aws:iam::111111111111:role/textract-publish',
  };
}

/**
 * Resets the mocks before each test with the answers every test expects (writes, events, task
 * answers), keeps pdf-lib's console warnings out of the output, and returns the test's logger.
 */
export function useTextractMocks(): () => RecordingLogger {
  let logger = new RecordingLogger();
  // pdf-lib reports what it cannot parse on console.warn.
  let warn: jest.SpyInstance;
  beforeAll(() => { warn = jest.spyOn(console, 'warn').mockImplementation(() => {}); });
  afterAll(() => warn.mockRestore());
  beforeEach(() => {
    s3.reset();
    textract.reset();
    sfn.reset();
    events.reset();
    logger = new RecordingLogger();
    s3.on(PutObjectCommand).resolves({ VersionId: 'wv' });
    events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e1' }] });
    sfn.on(SendTaskSuccessCommand).resolves({});
    sfn.on(SendTaskFailureCommand).resolves({});
  });
  return () => logger;
}

/** The handler's dependencies on the mocked clients, at a fixed clock. */
export function textractDeps(
  config: TextractStageConfig, validators: StageValidators, env: TextractHandlerDeps['env'], logger: RecordingLogger,
  overrides: Partial<TextractHandlerDeps> = {},
): TextractHandlerDeps {
  return {
    s3: new S3Client({}),
    textract: new TextractClient({}),
    sfn: new SFNClient({}),
    events: new EventBridgeClient({}),
    validators,
    config,
    env,
    logger,
    now: fixedClock('2025-01-01T00:00:00.000Z'),
    ...overrides,
  };
}
