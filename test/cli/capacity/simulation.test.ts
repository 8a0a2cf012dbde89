import { Retrier, retrierFor, retryDelay, SimSettings, simulateDay } from '../../../src/cli/capacity/simulation';
import { rngFrom } from '../../../src/cli/local/stand-ins/prng';

/** Today's Retry of a stage: Lambda's and the service's errors, 4 tries, 2 s doubling to 60 s, full jitter. */
const TODAY = (errors: string[]): Retrier[] => [{ ErrorEquals: ['Lambda.ServiceException', ...errors], IntervalSeconds: 2, BackoffRate: 2, MaxAttempts: 4, MaxDelaySeconds: 60, JitterStrategy: 'FULL' }];
/** With a quota: Capacity.Wait and throttling up to maxWait, then the rest as today. */
const WAITING = (throttling: string[], rest: string[]): Retrier[] => [
  { ErrorEquals: ['Capacity.Wait'], IntervalSeconds: 1, BackoffRate: 2, MaxAttempts: 126, MaxDelaySeconds: 60, JitterStrategy: 'FULL' },
  { ErrorEquals: throttling, IntervalSeconds: 1, BackoffRate: 2, MaxAttempts: 126, MaxDelaySeconds: 60, JitterStrategy: 'FULL' },
  ...TODAY(rest),
];

function settings(withControl: boolean): SimSettings {
  return {
    documents: 6_000,
    // one burst of 6,000 documents in 2 minutes: 50/s against 2 + 2 Textract TPS
    bursts: [{ atHour: 1, minutes: 2 }],
    singlePageShare: 0.5,
    tokensPerPage: 500,
    promptTokens: 200,
    maxTokens: 1000,
    quotas: {
      DetectDocumentText: { name: 'detect', perSecond: 2, burstSeconds: 1, error: 'ProvisionedThroughputExceededException' },
      StartDocumentTextDetection: { name: 'start', perSecond: 2, burstSeconds: 1, error: 'ProvisionedThroughputExceededException' },
      invocations: { name: 'endpoint', perSecond: 50, burstSeconds: 1, error: 'ThrottlingException' },
      requests: { name: 'requests', perSecond: 10, burstSeconds: 60, error: 'ThrottlingException' },
      tokens: { name: 'tokens', perSecond: 100_000, burstSeconds: 60, error: 'ThrottlingException' },
    },
    retry: withControl ? {
      Extract: WAITING(['ProvisionedThroughputExceededException'], ['InternalServerError']),
      Classify: WAITING(['ThrottlingException'], ['ModelNotReadyException']),
      Summarize: WAITING(['ThrottlingException'], ['ModelTimeoutException']),
    } : {
      Extract: TODAY(['ProvisionedThroughputExceededException']),
      Classify: TODAY(['ThrottlingException']),
      Summarize: TODAY(['ThrottlingException']),
    },
    control: withControl ? {
      textract: { id: 'textract', dimensions: [{ name: 'DetectDocumentText', ratePerSecond: 1.9, burst: 1.9 }, { name: 'StartDocumentTextDetection', ratePerSecond: 1.9, burst: 1.9 }] },
      sagemaker: { id: 'endpoint', dimensions: [{ name: 'invocations', ratePerSecond: 47.5, burst: 47.5 }] },
      bedrock: { id: 'model', dimensions: [{ name: 'requests', ratePerSecond: 9.5, burst: 570 }, { name: 'tokens', ratePerSecond: 95_000, burst: 5_700_000 }] },
    } : undefined,
    seed: 'test',
  };
}

describe('simulated day', () => {
  test('today: a burst over the Textract quota fails documents by throttling once 4 retries are spent', () => {
    const r = simulateDay('today', settings(false));
    expect(r.failedByThrottling).toBeGreaterThan(1_000);
    expect(r.succeeded + r.failedByThrottling).toBe(6_000);
    expect(r.throttles).toBeGreaterThan(r.failedByThrottling * 4);
    expect(r.capacityWaits).toBe(0);
  });

  test('with the capacity control: nothing fails, the binding quota runs at >= 90% while documents wait, the service never throttles', () => {
    const r = simulateDay('control', settings(true));
    expect(r.failedByThrottling).toBe(0);
    expect(r.failedWaiting).toBe(0);
    expect(r.succeeded).toBe(6_000);
    expect(r.throttles).toBe(0);
    expect(['DetectDocumentText', 'StartDocumentTextDetection']).toContain(r.binding);
    expect(r.utilization[r.binding].whileBacklogged).toBeGreaterThanOrEqual(0.9);
    expect(r.utilization[r.binding].whileBacklogged).toBeLessThanOrEqual(1);
    // 3,000 documents per Textract API at 1.9/s: the last ones wait about 26 minutes.
    expect(r.maxSeconds).toBeGreaterThan(3_000 / 2 - 120);
    expect(r.p50Seconds).toBeLessThan(r.p99Seconds);
  });

  test('a maxWait shorter than the backlog fails the documents that waited too long, as Capacity.Wait, not throttling', () => {
    const s = settings(true);
    const short = (r: Retrier[]) => r.map((x) => (x.ErrorEquals[0] === 'Capacity.Wait' ? { ...x, MaxAttempts: 10 } : x));
    const r = simulateDay('short', { ...s, retry: { Extract: short(s.retry.Extract), Classify: short(s.retry.Classify), Summarize: short(s.retry.Summarize) } });
    expect(r.failedWaiting).toBeGreaterThan(0);
    expect(r.failedByThrottling).toBe(0);
  });
});

describe('Step Functions retry semantics', () => {
  const retriers = WAITING(['ThrottlingException'], ['ModelTimeoutException']);
  test('the first retrier naming the error applies; States.ALL matches anything; none is -1', () => {
    expect(retrierFor(retriers, 'Capacity.Wait')).toBe(0);
    expect(retrierFor(retriers, 'ThrottlingException')).toBe(1);
    expect(retrierFor(retriers, 'ModelTimeoutException')).toBe(2);
    expect(retrierFor(retriers, 'Model.InvalidOutput')).toBe(-1);
    expect(retrierFor([{ ErrorEquals: ['States.ALL'] }], 'Anything')).toBe(0);
  });

  test('interval x backoff^n, capped by MaxDelaySeconds; full jitter draws below the cap', () => {
    const fixed: Retrier = { ErrorEquals: ['X'], IntervalSeconds: 2, BackoffRate: 2, MaxDelaySeconds: 60 };
    expect([0, 1, 2, 3, 4, 5, 6].map((n) => retryDelay(fixed, n, rngFrom('x')))).toEqual([2, 4, 8, 16, 32, 60, 60]);
    const rng = rngFrom('jitter');
    const draws = Array.from({ length: 200 }, () => retryDelay({ ...fixed, JitterStrategy: 'FULL' }, 10, rng));
    expect(Math.max(...draws)).toBeLessThan(60);
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
    expect(new Set(draws.map((d) => Math.floor(d / 10))).size).toBe(6);
  });
});
