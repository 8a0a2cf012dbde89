import { CfnParameter, Duration, Stack, Token } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { DocumentTrigger, Pipeline, S3UploadTrigger, S3UploadTriggerProps } from '../../src';
import { extractStage, logicalIdOf, newStack } from '../helpers/pipeline-fixture';

const STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:111111111111:stateMachine:contracts';
const EVENTBRIDGE_ON = { EventBridgeConfiguration: { EventBridgeEnabled: true } };

/** A trigger bound to an imported state machine (as a Pipeline would bind it). */
type Prepare = (stack: Stack) => S3UploadTriggerProps;

function boundTrigger(props: S3UploadTriggerProps = {}, prepare?: Prepare): { stack: Stack; trigger: S3UploadTrigger; template: Template } {
  const { stack } = newStack();
  const trigger = DocumentTrigger.s3Upload(stack, 'Upload', { ...props, ...prepare?.(stack) });
  trigger.bind(sfn.StateMachine.fromStateMachineArn(stack, 'Machine', STATE_MACHINE_ARN));
  return { stack, trigger, template: Template.fromStack(stack) };
}

function keyPatternOf(template: Template): any {
  const rules = Object.values(template.findResources('AWS::Events::Rule')) as any[];
  expect(rules).toHaveLength(1);
  return rules[0].Properties.EventPattern;
}

describe('S3UploadTrigger with a new bucket', () => {
  let stack: Stack;
  let trigger: S3UploadTrigger;
  let template: Template;
  beforeAll(() => {
    ({ stack, trigger, template } = boundTrigger({ prefix: 'incoming/', suffixes: ['.pdf'] }));
  });

  test('the documents bucket: KMS with the trigger key, versioned, all public access blocked, access-logged', () => {
    const key = logicalIdOf(stack, trigger.encryptionKey);
    const bucket = logicalIdOf(stack, trigger.documentBucket);
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    expect(template.toJSON().Resources[key].Properties.EnableKeyRotation).toBe(true);
    expect(template.toJSON().Resources[bucket].Properties).toEqual(expect.objectContaining({
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ BucketKeyEnabled: true, ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [key, 'Arn'] } } }] },
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      LoggingConfiguration: expect.objectContaining({ LogFilePrefix: 'documents/' }),
    }));
    template.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Retain' });
  });

  test('the documents bucket denies requests without TLS', () => {
    const bucket = logicalIdOf(stack, trigger.documentBucket);
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucket },
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({
          Effect: 'Deny',
          Action: 's3:*',
          Principal: { AWS: '*' },
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        })]),
      },
    });
  });

  test('EventBridge notifications are on, without the S3 notifications custom resource', () => {
    const bucket = logicalIdOf(stack, trigger.documentBucket);
    expect(template.toJSON().Resources[bucket].Properties.NotificationConfiguration).toEqual(EVENTBRIDGE_ON);
    template.resourceCountIs('Custom::S3BucketNotifications', 0);
    // No custom-resource handler function either: only the starter.
    template.resourceCountIs('AWS::Lambda::Function', 1);
  });

  test('the rule matches Object Created in this bucket with the wildcard incoming/*.pdf, into the buffer queue', () => {
    const bucket = logicalIdOf(stack, trigger.documentBucket);
    expect(keyPatternOf(template)).toEqual({
      'source': ['aws.s3'],
      'detail-type': ['Object Created'],
      'detail': { bucket: { name: [{ Ref: bucket }] }, object: { key: [{ wildcard: 'incoming/*.pdf' }] } },
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [logicalIdOf(stack, trigger.queue), 'Arn'] } })],
    });
  });

  test('the buffer queue: KMS with the trigger key, a dead-letter queue after maxReceiveCount (default 5), SSL only', () => {
    const key = logicalIdOf(stack, trigger.encryptionKey);
    const buffer = logicalIdOf(stack, trigger.queue);
    const dlq = logicalIdOf(stack, trigger.deadLetterQueue);
    const resources = template.toJSON().Resources;
    expect(resources[buffer].Properties).toEqual(expect.objectContaining({
      KmsMasterKeyId: { 'Fn::GetAtt': [key, 'Arn'] },
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlq, 'Arn'] }, maxReceiveCount: 5 },
      VisibilityTimeout: 360,
    }));
    expect(resources[dlq].Properties).toEqual(expect.objectContaining({ KmsMasterKeyId: { 'Fn::GetAtt': [key, 'Arn'] }, MessageRetentionPeriod: 1209600 }));
    for (const queue of [buffer, dlq]) {
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: queue }],
        PolicyDocument: {
          Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
        },
      });
    }
  });

  test('EventBridge may use the key to deliver to the encrypted queue', () => {
    const key = logicalIdOf(stack, trigger.encryptionKey);
    const keyPolicy = template.toJSON().Resources[key].Properties.KeyPolicy.Statement;
    expect(keyPolicy).toContainEqual(expect.objectContaining({
      Principal: { Service: 'events.amazonaws.com' },
      Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
      Effect: 'Allow',
    }));
  });

  test('the starter reads the queue with partial batch failures and bounded concurrency (default 5)', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [logicalIdOf(stack, trigger.queue), 'Arn'] },
      FunctionName: { Ref: logicalIdOf(stack, trigger.starter) },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 5 },
      BatchSize: 10,
    });
  });

  test('the starter may start executions of the bound state machine only, and gets its ARN', () => {
    const role = logicalIdOf(stack, trigger.starter.role!);
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: role }],
      PolicyDocument: { Statement: Match.arrayWith([{ Action: 'states:StartExecution', Effect: 'Allow', Resource: STATE_MACHINE_ARN }]) },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ STATE_MACHINE_ARN }) },
      TracingConfig: { Mode: 'Active' },
    });
  });

  test('an alarm watches the dead-letter queue', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalIdOf(stack, trigger.deadLetterQueue), 'QueueName'] } }],
      Threshold: 1,
    });
  });

  test('documentPrefix is the prefix', () => {
    expect(trigger.documentPrefix).toBe('incoming/');
  });
});

describe('S3UploadTrigger key filters and options', () => {
  test('prefix only', () => {
    const { template } = boundTrigger({ prefix: 'incoming/' });
    expect(keyPatternOf(template).detail.object).toEqual({ key: [{ prefix: 'incoming/' }] });
  });

  test('suffixes only: one suffix filter each', () => {
    const { template } = boundTrigger({ suffixes: ['.pdf', '.PDF'] });
    expect(keyPatternOf(template).detail.object).toEqual({ key: [{ suffix: '.pdf' }, { suffix: '.PDF' }] });
  });

  test('prefix and several suffixes: one wildcard each, with * in the prefix escaped', () => {
    const { template } = boundTrigger({ prefix: 'in*coming/', suffixes: ['.pdf', '.tiff'] });
    expect(keyPatternOf(template).detail.object).toEqual({ key: [{ wildcard: 'in\\*coming/*.pdf' }, { wildcard: 'in\\*coming/*.tiff' }] });
  });

  test('no filter: any key of the bucket', () => {
    const { template, trigger } = boundTrigger();
    expect(keyPatternOf(template).detail.object).toBeUndefined();
    expect(trigger.documentPrefix).toBe('');
  });

  test('maxConcurrency and maxReceiveCount are passed through', () => {
    const { template } = boundTrigger({ maxConcurrency: 50, maxReceiveCount: 3 });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { ScalingConfig: { MaximumConcurrency: 50 } });
    template.hasResourceProperties('AWS::SQS::Queue', { RedrivePolicy: Match.objectLike({ maxReceiveCount: 3 }) });
  });

  test('an existing bucket of the app gets EventBridge notifications turned on (no custom resource)', () => {
    let bucket!: s3.Bucket;
    const { stack, template, trigger } = boundTrigger({}, (st) => {
      bucket = new s3.Bucket(st, 'Existing', { enforceSSL: true });
      return { bucket, prefix: 'in/' };
    });
    expect(trigger.documentBucket).toBe(bucket);
    const resources = template.toJSON().Resources;
    expect(resources[logicalIdOf(stack, bucket)].Properties.NotificationConfiguration).toEqual(EVENTBRIDGE_ON);
    template.resourceCountIs('Custom::S3BucketNotifications', 0);
    // The trigger creates no bucket of its own.
    template.resourceCountIs('AWS::S3::Bucket', 1);
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('imported'))).toHaveLength(0);
  });

  test('an imported bucket gets a warning: its EventBridge notifications must be turned on by hand', () => {
    const { stack, template } = boundTrigger({}, (st) => ({ bucket: s3.Bucket.fromBucketName(st, 'Imported', 'existing-uploads') }));
    Annotations.fromStack(stack).hasWarning('/Flagship/Upload', Match.stringLikeRegexp('The bucket existing-uploads is imported: turn on its EventBridge notifications'));
    template.resourceCountIs('AWS::S3::Bucket', 0);
    expect(keyPatternOf(template).detail.bucket).toEqual({ name: ['existing-uploads'] });
  });
});

describe('S3UploadTrigger validation', () => {
  const make = (props: S3UploadTriggerProps) => () => DocumentTrigger.s3Upload(newStack().stack, 'Upload', props);

  test.each([1, 0, 1001, 2.5])('maxConcurrency %p is rejected', (value) => {
    expect(make({ maxConcurrency: value }))
      .toThrow(new RegExp(`\\[S3UploadTrigger Flagship/Upload\\] \`maxConcurrency\` must be a whole number from 2 to 1000 \\(Lambda's SQS limits\\), got: ${String(value).replace('.', '\\.')}\\.`));
  });

  test('token values (CloudFormation parameters) are not checked at synth', () => {
    const { stack } = newStack();
    const concurrency = new CfnParameter(stack, 'Concurrency', { type: 'Number' });
    expect(() => new S3UploadTrigger(stack, 'Upload', { maxConcurrency: Token.asNumber(concurrency.value) })).not.toThrow();
  });

  test('the factory is on DocumentTrigger only, not inherited by the trigger kind', () => {
    expect(typeof DocumentTrigger.s3Upload).toBe('function');
    expect('s3Upload' in S3UploadTrigger).toBe(false);
  });

  test('maxConcurrency limits are inclusive', () => {
    expect(make({ maxConcurrency: 2 })).not.toThrow();
    expect(make({ maxConcurrency: 1000 })).not.toThrow();
  });

  test.each([0, 1001, 1.5])('maxReceiveCount %p is rejected', (value) => {
    expect(make({ maxReceiveCount: value }))
      .toThrow(new RegExp(`\`maxReceiveCount\` must be a whole number from 1 to 1000, got: ${String(value).replace('.', '\\.')}\\.`));
  });

  test('a prefix starting with / is rejected, with the corrected prefix', () => {
    expect(make({ prefix: '/incoming/' }))
      .toThrow(/`prefix` must not start with '\/', got: '\/incoming\/'\. S3 keys have no leading slash: use 'incoming\/'\./);
  });

  test('an empty suffix is rejected', () => {
    expect(make({ suffixes: ['.pdf', ''] }))
      .toThrow(/`suffixes` must not contain an empty string\. Remove it, or leave `suffixes` unset to accept any key\./);
  });

  test('a trigger starts one pipeline only', () => {
    const { stack } = newStack();
    const trigger = DocumentTrigger.s3Upload(stack, 'Upload');
    new Pipeline(stack, 'First', { trigger, stages: [extractStage(stack, 'ExtractA')], timeout: Duration.hours(1) });
    expect(() => new Pipeline(stack, 'Second', { trigger, stages: [extractStage(stack, 'ExtractB')], timeout: Duration.hours(1) }))
      .toThrow(/\[S3UploadTrigger Flagship\/Upload\] the trigger already starts another pipeline\. Create one trigger per Pipeline\./);
  });

  test('a trigger bound to no pipeline fails synth', () => {
    const { stack } = newStack();
    DocumentTrigger.s3Upload(stack, 'Upload');
    expect(() => Template.fromStack(stack))
      .toThrow(/\[S3UploadTrigger Flagship\/Upload\] the trigger starts nothing: pass it as a Pipeline's `trigger`\./);
  });
});
