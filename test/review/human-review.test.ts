import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { HumanReview, Pipeline, RouteDestination, RoutingPolicy, RoutingRule, RuleCondition } from '../../src';
import { definitionFromTemplate } from '../helpers/local-sfn';
import { classifyStage, extractStage, newStack, summarizeStage, uploadTrigger } from '../helpers/pipeline-fixture';
import { reviewStack } from '../helpers/review-app';

const logicalId = (stack: Stack, c: any) => stack.resolve((c.node.defaultChild ?? c).logicalId);

describe('the review in the synthesized template', () => {
  const app = new App({ builtinCloudFormationValidation: false });
  const { stack, pipeline, review } = reviewStack(app);
  const template = Template.fromStack(stack);
  const definition = definitionFromTemplate(template);
  const smId = logicalId(stack, pipeline.stateMachine);

  test('the task publishes the token and waits until the deadline; a missed deadline escalates', () => {
    const task = definition.States.LegalReview;
    expect(task).toMatchObject({
      Type: 'Task',
      Resource: 'arn:aws:states:::sns:publish.waitForTaskToken',
      TimeoutSeconds: 4 * 3600,
      ResultPath: '$.results.LegalReview',
      Next: 'LegalReview-decision',
      Parameters: { Message: { 'taskToken.$': '$$.Task.Token', 'reviewedStage': 'Summarize', 'results.$': '$.results', 'deadline': { seconds: 14400 } } },
    });
    expect(task.HeartbeatSeconds).toBeUndefined();
    expect(task.Retry[0].ErrorEquals).not.toContain('States.Timeout');
    expect(task.Catch).toEqual([
      { ErrorEquals: ['States.Timeout', 'States.HeartbeatTimeout'], ResultPath: '$.results.LegalReview', Next: 'LegalReview-timed-out' },
      { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'RecordFailure' },
    ]);
    expect(definition.States['LegalReview-timed-out']).toMatchObject({ Type: 'Pass', Parameters: { decision: 'timeout' }, Next: 'LegalReview-escalated' });
    expect(definition.States['LegalReview-escalated']).toMatchObject({ Resource: 'arn:aws:states:::sqs:sendMessage', Next: 'RecordRun', ResultSelector: { destination: 'escalated' } });
  });

  test('reject ends at its route; approve and correct go on to the routing policy, which reads the corrections', () => {
    expect(definition.States['LegalReview-decision']).toMatchObject({
      Type: 'Choice',
      Choices: [{ Variable: '$.results.LegalReview.decision', StringEquals: 'reject', Next: 'LegalReview-rejected' }],
      Default: 'Route',
    });
    expect(definition.States['LegalReview-rejected']).toMatchObject({ Next: 'RecordRun', ResultSelector: { destination: 'rejected' } });
    // corrections are optional in the decision contract: the rule gets an IsPresent guard.
    expect(definition.States.Route.Choices[0]).toMatchObject({
      And: [{ Variable: '$.results.LegalReview.corrections.riskScore', IsPresent: true }, { Variable: '$.results.LegalReview.corrections.riskScore', NumericGreaterThanEquals: 0.7 }],
    });
  });

  test('the decision API is a function URL with AWS_IAM auth', () => {
    template.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'AWS_IAM', TargetFunctionArn: { 'Fn::GetAtt': [logicalId(stack, review.decisionFunction), 'Arn'] } });
    template.resourceCountIs('AWS::Lambda::Url', 1);
  });

  test('least privilege: the decision function may only answer and heartbeat tasks of this state machine', () => {
    const statements = Object.values<any>(template.findResources('AWS::IAM::Policy'))
      .filter((p) => p.Properties.Roles.some((r: any) => r.Ref === logicalId(stack, review.decisionFunction.role!)))
      .flatMap((p) => p.Properties.PolicyDocument.Statement);
    const states = statements.filter((s) => [s.Action].flat().some((a: string) => a.startsWith('states:')));
    expect(states).toEqual([{ Effect: 'Allow', Action: ['states:SendTaskSuccess', 'states:SendTaskHeartbeat'], Resource: { Ref: smId } }]);
    const actions = statements.flatMap((s) => [s.Action].flat());
    expect(actions).not.toContain('states:SendTaskFailure');
    expect(actions.filter((a: string) => a.startsWith('s3:'))).toEqual(['s3:PutObject']);
    const put = statements.find((s) => [s.Action].flat().includes('s3:PutObject'));
    expect(JSON.stringify(put.Resource)).toContain('/stages/LegalReview/decisions/*');
  });

  test('reviewers are notified on a KMS-encrypted, SSL-only topic the state machine may publish to', () => {
    const topicId = logicalId(stack, review.notificationTopic!);
    const topic = template.toJSON().Resources[topicId];
    expect(topic.Properties.KmsMasterKeyId).toBeDefined();
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: topicId }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
    const smRole = logicalId(stack, pipeline.stateMachine.role);
    const smStatements = Object.values<any>(template.findResources('AWS::IAM::Policy'))
      .filter((p) => p.Properties.Roles.some((r: any) => r.Ref === smRole))
      .flatMap((p) => p.Properties.PolicyDocument.Statement);
    expect(smStatements).toEqual(expect.arrayContaining([
      expect.objectContaining({ Action: 'sns:Publish', Resource: { Ref: topicId } }),
      expect.objectContaining({ Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Resource: { 'Fn::GetAtt': [logicalId(stack, review.node.findChild('NotificationsKey')), 'Arn'] } }),
    ]));
  });

  test('grantDecide gives reviewers InvokeFunctionUrl on the AWS_IAM URL only', () => {
    const s2 = reviewStack(new App({ builtinCloudFormationValidation: false }));
    const reviewers = new iam.Role(s2.stack, 'Reviewers', { assumedBy: new iam.AccountRootPrincipal() });
    s2.review.grantDecide(reviewers);
    const statements = Template.fromStack(s2.stack).toJSON().Resources[logicalId(s2.stack, reviewers.node.findChild('DefaultPolicy'))].Properties.PolicyDocument.Statement;
    expect(statements).toEqual(expect.arrayContaining([
      expect.objectContaining({ Action: 'lambda:InvokeFunctionUrl', Condition: { StringEquals: { 'lambda:FunctionUrlAuthType': 'AWS_IAM' } } }),
    ]));
  });

  test('the run record lists the review; the runner metadata names the decision function', () => {
    const recorder = template.toJSON().Resources[logicalId(stack, pipeline.recorder)];
    expect(recorder.Properties.Environment.Variables.REVIEW_STEPS).toBe('LegalReview');
    const meta = template.toJSON().Resources[smId].Metadata['cdk-ai-pipeline'];
    expect(meta.reviews).toEqual([{ name: 'LegalReview', stage: 'Summarize', handler: logicalId(stack, review.decisionFunction) }]);
    expect(meta.destinations.map((d: any) => [d.state, d.destination])).toEqual(expect.arrayContaining([
      ['LegalReview-escalated', 'escalated'], ['LegalReview-rejected', 'rejected'],
    ]));
  });

  test('cdk-nag AwsSolutions: no unacknowledged finding', () => {
    const report = new AwsSolutionsChecks(app).validateScope(stack);
    expect(report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} ${r.constructPath}`))).toEqual([]);
  });
});

describe('options', () => {
  test('a queue instead of a topic, a heartbeat, a condition and an approved route', () => {
    const app = new App({ builtinCloudFormationValidation: false });
    const { stack } = reviewStack(app, {
      queue: sqs.Queue.fromQueueArn(new Stack(app, 'Q'), 'Tasks', 'arn:aws:sqs:us-east-1:111111111111:review-tasks'),
      heartbeat: Duration.minutes(30),
      when: RuleCondition.numberAtLeast('Summarize.riskScore', 0.5),
      approvedRoute: RouteDestination.autoApprove('approved-by-person'),
    });
    const definition = definitionFromTemplate(Template.fromStack(stack));
    expect(definition.States.LegalReview).toMatchObject({ Resource: 'arn:aws:states:::sqs:sendMessage.waitForTaskToken', HeartbeatSeconds: 1800 });
    expect(definition.States['LegalReview-when']).toMatchObject({ Type: 'Choice', Choices: [{ Next: 'LegalReview' }], Default: 'Route' });
    expect(definition.States['LegalReview-decision'].Choices[1]).toMatchObject({ StringEquals: 'approve', Next: 'LegalReview-approved' });
    expect(Template.fromStack(stack).findResources('AWS::SNS::Topic', { Properties: { DisplayName: Match.stringLikeRegexp('review') } })).toEqual({});
  });
});

describe('validation', () => {
  const escalation = (s: Stack) => RouteDestination.sqsQueue('escalated', new sqs.Queue(s, 'E', { enforceSSL: true }));
  const rejected = (s: Stack) => RouteDestination.sqsQueue('rejected', new sqs.Queue(s, 'R', { enforceSSL: true }));

  test('escalation cannot auto-approve', () => {
    const { stack } = newStack();
    expect(() => new HumanReview(stack, 'Rev', { stage: summarizeStage(stack), escalation: RouteDestination.autoApprove(), rejectedRoute: rejected(stack) }))
      .toThrow(/\[HumanReview Flagship\/Rev\] `escalation` is RouteDestination.autoApprove\('auto-approve'\), but a run that was not decided in time must reach a person or a queue\. Use snsTopic, sqsQueue or eventBus\./);
  });

  test('deadline, heartbeat, topic and queue', () => {
    const { stack } = newStack();
    const s = summarizeStage(stack);
    const base = { stage: s, escalation: escalation(stack), rejectedRoute: rejected(stack) };
    expect(() => new HumanReview(stack, 'A', { ...base, deadline: Duration.seconds(10) })).toThrow(/`deadline` must be from 1 minute to 365 days \(a Standard workflow task's limit\), got: 10 seconds/);
    expect(() => new HumanReview(stack, 'B', { ...base, deadline: Duration.hours(1), heartbeat: Duration.hours(2) })).toThrow(/`heartbeat` \(2 hours\) must be shorter than `deadline` \(1 hour\)/);
    expect(() => new HumanReview(stack, 'C', { ...base, topic: {} as any, queue: {} as any })).toThrow(/\[HumanReview Flagship\/C\] `topic` and `queue` are both set/);
  });

  test('the reviewed stage must surely run before the review', () => {
    const { stack } = newStack();
    const summarize = summarizeStage(stack);
    const review = new HumanReview(stack, 'Rev', { stage: summarize, escalation: escalation(stack), rejectedRoute: rejected(stack), deadline: Duration.minutes(30) });
    expect(() => new Pipeline(stack, 'P', { trigger: uploadTrigger(stack), stages: [extractStage(stack), classifyStage(stack), review, summarize] }))
      .toThrow(/\[Pipeline Flagship\/P\] the review 'Rev' reviews stage 'Summarize', which does not run before it\. Put the review after a stage that surely ran/);
  });

  test('the pipeline timeout must cover the deadline', () => {
    const { stack } = newStack();
    const summarize = summarizeStage(stack);
    const review = new HumanReview(stack, 'Rev', { stage: summarize, escalation: escalation(stack), rejectedRoute: rejected(stack) });
    expect(() => new Pipeline(stack, 'P', { trigger: uploadTrigger(stack), stages: [extractStage(stack), classifyStage(stack), summarize, review] }))
      .toThrow(/`timeout` \(2 hours\) is shorter than the stages' timeouts added up/);
  });

  test('rules read the decision with the contract\'s types and values', () => {
    const { stack } = newStack();
    const summarize = summarizeStage(stack);
    const rejectedRoute = rejected(stack);
    const review = new HumanReview(stack, 'Rev', { stage: summarize, escalation: escalation(stack), rejectedRoute, deadline: Duration.minutes(30) });
    const routing = new RoutingPolicy(stack, 'Route', {
      // a rejected run never reaches the routing policy: the contract says so.
      rules: [RoutingRule.when('rejected', RuleCondition.stringEquals('Rev.decision', 'reject'), RouteDestination.sqsQueue('x', new sqs.Queue(stack, 'X', { enforceSSL: true })))],
      defaultRoute: rejectedRoute,
    });
    expect(() => new Pipeline(stack, 'P', { trigger: uploadTrigger(stack), stages: [extractStage(stack), classifyStage(stack), summarize, review], routing }))
      .toThrow(/rule 'rejected' compares 'Rev\.decision' with \["reject"\], which its contract never allows \(one of \["approve","correct"\]\)/);
  });
});
