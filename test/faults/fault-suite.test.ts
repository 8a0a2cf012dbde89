/**
 * The fault suite: scenarios through the REAL synthesized definitions (the legal example's Textract,
 * SageMaker and Bedrock stages; a small app's Lambda stage), with the real handler cores behind the
 * local adapters. Each fault (transient ones that clear, persistent ones, timeouts, invalid,
 * truncated and oversized model replies, the source deleted or denied, the audit bucket down, the
 * recorder failing) must end in ONE defined terminal state, with the document kept and exactly one
 * run record (one version at the run's key, one run event on the audit bus).
 */
import * as fs from 'fs';
import * as path from 'path';
import { CheckedRun, LEGAL_EXAMPLE, runChecked, synthLambdaApp, synthLegal, tmp } from './fault-kit';
import { parseScenario } from '../../src/cli/local/scenario';

const NDA = path.join(LEGAL_EXAMPLE, 'samples', 'nda-short.pdf');

/** What a scenario must end in: SUCCEEDED at a route, or FAILED with the named error and the route of the failure path. */
interface Expected {
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly route: string;
  readonly error?: string;
  /** The run record's error: the caught error, or `Execution.FAILED` when only the backstop could write it. */
  readonly recorded?: string;
  /** States that ran more than once (the definition's Retry): state → retries. */
  readonly retries?: { readonly [state: string]: number };
  /**
   * Branches of one Parallel state failing the same way: the first to use up its retries fails the
   * Parallel state, which stops the others wherever they are (as Step Functions does). So one of them
   * retried `max` times, and each of the others between once and `max` times, depending on timing.
   */
  readonly parallelRetries?: { readonly states: readonly string[]; readonly max: number };
  /** The scenario itself deletes the document (`delete-source`). */
  readonly deletedByScenario?: boolean;
  /** The route was delivered before the recorder went down: the backstop's record says so (ADR-0026). */
  readonly delivered?: boolean;
}

type Row = [app: 'legal' | 'lambda', what: string, stage: string, fault: unknown, expected: Expected];

const ok = (route: string, retries: { [state: string]: number }): Expected => ({ status: 'SUCCEEDED', route, retries });
const failed = (error: string, route = 'failed', extra: Partial<Expected> = {}): Expected => ({ status: 'FAILED', route, error, recorded: error, ...extra });
/** The workflow could not write the run record (recorder or audit bucket down): the backstop wrote it, after the outage. */
const backstop = (error: string, retries: { [state: string]: number }): Expected => ({ status: 'FAILED', route: 'quarantine', error, recorded: 'Execution.FAILED', retries });
/** The route was delivered, then no run record could be written: the backstop records the delivered route and the gap. */
const deliveredThenBackstop = (route: string, error: string, retries: { [state: string]: number }): Expected =>
  ({ status: 'FAILED', route, error, recorded: 'Audit.RecorderUnavailable', retries, delivered: true });

const SCENARIOS: Row[] = [
  // Textract
  ['legal', 'Textract throttling that clears', 'Extract', { throttle: 2 }, ok('auto-approve', { Extract: 2 })],
  ['legal', 'Textract internal errors that clear after 2', 'Extract', { error: 'InternalServerError', times: 2 }, ok('auto-approve', { Extract: 2 })],
  ['legal', 'Textract throttling that never clears', 'Extract', { error: 'ProvisionedThroughputExceededException' }, failed('ProvisionedThroughputExceededException', 'failed', { retries: { Extract: 4 } })],
  ['legal', 'Textract task timeout', 'Extract', 'timeout', failed('States.Timeout')],
  ['legal', 'source object deleted mid-run', 'Extract', 'delete-source', failed('Source.Gone', 'quarantine', { deletedByScenario: true })],
  ['legal', 'source key denied mid-run', 'Extract', 'deny-source', failed('Source.AccessDenied', 'quarantine')],
  ['legal', 'audit bucket unavailable from the Textract stage on', 'Extract', 'audit-unavailable', backstop('ServiceUnavailable', { Extract: 4 })],
  // The recorder is only needed at the end: every stage ran and the route was delivered before it failed.
  ['legal', 'recorder failing from the first stage on', 'Extract', 'recorder-fails', deliveredThenBackstop('auto-approve', 'Lambda.ServiceException', { RecordRun: 4, RecordFailure: 4 })],
  // SageMaker
  ['legal', 'SageMaker throttling that clears', 'Classify', { throttle: 2 }, ok('auto-approve', { Classify: 2 })],
  ['legal', 'SageMaker model not ready once', 'Classify', { error: 'ModelNotReadyException', times: 1 }, ok('auto-approve', { Classify: 1 })],
  ['legal', 'SageMaker unavailable for good', 'Classify', { error: 'ServiceUnavailable' }, failed('ServiceUnavailable', 'failed', { retries: { Classify: 4 } })],
  ['legal', 'SageMaker timeout', 'Classify', 'timeout', failed('States.Timeout')],
  ['legal', 'SageMaker invalid JSON', 'Classify', 'invalid-json', failed('Model.InvalidOutput')],
  ['legal', 'SageMaker truncated JSON', 'Classify', 'truncated-json', failed('Model.InvalidOutput')],
  ['legal', 'SageMaker oversized reply', 'Classify', 'oversized', failed('Contract.OutputViolation')],
  ['legal', 'audit bucket unavailable from the SageMaker stage on', 'Classify', 'audit-unavailable', backstop('ServiceUnavailable', { Classify: 4 })],
  // Comprehend (the example's language detection)
  ['legal', 'Comprehend timeout', 'Language', 'timeout', failed('States.Timeout')],
  // Bedrock
  ['legal', 'Bedrock throttling that clears', 'Summarize', { throttle: 2 }, ok('auto-approve', { Summarize: 2 })],
  ['legal', 'Bedrock throttling that never clears', 'Summarize', { error: 'ThrottlingException' }, failed('ThrottlingException', 'failed', { retries: { Summarize: 4 } })],
  ['legal', 'Bedrock timeout', 'Summarize', 'timeout', failed('States.Timeout')],
  ['legal', 'Bedrock invalid JSON (after its repair attempt)', 'Summarize', 'invalid-json', failed('Model.InvalidOutput')],
  ['legal', 'Bedrock truncated JSON (after its repair attempt)', 'Summarize', 'truncated-json', failed('Model.InvalidOutput')],
  ['legal', 'Bedrock oversized reply (cut at maxTokens)', 'Summarize', 'oversized', failed('Model.InvalidOutput')],
  ['legal', 'audit bucket unavailable from the Bedrock stage on', 'Summarize', 'audit-unavailable',
    { ...backstop('ServiceUnavailable', {}), parallelRetries: { states: ['Summarize', 'Clauses'], max: 4 } }],
  ['legal', 'recorder failing after the route was taken', 'Summarize', 'recorder-fails', deliveredThenBackstop('auto-approve', 'Lambda.ServiceException', { RecordRun: 4, RecordFailure: 4 })],
  // Lambda
  ['lambda', 'Lambda throttling that clears', 'Check', { throttle: 2 }, ok('none', { Check: 2 })],
  ['lambda', 'Lambda service errors that clear after 2', 'Check', { error: 'ServiceException', times: 2 }, ok('none', { Check: 2 })],
  ['lambda', 'Lambda throttling that never clears', 'Check', { error: 'TooManyRequestsException' }, failed('TooManyRequestsException', 'failed', { retries: { Check: 4 } })],
  ['lambda', 'Lambda timeout', 'Check', 'timeout', failed('States.Timeout')],
  ['lambda', 'Lambda reply not JSON', 'Check', 'invalid-json', failed('Contract.OutputViolation')],
  ['lambda', 'Lambda reply truncated', 'Check', 'truncated-json', failed('Contract.OutputViolation')],
  ['lambda', 'Lambda oversized reply', 'Check', 'oversized', failed('Contract.OutputViolation')],
  ['lambda', 'recorder failing at the Lambda stage', 'Check', 'recorder-fails', backstop('Lambda.ServiceException', { RecordRun: 4, RecordFailure: 4 })],
];

/** Each scenario runs on its own copy of the NDA (`fault-NN.pdf`), with a rule for that file only. */
const fileOf = (i: number) => `fault-${String(i + 1).padStart(2, '0')}.pdf`;
const runs = new Map<number, CheckedRun>();

beforeAll(async () => {
  for (const app of ['legal', 'lambda'] as const) {
    const rows = SCENARIOS.map((row, i) => ({ row, i })).filter(({ row }) => row[0] === app);
    const docs = tmp(`faults-${app}-docs-`);
    const documents = rows.map(({ i }) => {
      const file = path.join(docs, fileOf(i));
      fs.copyFileSync(NDA, file);
      return file;
    });
    const rules = rows.map(({ row, i }) => ({ documents: fileOf(i), stage: row[2], fault: row[3] }));
    const assembly = app === 'legal' ? synthLegal() : synthLambdaApp();
    // The legal example's folder carries its local models; the Lambda app has none.
    const results = await runChecked(assembly, documents, rules, app === 'legal' ? LEGAL_EXAMPLE : docs);
    rows.forEach(({ i }, k) => runs.set(i, results[k]));
  }
}, 300_000);

const tally = { scenarios: 0, terminal: 0, kept: 0, deletedByScenario: 0, single: 0 };

afterAll(() => {
  // eslint-disable-next-line no-console
  console.log(`fault suite: ${tally.scenarios} scenarios, ${tally.terminal} defined terminal states, `
    + `${tally.kept} documents kept (${tally.deletedByScenario} more deleted by the scenario itself, none by the pipeline), `
    + `${tally.single} single run records`);
});

test('scenario files accept the new faults and check their shape', () => {
  const stages = ['Extract'];
  for (const fault of ['truncated-json', 'deny-source', 'audit-unavailable', 'recorder-fails', { error: 'ThrottlingException', times: 2 }]) {
    expect(parseScenario({ rules: [{ stage: 'Extract', fault }] }, 's.json', stages).rules[0].fault).toEqual(fault);
  }
  expect(() => parseScenario({ rules: [{ stage: 'Extract', fault: { error: 'X', times: 0 } }] }, 's.json', stages)).toThrow(/"times": N \(>= 1, optional\)/);
  expect(() => parseScenario({ rules: [{ stage: 'Extract', fault: { error: 'X', count: 2 } }] }, 's.json', stages)).toThrow(/is not one of/);
  expect(() => parseScenario({ rules: [{ stage: 'Extract', fault: { throttle: 2, times: 2 } }] }, 's.json', stages)).toThrow(/is not one of/);
});

test('the suite covers every stage kind with at least 14 scenarios', () => {
  expect(SCENARIOS.length).toBeGreaterThanOrEqual(14);
  expect(new Set(SCENARIOS.map((r) => r[2]))).toEqual(new Set(['Extract', 'Language', 'Classify', 'Summarize', 'Check']));
});

describe.each(SCENARIOS.map((row, i) => [row[1], i] as const))('%s', (_what, i) => {
  const [, , stage, , expected] = SCENARIOS[i];

  test('ends in its one defined terminal state, document kept, exactly one run record', () => {
    const run = runs.get(i)!;
    const o = run.outcome;
    tally.scenarios++;

    // One defined terminal state.
    expect({ status: o.status, route: o.route, error: o.error }).toEqual({ status: expected.status, route: expected.route, error: expected.error });
    const states = o.path.map((p) => p.state);
    expect(states).toContain(stage);
    if (expected.status === 'SUCCEEDED') {
      expect(states[states.length - 1]).toBe('RecordRun');
    } else if (expected.delivered) {
      // Delivered, then not recorded: the execution's cause carries the route to the backstop.
      expect(states.slice(-4)).toEqual(['RecordFailure', 'RecorderUnavailable', 'RecorderUnavailable-Route', 'RecordingFailedAfterDelivery']);
    } else if (expected.recorded === 'Execution.FAILED') {
      // The recorder could not write, before any route: the execution fails with the recorder's error.
      expect(states.slice(-3)).toEqual(['RecordFailure', 'RecorderUnavailable', 'RecordingFailed']);
    } else {
      expect(states.slice(-2)).toEqual(['RecordFailure', 'Failed']);
    }
    const retries: { [state: string]: number } = Object.fromEntries(o.path.filter((p) => p.retries).map((p) => [p.state, p.retries!]));
    const parallel = expected.parallelRetries;
    if (parallel) {
      const counts = parallel.states.map((st) => retries[st] ?? 0);
      expect(Math.max(...counts)).toBe(parallel.max);
      for (const c of counts) expect(c).toBeGreaterThanOrEqual(1);
      for (const st of parallel.states) delete retries[st];
    }
    expect(retries).toEqual(expected.retries ?? {});
    tally.terminal++;

    // The document: still at its key, byte for byte; the pipeline wrote nothing else in its bucket.
    expect(run.otherDocumentObjects).toEqual([]);
    if (expected.deletedByScenario) {
      expect(run.documentKept).toBe(false);
      tally.deletedByScenario++;
    } else {
      expect(run.documentKept).toBe(true);
      tally.kept++;
    }

    // Exactly one run record: one version at the run's key, one run event; it names the outcome.
    expect({ versions: run.runRecordVersions, events: run.runEvents }).toEqual({ versions: 1, events: 1 });
    // A delivered run is recorded as delivered (SUCCEEDED at its route), with the audit gap named.
    const recordedOutcome = expected.delivered ? 'SUCCEEDED' : expected.status;
    expect(run.runRecord).toMatchObject({ outcome: recordedOutcome, ...(expected.recorded ? { errorName: expected.recorded } : {}) });
    if (expected.status === 'FAILED') expect(run.runRecord.route.destination).toBe(expected.route);
    tally.single++;
  });
});
