/**
 * Helpers for the model-stage handler tests (Bedrock, SageMaker, Lambda proxy): a StageContext
 * over mocked S3 and EventBridge clients, and readers for what the stage wrote.
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { StageValidators } from '../../../../src/runtime/contracts';
import { StageContext } from '../../../../src/runtime/stage-runner';
import { AuditRecord, ExtractedText, S3Pointer } from '../../../../src/shared';
import { fixedClock, RecordingLogger, s3Body } from '../../../helpers/handler-test-kit';

export const WORK_BUCKET = 'work-bucket';
export const AUDIT_BUCKET = 'audit-bucket';
export const AUDIT_BUS = 'audit-bus';
export const PIPELINE = 'Contracts';
export const REGION = { region: 'us-east-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' } };

export interface ContextFixture {
  readonly ctx: StageContext;
  readonly s3Mock: AwsClientStub<S3Client>;
  readonly eventsMock: AwsClientStub<EventBridgeClient>;
  readonly logger: RecordingLogger;
}

/** A stage context over fresh mocked clients; every PutObject answers with version `ver-1`. */
export function stageContext(stage: string, stageKind: string, validators: StageValidators): ContextFixture {
  const s3 = new S3Client(REGION);
  const events = new EventBridgeClient(REGION);
  const s3Mock = mockClient(s3);
  const eventsMock = mockClient(events);
  s3Mock.on(PutObjectCommand).resolves({ VersionId: 'ver-1' });
  eventsMock.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });
  const logger = new RecordingLogger();
  const ctx: StageContext = {
    s3,
    events,
    validators,
    logger,
    pipeline: PIPELINE,
    stage,
    stageKind,
    workBucket: WORK_BUCKET,
    auditBucket: AUDIT_BUCKET,
    auditBus: AUDIT_BUS,
    now: fixedClock(),
  };
  return { ctx, s3Mock, eventsMock, logger };
}

/** Answers GetObject on `pointer` with extracted text made of `pages`. */
export function mockText(s3Mock: AwsClientStub<S3Client>, pointer: S3Pointer, pages: string[]): void {
  const text: ExtractedText = { pages: pages.map((t, i) => ({ page: i + 1, text: t })) };
  s3Mock.on(GetObjectCommand, { Bucket: pointer.bucket, Key: pointer.key }).resolves({ Body: s3Body(text) } as any);
}

/** The stage audit records written to the audit bucket (not the content objects kept beside them). */
export function auditRecords(s3Mock: AwsClientStub<S3Client>): AuditRecord[] {
  return s3Mock.commandCalls(PutObjectCommand)
    .map((c) => c.args[0].input)
    .filter((input) => input.Bucket === AUDIT_BUCKET && /^stages\/[^/]+\/[^/]+\.json$/.test(input.Key ?? ''))
    .map((input) => JSON.parse(String(input.Body)));
}

/** The body of the object written to the work bucket under `key`, parsed. */
export function workObject(s3Mock: AwsClientStub<S3Client>, key: string): unknown {
  const call = s3Mock.commandCalls(PutObjectCommand).find((c) => c.args[0].input.Bucket === WORK_BUCKET && c.args[0].input.Key === key);
  return call ? JSON.parse(String(call.args[0].input.Body)) : undefined;
}

/** Runs `fn` and returns what it threw (fails when it does not throw). */
export async function caught(fn: () => Promise<unknown>): Promise<Error> {
  try {
    await fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error');
}
