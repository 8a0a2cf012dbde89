import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { RouteDestination, RouteDestinationKind } from '../../src/routing/route-destination';
import { RoutingPolicy } from '../../src/routing/routing-policy';
import { newStack } from '../helpers/construct-test-kit';
import { buildPipelineStack } from '../helpers/pipeline-fixture';

function stateJson(stack: Stack, destination: RouteDestination, rule = 'high-risk'): any {
  const state = destination._state(stack, `Route-${rule}`, rule);
  return stack.resolve(state.toStateJson());
}

const MESSAGE = (rule: string, destination: string) => ({
  'runId.$': '$$.Execution.Name',
  'document.$': '$.document',
  'route': { rule, destination },
  'results.$': '$.results',
});

describe('RouteDestination', () => {
  test('autoApprove: a Pass that records the route; default name', () => {
    const stack = newStack();
    const d = RouteDestination.autoApprove();
    expect(d.name).toBe('auto-approve');
    expect(d.kind).toBe(RouteDestinationKind.AUTO_APPROVE);
    expect(d._keys).toEqual([]);
    expect(stateJson(stack, d, 'low-risk-nda')).toEqual({
      Type: 'Pass',
      Comment: 'route low-risk-nda -> auto-approve (auto-approve)',
      Result: { rule: 'low-risk-nda', destination: 'auto-approve' },
      ResultPath: '$.route',
      End: true,
    });
    expect(RouteDestination.autoApprove('approved').name).toBe('approved');
  });

  test('snsTopic: publishes pointers and results, records rule, destination and message id', () => {
    const stack = newStack();
    const topic = new sns.Topic(stack, 'Legal');
    const d = RouteDestination.snsTopic('legal', topic);
    expect(d.kind).toBe(RouteDestinationKind.SNS_TOPIC);
    expect(d._keys).toEqual([]);
    const json = stateJson(stack, d);
    expect(json.Resource).toEqual({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':states:::sns:publish']] });
    expect(json.Parameters).toEqual({ TopicArn: { Ref: stack.getLogicalId(topic.node.defaultChild as any) }, Message: MESSAGE('high-risk', 'legal'), Subject: 'cdk-ai-pipeline: legal' });
    expect(json.ResultSelector).toEqual({ 'rule': 'high-risk', 'destination': 'legal', 'messageId.$': '$.MessageId' });
    expect(json.ResultPath).toBe('$.route');
  });

  test('snsTopic with a KMS key: the key must be granted', () => {
    const stack = newStack();
    const key = new kms.Key(stack, 'K');
    expect(RouteDestination.snsTopic('legal', new sns.Topic(stack, 'T', { masterKey: key }))._keys).toEqual([key]);
  });

  test('sqsQueue: sends the routed message; the CDK task itself grants an encrypted queue\'s key', () => {
    const stack = newStack();
    const queue = new sqs.Queue(stack, 'Review', { encryption: sqs.QueueEncryption.KMS });
    const d = RouteDestination.sqsQueue('review', queue);
    expect(d.kind).toBe(RouteDestinationKind.SQS_QUEUE);
    expect(d._keys).toEqual([]);
    const task = d._state(stack, 'Deliver', 'default') as any;
    expect(task.taskPolicies.map((p: any) => stack.resolve(p.toStatementJson()))).toContainEqual(expect.objectContaining({
      Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      Resource: stack.resolve(queue.encryptionMasterKey!.keyArn),
    }));
    const json = stateJson(stack, d, 'default');
    expect(json.Resource).toEqual({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':states:::sqs:sendMessage']] });
    expect(json.Parameters).toEqual({ QueueUrl: { Ref: stack.getLogicalId(queue.node.defaultChild as any) }, MessageBody: MESSAGE('default', 'review') });
    expect(json.ResultSelector).toEqual({ 'rule': 'default', 'destination': 'review', 'messageId.$': '$.MessageId' });
    expect(json.ResultPath).toBe('$.route');
    expect(RouteDestination.sqsQueue('plain', new sqs.Queue(stack, 'Plain', { encryption: sqs.QueueEncryption.SQS_MANAGED }))._keys).toEqual([]);
  });

  test('eventBus: a "Document Routed" event from cdk-ai-pipeline', () => {
    const stack = newStack();
    const bus = new events.EventBus(stack, 'Bus');
    const d = RouteDestination.eventBus('ops', bus);
    expect(d.kind).toBe(RouteDestinationKind.EVENT_BUS);
    const json = stateJson(stack, d);
    expect(json.Resource).toEqual({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':states:::events:putEvents']] });
    expect(json.Parameters).toEqual({
      Entries: [{
        Detail: MESSAGE('high-risk', 'ops'),
        DetailType: 'Document Routed',
        EventBusName: { 'Fn::GetAtt': [stack.getLogicalId(bus.node.defaultChild as any), 'Arn'] },
        Source: 'cdk-ai-pipeline',
      }],
    });
    expect(json.ResultSelector).toEqual({ 'rule': 'high-risk', 'destination': 'ops', 'failedEntryCount.$': '$.FailedEntryCount' });
  });

  test('eventBus: no key for a bus on an AWS owned key; the given key; an app EventBus\'s own kmsKey', () => {
    const stack = newStack();
    expect(RouteDestination.eventBus('ops', new events.EventBus(stack, 'Plain'))._keys).toEqual([]);
    expect(RouteDestination.eventBus('ops', events.EventBus.fromEventBusName(stack, 'Imported', 'ops'))._keys).toEqual([]);

    const given = kms.Key.fromKeyArn(stack, 'Given', 'arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab');
    expect(RouteDestination.eventBus('ops', events.EventBus.fromEventBusName(stack, 'Encrypted', 'ops-encrypted'), { key: given })._keys).toEqual([given]);

    const busKey = new kms.Key(stack, 'BusKey', { enableKeyRotation: true });
    const bus = new events.EventBus(stack, 'Bus', { kmsKey: busKey });
    const picked = RouteDestination.eventBus('ops', bus)._keys;
    expect(picked).toHaveLength(1);
    expect(stack.resolve(picked[0].keyArn)).toEqual({ 'Fn::GetAtt': [stack.getLogicalId(busKey.node.defaultChild as any), 'Arn'] });
    // a second destination on the same bus reuses the imported key
    expect(RouteDestination.eventBus('ops-again', bus)._keys[0]).toBe(picked[0]);
    // a key given explicitly wins
    expect(RouteDestination.eventBus('ops', bus, { key: given })._keys).toEqual([given]);
  });

  test('a pipeline routing to a bus on a customer-managed key: its state machine may use that key, exactly', () => {
    let busKeyId = '';
    const fixture = buildPipelineStack({
      beforePipeline: (parts) => {
        const busKey = new kms.Key(parts.stack, 'BusKey', { enableKeyRotation: true });
        busKeyId = parts.stack.getLogicalId(busKey.node.defaultChild as any);
        const bus = new events.EventBus(parts.stack, 'OpsBus', { kmsKey: busKey });
        (parts as any).routing = new RoutingPolicy(parts.stack, 'ToOps', { rules: [], defaultRoute: RouteDestination.eventBus('ops', bus) });
      },
    });
    const template = Template.fromStack(fixture.stack);
    const smRole = fixture.stack.getLogicalId((fixture.pipeline.stateMachine.role.node.defaultChild as any));
    const statements = (Object.values(template.findResources('AWS::IAM::Policy')) as any[])
      .filter((p) => JSON.stringify(p.Properties.Roles).includes(smRole))
      .flatMap((p) => p.Properties.PolicyDocument.Statement)
      .filter((st: any) => JSON.stringify(st.Resource).includes(busKeyId));
    expect(statements).toEqual([{ Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Effect: 'Allow', Resource: { 'Fn::GetAtt': [busKeyId, 'Arn'] } }]);
  });

  test('each call makes a new state', () => {
    const stack = newStack();
    const d = RouteDestination.autoApprove();
    const a = d._state(stack, 'A', 'r1');
    const b = d._state(stack, 'B', 'r2');
    expect(a).not.toBe(b);
    expect(a).toBeInstanceOf(sfn.Pass);
  });
});
