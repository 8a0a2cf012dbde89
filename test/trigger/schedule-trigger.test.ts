import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DocumentTrigger, Pipeline, ScheduleTrigger, ScheduleTriggerProps } from '../../src';
import { renderAsl, statementsWith } from '../helpers/construct-test-kit';
import { extractStage, logicalIdOf, newStack } from '../helpers/pipeline-fixture';

interface Built {
  readonly app: import('aws-cdk-lib').App;
  readonly stack: Stack;
  readonly trigger: ScheduleTrigger;
  readonly pipeline: Pipeline;
  readonly template: Template;
}

function build(props: ScheduleTriggerProps = { prefix: 'incoming/', suffixes: ['.pdf'] }): Built {
  const { app, stack } = newStack();
  const trigger = DocumentTrigger.schedule(stack, 'Nightly', props);
  const pipeline = new Pipeline(stack, 'Contracts', { trigger, stages: [extractStage(stack)] });
  return { app, stack, trigger, pipeline, template: Template.fromStack(stack) };
}

const statementsOf = (b: Built, policyParent: any) => {
  const policy = policyParent.node.findChild('DefaultPolicy');
  return b.template.toJSON().Resources[logicalIdOf(b.stack, policy)].Properties.PolicyDocument.Statement;
};

describe('ScheduleTrigger', () => {
  let b: Built;
  beforeAll(() => {
    b = build({ prefix: 'incoming/', suffixes: ['.pdf'], schedule: scheduler.ScheduleExpression.cron({ hour: '2', minute: '0' }), maxConcurrency: 4, batchSize: 50 });
  });

  test('the batch state machine: a Distributed Map over ListObjectsV2 of the prefix, batched, concurrency-limited', () => {
    const asl = renderAsl(b.trigger.batchStateMachine);
    const map = asl.States[asl.StartAt];
    expect(map).toEqual(expect.objectContaining({
      Type: 'Map',
      MaxConcurrency: 4,
      ResultPath: null,
      ItemBatcher: { MaxItemsPerBatch: 50 },
      ItemReader: {
        Resource: expect.stringContaining(':states:::s3:listObjectsV2'),
        Parameters: { Bucket: expect.stringContaining('<TOKEN:'), Prefix: 'incoming/' },
      },
      ItemProcessor: expect.objectContaining({ ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' } }),
    }));
    const task = map.ItemProcessor.States[map.ItemProcessor.StartAt];
    expect(task.Type).toBe('Task');
    expect(task.Resource).toBe(`<TOKEN:{'Fn::GetAtt':['${logicalIdOf(b.stack, b.trigger.starter)}','Arn']}>`);
    expect(task.Retry[0]).toEqual(expect.objectContaining({ ErrorEquals: expect.arrayContaining(['States.TaskFailed', 'Lambda.TooManyRequestsException']), JitterStrategy: 'FULL', MaxAttempts: 6 }));
  });

  test('the batch state machine is traced, logged and bounded', () => {
    b.template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: false }),
      DefinitionString: Match.anyValue(),
      StateMachineName: Match.absent(),
    });
    expect(renderAsl(b.trigger.batchStateMachine).TimeoutSeconds).toBe(24 * 3600);
  });

  test('the schedule starts the batch state machine with a role that may start only it', () => {
    const batch = logicalIdOf(b.stack, b.trigger.batchStateMachine);
    b.template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 2 * * ? *)',
      State: 'ENABLED',
      Target: Match.objectLike({ Arn: { Ref: batch }, RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 } }),
    });
    const policies = Object.values(b.template.findResources('AWS::IAM::Policy')) as any[];
    const start = policies.flatMap((p) => p.Properties.PolicyDocument.Statement).filter((s: any) => s.Action === 'states:StartExecution');
    const targets = start.map((s: any) => s.Resource);
    expect(targets).toEqual(expect.arrayContaining([{ Ref: batch }, { Ref: logicalIdOf(b.stack, b.pipeline.stateMachine) }]));
    expect(targets.every((t: any) => typeof t === 'object' && t.Ref)).toBe(true);
  });

  test('the batch state machine may list the bucket under the prefix only', () => {
    const role = b.trigger.batchStateMachine.role;
    const list = statementsWith(statementsOf(b, role), 's3:ListBucket');
    expect(list).toEqual([expect.objectContaining({ Resource: expect.anything() })]);
    expect(JSON.stringify(list[0].Resource)).toContain(logicalIdOf(b.stack, b.trigger.documentBucket));
  });

  test('the starter: HeadObject under the prefix, StartExecution on the pipeline only', () => {
    const st = statementsOf(b, b.trigger.starter.role);
    const bucket = logicalIdOf(b.stack, b.trigger.documentBucket);
    expect(statementsWith(st, 's3:GetObject')).toEqual([expect.objectContaining({ Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, '/incoming/*']] } })]);
    expect(statementsWith(st, 's3:PutObject')).toEqual([]);
    expect(statementsWith(st, 'states:StartExecution')).toEqual([expect.objectContaining({ Resource: { Ref: logicalIdOf(b.stack, b.pipeline.stateMachine) } })]);
    const fn = b.template.toJSON().Resources[logicalIdOf(b.stack, b.trigger.starter)];
    expect(fn.Properties.Environment.Variables).toEqual(expect.objectContaining({ DOCUMENT_PREFIX: 'incoming/', DOCUMENT_SUFFIXES: '[".pdf"]' }));
    expect(fn.Properties.Timeout).toBe(80);
  });

  test('cdk-nag AwsSolutions: zero unacknowledged findings', () => {
    const report = new AwsSolutionsChecks(b.app).validateScope(b.stack);
    const found = report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`));
    expect(found).toEqual([]);
  });

  test('defaults: daily, concurrency 10, batches of 100, the whole bucket', () => {
    const d = build({});
    d.template.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'rate(1 day)' });
    const map = renderAsl(d.trigger.batchStateMachine);
    const state = map.States[map.StartAt];
    expect([state.MaxConcurrency, state.ItemBatcher.MaxItemsPerBatch, state.ItemReader.Parameters.Prefix]).toEqual([10, 100, undefined]);
  });
});

describe('ScheduleTrigger validation', () => {
  test.each<[ScheduleTriggerProps, RegExp]>([
    [{ maxConcurrency: 0 }, /^\[ScheduleTrigger Flagship\/Nightly\] `maxConcurrency` must be a whole number from 1 to 1000 .*got: 0\.$/],
    [{ batchSize: 1001 }, /^\[ScheduleTrigger Flagship\/Nightly\] `batchSize` must be a whole number from 1 to 1000 .*got: 1001\.$/],
    [{ batchTimeout: Duration.seconds(10) }, /^\[ScheduleTrigger Flagship\/Nightly\] `batchTimeout` must be from 1 minute to 365 days, got: 10 seconds\.$/],
    [{ prefix: '/in/' }, /^\[ScheduleTrigger Flagship\/Nightly\] `prefix` must not start with '\/'/],
  ])('%j', (props, message) => {
    const { stack } = newStack();
    expect(() => DocumentTrigger.schedule(stack, 'Nightly', props)).toThrow(message);
  });
});
