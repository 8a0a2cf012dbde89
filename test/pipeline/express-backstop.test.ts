/**
 * The Express backstop (ADR-0031): a subscription on the state machine's log group sends this state
 * machine's terminal failures to the recorder, which reads the run's document from the run claim.
 * Only for Express pipelines; the Standard backstop (the EventBridge rule) is unchanged.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { FraudScreeningStack } from '../../examples/fraud-screening/lib/fraud-screening-stack';

const ENV = { account: '111111111111', region: 'us-east-1' };

function fraudStack(workflowType?: sfn.StateMachineType): { stack: Stack; template: Template } {
  const app = new App({ builtinCloudFormationValidation: false } as any);
  const stack = new FraudScreeningStack(app, 'Fraud', { env: ENV, workflowType });
  return { stack, template: Template.fromStack(stack) };
}

const idOf = (template: Template, type: string, pattern: RegExp): string => {
  const ids = Object.keys(template.findResources(type)).filter((id) => pattern.test(id));
  expect(ids).toHaveLength(1);
  return ids[0];
};

describe('an Express pipeline\'s backstop', () => {
  let stack: Stack;
  let template: Template;
  beforeAll(() => ({ stack, template } = fraudStack(sfn.StateMachineType.EXPRESS)));

  test('one subscription filter on the state machine\'s log group: only its terminal failures, to the recorder', () => {
    const filters = template.findResources('AWS::Logs::SubscriptionFilter');
    expect(Object.keys(filters)).toHaveLength(1);
    const [filter] = Object.values(filters) as any[];
    const machine = Object.values(template.findResources('AWS::StepFunctions::StateMachine', { Properties: { StateMachineType: 'EXPRESS' } }))[0] as any;
    const logGroupArn = machine.Properties.LoggingConfiguration.Destinations[0].CloudWatchLogsLogGroup.LogGroupArn;
    expect(filter.Properties.LogGroupName).toEqual({ Ref: logGroupArn['Fn::GetAtt'][0] });
    const recorder = idOf(template, 'AWS::Lambda::Function', /Recorder/);
    expect(filter.Properties.DestinationArn).toEqual({ 'Fn::GetAtt': [recorder, 'Arn'] });
    // The pattern: the three terminal failure types, and executions of this state machine only.
    const pattern = JSON.stringify(stack.resolve(filter.Properties.FilterPattern));
    for (const type of ['ExecutionFailed', 'ExecutionTimedOut', 'ExecutionAborted']) expect(pattern).toContain(`$.type = \\"${type}\\"`);
    expect(pattern).not.toContain('ExecutionSucceeded');
    expect(pattern).toMatch(/\$\.execution_arn = \\"arn:.*:states:us-east-1:111111111111:express:/);
    const machineId = Object.keys(template.findResources('AWS::StepFunctions::StateMachine', { Properties: { StateMachineType: 'EXPRESS' } }))[0];
    expect(pattern).toContain(`"Fn::GetAtt":["${machineId}","Name"]`);
    expect(pattern).toMatch(/:\*\\"/);
  });

  test('CloudWatch Logs may invoke the recorder only for that log group and this account; the filter waits for the permission', () => {
    const recorder = idOf(template, 'AWS::Lambda::Function', /Recorder/);
    const permissions = Object.entries(template.findResources('AWS::Lambda::Permission', { Properties: { Principal: 'logs.amazonaws.com' } })) as Array<[string, any]>;
    expect(permissions).toHaveLength(1);
    const [[permissionId, permission]] = permissions;
    expect(permission.Properties).toEqual({
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [recorder, 'Arn'] },
      Principal: 'logs.amazonaws.com',
      SourceArn: { 'Fn::GetAtt': [expect.stringMatching(/AuditExecutionLogs/), 'Arn'] },
      SourceAccount: '111111111111',
    });
    const [filter] = Object.values(template.findResources('AWS::Logs::SubscriptionFilter')) as any[];
    expect(filter.DependsOn).toContain(permissionId);
  });

  test('an undelivered record goes to the backstop\'s dead-letter queue (alarmed), sent by the recorder\'s exact grant', () => {
    const recorder = idOf(template, 'AWS::Lambda::Function', /Recorder/);
    const queue = idOf(template, 'AWS::SQS::Queue', /BackstopDeadLetters/);
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: recorder },
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 6 * 3600,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queue, 'Arn'] } } },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queue, 'QueueName'] } }],
    });
    const statements = recorderStatements(template, recorder);
    expect(statements).toContainEqual({ Action: 'sqs:SendMessage', Effect: 'Allow', Resource: { 'Fn::GetAtt': [queue, 'Arn'] } });
  });

  test('the recorder reads the run claim: GetItem on the claim table\'s ARN and Decrypt on its key, nothing more', () => {
    const recorder = idOf(template, 'AWS::Lambda::Function', /Recorder/);
    const table = idOf(template, 'AWS::DynamoDB::Table', /RunClaims/);
    const tableKey = (template.toJSON().Resources[table] as any).Properties.SSESpecification.KMSMasterKeyId['Fn::GetAtt'][0];
    const statements = recorderStatements(template, recorder);
    const onTable = statements.filter((s) => JSON.stringify(s.Resource).includes(table));
    expect(onTable).toEqual([{ Action: 'dynamodb:GetItem', Effect: 'Allow', Resource: [{ 'Fn::GetAtt': [table, 'Arn'] }] }]);
    expect(statements).toContainEqual({ Action: 'kms:Decrypt', Effect: 'Allow', Resource: { 'Fn::GetAtt': [tableKey, 'Arn'] } });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ CLAIM_TABLE: { Ref: table }, AUDIT_BUCKET: Match.anyValue() }) },
    });
  });
});

describe('a Standard pipeline\'s backstop stays the EventBridge rule', () => {
  test('no subscription filter, no logs permission, no async-invoke config, no claim reads', () => {
    const { template } = fraudStack();
    template.resourceCountIs('AWS::Logs::SubscriptionFilter', 0);
    template.resourceCountIs('AWS::Lambda::EventInvokeConfig', 0);
    expect(Object.keys(template.findResources('AWS::Lambda::Permission', { Properties: { Principal: 'logs.amazonaws.com' } }))).toHaveLength(0);
    expect(JSON.stringify(template.toJSON())).not.toContain('dynamodb:GetItem');
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({ 'detail-type': ['Step Functions Execution Status Change'] }),
    });
  });
});

/** The statements of the recorder role's policies. */
function recorderStatements(template: Template, recorder: string): any[] {
  const roleRef = (template.toJSON().Resources[recorder] as any).Properties.Role['Fn::GetAtt'][0];
  const policies = Object.values(template.findResources('AWS::IAM::Policy')) as any[];
  return policies.filter((p) => JSON.stringify(p.Properties.Roles).includes(roleRef)).flatMap((p) => p.Properties.PolicyDocument.Statement);
}
