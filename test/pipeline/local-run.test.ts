/**
 * Runs the REAL synthesized definition of the flagship pipeline in aws-local-stepfunctions, with a
 * local function standing in for each Task (stage handlers, SNS/SQS destinations, the recorder).
 */
import { failureDestination } from '../../src/audit/handler/recorder';
import { Definition, definitionFromTemplate, LocalHandler, namedError, runLocal } from '../helpers/local-sfn';
import { buildPipelineStack, templateOf } from '../helpers/pipeline-fixture';

const SHA = 'a'.repeat(64);
const WORK = 'contracts-working';
const pointer = (key: string) => ({ bucket: WORK, key, sha256: SHA });
const DOCUMENT = { bucket: 'contracts-uploads', key: 'incoming/msa.pdf', versionId: 'v1', size: 8643, etag: 'e1' };

let definition: Definition;

beforeAll(() => {
  definition = definitionFromTemplate(templateOf(buildPipelineStack()));
});

interface Scenario {
  readonly documentType?: string;
  readonly riskScore?: number;
  readonly promptInjection?: boolean;
}

/** Local stand-ins for every Task of the flagship pipeline. */
function handlers(s: Scenario = {}): { [state: string]: LocalHandler } {
  return {
    'Extract': (input) => {
      // waitForTaskToken: the task sends { FunctionName, Payload }; the callback result is the stage output.
      expect(input.Payload.taskToken).toBe('local-task-token');
      return { text: pointer(`stages/Extract/${input.Payload.runId}/text.json`), pages: 2, mode: 'async' };
    },
    'Classify': () => ({ documentType: s.documentType ?? 'NDA', confidence: 0.93 }),
    'Summarize': (input) => ({
      riskScore: s.riskScore ?? 0.1,
      summary: pointer(`stages/Summarize/${input.runId}/summary.json`),
      response: pointer(`stages/Summarize/${input.runId}/response.json`),
      screening: {
        promptInjection: s.promptInjection ?? false,
        patterns: s.promptInjection ? ['phrases:ignore-instructions-en'] : [],
        injectionSuspected: false,
        layers: { normalization: false, phrases: s.promptInjection ?? false, structure: false, guardrail: false, spotlight: false },
      },
      usage: { inputTokens: 1200, outputTokens: 180 },
    }),
    'Route-high-risk': () => ({ MessageId: 'sns-message-1', SequenceNumber: undefined }),
    'Route-default': () => ({ MessageId: 'sqs-message-1', MD5OfMessageBody: 'md5' }),
    'RecordRun': (input) => ({ record: { bucket: 'audit', key: `runs/${input.runId}.json`, sha256: SHA } }),
    'RecordFailure': (input) => {
      const error: string = input.state.error?.Error ?? 'States.Unknown';
      return {
        error,
        cause: `run ${input.runId} failed with ${error}`,
        record: { bucket: 'audit', key: `runs/${input.runId}.json`, sha256: SHA },
        route: { rule: 'failure', destination: failureDestination(error) },
      };
    },
  };
}

describe('local run of the synthesized definition', () => {
  test('the definition is the flagship pipeline (JSONPath, the stages in order)', () => {
    expect(definition.QueryLanguage ?? 'JSONPath').toBe('JSONPath');
    expect(definition.StartAt).toBe('Extract');
    expect(definition.States.Extract.Next).toBe('Classify');
    expect(definition.States.Classify.Next).toBe('Summarize');
  });

  test('(a) a low-risk NDA is auto-approved by rule low-risk-nda', async () => {
    const run = await runLocal(definition, { document: DOCUMENT }, { handlers: handlers({ documentType: 'NDA', riskScore: 0.1 }) });
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output.route).toEqual({ rule: 'low-risk-nda', destination: 'auto-approve' });
    expect(run.output.results.Classify).toEqual({ documentType: 'NDA', confidence: 0.93 });
    expect(run.output.results.Extract.pages).toBe(2);
    expect(run.output.document).toEqual(DOCUMENT);
    expect(run.output.audit.record.key).toBe('runs/local-run-0001.json');
    // Nobody is notified on auto-approve.
    expect(run.calls['Route-high-risk']).toBeUndefined();
    expect(run.calls['Route-default']).toBeUndefined();
    expect(run.calls.RecordFailure).toBeUndefined();
    // Each stage got the whole run state and the run id.
    expect(run.calls.Classify[0]).toMatchObject({ runId: 'local-run-0001', state: { document: DOCUMENT, results: { Extract: { pages: 2 } } } });
    expect(run.calls.Summarize[0].state.results.Classify.documentType).toBe('NDA');
    // The run record sees the route.
    expect(run.calls.RecordRun[0]).toMatchObject({ action: 'run', runId: 'local-run-0001', state: { route: { rule: 'low-risk-nda' } } });
  });

  test('(b) a high-risk MSA goes to legal through SNS, with pointers (never text) in the message', async () => {
    const run = await runLocal(definition, { document: DOCUMENT }, { handlers: handlers({ documentType: 'MSA', riskScore: 0.82 }) });
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output.route).toEqual({ rule: 'high-risk', destination: 'legal', messageId: 'sns-message-1' });
    expect(run.calls['Route-high-risk']).toHaveLength(1);
    const publish = run.calls['Route-high-risk'][0];
    expect(publish.TopicArn).toMatch(/^arn:aws:sns:us-east-1:111111111111:Legal/);
    expect(publish.Message).toMatchObject({ runId: 'local-run-0001', route: { rule: 'high-risk', destination: 'legal' }, document: DOCUMENT });
    expect(publish.Message.results.Summarize.summary).toEqual(expect.objectContaining({ bucket: WORK }));
    expect(run.calls['Route-default']).toBeUndefined();
  });

  test('(c) a low-risk NDA flagged for prompt injection is NOT auto-approved: it goes to review', async () => {
    const run = await runLocal(definition, { document: DOCUMENT }, { handlers: handlers({ documentType: 'NDA', riskScore: 0.1, promptInjection: true }) });
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output.route).toEqual({ rule: 'default', destination: 'review', messageId: 'sqs-message-1' });
    expect(run.statesEntered).not.toContain('Route-low-risk-nda');
    expect(run.calls['Route-default'][0].QueueUrl).toMatch(/^https:\/\/sqs\.us-east-1\.amazonaws\.com\/111111111111\/Review/);
    expect(run.calls['Route-default'][0].MessageBody.route).toEqual({ rule: 'default', destination: 'review' });
  });

  test('(d) Document.Encrypted in Extract: recorded, not retried, the run fails with Document.Encrypted, Classify never runs', async () => {
    const h = handlers();
    h.Extract = () => {
      throw namedError('Document.Encrypted', 'the PDF is password-protected');
    };
    const run = await runLocal(definition, { document: DOCUMENT }, { handlers: h });
    expect(run.status).toBe('FAILED');
    // The Fail state's ErrorPath/CausePath ($.failure.error / $.failure.cause).
    expect(run.error).toBe('Document.Encrypted');
    expect(run.cause).toBe('run local-run-0001 failed with Document.Encrypted');
    expect(run.calls.Extract).toHaveLength(1);
    expect(run.calls.Classify).toBeUndefined();
    expect(run.calls.Summarize).toBeUndefined();
    expect(run.calls.RecordFailure).toHaveLength(1);
    const failure = run.calls.RecordFailure[0];
    expect(failure.action).toBe('failure');
    expect(failure.state.error.Error).toBe('Document.Encrypted');
    expect(failure.state.document).toEqual(DOCUMENT);
    expect(failure.state.failedStage).toBe('Extract');
    expect(run.statesEntered).toEqual(['Extract', 'Extract-failed', 'RecordFailure', 'Failed']);
  });

  test('(e) throttling on Summarize is retried, and the run succeeds', async () => {
    const h = handlers({ documentType: 'MSA', riskScore: 0.5 });
    const succeed = h.Summarize;
    let attempts = 0;
    h.Summarize = (input) => {
      attempts += 1;
      if (attempts <= 2) throw namedError('ThrottlingException', 'Rate exceeded');
      return succeed(input);
    };
    const run = await runLocal(definition, { document: DOCUMENT }, { handlers: h });
    expect(run.status).toBe('SUCCEEDED');
    expect(attempts).toBe(3);
    expect(run.events.filter((e) => e.type === 'StateRetried' && e.state.name === 'Summarize')).toHaveLength(2);
    expect(run.calls.RecordFailure).toBeUndefined();
    expect(run.output.route).toEqual({ rule: 'default', destination: 'review', messageId: 'sqs-message-1' });
  });

  test('throttling that never ends is bounded: after MaxAttempts the run fails through RecordFailure', async () => {
    const h = handlers();
    let attempts = 0;
    h.Summarize = () => {
      attempts += 1;
      throw namedError('ThrottlingException', 'Rate exceeded');
    };
    const run = await runLocal(definition, { document: DOCUMENT }, { handlers: h });
    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('ThrottlingException');
    expect(attempts).toBe(1 + definition.States.Summarize.Retry[0].MaxAttempts);
    expect(run.calls.RecordFailure[0].state.results).toEqual(expect.objectContaining({ Classify: expect.anything() }));
  });

  test('a contract violation in Classify is never retried', async () => {
    const h = handlers();
    h.Classify = () => {
      throw namedError('Contract.OutputViolation', 'documentType must be one of the enum');
    };
    const run = await runLocal(definition, { document: DOCUMENT }, { handlers: h });
    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('Contract.OutputViolation');
    expect(run.calls.Classify).toHaveLength(1);
    expect(run.calls.Summarize).toBeUndefined();
  });

  test('(f) the happy path takes at most stages + 3 state transitions', async () => {
    const stages = 3;
    for (const s of [{ documentType: 'NDA', riskScore: 0.1 }, { documentType: 'MSA', riskScore: 0.9 }, { documentType: 'SOW', riskScore: 0.5 }]) {
      const run = await runLocal(definition, { document: DOCUMENT }, { handlers: handlers(s) });
      expect(run.status).toBe('SUCCEEDED');
      expect(run.statesEntered.length).toBeLessThanOrEqual(stages + 3);
      expect(run.statesEntered.slice(0, 4)).toEqual(['Extract', 'Classify', 'Summarize', 'Route']);
      expect(run.statesEntered[run.statesEntered.length - 1]).toBe('RecordRun');
    }
  });
});
