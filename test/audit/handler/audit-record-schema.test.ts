/**
 * The committed JSON schema of `AuditRecord` (src/audit/audit-record.schema.json) matches the
 * interface and accepts every record the handlers write. The validator is generated exactly as at
 * synth time (generateValidators + loadValidatorsSource).
 */
import * as fs from 'fs';
import * as path from 'path';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { DetectDocumentTextCommand, GetDocumentTextDetectionCommand, TextractClient } from '@aws-sdk/client-textract';
import { mockClient } from 'aws-sdk-client-mock';
import { recordRun, RecorderDeps } from '../../../src/audit/handler/recorder';
import { generateValidators } from '../../../src/private/validator-codegen';
import { describeErrors, loadValidatorsSource, Validator } from '../../../src/runtime/contracts';
import { SILENT_LOGGER } from '../../../src/runtime/logger';
import { AuditRecord } from '../../../src/shared';
import { handleTextractEvent, TextractHandlerDeps } from '../../../src/stages/textract/handler/textract';
import { awsError, docRef, fixedClock, ImageFixtures, invocation, makeValidators, s3Body } from '../../helpers/handler-test-kit';

const SCHEMA_FILE = path.join(__dirname, '..', '..', '..', 'src', 'audit', 'audit-record.schema.json');
const schema = JSON.parse(fs.readFileSync(SCHEMA_FILE, 'utf8'));
const validate: Validator = (loadValidatorsSource(generateValidators({ record: schema })) as any).record;

const s3 = mockClient(S3Client);
const events = mockClient(EventBridgeClient);
const textract = mockClient(TextractClient);
const sfn = mockClient(SFNClient);

beforeEach(() => {
  s3.reset();
  events.reset();
  textract.reset();
  sfn.reset();
  s3.on(PutObjectCommand).resolves({ VersionId: 'v' });
  events.on(PutEventsCommand).resolves({ FailedEntryCount: 0 });
  sfn.on(SendTaskSuccessCommand).resolves({});
  sfn.on(SendTaskFailureCommand).resolves({});
});

/** Every audit record written to the audit bucket so far (not the content objects kept beside stage records). */
function auditRecords(): AuditRecord[] {
  return s3.commandCalls(PutObjectCommand)
    .filter((c) => c.args[0].input.Bucket === 'audit-bucket' && /^(stages\/[^/]+|runs)\/[^/]+\.json$/.test(c.args[0].input.Key ?? ''))
    .map((c) => JSON.parse(c.args[0].input.Body as string));
}

function expectValid(records: AuditRecord[]) {
  expect(records.length).toBeGreaterThan(0);
  for (const record of records) {
    const ok = validate(record);
    if (!ok) throw new Error(`record ${JSON.stringify(record)} is invalid: ${describeErrors(validate)}`);
  }
}

test('the schema is draft 2020-12 and has exactly the properties of AuditRecord', () => {
  // A compile-time list of AuditRecord's keys: adding a field to the interface without listing it
  // here fails type-checking; listing it without adding it to the schema fails this test.
  const keys: { [K in keyof Required<AuditRecord>]: true } = {
    schemaVersion: true,
    kind: true,
    runId: true,
    pipeline: true,
    stage: true,
    stageKind: true,
    chunk: true,
    document: true,
    inputSha256: true,
    outputSha256: true,
    modelId: true,
    promptVersion: true,
    startedAt: true,
    endedAt: true,
    outcome: true,
    errorName: true,
    route: true,
    spotCheck: true,
    stages: true,
    content: true,
    redacted: true,
    model: true,
    chain: true,
    previous: true,
    recordSha256: true,
    reviews: true,
  };
  expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
  expect(Object.keys(schema.properties).sort()).toEqual(Object.keys(keys).sort());
  expect(schema.required.sort()).toEqual(['document', 'endedAt', 'kind', 'outcome', 'pipeline', 'runId', 'schemaVersion', 'startedAt']);
  expect(schema.additionalProperties).toBe(false);
});

test('the schema rejects records that break the interface', () => {
  const good: AuditRecord = {
    schemaVersion: '1',
    kind: 'run',
    runId: 'r',
    pipeline: 'p',
    document: docRef(),
    startedAt: '2025-01-01T00:00:00.000Z',
    endedAt: '2025-01-01T00:00:01.000Z',
    outcome: 'SUCCEEDED',
  };
  expect(validate(good)).toBe(true);
  expect(validate({ ...good, outcome: 'MAYBE' })).toBe(false);
  expect(validate({ ...good, kind: 'batch' })).toBe(false);
  expect(validate({ ...good, schemaVersion: '2' })).toBe(false);
  expect(validate({ ...good, extra: 1 })).toBe(false);
  expect(validate({ ...good, outputSha256: 'not-a-hash' })).toBe(false);
  expect(validate({ ...good, route: { rule: 'x' } })).toBe(false);
  expect(validate({ ...good, stages: [{ name: 'A' }] })).toBe(false);
  expect(validate({ ...good, document: { bucket: 'b' } })).toBe(false);
  expect(validate({ ...good, spotCheck: { percent: 5, draw: 12, sampled: true, rule: 'low-risk-nda' } })).toBe(true);
  expect(validate({ ...good, spotCheck: { percent: 5, draw: 10000, sampled: false } })).toBe(false);
  expect(validate({ ...good, spotCheck: { percent: 5, draw: 12 } })).toBe(false);
  const sha = 'a'.repeat(64);
  expect(validate({ ...good, chain: [{ stage: 'A', key: 'stages/A/r.json', sha256: sha }], previous: sha, recordSha256: sha })).toBe(true);
  expect(validate({ ...good, chain: [{ stage: 'A', key: 'stages/A/r.json' }] })).toBe(false);
  expect(validate({ ...good, content: { output: { key: 'stages/A/r/output.json', sha256: sha } }, redacted: ['results.A.x'] })).toBe(true);
  expect(validate({ ...good, content: { transcript: { key: 'k', sha256: sha } } })).toBe(false);
  expect(validate({ ...good, model: { calls: 1, inputTokens: 10, outputTokens: 2, latencyMs: 5 } })).toBe(true);
  expect(validate({ ...good, model: { calls: 1, inputTokens: -1, outputTokens: 2 } })).toBe(false);
  expect(validate({ ...good, model: { calls: 2, inputTokens: 10, outputTokens: 2, cacheReadInputTokens: 900, cacheWriteInputTokens: 0, costUsd: 0.0012, priceSource: 'list' } })).toBe(true);
  expect(validate({ ...good, model: { calls: 1, inputTokens: 10, outputTokens: 2, costUsd: 0.0012 } })).toBe(false);
  const { outcome: _omit, ...noOutcome } = good;
  expect(validate(noOutcome)).toBe(false);
});

describe('records written by the audit recorder', () => {
  const deps = (): RecorderDeps => ({
    s3: new S3Client({}),
    events: new EventBridgeClient({}),
    pipeline: 'Contracts',
    auditBucket: 'audit-bucket',
    auditBus: 'bus',
    stageOrder: ['Extract', 'Classify'],
    logger: SILENT_LOGGER,
    now: fixedClock(),
  });

  test('run, failure and backstop records satisfy the schema', async () => {
    s3.on(HeadObjectCommand).rejects(awsError('NotFound', 404));
    // One stage record exists for each run: the run records chain it.
    s3.on(GetObjectCommand).rejects(awsError('NoSuchKey', 404));
    for (const run of ['r1', 'r2', 'r3']) {
      s3.on(GetObjectCommand, { Key: `stages/Extract/${run}.json` }).resolves({ Body: s3Body('{"kind":"stage"}') } as any);
    }
    await recordRun(deps(), {
      action: 'run',
      runId: 'r1',
      startedAt: '2025-01-01T00:00:00.000Z',
      state: {
        document: docRef(),
        results: { Extract: { pages: 1 }, Classify: { documentType: 'NDA' } },
        route: { rule: 'low-risk-nda', destination: 'review' },
        spotCheck: { percent: 2.5, draw: 3, sampled: true, rule: 'low-risk-nda' },
      },
    });
    await recordRun(deps(), {
      action: 'failure',
      runId: 'r2',
      startedAt: '2025-01-01T00:00:00.000Z',
      state: { document: docRef(), results: { Extract: { pages: 1 } }, error: { Error: 'Model.InvalidOutput', Cause: 'x' } },
    });
    await recordRun(deps(), {
      'version': '0',
      'id': 'e',
      'detail-type': 'Step Functions Execution Status Change',
      'source': 'aws.states',
      'account': '1',
      'time': '',
      'region': 'us-east-1',
      'resources': [],
      'detail': { name: 'r3', status: 'TIMED_OUT', startDate: 0, stopDate: null, input: JSON.stringify({ document: docRef() }) },
    });
    const records = auditRecords();
    expect(records.map((r) => r.outcome)).toEqual(['SUCCEEDED', 'FAILED', 'FAILED']);
    expectValid(records);
  });
});

describe('records written by the Textract stage', () => {
  const deps = (): TextractHandlerDeps => ({
    s3: new S3Client({}),
    textract: new TextractClient({}),
    sfn: new SFNClient({}),
    events: new EventBridgeClient({}),
    validators: makeValidators({}),
    config: { stage: 'Extract', kind: 'textract', maxDocumentBytes: 1024 * 1024, maxPages: 10 },
    env: { pipeline: 'Contracts', workBucket: 'work-bucket', auditBucket: 'audit-bucket', auditBus: 'bus', topicArn: 't', roleArn: 'r' },
    logger: SILENT_LOGGER,
    now: fixedClock(),
  });

  test('sync success, preflight failure, async success and async failure records satisfy the schema', async () => {
    s3.on(HeadObjectCommand).resolves({ ContentLength: 64 });
    s3.on(GetObjectCommand, { Bucket: 'docs-bucket' }).resolves({ Body: s3Body(ImageFixtures.png()) });
    textract.on(DetectDocumentTextCommand).resolves({ Blocks: [{ BlockType: 'LINE', Text: 'x' }] });
    await handleTextractEvent(deps(), invocation({ taskToken: 't' }));

    s3.on(HeadObjectCommand).resolves({ ContentLength: 0 });
    await expect(handleTextractEvent(deps(), invocation({ taskToken: 't' }))).rejects.toMatchObject({ name: 'Document.Empty' });

    const job = { taskToken: 't', runId: 'run-0001', document: docRef(), startedAt: '2025-01-01T00:00:00.000Z', inputSha256: 'b'.repeat(64), pages: 2 };
    s3.on(GetObjectCommand, { Bucket: 'work-bucket' }).resolves({ Body: s3Body(job) });
    textract.on(GetDocumentTextDetectionCommand).resolves({ JobStatus: 'SUCCEEDED', DocumentMetadata: { Pages: 2 }, Blocks: [{ BlockType: 'LINE', Text: 'y', Page: 2 }] });
    const sns = (status: string) => ({ Records: [{ Sns: { MessageId: 'm', Message: JSON.stringify({ JobId: 'j', Status: status, JobTag: 'Extract' }) } }] }) as any;
    await handleTextractEvent(deps(), sns('SUCCEEDED'));
    await handleTextractEvent(deps(), sns('FAILED'));

    const records = auditRecords();
    expect(records.map((r) => [r.kind, r.outcome, r.errorName])).toEqual([
      ['stage', 'SUCCEEDED', undefined],
      ['stage', 'FAILED', 'Document.Empty'],
      ['stage', 'SUCCEEDED', undefined],
      ['stage', 'FAILED', 'Textract.JobFailed'],
    ]);
    expectValid(records);
  });
});
