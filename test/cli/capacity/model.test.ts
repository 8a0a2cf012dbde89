import { DEFAULT_PRICES } from '../../../src/cli/capacity/defaults';
import { CapacityLoad, CapacityStage, planCapacity, pollsFor } from '../../../src/cli/capacity/model';

const LOAD: CapacityLoad = {
  documentsPerDay: 100_000,
  pagesPerDocument: 1,
  singlePageShare: 1,
  inputTokensPerPage: 1000,
  outputTokensPerDocument: 500,
  burstFactor: 1,
  burstHours: 1,
};
const HAIKU = 'us.anthropic.claude-3-5-haiku-20241022-v1:0';
const EXTRACT: CapacityStage = { id: 'Extract', kind: 'textract' };
const SUMMARIZE: CapacityStage = { id: 'Summarize', kind: 'bedrock', model: HAIKU, maxTokens: 2048, promptChars: 400 };
const DAY = 86_400;

describe('planCapacity', () => {
  // Each case: stages, load changes, quotas; the bottleneck and the documents a day it sustains.
  test.each<[string, CapacityStage[], Partial<CapacityLoad>, any, string, number]>([
    ['Textract alone: single-page documents against DetectDocumentText', [EXTRACT], {}, {}, 'textract DetectDocumentText', 10 * 0.95 * DAY],
    ['multi-page documents against StartDocumentTextDetection', [EXTRACT], { singlePageShare: 0.2 }, {}, 'textract StartDocumentTextDetection', (10 * 0.95 * DAY) / 0.8],
    ['Haiku requests: 1,600 tokens a document fit the tokens quota', [SUMMARIZE], {}, {}, `bedrock requests (${HAIKU})`, (2000 / 60) * 0.95 * DAY],
    ['Haiku tokens: 3,000 + 100 prompt + 500 tokens a document', [SUMMARIZE], { inputTokensPerPage: 3000 }, {}, `bedrock tokens (${HAIKU})`, ((4_000_000 / 60) * 0.95 * DAY) / 3600],
    ['a user quota moves the bottleneck to requests', [SUMMARIZE], {}, { bedrock: { [HAIKU]: { requestsPerMinute: 60 } } }, `bedrock requests (${HAIKU})`, 0.95 * DAY],
    ['utilization target 1', [EXTRACT], {}, { utilizationTarget: 1 }, 'textract DetectDocumentText', 10 * DAY],
    ['the app\'s ServiceQuota wins over the defaults', [{ ...EXTRACT, quota: { id: 'q', service: 'textract', resource: '', limits: [{ dimension: 'DetectDocumentText', quotaPerSecond: 50, grantPerSecond: 45 }] } }], {}, {}, 'textract DetectDocumentText', 45 * DAY],
    ['two stages on one model add up', [SUMMARIZE, { ...SUMMARIZE, id: 'Classify' }], { inputTokensPerPage: 3000 }, {}, `bedrock tokens (${HAIKU})`, ((4_000_000 / 60) * 0.95 * DAY) / 7200],
  ])('%s', (_name, stages, load, quotas, bottleneck, sustainable) => {
    const plan = planCapacity(stages, { ...LOAD, ...load }, quotas);
    expect(plan.bottleneck.name).toBe(bottleneck);
    expect(plan.sustainableDocumentsPerDay).toBeCloseTo(sustainable, 3);
  });

  test('below saturation the wait is M/D/1: rho / (2 mu (1 - rho))', () => {
    // 50% of DetectDocumentText at the peak: mu = 9.5/s, lambda = 4.75/s.
    const plan = planCapacity([EXTRACT], { ...LOAD, documentsPerDay: 4.75 * DAY });
    expect(plan.wait.model).toBe('M/D/1 at the peak (utilization 50.0%)');
    expect(plan.wait.meanSeconds).toBeCloseTo(0.5 / (2 * 9.5 * 0.5), 9);
    // half the documents find the bucket empty; they wait Wq / rho on average: one try each
    expect(plan.pollsPerDocument).toBeCloseTo(0.5, 9);
  });

  test('a burst above the bottleneck: a fluid backlog of (peak - mu) x burst, drained at mu', () => {
    // average 5/s, x3 for 1 h = 15/s against 9.5/s
    const plan = planCapacity([EXTRACT], { ...LOAD, documentsPerDay: 5 * DAY, burstFactor: 3, burstHours: 1 });
    expect(plan.wait.backlogDocuments).toBeCloseTo((15 - 9.5) * 3600, 6);
    expect(plan.wait.maxSeconds).toBeCloseTo(((15 - 9.5) * 3600) / 9.5, 6);
    expect(plan.overloaded).toBe(false);
    expect(plan.warnings[0]).toMatch(/^the peak needs 157\.9% of textract DetectDocumentText, and its stages \(Extract\) have no ServiceQuota/);
  });

  test('a wait beyond the quota\'s maxWait is a warning naming both', () => {
    const stage: CapacityStage = { ...EXTRACT, quota: { id: 'q', service: 'textract', resource: '', limits: [{ dimension: 'DetectDocumentText', quotaPerSecond: 10, grantPerSecond: 9.5 }], maxWaitSeconds: 600 } };
    const plan = planCapacity([stage], { ...LOAD, documentsPerDay: 5 * DAY, burstFactor: 3, burstHours: 1 });
    expect(plan.warnings).toEqual([expect.stringMatching(/^at the peak a document waits up to 34\.7 min for textract DetectDocumentText, longer than its quota's maxWait \(10\.0 min\): those documents fail\./)]);
  });

  test('an average above the bottleneck is overloaded: no steady state', () => {
    const plan = planCapacity([EXTRACT], { ...LOAD, documentsPerDay: 1_000_000 });
    expect(plan.overloaded).toBe(true);
    expect(plan.wait.meanSeconds).toBe(Infinity);
  });

  test('cost per document: Textract pages and Haiku tokens at list prices, plus the orchestration', () => {
    const plan = planCapacity([EXTRACT, SUMMARIZE], { ...LOAD, pagesPerDocument: 2 });
    const [textract, bedrock] = plan.cost.lines;
    expect(textract.perDocument).toBeCloseTo(2 * DEFAULT_PRICES.textractPerPage, 12);
    expect(bedrock.perDocument).toBeCloseTo((2100 / 1000) * 0.0008 + (500 / 1000) * 0.004, 12);
    expect(plan.cost.perDocument).toBeCloseTo(plan.cost.lines.reduce((t, l) => t + l.perDocument, 0), 12);
    // 2 stages + 3 transitions, plus the tries of the few documents that find the bucket empty (M/D/1 at 12% load).
    expect(plan.pollsPerDocument).toBeGreaterThan(0);
    expect(plan.pollsPerDocument).toBeLessThan(0.2);
    expect(plan.cost.lines.find((l) => l.item.startsWith('Step Functions'))!.perDocument).toBeCloseTo((5 + plan.pollsPerDocument) * 0.000025, 12);
  });

  test.each<[string, () => unknown, RegExp]>([
    ['an unknown model without a quota', () => planCapacity([{ ...SUMMARIZE, model: 'acme.model-v1' }], LOAD), /stage Summarize calls acme\.model-v1, whose requests-per-minute quota is not in the defaults table: give it in --quotas/],
    ['a model without a price', () => planCapacity([{ ...SUMMARIZE, model: 'acme.model-v1' }], LOAD, { bedrock: { 'acme.model-v1': { requestsPerMinute: 10, tokensPerMinute: 1000 } } }), /no list price for acme\.model-v1 \(stage Summarize\): give it in --prices/],
    ['no stage with a quota', () => planCapacity([{ id: 'Enrich', kind: 'lambda' }], LOAD), /nothing to plan/],
    ['a burst factor below 1', () => planCapacity([EXTRACT], { ...LOAD, burstFactor: 0.5 }), /--burst-factor must be at least 1 \(the peak over the average\), got: 0\.5\./],
  ])('rejects %s', (_name, run, message) => {
    expect(run).toThrow(message);
  });
});

test('pollsFor: tries during a wait, waits of 1, 2, 4 ... s up to the cap, half of each on average', () => {
  expect(pollsFor(0, 60)).toBe(0);
  expect(pollsFor(0.5, 60)).toBe(1);
  expect(pollsFor(31.5, 60)).toBe(6); // 0.5 + 1 + 2 + 4 + 8 + 16
  expect(pollsFor(31.5 + 300, 60)).toBe(6 + 10); // then 30 s each (cap 60, halved)
});
