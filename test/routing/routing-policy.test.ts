import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { RoutingBuildContext } from '../../src/private/routing-context';
import { RouteDestination } from '../../src/routing/route-destination';
import { RoutingPolicy, RoutingPolicyProps } from '../../src/routing/routing-policy';
import { RoutingRule } from '../../src/routing/routing-rule';
import { RuleCondition } from '../../src/routing/rule-condition';
import { arnOf, newStack } from '../helpers/construct-test-kit';

/** `results` as the stages' output contracts declare it. */
const RESULTS = {
  type: 'object',
  required: ['Classify', 'Summarize'],
  properties: {
    Classify: {
      type: 'object',
      required: ['documentType'],
      properties: { documentType: { type: 'string', enum: ['NDA', 'MSA', 'SOW'] }, confidence: { type: 'number' }, pages: { type: 'integer' } },
    },
    Summarize: {
      type: 'object',
      required: ['riskScore', 'screening'],
      properties: {
        riskScore: { type: 'number' },
        screening: { type: 'object', required: ['promptInjection'], properties: { promptInjection: { type: 'boolean' } } },
        custom: { anyOf: [{ type: 'object' }] },
      },
    },
  },
};

interface Built {
  readonly stack: Stack;
  readonly policy: RoutingPolicy;
  readonly graph: any;
  readonly ctx: RoutingBuildContext;
}

function build(props: (stack: Stack) => RoutingPolicyProps, guards: string[] = []): Built {
  const stack = newStack();
  const policy = new RoutingPolicy(stack, 'Route', props(stack));
  const ctx: RoutingBuildContext = {
    resultsSchema: RESULTS,
    autoApproveGuards: guards,
    next: new sfn.Succeed(stack, 'Routed'),
    onError: new sfn.Fail(stack, 'DeliveryFailed'),
  };
  const start = policy._build(ctx);
  const graph = stack.resolve(new sfn.StateGraph(start, 'routing').toGraphJson());
  return { stack, policy, graph, ctx };
}

const queue = (stack: Stack, id = 'Review') => new sqs.Queue(stack, id);

describe('RoutingPolicy._build: the Choice', () => {
  let built: Built;
  beforeAll(() => {
    built = build((stack) => {
      // The same destination object serves a rule and the default route.
      const review = RouteDestination.sqsQueue('review', queue(stack));
      return {
        rules: [
          RoutingRule.when('high-risk', RuleCondition.numberAtLeast('Summarize.riskScore', 0.7), RouteDestination.snsTopic('legal', new sns.Topic(stack, 'Legal'))),
          RoutingRule.when('low-risk-nda', RuleCondition.all([
            RuleCondition.stringEquals('Classify.documentType', 'NDA'),
            RuleCondition.numberBelow('Summarize.riskScore', 0.3),
          ]), RouteDestination.autoApprove()),
          RoutingRule.when('unsure', RuleCondition.numberBelow('Classify.confidence', 0.5), review),
        ],
        defaultRoute: review,
      };
    }, ['Summarize.screening.promptInjection']);
  });

  test('one Choice named after the policy: rules in order, first match wins, default last', () => {
    expect(built.graph.StartAt).toBe('Route');
    const choice = built.graph.States.Route;
    expect(choice.Type).toBe('Choice');
    expect(choice.Choices.map((c: any) => [c.Comment, c.Next])).toEqual([
      ['high-risk', 'Route-high-risk'],
      ['low-risk-nda', 'Route-low-risk-nda'],
      ['unsure', 'Route-unsure'],
    ]);
    expect(choice.Default).toBe('Route-default');
  });

  test('a required path is compared directly', () => {
    expect(built.graph.States.Route.Choices[0]).toEqual({
      Variable: '$.results.Summarize.riskScore', NumericGreaterThanEquals: 0.7, Next: 'Route-high-risk', Comment: 'high-risk',
    });
  });

  test('an optional path is guarded by IsPresent', () => {
    expect(built.graph.States.Route.Choices[2]).toEqual({
      And: [
        { Variable: '$.results.Classify.confidence', IsPresent: true },
        { Variable: '$.results.Classify.confidence', NumericLessThan: 0.5 },
      ],
      Next: 'Route-unsure',
      Comment: 'unsure',
    });
  });

  test('auto-approve also requires every screening flag to be false', () => {
    expect(built.graph.States.Route.Choices[1]).toEqual({
      And: [
        {
          And: [
            { Variable: '$.results.Classify.documentType', StringEquals: 'NDA' },
            { Variable: '$.results.Summarize.riskScore', NumericLessThan: 0.3 },
          ],
        },
        { Variable: '$.results.Summarize.screening.promptInjection', BooleanEquals: false },
      ],
      Next: 'Route-low-risk-nda',
      Comment: 'low-risk-nda',
    });
  });

  test('non-auto-approve rules are not guarded by the screening flags', () => {
    expect(JSON.stringify(built.graph.States.Route.Choices[0])).not.toContain('promptInjection');
    expect(JSON.stringify(built.graph.States.Route.Choices[2])).not.toContain('promptInjection');
  });

  test('auto-approve: a Pass that records { rule, destination } at $.route, then next', () => {
    expect(built.graph.States['Route-low-risk-nda']).toEqual({
      Type: 'Pass',
      Comment: 'route low-risk-nda -> auto-approve (auto-approve)',
      Result: { rule: 'low-risk-nda', destination: 'auto-approve' },
      ResultPath: '$.route',
      Next: 'Routed',
    });
  });

  test.each(['Route-high-risk', 'Route-unsure', 'Route-default'])('%s: retried with full jitter, errors caught to onError', (name) => {
    const state = built.graph.States[name];
    expect(state.Type).toBe('Task');
    expect(state.Next).toBe('Routed');
    expect(state.ResultPath).toBe('$.route');
    // Only the delivery service's throttling/transient errors (and a timed-out call) are retried.
    expect(state.Retry).toHaveLength(1);
    expect(state.Retry[0]).toMatchObject({ MaxAttempts: 4, BackoffRate: 2, IntervalSeconds: 1, MaxDelaySeconds: 20, JitterStrategy: 'FULL' });
    expect(state.Retry[0].ErrorEquals).toContain('States.Timeout');
    expect(state.Retry[0].ErrorEquals).not.toContain('States.TaskFailed');
    expect(state.Retry[0].ErrorEquals).not.toContain('States.ALL');
    expect(state.TimeoutSeconds).toBe(30);
    expect(state.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'DeliveryFailed' }]);
  });

  test('each destination state records its own rule', () => {
    expect(built.graph.States['Route-high-risk'].ResultSelector).toMatchObject({ rule: 'high-risk', destination: 'legal' });
    expect(built.graph.States['Route-unsure'].ResultSelector).toMatchObject({ rule: 'unsure', destination: 'review' });
    expect(built.graph.States['Route-default'].ResultSelector).toMatchObject({ rule: 'default', destination: 'review' });
    expect(built.graph.States['Route-default'].Parameters.MessageBody.route).toEqual({ rule: 'default', destination: 'review' });
  });

  test('using the policy in a second pipeline throws', () => {
    expect(() => built.policy._build(built.ctx))
      .toThrow('[RoutingPolicy TestStack/Route] the routing policy is already used by another pipeline. Create one RoutingPolicy per Pipeline.');
  });
});

describe('RoutingPolicy._build checks rules against the contracts', () => {
  const route = (condition: RuleCondition) => () => build((stack) => ({
    rules: [RoutingRule.when('check', condition, RouteDestination.snsTopic('legal', new sns.Topic(stack, 'T')))],
    defaultRoute: RouteDestination.sqsQueue('review', queue(stack)),
  }));

  test('a path no contract declares', () => {
    expect(route(RuleCondition.numberAtLeast('Summarize.score', 1)))
      .toThrow("[RoutingPolicy TestStack/Route] rule 'check' reads 'Summarize.score', which no stage's output contract declares. Declare it in the output contract of stage 'Summarize', or fix the path.");
    expect(route(RuleCondition.isPresent('Extract.pages'))).toThrow(/rule 'check' reads 'Extract.pages', which no stage's output contract declares/);
  });

  test('a comparison of the wrong type', () => {
    expect(route(RuleCondition.numberAtLeast('Classify.documentType', 1)))
      .toThrow("[RoutingPolicy TestStack/Route] rule 'check' compares 'Classify.documentType' as a number, but its contract declares string. Use a string condition, or fix the contract.");
    expect(route(RuleCondition.stringEquals('Summarize.riskScore', 'high')))
      .toThrow("rule 'check' compares 'Summarize.riskScore' as a string, but its contract declares number. Use a number condition");
    expect(route(RuleCondition.booleanEquals('Classify.confidence', true)))
      .toThrow("rule 'check' compares 'Classify.confidence' as a boolean, but its contract declares number.");
  });

  test('a number condition on an integer field is fine', () => {
    expect(route(RuleCondition.numberAbove('Classify.pages', 10))).not.toThrow();
  });

  test('a string value outside the enum', () => {
    expect(route(RuleCondition.stringIn('Classify.documentType', ['NDA', 'LEASE', 'EULA'])))
      .toThrow('[RoutingPolicy TestStack/Route] rule \'check\' compares \'Classify.documentType\' with ["LEASE","EULA"], which its contract never allows (one of ["NDA","MSA","SOW"]). Fix the value.');
    expect(route(RuleCondition.not(RuleCondition.stringEquals('Classify.documentType', 'nda'))))
      .toThrow(/compares 'Classify.documentType' with \["nda"\], which its contract never allows/);
  });

  test('conditions nested in all/any/not are checked too', () => {
    expect(route(RuleCondition.any([RuleCondition.isPresent('Classify.confidence'), RuleCondition.numberBelow('Classify.nope', 1)])))
      .toThrow(/reads 'Classify.nope'/);
  });

  test('a path through a combinator is not checked (opaque)', () => {
    expect(route(RuleCondition.stringEquals('Summarize.custom.anything', 'x'))).not.toThrow();
  });
});

describe('RoutingPolicy validation', () => {
  const make = (rules: (stack: Stack) => RoutingRule[], defaultRoute?: (stack: Stack) => RouteDestination) => () => {
    const stack = newStack();
    return new RoutingPolicy(stack, 'Route', { rules: rules(stack), defaultRoute: (defaultRoute ?? ((s) => RouteDestination.sqsQueue('review', queue(s))))(stack) });
  };
  const cond = RuleCondition.numberAtLeast('Summarize.riskScore', 0.7);

  test.each(['High-Risk', 'high_risk', '-high', '', 'a'.repeat(41)])('rejects the rule name %p', (name) => {
    expect(make(() => [RoutingRule.when(name, cond, RouteDestination.autoApprove())]))
      .toThrow(`[RoutingPolicy TestStack/Route] rule names must be 1-40 lowercase letters, digits or hyphens, got: '${name}'. Rename the rule, e.g. 'high-risk'.`);
  });

  test('accepts a 40-character rule name', () => {
    expect(make(() => [RoutingRule.when('a'.repeat(40), cond, RouteDestination.autoApprove())])).not.toThrow();
  });

  test('rejects two rules with the same name', () => {
    expect(make(() => [RoutingRule.when('high', cond, RouteDestination.autoApprove()), RoutingRule.when('high', cond, RouteDestination.autoApprove())]))
      .toThrow("[RoutingPolicy TestStack/Route] `rules` must have unique names other than 'default', got 'high' twice or reserved. Rename one of them.");
  });

  test("rejects a rule named 'default'", () => {
    expect(make(() => [RoutingRule.when('default', cond, RouteDestination.autoApprove())]))
      .toThrow("`rules` must have unique names other than 'default', got 'default' twice or reserved.");
  });

  test.each(['Legal', 'legal team', ''])('rejects the destination name %p (rule or default)', (name) => {
    const message = `[RoutingPolicy TestStack/Route] destination names must be 1-40 lowercase letters, digits or hyphens, got: '${name}'. Rename the destination, e.g. 'legal'.`;
    expect(make(() => [RoutingRule.when('ok', cond, RouteDestination.autoApprove(name))])).toThrow(message);
    expect(make(() => [], (s) => RouteDestination.sqsQueue(name, queue(s)))).toThrow(message);
  });

  test.each(['quarantine', 'failed'])("rejects the reserved destination name '%s'", (name) => {
    expect(make((s) => [RoutingRule.when('ok', cond, RouteDestination.sqsQueue(name, queue(s, 'Q2')))]))
      .toThrow(`[RoutingPolicy TestStack/Route] the destination name '${name}' is reserved for the pipeline's failure path. Choose another name.`);
  });

  test('rejects two different destinations with the same name', () => {
    expect(make((s) => [RoutingRule.when('ok', cond, RouteDestination.sqsQueue('review', queue(s, 'Other')))]))
      .toThrow("[RoutingPolicy TestStack/Route] two different destinations are named 'review'. Give each destination its own name, or reuse the same RouteDestination object.");
  });

  test('the same destination object may serve several rules and the default', () => {
    const stack = newStack();
    const review = RouteDestination.sqsQueue('review', queue(stack));
    const policy = new RoutingPolicy(stack, 'Route', {
      rules: [RoutingRule.when('a', cond, review), RoutingRule.when('b', cond, review)],
      defaultRoute: review,
    });
    expect(policy.rules.map((r) => r.name)).toEqual(['a', 'b']);
    expect(policy.defaultRoute).toBe(review);
  });

  test('the default route cannot auto-approve', () => {
    expect(make(() => [], () => RouteDestination.autoApprove('yes')))
      .toThrow("[RoutingPolicy TestStack/Route] `defaultRoute` cannot auto-approve, got: RouteDestination.autoApprove('yes'). A run that matches no rule must reach a person or a queue");
  });

  test('with no rules, every run takes the default route and no Choice state is rendered (ASL requires a non-empty Choices)', () => {
    const { graph } = build((stack) => ({ rules: [], defaultRoute: RouteDestination.sqsQueue('review', queue(stack)) }));
    const states = Object.entries(graph.States) as Array<[string, any]>;
    expect(states.filter(([, s]) => s.Type === 'Choice').map(([name]) => name)).toEqual([]);
    // The run goes straight to the default destination's delivery, which then reaches the next state.
    const start = graph.States[graph.StartAt];
    expect(start.Type).toBe('Task');
    expect(JSON.stringify(start.Resource)).toContain(':states:::sqs:sendMessage');
    expect(JSON.stringify(states)).toContain('Routed');
  });

});

describe('RoutingPolicy._grant', () => {
  test('grants exactly GenerateDataKey and Decrypt on the keys of encrypted topics, once per key (queues: the CDK task grants)', () => {
    const stack = newStack();
    const topicKey = new kms.Key(stack, 'TopicKey');
    const topic = new sns.Topic(stack, 'Legal', { masterKey: topicKey });
    const encryptedQueue = new sqs.Queue(stack, 'Review', { encryption: sqs.QueueEncryption.KMS });
    const legal = RouteDestination.snsTopic('legal', topic);
    const policy = new RoutingPolicy(stack, 'Route', {
      rules: [
        RoutingRule.when('a', RuleCondition.numberAtLeast('Summarize.riskScore', 0.7), legal),
        RoutingRule.when('b', RuleCondition.numberAtLeast('Summarize.riskScore', 0.9), legal),
      ],
      defaultRoute: RouteDestination.sqsQueue('review', encryptedQueue),
    });
    const role = new iam.Role(stack, 'MachineRole', { assumedBy: new iam.ServicePrincipal('states.amazonaws.com') });
    policy._grant(role);
    const template = Template.fromStack(stack);
    const policyId = stack.getLogicalId(role.node.findChild('DefaultPolicy').node.defaultChild as any);
    expect(template.toJSON().Resources[policyId].Properties.PolicyDocument.Statement).toEqual([
      { Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Effect: 'Allow', Resource: arnOf(topicKey) },
    ]);
  });

  test('no encrypted destination: no grant', () => {
    const stack = newStack();
    const policy = new RoutingPolicy(stack, 'Route', { rules: [], defaultRoute: RouteDestination.sqsQueue('review', queue(stack)) });
    const role = new iam.Role(stack, 'MachineRole', { assumedBy: new iam.ServicePrincipal('states.amazonaws.com') });
    policy._grant(role);
    expect(role.node.tryFindChild('DefaultPolicy')).toBeUndefined();
  });
});

describe('RoutingRule', () => {
  test('when() keeps name, condition and destination', () => {
    const condition = RuleCondition.numberAtLeast('Summarize.riskScore', 0.7);
    const destination = RouteDestination.autoApprove();
    const rule = RoutingRule.when('high-risk', condition, destination);
    expect(rule.name).toBe('high-risk');
    expect(rule.condition).toBe(condition);
    expect(rule.destination).toBe(destination);
  });
});
