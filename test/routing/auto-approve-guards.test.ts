/**
 * What stands between a document and auto-approve: every enforced screening layer's flag (not
 * only the aggregate), the user's own extra conditions, and spot checks of would-be auto-approved
 * runs. Checked on the Choice's ASL and by running the built states in the local interpreter.
 */
import { Stack } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { RoutingBuildContext } from '../../src/private/routing-context';
import { RouteDestination } from '../../src/routing/route-destination';
import { RoutingPolicy, RoutingPolicyProps } from '../../src/routing/routing-policy';
import { RoutingRule } from '../../src/routing/routing-rule';
import { RuleCondition } from '../../src/routing/rule-condition';
import { newStack } from '../helpers/construct-test-kit';
import { runLocal } from '../helpers/local-sfn';

const flag = { type: 'boolean' };
/** `results` with a Bedrock stage whose normalization, phrases and guardrail layers enforce. */
const RESULTS = {
  type: 'object',
  required: ['Classify', 'Summarize', 'Verify'],
  properties: {
    Classify: { type: 'object', required: ['documentType'], properties: { documentType: { type: 'string' } } },
    Summarize: {
      type: 'object',
      required: ['riskScore', 'screening'],
      properties: {
        riskScore: { type: 'number' },
        screening: {
          type: 'object',
          required: ['promptInjection', 'patterns', 'injectionSuspected', 'layers'],
          properties: {
            promptInjection: flag,
            patterns: { type: 'array' },
            injectionSuspected: flag,
            layers: { type: 'object', required: ['phrases', 'normalization', 'guardrail'], properties: { phrases: flag, normalization: flag, guardrail: flag } },
          },
        },
      },
    },
    Verify: { type: 'object', required: ['clean'], properties: { clean: flag } },
  },
};

function build(extra: Partial<RoutingPolicyProps> = {}) {
  const stack: Stack = newStack();
  const review = RouteDestination.sqsQueue('review', new sqs.Queue(stack, 'Review'));
  const policy = new RoutingPolicy(stack, 'Route', {
    rules: [
      RoutingRule.when('low-risk-nda', RuleCondition.all([
        RuleCondition.stringEquals('Classify.documentType', 'NDA'),
        RuleCondition.numberBelow('Summarize.riskScore', 0.3),
      ]), RouteDestination.autoApprove()),
    ],
    defaultRoute: review,
    ...extra,
  });
  const ctx: RoutingBuildContext = {
    resultsSchema: RESULTS,
    autoApproveGuards: ['Summarize.screening.promptInjection'],
    next: new sfn.Succeed(stack, 'Routed'),
    onError: new sfn.Fail(stack, 'DeliveryFailed'),
  };
  const start = policy._build(ctx);
  const graph = stack.resolve(new sfn.StateGraph(start, 'routing').toGraphJson());
  return { graph, policy };
}

const LAYERS_CLEAN = { normalization: false, phrases: false, guardrail: false };
function input(layers: object = LAYERS_CLEAN, promptInjection = false, verify = true) {
  return {
    document: { bucket: 'docs', key: 'incoming/nda.pdf' },
    results: {
      Classify: { documentType: 'NDA' },
      Summarize: { riskScore: 0.1, screening: { promptInjection, patterns: [], injectionSuspected: false, layers } },
      Verify: { clean: verify },
    },
  };
}

const sqsHandler = { 'Route-default': async () => ({ MessageId: 'm-1' }), 'Route-low-risk-nda-spot-check': async () => ({ MessageId: 'm-2' }) };

describe('auto-approve guards', () => {
  test('the auto-approve rule requires the aggregate flag and every enforced layer\'s flag to be false', () => {
    const { graph } = build();
    expect(graph.States.Route.Choices[0].And.slice(1)).toEqual([
      { Variable: '$.results.Summarize.screening.promptInjection', BooleanEquals: false },
      { Variable: '$.results.Summarize.screening.layers.guardrail', BooleanEquals: false },
      { Variable: '$.results.Summarize.screening.layers.normalization', BooleanEquals: false },
      { Variable: '$.results.Summarize.screening.layers.phrases', BooleanEquals: false },
    ]);
  });

  test.each([
    ['every layer clean', input(), 'Route-low-risk-nda'],
    ['one layer flagged while the aggregate says clean', input({ ...LAYERS_CLEAN, guardrail: true }), 'Route-default'],
    ['the aggregate flagged', input(LAYERS_CLEAN, true), 'Route-default'],
  ])('run locally: %s -> %s', async (_, state, expected) => {
    const { graph } = build();
    const run = await runLocal(graph, state, { handlers: { 'Route-default': sqsHandler['Route-default'] } });
    expect(run.status).toBe('SUCCEEDED');
    expect(run.statesEntered).toContain(expected);
  });

  test('autoApproveRequires: a second deterministic signal of your own, checked against the contracts', async () => {
    const { graph } = build({ autoApproveRequires: [RuleCondition.booleanEquals('Verify.clean', true)] });
    expect(graph.States.Route.Choices[0].And).toContainEqual({ Variable: '$.results.Verify.clean', BooleanEquals: true });
    const run = await runLocal(graph, input(LAYERS_CLEAN, false, false), { handlers: { 'Route-default': sqsHandler['Route-default'] } });
    expect(run.statesEntered).toContain('Route-default');
    expect(() => build({ autoApproveRequires: [RuleCondition.booleanEquals('Verify.missing', true)] }))
      .toThrow(/rule 'autoApproveRequires\[0\]' reads 'Verify.missing', which no stage's output contract declares/);
  });
});

describe('active content never auto-approves', () => {
  /** RESULTS plus an extraction stage whose contract declares `activeContent` (as the Textract stage's does). */
  const WITH_EXTRACT = {
    ...RESULTS,
    properties: { ...RESULTS.properties, Extract: { type: 'object', required: ['pages'], properties: { pages: { type: 'integer' }, activeContent: { type: 'array', items: { type: 'string' } } } } },
  };
  function buildWithExtract() {
    const stack: Stack = newStack();
    const policy = new RoutingPolicy(stack, 'Route', {
      rules: [
        RoutingRule.when('low-risk-nda', RuleCondition.stringEquals('Classify.documentType', 'NDA'), RouteDestination.autoApprove()),
        RoutingRule.when('other', RuleCondition.stringEquals('Classify.documentType', 'MSA'), RouteDestination.sqsQueue('msa', new sqs.Queue(stack, 'Msa'))),
      ],
      defaultRoute: RouteDestination.sqsQueue('review', new sqs.Queue(stack, 'Review')),
    });
    const start = policy._build({
      resultsSchema: WITH_EXTRACT, autoApproveGuards: [], next: new sfn.Succeed(stack, 'Routed'), onError: new sfn.Fail(stack, 'DeliveryFailed'),
    });
    return stack.resolve(new sfn.StateGraph(start, 'routing').toGraphJson());
  }
  const run = (extract: object) => ({ document: { bucket: 'docs', key: 'incoming/nda.pdf' }, results: { ...input().results, Extract: extract } });

  test('the auto-approve rule requires that no stage reported active content; other rules do not', () => {
    const graph = buildWithExtract();
    expect(graph.States.Route.Choices[0].And).toContainEqual({ Not: { Variable: '$.results.Extract.activeContent', IsPresent: true } });
    expect(JSON.stringify(graph.States.Route.Choices[1])).not.toContain('activeContent');
  });

  test.each([
    ['no active content', { pages: 1 }, 'Route-low-risk-nda'],
    ['JavaScript', { pages: 1, activeContent: ['JavaScript'] }, 'Route-default'],
    ['an attached file and a launch action', { pages: 2, activeContent: ['EmbeddedFiles', 'Launch'] }, 'Route-default'],
  ])('run locally: %s -> %s', async (_, extract, expected) => {
    const result = await runLocal(buildWithExtract(), run(extract), { handlers: { 'Route-default': async () => ({ MessageId: 'm-1' }) } });
    expect(result.status).toBe('SUCCEEDED');
    expect(result.statesEntered).toContain(expected);
  });
});

describe('spot checks of auto-approved runs', () => {
  test('off by default: no draw state', () => {
    const { graph } = build();
    expect(graph.StartAt).toBe('Route');
    expect(JSON.stringify(graph)).not.toContain('spotCheck');
  });

  test('a draw before the rules, and a spot-check branch before the auto-approve rule at percent * 100', () => {
    const { graph } = build({ spotCheckPercent: 5 });
    expect(graph.StartAt).toBe('Route-SpotCheckDraw');
    expect(graph.States['Route-SpotCheckDraw']).toMatchObject({
      Type: 'Pass', Parameters: { 'percent': 5, 'draw.$': 'States.MathRandom(0, 10000)' }, ResultPath: '$.spotCheck', Next: 'Route',
    });
    const [spot, rule] = graph.States.Route.Choices;
    expect(spot.And[spot.And.length - 1]).toEqual({ Variable: '$.spotCheck.draw', NumericLessThan: 500 });
    expect(spot.Next).toBe('Route-low-risk-nda-SpotCheck');
    expect(rule.Next).toBe('Route-low-risk-nda');
  });

  test('run locally at 100%: a clean NDA goes to the default route, marked as a spot check, with its rule', async () => {
    const { graph } = build({ spotCheckPercent: 100 });
    const run = await runLocal(graph, input(), { handlers: sqsHandler });
    expect(run.status).toBe('SUCCEEDED');
    expect(run.statesEntered).not.toContain('Route-low-risk-nda');
    expect(run.output.route).toEqual({ rule: 'low-risk-nda', destination: 'review', messageId: 'm-2' });
    expect(run.output.spotCheck).toEqual({ percent: 100, draw: expect.any(Number), sampled: true, rule: 'low-risk-nda' });
    expect(run.calls['Route-low-risk-nda-spot-check'][0].MessageBody.route).toEqual({ rule: 'low-risk-nda', destination: 'review', spotCheck: true });
  });

  test('an injected document is never "spot-checked" into auto-approve: the guards come first', async () => {
    const { graph } = build({ spotCheckPercent: 100 });
    const run = await runLocal(graph, input({ ...LAYERS_CLEAN, phrases: true }), { handlers: sqsHandler });
    expect(run.statesEntered).toContain('Route-default');
    expect(run.output.spotCheck).toEqual({ percent: 100, draw: expect.any(Number) });
  });

  test.each([[-1], [100.5], [1.234], [Number.NaN]])('spotCheckPercent %p throws', (p) => {
    expect(() => build({ spotCheckPercent: p }))
      .toThrow(new RegExp(`\`spotCheckPercent\` must be a number from 0 to 100 with at most two decimals, got: ${p}\\.`));
  });
});
