import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import {
  ExecutionStatusEvent,
  failureDestination,
  parseStageOrder,
  recordRun,
  RecorderDeps,
  runRecordSha256,
} from '../../../src/audit/handler/recorder';
import { sha256 } from '../../../src/runtime/s3';
import { RunState } from '../../../src/shared';
import { awsError, docRef, fixedClock, RecordingLogger, s3Body } from '../../helpers/handler-test-kit';

const s3 = mockClient(S3Client);
const events = mockClient(EventBridgeClient);
let logger: RecordingLogger;

const RESULTS = {
  Extract: { text: { bucket: 'work-bucket', key: 'stages/Extract/run-1/text.json', sha256: 'a'.repeat(64) }, pages: 2, mode: 'sync' },
  Classify: { documentType: 'NDA', confidence: 0.93 },
  Summarize: { riskScore: 0.1 },
};

beforeEach(() => {
  s3.reset();
  events.reset();
  logger = new RecordingLogger();
  s3.on(PutObjectCommand).resolves({ VersionId: 'av1' });
  // No stage record unless a test writes one (then the run record chains it).
  s3.on(GetObjectCommand).rejects(awsError('NoSuchKey', 404));
  events.on(PutEventsCommand).resolves({ FailedEntryCount: 0 });
});

function deps(overrides: Partial<RecorderDeps> = {}): RecorderDeps {
  return {
    s3: new S3Client({}),
    events: new EventBridgeClient({}),
    pipeline: 'Contracts',
    auditBucket: 'audit-bucket',
    auditBus: 'audit-bus',
    stageOrder: ['Extract', 'Classify', 'Summarize'],
    logger,
    now: fixedClock('2025-01-01T00:05:00.000Z'),
    ...overrides,
  };
}

function putBody(): any {
  const calls = s3.commandCalls(PutObjectCommand);
  expect(calls).toHaveLength(1);
  return JSON.parse(calls[0].args[0].input.Body as string);
}

function putSha(): string {
  return sha256(s3.commandCalls(PutObjectCommand)[0].args[0].input.Body as string);
}

describe('action: run', () => {
  test('writes the SUCCEEDED run record with each stage result hashed, in pipeline order', async () => {
    const state: RunState = { document: docRef(), results: { Summarize: RESULTS.Summarize, Extract: RESULTS.Extract, Classify: RESULTS.Classify }, route: { rule: 'low-risk-nda', destination: 'auto-approve' } };

    const out = await recordRun(deps(), { action: 'run', state, runId: 'run-1', startedAt: '2025-01-01T00:00:00.000Z' });

    expect(out).toEqual({ record: { bucket: 'audit-bucket', key: 'runs/run-1.json', versionId: 'av1', sha256: putSha() } });
    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, { Bucket: 'audit-bucket', Key: 'runs/run-1.json', ContentType: 'application/json' });
    expect(putBody()).toEqual({
      schemaVersion: '1',
      kind: 'run',
      runId: 'run-1',
      pipeline: 'Contracts',
      document: docRef(),
      startedAt: '2025-01-01T00:00:00.000Z',
      endedAt: '2025-01-01T00:05:00.000Z',
      outcome: 'SUCCEEDED',
      route: { rule: 'low-risk-nda', destination: 'auto-approve' },
      stages: [
        { name: 'Extract', outputSha256: sha256(JSON.stringify(RESULTS.Extract)) },
        { name: 'Classify', outputSha256: sha256(JSON.stringify(RESULTS.Classify)) },
        { name: 'Summarize', outputSha256: sha256(JSON.stringify(RESULTS.Summarize)) },
      ],
      // The chain (no stage record was written in this test) and the record's own sha256 (ADR-0017).
      chain: [],
      recordSha256: runRecordSha256(putBody()),
    });
    expect(events).toHaveReceivedCommandTimes(PutEventsCommand, 1);
    const entry = events.commandCalls(PutEventsCommand)[0].args[0].input.Entries![0];
    expect(entry).toMatchObject({ Source: 'cdk-ai-pipeline', DetailType: 'Run Succeeded', EventBusName: 'audit-bus' });
    expect(JSON.parse(entry.Detail!)).toMatchObject({ runId: 'run-1', outcome: 'SUCCEEDED', route: { rule: 'low-risk-nda' } });
  });

  test('results of stages not in STAGE_ORDER are left out; no route when none was taken', async () => {
    const state: RunState = { document: docRef(), results: { Extract: RESULTS.Extract, Stray: { x: 1 } } };
    await recordRun(deps(), { action: 'run', state, runId: 'run-1', startedAt: '2025-01-01T00:00:00.000Z' });
    const body = putBody();
    expect(body.stages).toEqual([{ name: 'Extract', outputSha256: sha256(JSON.stringify(RESULTS.Extract)) }]);
    expect(body).not.toHaveProperty('route');
  });
});

describe('spot checks in the run record', () => {
  test('a run drawn for a spot check: sampled, with the rule that would have approved it', async () => {
    const state: RunState = {
      document: docRef(),
      results: { Summarize: RESULTS.Summarize },
      route: { rule: 'low-risk-nda', destination: 'review' },
      spotCheck: { percent: 5, draw: 123, sampled: true, rule: 'low-risk-nda' },
    };
    await recordRun(deps(), { action: 'run', state, runId: 'run-1', startedAt: '2025-01-01T00:00:00.000Z' });
    expect(putBody().spotCheck).toEqual({ percent: 5, draw: 123, sampled: true, rule: 'low-risk-nda' });
    expect(logger.entries).toContainEqual(expect.objectContaining({ message: 'run recorded', extra: [expect.objectContaining({ spotCheck: true })] }));
  });

  test('a run not drawn: sampled false (the percentage and the draw are still recorded); no draw, no spotCheck', async () => {
    const drawn: RunState = { document: docRef(), route: { rule: 'low-risk-nda', destination: 'auto-approve' }, spotCheck: { percent: 5, draw: 4321 } };
    await recordRun(deps(), { action: 'run', state: drawn, runId: 'run-1', startedAt: '2025-01-01T00:00:00.000Z' });
    expect(putBody().spotCheck).toEqual({ percent: 5, draw: 4321, sampled: false });
    s3.resetHistory();
    await recordRun(deps(), { action: 'run', state: { document: docRef() }, runId: 'run-2', startedAt: '2025-01-01T00:00:00.000Z' });
    expect(putBody()).not.toHaveProperty('spotCheck');
  });

  test('a failure after the draw (a delivery error) keeps the draw in the record', async () => {
    const state: RunState = { document: docRef(), results: RESULTS, spotCheck: { percent: 5, draw: 7, sampled: true, rule: 'low-risk-nda' }, error: { Error: 'SQS.InternalError' } };
    await recordRun(deps(), { action: 'failure', state, runId: 'run-1', startedAt: '2025-01-01T00:00:00.000Z' });
    expect(putBody().spotCheck).toEqual({ percent: 5, draw: 7, sampled: true, rule: 'low-risk-nda' });
  });
});

describe('action: failure', () => {
  function failure(errorName: string, results: object = { Extract: RESULTS.Extract }, failedStage: string | null = 'Classify') {
    const state: RunState = {
      document: docRef(),
      results,
      error: { Error: errorName, Cause: 'The model said: CONFIDENTIAL purchase price 4,200,000' },
      ...(failedStage ? { failedStage } : {}),
    };
    return { action: 'failure' as const, state, runId: 'run-1', startedAt: '2025-01-01T00:00:00.000Z' };
  }

  test('records the stage the catch named and routes by error', async () => {
    const out = await recordRun(deps(), failure('Model.InvalidOutput'));

    const record = { bucket: 'audit-bucket', key: 'runs/run-1.json', versionId: 'av1', sha256: putSha() };
    expect(out).toEqual({
      error: 'Model.InvalidOutput',
      cause: 'run run-1 failed at stage Classify with Model.InvalidOutput; audit record s3://audit-bucket/runs/run-1.json',
      record,
      route: { rule: 'failure', destination: 'failed' },
    });
    expect(putBody()).toEqual({
      schemaVersion: '1',
      kind: 'run',
      runId: 'run-1',
      pipeline: 'Contracts',
      stage: 'Classify',
      document: docRef(),
      startedAt: '2025-01-01T00:00:00.000Z',
      endedAt: '2025-01-01T00:05:00.000Z',
      outcome: 'FAILED',
      errorName: 'Model.InvalidOutput',
      route: { rule: 'failure', destination: 'failed' },
      stages: [{ name: 'Extract', outputSha256: sha256(JSON.stringify(RESULTS.Extract)) }],
      // The chain (no stage record was written in this test) and the record's own sha256 (ADR-0017).
      chain: [],
      recordSha256: runRecordSha256(putBody()),
    });
    expect(events.commandCalls(PutEventsCommand)[0].args[0].input.Entries![0].DetailType).toBe('Run Failed');
  });

  test.each([
    ['Document.Encrypted', 'quarantine'],
    ['Document.Empty', 'quarantine'],
    ['Source.Gone', 'quarantine'],
    ['Document.NoText', 'review'],
    ['Contract.OutputViolation', 'failed'],
    ['States.Timeout', 'failed'],
  ])('%s goes to %s', async (errorName, destination) => {
    const out = await recordRun(deps(), failure(errorName, {}, 'Extract'));
    expect(out).toMatchObject({ error: errorName, route: { rule: 'failure', destination } });
    expect(putBody()).toMatchObject({ stage: 'Extract', errorName, route: { rule: 'failure', destination } });
  });

  test('the original Cause is never repeated, neither in the output nor the record nor the logs', async () => {
    const out = await recordRun(deps(), failure('Document.Corrupt'));
    const written = s3.commandCalls(PutObjectCommand)[0].args[0].input.Body as string;
    for (const text of [JSON.stringify(out), written, logger.text(), JSON.stringify(events.calls().map((c) => c.args[0].input))]) {
      expect(text).not.toContain('4,200,000');
    }
  });

  test('a failure outside a stage (routing, delivery) names no stage, even when stages have no result', async () => {
    const out = await recordRun(deps(), failure('States.TaskFailed', { Extract: RESULTS.Extract }, null));
    expect(out).toMatchObject({ cause: expect.stringContaining('failed outside its stages with States.TaskFailed') });
    expect(putBody()).not.toHaveProperty('stage');
  });

  test('a required Parallel branch re-raises with a cause naming its stage; a skipped stage before it is not blamed', async () => {
    const state: RunState = {
      document: docRef(),
      results: { Extract: RESULTS.Extract },
      error: { Error: 'ServiceUnavailableException', Cause: 'cdk-ai-pipeline stage Summarize failed: {"Error":"ServiceUnavailableException"}' },
    };
    await recordRun(deps(), { action: 'failure', state, runId: 'run-1', startedAt: '2025-01-01T00:00:00.000Z' });
    expect(putBody()).toMatchObject({ stage: 'Summarize', errorName: 'ServiceUnavailableException' });
  });

  test('a failedStage or cause naming no stage of the pipeline is not trusted', async () => {
    const state: RunState = {
      document: docRef(),
      results: {},
      failedStage: 'Nope',
      error: { Error: 'X', Cause: 'cdk-ai-pipeline stage Elsewhere failed: {}' },
    };
    await recordRun(deps(), { action: 'failure', state, runId: 'run-1', startedAt: '2025-01-01T00:00:00.000Z' });
    expect(putBody()).not.toHaveProperty('stage');
  });

  test('writes only the run record: nothing moved or deleted', async () => {
    await recordRun(deps(), failure('Document.Encrypted'));
    // Reads of the stage records it chains, and one write: no copy, no delete.
    expect(s3.calls().map((c) => c.args[0].constructor.name).filter((n) => n !== 'GetObjectCommand')).toEqual(['PutObjectCommand']);
  });
});

describe('backstop: execution status change', () => {
  function statusChange(status: string, input: string | null = JSON.stringify({ document: docRef() })): ExecutionStatusEvent {
    return {
      'version': '0',
      'id': 'e1',
      'detail-type': 'Step Functions Execution Status Change',
      'source': 'aws.states',
      'account': '111111111111',
      'time': '2025-01-01T00:10:00Z',
      'region': 'us-east-1',
      'resources': [],
      'detail': {
        executionArn: 'arn:aws:states:us-east-1:111111111111:execution:Contracts:run-9',
        stateMachineArn: 'arn:aws:states:us-east-1:111111111111:stateMachine:Contracts',
        name: 'run-9',
        status,
        startDate: Date.parse('2025-01-01T00:00:00.000Z'),
        stopDate: Date.parse('2025-01-01T00:09:00.000Z'),
        input,
      },
    };
  }

  test.each(['FAILED', 'TIMED_OUT', 'ABORTED'])('%s without a run record: writes a FAILED record, quarantined', async (status) => {
    s3.on(HeadObjectCommand).rejects(awsError('NotFound', 404));

    const out = await recordRun(deps(), statusChange(status));

    expect(s3).toHaveReceivedCommandWith(HeadObjectCommand, { Bucket: 'audit-bucket', Key: 'runs/run-9.json' });
    expect(out).toEqual({ record: { bucket: 'audit-bucket', key: 'runs/run-9.json', versionId: 'av1', sha256: putSha() } });
    expect(putBody()).toEqual({
      schemaVersion: '1',
      kind: 'run',
      runId: 'run-9',
      pipeline: 'Contracts',
      document: docRef(),
      startedAt: '2025-01-01T00:00:00.000Z',
      endedAt: '2025-01-01T00:09:00.000Z',
      outcome: 'FAILED',
      errorName: `Execution.${status}`,
      route: { rule: 'backstop', destination: 'quarantine' },
      // The chain (no stage record was written in this test) and the record's own sha256 (ADR-0017).
      chain: [],
      recordSha256: runRecordSha256(putBody()),
    });
    expect(events.commandCalls(PutEventsCommand)[0].args[0].input.Entries![0].DetailType).toBe('Run Failed');
  });

  test('a run already recorded is left alone', async () => {
    s3.on(HeadObjectCommand).resolves({ ContentLength: 100 });

    await expect(recordRun(deps(), statusChange('FAILED'))).resolves.toEqual({ skipped: 'exists' });
    expect(s3).not.toHaveReceivedCommand(PutObjectCommand);
    expect(events.calls()).toHaveLength(0);
  });

  test('other statuses are ignored', async () => {
    await expect(recordRun(deps(), statusChange('SUCCEEDED'))).resolves.toEqual({ skipped: 'status' });
    expect(s3.calls()).toHaveLength(0);
  });

  test('an error other than 404 on HeadObject is thrown (EventBridge retries)', async () => {
    s3.on(HeadObjectCommand).rejects(awsError('Forbidden', 403));
    await expect(recordRun(deps(), statusChange('FAILED'))).rejects.toMatchObject({ name: 'Forbidden' });
    expect(s3).not.toHaveReceivedCommand(PutObjectCommand);
  });

  test('an input without a document still gets a record (empty pointer), and an error log', async () => {
    s3.on(HeadObjectCommand).rejects(awsError('NotFound', 404));
    await recordRun(deps(), statusChange('ABORTED', 'not json'));
    expect(putBody()).toMatchObject({ document: { bucket: '', key: '' }, errorName: 'Execution.ABORTED' });
    expect(logger.entries).toContainEqual(expect.objectContaining({ level: 'error', message: 'execution input names no document' }));
  });

  test('only the pointer fields of the input document are kept', async () => {
    s3.on(HeadObjectCommand).rejects(awsError('NotFound', 404));
    await recordRun(deps(), statusChange('FAILED', JSON.stringify({ document: { bucket: 'b', key: 'k', note: 'x' }, other: 1 })));
    expect(putBody().document).toEqual({ bucket: 'b', key: 'k' });
  });
});

test('an unknown event is an error', async () => {
  await expect(recordRun(deps(), { hello: 'world' } as any)).rejects.toThrow(/does not know/);
});

test('failureDestination', () => {
  expect(failureDestination('Document.TooLarge')).toBe('quarantine');
  expect(failureDestination('Source.AccessDenied')).toBe('quarantine');
  expect(failureDestination('Document.NoText')).toBe('review');
  expect(failureDestination('Lambda.Unknown')).toBe('failed');
});

test('parseStageOrder', () => {
  expect(parseStageOrder(' Extract, Classify ,,Summarize ')).toEqual(['Extract', 'Classify', 'Summarize']);
  expect(parseStageOrder(undefined)).toEqual([]);
  expect(parseStageOrder('')).toEqual([]);
});

describe('the run\'s audit chain (ADR-0017)', () => {
  const EXTRACT = '{"schemaVersion":"1","kind":"stage","stage":"Extract","runId":"run-1"}';
  const SUMMARIZE = '{"schemaVersion":"1","kind":"stage","stage":"Summarize","runId":"run-1"}';

  test('chains the stage records that exist, in pipeline order, each linked to the one before; the run record links the last', async () => {
    // Classify has no record (a conditional stage that did not run): no link, and the chain goes on.
    s3.on(GetObjectCommand, { Bucket: 'audit-bucket', Key: 'stages/Summarize/run-1.json' }).resolves({ Body: s3Body(SUMMARIZE) } as any);
    s3.on(GetObjectCommand, { Bucket: 'audit-bucket', Key: 'stages/Extract/run-1.json' }).resolves({ Body: s3Body(EXTRACT) } as any);
    const state: RunState = { document: docRef(), results: { Extract: RESULTS.Extract, Summarize: RESULTS.Summarize } };

    await recordRun(deps(), { action: 'run', state, runId: 'run-1', startedAt: '2025-01-01T00:00:00.000Z' });

    const record = putBody();
    expect(record.chain).toEqual([
      { stage: 'Extract', key: 'stages/Extract/run-1.json', sha256: sha256(EXTRACT) },
      { stage: 'Summarize', key: 'stages/Summarize/run-1.json', sha256: sha256(SUMMARIZE), previous: sha256(EXTRACT) },
    ]);
    expect(record.previous).toBe(sha256(SUMMARIZE));
    expect(Object.keys(record).slice(-3)).toEqual(['chain', 'previous', 'recordSha256']);
    expect(record.recordSha256).toBe(runRecordSha256(record));
  });

  test('the record\'s own sha256 changes with any value of the record', async () => {
    await recordRun(deps(), { action: 'run', state: { document: docRef(), results: {} }, runId: 'run-1', startedAt: '2025-01-01T00:00:00.000Z' });
    const record = putBody();
    expect(runRecordSha256({ ...record, outcome: 'FAILED' })).not.toBe(record.recordSha256);
    expect(runRecordSha256({ ...record, recordSha256: 'f'.repeat(64) })).toBe(record.recordSha256);
  });

  test('a stage record that cannot be read (not a 404) fails the recorder rather than leaving it out of the chain', async () => {
    s3.on(GetObjectCommand, { Bucket: 'audit-bucket', Key: 'stages/Extract/run-1.json' }).rejects(awsError('AccessDenied', 403));
    await expect(recordRun(deps(), { action: 'run', state: { document: docRef(), results: {} }, runId: 'run-1', startedAt: '2025-01-01T00:00:00.000Z' }))
      .rejects.toMatchObject({ name: 'AccessDenied' });
    expect(s3).not.toHaveReceivedCommand(PutObjectCommand);
  });
});

describe('exactly one run record when a write half-succeeds', () => {
  /** The audit bucket as S3 keeps it: the run record's versions at its key. */
  let versions: string[];
  beforeEach(() => {
    versions = [];
    s3.on(PutObjectCommand, { Key: 'runs/run-1.json' }).callsFake((input) => {
      versions.push(input.Body as string);
      return { VersionId: `av${versions.length}` };
    });
    s3.on(GetObjectCommand, { Key: 'runs/run-1.json' }).callsFake(() => {
      if (versions.length === 0) throw awsError('NoSuchKey', 404);
      return { Body: s3Body(versions[versions.length - 1]), VersionId: `av${versions.length}` };
    });
  });
  const state: RunState = { document: docRef(), results: { Summarize: RESULTS.Summarize }, route: { rule: 'low-risk-nda', destination: 'auto-approve', messageId: 'm-1' } as any };
  const run = { action: 'run' as const, state, runId: 'run-1', startedAt: '2025-01-01T00:00:00.000Z' };

  test('the run record is written but its event fails: the retry announces the same record, and writes none', async () => {
    events.on(PutEventsCommand).rejectsOnce(awsError('InternalException', 500)).resolves({ FailedEntryCount: 0 });
    await expect(recordRun(deps(), run)).rejects.toMatchObject({ name: 'InternalException' });
    const out = await recordRun(deps(), run) as any;
    expect(versions).toHaveLength(1);
    expect(out.record).toMatchObject({ key: 'runs/run-1.json', versionId: 'av1', sha256: sha256(versions[0]) });
    const detail = JSON.parse(events.commandCalls(PutEventsCommand)[1].args[0].input.Entries![0].Detail!);
    expect(detail).toMatchObject({ runId: 'run-1', outcome: 'SUCCEEDED', record: { versionId: 'av1' } });
  });

  test('the run task fails after its record was written, and the catch-all runs: no second (FAILED) record over the first', async () => {
    events.on(PutEventsCommand).rejects(awsError('InternalException', 500));
    await expect(recordRun(deps(), run)).rejects.toMatchObject({ name: 'InternalException' });
    events.on(PutEventsCommand).resolves({ FailedEntryCount: 0 });
    const failure = { action: 'failure' as const, state: { ...state, error: { Error: 'InternalException', Cause: 'x' } }, runId: 'run-1', startedAt: run.startedAt };
    const out = await recordRun(deps(), failure) as any;
    expect(versions).toHaveLength(1);
    expect(JSON.parse(versions[0])).toMatchObject({ outcome: 'SUCCEEDED', route: { rule: 'low-risk-nda', destination: 'auto-approve' } });
    // The workflow still fails with the error, and the route it reports is the one the record holds.
    expect(out).toMatchObject({ error: 'InternalException', record: { versionId: 'av1' }, route: { rule: 'low-risk-nda', destination: 'auto-approve' } });
    expect(out.cause).toMatch(/already recorded as SUCCEEDED/);
  });

  test('a retried failure record is written once', async () => {
    events.on(PutEventsCommand).rejectsOnce(awsError('InternalException', 500)).resolves({ FailedEntryCount: 0 });
    const failure = { action: 'failure' as const, state: { document: docRef(), results: {}, error: { Error: 'Document.Corrupt', Cause: 'x' } } as RunState, runId: 'run-1', startedAt: run.startedAt };
    await expect(recordRun(deps(), failure)).rejects.toMatchObject({ name: 'InternalException' });
    await expect(recordRun(deps(), failure)).resolves.toMatchObject({ error: 'Document.Corrupt', route: { destination: 'quarantine' } });
    expect(versions).toHaveLength(1);
  });
});

describe('backstop after a delivered route (ADR-0026)', () => {
  const event = (error: string, cause: string): ExecutionStatusEvent => ({
    'detail-type': 'Step Functions Execution Status Change',
    'detail': { name: 'run-9', status: 'FAILED', input: JSON.stringify({ document: docRef() }), startDate: Date.parse('2025-01-01T00:00:00.000Z'), stopDate: Date.parse('2025-01-01T00:04:00.000Z'), error, cause },
  } as any);

  beforeEach(() => {
    s3.on(HeadObjectCommand).rejects(awsError('NotFound', 404));
  });

  test('Audit.RecorderUnavailable with the route as its cause: recorded as delivered, the gap named', async () => {
    const out = await recordRun(deps(), event('Audit.RecorderUnavailable', JSON.stringify({ rule: 'low-risk-nda', destination: 'auto-approve', messageId: 'm-7', extra: 1 })));
    expect(out).toMatchObject({ route: { rule: 'low-risk-nda', destination: 'auto-approve', messageId: 'm-7' } });
    expect(putBody()).toMatchObject({ runId: 'run-9', outcome: 'SUCCEEDED', errorName: 'Audit.RecorderUnavailable', route: { rule: 'low-risk-nda', destination: 'auto-approve', messageId: 'm-7' } });
    expect(putBody().route).not.toHaveProperty('extra');
  });

  test.each([
    ['another error', 'Lambda.ServiceException', JSON.stringify({ rule: 'x', destination: 'y' })],
    ['a cause that is no route', 'Audit.RecorderUnavailable', 'not json'],
  ])('%s: a failed execution, quarantined, as before', async (_what, error, cause) => {
    await recordRun(deps(), event(error, cause));
    expect(putBody()).toMatchObject({ outcome: 'FAILED', errorName: 'Execution.FAILED', route: { rule: 'backstop', destination: 'quarantine' } });
  });
});
