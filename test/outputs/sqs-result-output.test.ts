/** The SQS result output: least privilege, a new encrypted queue by default, synth checks, cdk-nag; the call-center example's wiring. */
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { CallCenterStack } from '../../examples/call-center/lib/call-center-stack';
import { HumanReview, Pipeline, ResultOutput, ResultOutputKind, RouteDestination, SqsResultOutput } from '../../src';
import { OutputEnv } from '../../src/outputs/handler/output';
import { renderAsl } from '../helpers/construct-test-kit';
import { flagshipParts, logicalIdOf } from '../helpers/pipeline-fixture';

const statementsOf = (stack: Stack, output: SqsResultOutput) =>
  Template.fromStack(stack).toJSON().Resources[logicalIdOf(stack, output.role.node.findChild('DefaultPolicy'))].Properties.PolicyDocument.Statement;

describe('the call-center example\'s replies output (a queue passed in, one field, approved by a review)', () => {
  let stack: CallCenterStack;
  let app: App;
  let output: SqsResultOutput;
  let template: Template;
  beforeAll(() => {
    app = new App({ builtinCloudFormationValidation: false });
    stack = new CallCenterStack(app, 'CallCenter', { env: { account: '111111111111', region: 'us-east-1' } });
    output = stack.node.findChild('Replies') as SqsResultOutput;
    template = Template.fromStack(stack);
  });

  test('the output runs after the agent review and before the run record, its result at $.outputs.Replies', () => {
    const asl = renderAsl((stack.node.findChild('Calls') as Pipeline).stateMachine);
    expect(output.kind).toBe(ResultOutputKind.SQS);
    expect(asl.States.Replies).toEqual(expect.objectContaining({ Type: 'Task', Next: 'RecordRun', ResultPath: '$.outputs.Replies' }));
    // The gate's and the review's destinations end their runs through the output too (it sends nothing for them).
    expect(asl.States['Escalate-angry-caller'].Next).toBe('Replies');
    const config = JSON.parse(template.toJSON().Resources[logicalIdOf(stack, output.handler)].Properties.Environment.Variables[OutputEnv.CONFIG]);
    expect(config).toEqual({
      kind: 'sqs',
      output: 'Replies',
      pipeline: 'Calls',
      stages: expect.arrayContaining(['Transcribe', 'Draft']),
      field: 'Draft.reply',
      approvedBy: { review: 'AgentReview', stage: 'Draft' },
    });
  });

  test('the role may only SendMessage to the replies queue and use the queue\'s key to encrypt', () => {
    const statements = statementsOf(stack, output);
    const queue = stack.node.findChild('RepliesQueue') as sqs.Queue;
    expect(statements).toEqual(expect.arrayContaining([
      { Action: 'sqs:SendMessage', Effect: 'Allow', Resource: { 'Fn::GetAtt': [logicalIdOf(stack, queue), 'Arn'] } },
      { Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Effect: 'Allow', Resource: { 'Fn::GetAtt': [expect.stringMatching(/^CallCenterKey/), 'Arn'] } },
    ]));
    const actions = statements.flatMap((s: any) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
    expect(actions.filter((a: string) => a.startsWith('sqs:'))).toEqual(['sqs:SendMessage']);
  });

  test('cdk-nag AwsSolutions: the whole example has zero unacknowledged findings', () => {
    const violations = new AwsSolutionsChecks(app).validateScope(stack).violations
      .flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`));
    expect(violations).toEqual([]);
  });
});

describe('defaults and validation', () => {
  function withOutput(props: Parameters<typeof ResultOutput.sqs>[2], review = false) {
    const parts = flagshipParts();
    const stages: any[] = [parts.extract, parts.classify, parts.summarize];
    let humanReview: HumanReview | undefined;
    if (review) {
      humanReview = new HumanReview(parts.stack, 'Check', {
        stage: parts.summarize, deadline: Duration.hours(1), escalation: RouteDestination.snsTopic('late', parts.legalTopic), rejectedRoute: RouteDestination.sqsQueue('back', parts.reviewQueue),
      });
      stages.push(humanReview);
    }
    const output = ResultOutput.sqs(parts.stack, 'Out', typeof props === 'function' ? (props as any)(humanReview) : props);
    const pipeline = new Pipeline(parts.stack, 'Contracts', { trigger: parts.trigger, stages, routing: parts.routing, outputs: [output] });
    return { parts, output, pipeline };
  }

  test('no queue: a new KMS-encrypted (rotated key), SSL-only queue with a dead-letter queue; the whole result document', () => {
    const { parts, output } = withOutput({});
    const template = Template.fromStack(parts.stack);
    expect(output.encryptionKey).toBeDefined();
    template.hasResourceProperties('AWS::SQS::Queue', {
      KmsMasterKeyId: { 'Fn::GetAtt': [logicalIdOf(parts.stack, output.encryptionKey!), 'Arn'] },
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [logicalIdOf(parts.stack, output.deadLetterQueue!), 'Arn'] }, maxReceiveCount: 5 },
    });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true, Description: 'cdk-ai-pipeline output: result messages' });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
    const env = template.toJSON().Resources[logicalIdOf(parts.stack, output.handler)].Properties.Environment.Variables;
    const config = JSON.parse(env[OutputEnv.CONFIG]);
    expect(config.field).toBeUndefined();
    expect(config.approvedBy).toBeUndefined();
  });

  test('a FIFO queue: the handler is told so (group and deduplication ids)', () => {
    const parts = flagshipParts();
    const queue = new sqs.Queue(parts.stack, 'Fifo', { fifo: true, encryption: sqs.QueueEncryption.SQS_MANAGED, enforceSSL: true });
    const output = ResultOutput.sqs(parts.stack, 'Out', { queue });
    new Pipeline(parts.stack, 'Contracts', { trigger: parts.trigger, stages: [parts.extract, parts.classify, parts.summarize], routing: parts.routing, outputs: [output] });
    const env = Template.fromStack(parts.stack).toJSON().Resources[logicalIdOf(parts.stack, output.handler)].Properties.Environment.Variables;
    expect(JSON.parse(env[OutputEnv.CONFIG]).fifo).toBe(true);
    // No key on an SQS-managed queue: no KMS grant at all.
    expect(statementsOf(parts.stack, output).flatMap((s: any) => [s.Action].flat()).filter((a: string) => a.startsWith('kms:'))).toEqual([]);
  });

  test('a field no contract declares fails synth, naming the output, the field and the fix', () => {
    expect(() => withOutput({ field: 'Summarize.verdict' })).toThrow(
      "[SqsResultOutput Flagship/Out] `field` names 'Summarize.verdict', which no stage's output contract of the pipeline declares");
  });

  test('a field that is no dotted path fails at once', () => {
    expect(() => withOutput({ field: 'reply' })).toThrow("`field` must be a dotted path '<Stage>.<field>' under results, got: 'reply'");
  });

  test('approvedBy a review outside the pipeline fails synth', () => {
    const parts = flagshipParts();
    const stray = new HumanReview(parts.stack, 'Stray', {
      stage: parts.summarize, escalation: RouteDestination.snsTopic('late', parts.legalTopic), rejectedRoute: RouteDestination.sqsQueue('back', parts.reviewQueue),
    });
    const output = ResultOutput.sqs(parts.stack, 'Out', { approvedBy: stray });
    expect(() => new Pipeline(parts.stack, 'Contracts', {
      trigger: parts.trigger, stages: [parts.extract, parts.classify, parts.summarize], routing: parts.routing, outputs: [output],
    })).toThrow("`approvedBy` is the human review 'Stray', which is no step of this pipeline");
  });

  test('approvedBy a review in the pipeline: the handler gets the review and the stage it reviews', () => {
    const { parts, output } = withOutput(((review: HumanReview) => ({ field: 'Summarize.riskScore', approvedBy: review })) as any, true);
    const env = Template.fromStack(parts.stack).toJSON().Resources[logicalIdOf(parts.stack, output.handler)].Properties.Environment.Variables;
    expect(JSON.parse(env[OutputEnv.CONFIG]).approvedBy).toEqual({ review: 'Check', stage: 'Summarize' });
  });
});
