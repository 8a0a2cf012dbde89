import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import {
  BedrockModel,
  InferenceStage,
  Pipeline,
  PromptTemplate,
  RouteDestination,
  RoutingPolicy,
  RoutingRule,
  RuleCondition,
  ServiceQuota,
  StageContract,
} from '../../src';
import { allStates, Definition, definitionFromTemplate } from '../helpers/local-sfn';
import {
  buildPipelineStack,
  classifyStage,
  destinations,
  extractStage,
  flagshipParts,
  flagshipRouting,
  logicalIdOf,
  newStack,
  PipelineFixture,
  summarizeStage,
  templateOf,
  uploadTrigger,
} from '../helpers/pipeline-fixture';

/** Errors a retrier must never name: they are permanent (or everything). */
const NEVER_RETRIED = [/^Contract\./, /^Document\./, /^Model\./, /^Source\./, /^States\.ALL$/, /^States\.TaskFailed$/];

describe('Pipeline: the flagship template', () => {
  let fixture: PipelineFixture;
  let template: Template;
  let definition: Definition;
  let stateMachineId: string;
  let recorderId: string;

  beforeAll(() => {
    fixture = buildPipelineStack();
    template = templateOf(fixture);
    definition = definitionFromTemplate(template);
    stateMachineId = logicalIdOf(fixture.stack, fixture.pipeline.stateMachine);
    recorderId = logicalIdOf(fixture.stack, fixture.pipeline.recorder);
  });

  test('exactly one Standard state machine, traced, logging ALL without execution data', () => {
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
    const auditLogs = logicalIdOf(fixture.stack, fixture.pipeline.auditSink.logGroup);
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: {
        Level: 'ALL',
        IncludeExecutionData: false,
        Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [auditLogs, 'Arn'] } } }],
      },
    });
  });

  test('the definition is JSONPath: declared at the top, JSONata nowhere', () => {
    const sm = Object.values(template.findResources('AWS::StepFunctions::StateMachine'))[0] as any;
    // CDK emits the query language inside the definition, not as a resource property.
    expect([undefined, 'JSONPath']).toContain(sm.Properties.QueryLanguage);
    expect(definition.QueryLanguage).toBe('JSONPath');
    expect(JSON.stringify(sm.Properties.DefinitionString)).not.toMatch(/JSONata/);
    for (const [name, state] of allStates(definition)) {
      expect([name, state.QueryLanguage ?? 'JSONPath']).toEqual([name, 'JSONPath']);
      expect([name, state.Arguments, state.Output, state.Assign]).toEqual([name, undefined, undefined, undefined]);
    }
  });

  test('the run timeout is the default 2 hours and the comment lists the stages', () => {
    expect(definition.TimeoutSeconds).toBe(7200);
    expect(definition.Comment).toContain('Extract -> Classify -> Summarize -> routing');
  });

  test('the stages run in order, each result under $.results.<id>, then routing, then the run record', () => {
    expect(definition.StartAt).toBe('Extract');
    expect(definition.States.Extract.Next).toBe('Classify');
    expect(definition.States.Classify.Next).toBe('Summarize');
    expect(definition.States.Summarize.Next).toBe('Route');
    for (const id of ['Extract', 'Classify', 'Summarize']) expect(definition.States[id].ResultPath).toBe(`$.results.${id}`);
    expect(definition.States.Route.Type).toBe('Choice');
    expect(definition.States.RecordRun.End).toBe(true);
  });

  test('every Task has a timeout, bounded full-jitter retries of transient errors only, and a catch-all to RecordFailure', () => {
    const tasks = allStates(definition).filter(([, s]) => s.Type === 'Task');
    expect(tasks.length).toBeGreaterThanOrEqual(7);
    const problems: string[] = [];
    for (const [name, state] of tasks) {
      if (!(typeof state.TimeoutSeconds === 'number' && state.TimeoutSeconds > 0) && !state.TimeoutSecondsPath) problems.push(`${name}: no TimeoutSeconds`);
      const retry: any[] = state.Retry ?? [];
      if (retry.length === 0) problems.push(`${name}: no Retry`);
      for (const r of retry) {
        if (r.JitterStrategy !== 'FULL') problems.push(`${name}: JitterStrategy ${r.JitterStrategy}`);
        if (!(r.BackoffRate >= 2)) problems.push(`${name}: BackoffRate ${r.BackoffRate}`);
        if (typeof r.MaxDelaySeconds !== 'number') problems.push(`${name}: no MaxDelaySeconds`);
        if (!(typeof r.MaxAttempts === 'number' && r.MaxAttempts <= 10)) problems.push(`${name}: MaxAttempts ${r.MaxAttempts}`);
        for (const e of r.ErrorEquals as string[]) {
          if (NEVER_RETRIED.some((re) => re.test(e))) problems.push(`${name}: retries ${e}`);
        }
      }
      if (name === 'RecordFailure') continue;
      const catchAll = (state.Catch ?? []).find((c: any) => c.ErrorEquals.includes('States.ALL'));
      if (!catchAll) {problems.push(`${name}: no Catch [States.ALL]`);} else if (catchAll.ResultPath !== '$.error') {problems.push(`${name}: Catch ResultPath ${catchAll.ResultPath}`);} else if (catchAll.Next !== 'RecordFailure') {
        // A stage's catch names the stage at $.failedStage, then goes to RecordFailure.
        const named = definition.States[catchAll.Next];
        if (named?.Type !== 'Pass' || named.Result !== name || named.ResultPath !== '$.failedStage' || named.Next !== 'RecordFailure') {
          problems.push(`${name}: Catch [States.ALL] -> ${catchAll.Next}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  test('the stage tasks retry their services\' throttling errors', () => {
    expect(definition.States.Extract.Retry[0].ErrorEquals).toEqual(expect.arrayContaining(['ProvisionedThroughputExceededException', 'ThrottlingException', 'Lambda.TooManyRequestsException']));
    expect(definition.States.Classify.Retry[0].ErrorEquals).toEqual(expect.arrayContaining(['ModelNotReadyException', 'ServiceUnavailable']));
    expect(definition.States.Summarize.Retry[0].ErrorEquals).toEqual(expect.arrayContaining(['ThrottlingException', 'ModelTimeoutException', 'ServiceUnavailableException', 'ModelNotReadyException']));
  });

  test('the failure path: RecordFailure invokes the recorder and ends in Fail "Failed" with the recorded error', () => {
    const recordFailure = definition.States.RecordFailure;
    expect(recordFailure.Type).toBe('Task');
    expect(recordFailure.Resource).toBe(`arn:aws:lambda:us-east-1:111111111111:function:${recorderId}`);
    expect(recordFailure.Parameters).toMatchObject({ 'action': 'failure', 'state.$': '$', 'runId.$': '$$.Execution.Name' });
    expect(recordFailure.ResultPath).toBe('$.failure');
    expect(recordFailure.Next).toBe('Failed');
    // Only the recorder being down for good escapes it: to RecorderUnavailable (ADR-0026).
    expect(recordFailure.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.recorderError', Next: 'RecorderUnavailable' }]);
    expect(definition.States.RecorderUnavailable.Choices).toEqual([{ Variable: '$.route.destination', IsPresent: true, Next: 'RecorderUnavailable-Route' }]);
    expect(definition.States['RecorderUnavailable-Route']).toMatchObject({ Type: 'Pass', Parameters: { 'route.$': 'States.JsonToString($.route)' }, ResultPath: '$.recorderGap' });
    expect(definition.States.RecordingFailedAfterDelivery).toEqual(expect.objectContaining({ Type: 'Fail', Error: 'Audit.RecorderUnavailable', CausePath: '$.recorderGap.route' }));
    expect(definition.States.RecordingFailed).toEqual(expect.objectContaining({ Type: 'Fail', ErrorPath: '$.recorderError.Error', CausePath: '$.recorderError.Cause' }));
    expect(definition.States.Failed).toEqual(expect.objectContaining({ Type: 'Fail', ErrorPath: '$.failure.error', CausePath: '$.failure.cause' }));
    // The only way into Failed is RecordFailure.
    const intoFailed = allStates(definition).filter(([, s]) => s.Next === 'Failed' || (s.Catch ?? []).some((c: any) => c.Next === 'Failed'));
    expect(intoFailed.map(([n]) => n)).toEqual(['RecordFailure']);
  });

  test('nothing moves or deletes the document: no S3 integration states at all, tasks call Lambda, SNS or SQS only', () => {
    const resources = allStates(definition).filter(([, s]) => s.Resource).map(([n, s]) => [n, s.Resource as string]);
    for (const [name, resource] of resources) {
      expect([name, resource]).not.toEqual([name, expect.stringMatching(/s3:deleteObject|copyObject|s3:putObject|aws-sdk:s3/i)]);
      expect([name, resource]).toEqual([name, expect.stringMatching(/^arn:aws:(lambda:us-east-1:111111111111:function:|states:::lambda:invoke|states:::sns:publish$|states:::sqs:sendMessage$)/)]);
    }
  });

  test('the run record is written by the recorder at the end of every route', () => {
    expect(definition.States.RecordRun.Resource).toBe(`arn:aws:lambda:us-east-1:111111111111:function:${recorderId}`);
    expect(definition.States.RecordRun.Parameters).toMatchObject({ action: 'run' });
    for (const name of ['Route-high-risk', 'Route-low-risk-nda', 'Route-default']) expect(definition.States[name].Next).toBe('RecordRun');
  });

  test('alarms on failed, timed-out and throttled executions, on the backstop\'s and the trigger\'s dead letters, all notifying the alarm topic', () => {
    template.resourceCountIs('AWS::CloudWatch::Alarm', 5);
    for (const metric of ['ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionThrottled']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/States',
        MetricName: metric,
        Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: stateMachineId } }],
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      });
    }
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalIdOf(fixture.stack, fixture.trigger.deadLetterQueue), 'QueueName'] } }],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ContractsBackstopDeadLetters'), 'QueueName'] } }],
    });
    expect(fixture.pipeline.alarms).toHaveLength(4);
    const topic = logicalIdOf(fixture.stack, fixture.pipeline.alarmTopic);
    for (const alarm of Object.values(template.findResources('AWS::CloudWatch::Alarm')) as any[]) {
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topic }]);
    }
  });

  test('the backstop rule matches FAILED/TIMED_OUT/ABORTED executions of this state machine and targets the recorder', () => {
    const rules = template.findResources('AWS::Events::Rule', {
      Properties: { EventPattern: { source: ['aws.states'] } },
    });
    expect(Object.keys(rules)).toHaveLength(1);
    const rule = (Object.values(rules)[0] as any).Properties;
    expect(rule.EventPattern).toEqual({
      'source': ['aws.states'],
      'detail-type': ['Step Functions Execution Status Change'],
      'detail': { status: ['FAILED', 'TIMED_OUT', 'ABORTED'], stateMachineArn: [{ Ref: stateMachineId }] },
    });
    expect(rule.State).toBe('ENABLED');
    expect(rule.Targets).toHaveLength(1);
    expect(rule.Targets[0].Arn).toEqual({ 'Fn::GetAtt': [recorderId, 'Arn'] });
    expect(rule.Targets[0].RetryPolicy).toEqual({ MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 86400 });
    expect(rule.Targets[0].DeadLetterConfig).toEqual({ Arn: { 'Fn::GetAtt': [expect.stringMatching(/^ContractsBackstopDeadLetters/), 'Arn'] } });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
      FunctionName: { 'Fn::GetAtt': [recorderId, 'Arn'] },
    });
  });

  test('the working bucket is KMS-encrypted with the pipeline key, versioned, SSL only, access-logged, expiring', () => {
    const key = logicalIdOf(fixture.stack, fixture.pipeline.encryptionKey);
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [key, 'Arn'] } } }] },
      VersioningConfiguration: { Status: 'Enabled' },
      LoggingConfiguration: { DestinationBucketName: { Ref: logicalIdOf(fixture.stack, fixture.pipeline.auditSink.accessLogsBucket) }, LogFilePrefix: 'working/Contracts/' },
      LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ ExpirationInDays: 30, Status: 'Enabled' })]) },
    });
    template.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });

  test('the recorder writes run records under runs/ only, reads the stage records it chains, and puts events on the audit bus', () => {
    const recorderRole = logicalIdOf(fixture.stack, fixture.pipeline.recorder.role!);
    const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: recorderRole }] } });
    const statements = Object.values(policies).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    const records = logicalIdOf(fixture.stack, fixture.pipeline.auditSink.bucket);
    const s3 = statements.filter((s: any) => [s.Action].flat().some((a: string) => a.startsWith('s3:')));
    expect(s3.length).toBeGreaterThan(0);
    for (const st of s3) {
      const actions: string[] = [st.Action].flat();
      expect(actions).not.toEqual(expect.arrayContaining([expect.stringMatching(/^s3:(Delete|PutBucket|\*)/)]));
      const stagePrefixes = ['Extract', 'Classify', 'Summarize'].map((id) => `stages/${id}/`);
      if (actions.includes('s3:ListBucket')) {
        // Listing (to tell "no record yet" from "access denied") is limited to runs/ and each stage's own prefix.
        expect(st).toEqual({ Action: 's3:ListBucket', Effect: 'Allow', Resource: { 'Fn::GetAtt': [records, 'Arn'] }, Condition: { StringLike: { 's3:prefix': [expect.any(String)] } } });
        expect(['runs/', ...stagePrefixes].map((p) => `${p}*`)).toContain(st.Condition.StringLike['s3:prefix'][0]);
      } else if (actions.includes('s3:PutObject')) {
        expect(st.Resource).toEqual({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [records, 'Arn'] }, '/runs/*']] });
      } else {
        // Read only, of the stage records the run record chains (ADR-0017).
        expect(actions).toEqual(['s3:GetObject', 's3:GetObjectVersion']);
        expect(stagePrefixes.map((p) => ({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [records, 'Arn'] }, `/${p}*`]] }))).toContainEqual(st.Resource);
      }
    }
    expect(statements.some((s: any) => [s.Action].flat().includes('events:PutEvents'))).toBe(true);
  });

  test('grantStartExecution grants states:StartExecution on the state machine ARN only', () => {
    const { stack, pipeline } = buildPipelineStack();
    const role = new iam.Role(stack, 'Starter', { assumedBy: new iam.AccountRootPrincipal() });
    const grant = pipeline.grantStartExecution(role);
    expect(grant.success).toBe(true);
    const t = Template.fromStack(stack);
    const policies = t.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: logicalIdOf(stack, role) }] } });
    const statements = Object.values(policies).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    expect(statements).toEqual([{ Action: 'states:StartExecution', Effect: 'Allow', Resource: { Ref: logicalIdOf(stack, pipeline.stateMachine) } }]);
  });

  test('the trigger\'s starter may start executions of this state machine, and knows its ARN', () => {
    const starterRole = logicalIdOf(fixture.stack, fixture.trigger.starter.role!);
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: starterRole }],
      PolicyDocument: { Statement: Match.arrayWith([{ Action: 'states:StartExecution', Effect: 'Allow', Resource: { Ref: stateMachineId } }]) },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Role: { 'Fn::GetAtt': [starterRole, 'Arn'] },
      Environment: { Variables: Match.objectLike({ STATE_MACHINE_ARN: { Ref: stateMachineId } }) },
    });
  });

  test('without routing, the last stage goes straight to the run record', () => {
    const { stack } = newStack();
    const extract = extractStage(stack);
    new Pipeline(stack, 'Plain', { trigger: uploadTrigger(stack), stages: [extract] });
    const def = definitionFromTemplate(Template.fromStack(stack));
    expect(def.States.Extract.Next).toBe('RecordRun');
    expect(def.States.Route).toBeUndefined();
  });

  test('the full stack synthesizes with the built-in CloudFormation validator on', () => {
    const withValidation = buildPipelineStack({ validation: true });
    expect(withValidation.app._builtinCloudFormationValidation).toBe(true);
    expect(() => withValidation.app.synth()).not.toThrow();
    const assembly = withValidation.app.synth();
    expect(assembly.getStackByName(withValidation.stack.stackName).template.Resources).toBeDefined();
  });
});

// ---------------------------------------------------------------------------------------------
// Validation: a toThrow test for every message of pipeline.ts (and the routing checks it drives)
// ---------------------------------------------------------------------------------------------

function userFunction(scope: Construct, id = 'UserFn'): lambda.IFunction {
  return lambda.Function.fromFunctionArn(scope, id, 'arn:aws:lambda:us-east-1:111111111111:function:user-fn');
}

describe('Pipeline validation', () => {
  test('pipelineName must be letters, digits, - or _ (explicit)', () => {
    const { stack } = newStack();
    expect(() => new Pipeline(stack, 'P', { trigger: uploadTrigger(stack), stages: [extractStage(stack)], pipelineName: 'contracts v2!' }))
      .toThrow(/\[Pipeline Flagship\/P\] `pipelineName` must be 1-64 letters, digits, '-' or '_', got: 'contracts v2!'\. Set `pipelineName`/);
  });

  test('pipelineName defaults to the construct id, which must then match too', () => {
    const { stack } = newStack();
    expect(() => new Pipeline(stack, 'My Pipeline', { trigger: uploadTrigger(stack), stages: [extractStage(stack)] }))
      .toThrow(/`pipelineName` must be 1-64 letters, digits, '-' or '_', got: 'My Pipeline'/);
    const { stack: other } = newStack();
    expect(() => new Pipeline(other, 'P', { trigger: uploadTrigger(other), stages: [extractStage(other)], pipelineName: 'x'.repeat(65) }))
      .toThrow(/`pipelineName` must be 1-64 letters/);
  });

  test('stages must not be empty', () => {
    const { stack } = newStack();
    expect(() => new Pipeline(stack, 'P', { trigger: uploadTrigger(stack), stages: [] }))
      .toThrow(/`stages` must hold at least one stage, got: \[\]\. Pass the stages in order/);
  });

  test('at most 50 stages', () => {
    const { stack } = newStack();
    const fn = userFunction(stack);
    const stages = Array.from({ length: 51 }, (_, i) => InferenceStage.lambda(stack, `Step${i}`, { function: fn, timeout: Duration.seconds(30) }));
    expect(() => new Pipeline(stack, 'P', { trigger: uploadTrigger(stack), stages }))
      .toThrow(/`stages` holds 51 stages; at most 50 are supported\. Split the work into several pipelines\./);
  });

  test('stage ids must be unique (they are keys under $.results)', () => {
    const { stack } = newStack();
    const a = classifyStage(new Construct(stack, 'A'));
    const b = InferenceStage.sagemakerEndpoint(new Construct(stack, 'B'), 'Classify', { endpointName: 'other' });
    expect(() => new Pipeline(stack, 'P', { trigger: uploadTrigger(stack), stages: [extractStage(stack), a, b] }))
      .toThrow(/`stages` holds two stages with the id 'Classify'\. Each stage id is a key under \$\.results/);
  });

  test('the run timeout must cover the quotas\' maxWait too: a run waiting for capacity would time out', () => {
    const { stack } = newStack();
    const quota = ServiceQuota.sagemakerEndpoint(stack, 'ClassifierQuota', { endpointName: 'contract-classifier', invocationsPerSecond: 5, maxWait: Duration.hours(1) });
    const classify = () => InferenceStage.sagemakerEndpoint(new Construct(stack, 'C'), 'Classify', { endpointName: 'contract-classifier', quota });
    // Classify 2 min + its quota's 1 h wait > 45 min, although 45 min covers the stage timeout alone.
    expect(() => new Pipeline(stack, 'P', { trigger: uploadTrigger(stack), stages: [classify()], timeout: Duration.minutes(45) }))
      .toThrow(/`timeout` \(45 minutes\) is shorter than the stages' timeouts plus their quotas' `maxWait` added up \(1 hour 2 minutes\): Classify \(quota '\S+', maxWait 1 hour\)\. A run waiting for capacity would time out instead of waiting\. Raise `timeout`, or lower the quotas' `maxWait`\./);
    const { stack: ok } = newStack();
    // Extract 30 min + Classify 2 min + a 30 min wait fit in 65 min.
    const okQuota = ServiceQuota.sagemakerEndpoint(ok, 'ClassifierQuota', { endpointName: 'contract-classifier', invocationsPerSecond: 5, maxWait: Duration.minutes(30) });
    const okStage = InferenceStage.sagemakerEndpoint(ok, 'Classify', { endpointName: 'contract-classifier', quota: okQuota });
    expect(() => new Pipeline(ok, 'P', { trigger: uploadTrigger(ok), stages: [extractStage(ok), okStage], timeout: Duration.minutes(65) })).not.toThrow();
  });

  test('the run timeout must cover the stages\' timeouts added up', () => {
    const { stack } = newStack();
    // Extract 30 min + Classify 2 min (its default) > 20 min
    expect(() => new Pipeline(stack, 'P', { trigger: uploadTrigger(stack), stages: [extractStage(stack), classifyStage(stack)], timeout: Duration.minutes(20) }))
      .toThrow(/`timeout` \(20 minutes\) is shorter than the stages' timeouts added up \(.+\)\. Raise `timeout` or lower the stages' timeouts\./);
  });

  test('a timeout equal to the stages\' sum is accepted', () => {
    const { stack } = newStack();
    expect(() => new Pipeline(stack, 'P', { trigger: uploadTrigger(stack), stages: [extractStage(stack)], timeout: Duration.minutes(30) })).not.toThrow();
  });

  test('an input contract not satisfied by earlier stages names the stage, the field and the fix', () => {
    const { stack } = newStack();
    const needsType = InferenceStage.lambda(stack, 'Review', {
      function: userFunction(stack),
      input: StageContract.fromObject({
        type: 'object',
        required: ['document', 'results'],
        properties: {
          results: {
            type: 'object',
            required: ['Classify'],
            properties: { Classify: { type: 'object', required: ['documentType'], properties: { documentType: { type: 'string' } } } },
          },
        },
      }),
    });
    let message = '';
    try {
      new Pipeline(stack, 'P', { trigger: uploadTrigger(stack), stages: [extractStage(stack), needsType, classifyStage(stack)] });
    } catch (err: any) {
      message = err.message;
    }
    expect(message).toMatch(/^\[Pipeline Flagship\/P\] stage 'Review' has an input contract the stages before it do not satisfy: /);
    expect(message).toMatch(/'results\.Classify(\.documentType)?' is required, but no earlier contract declares it/);
    expect(message).toMatch(/Fix: put a stage that produces these fields before 'Review' \(with an output contract declaring them as required\), or relax Review's input contract \(StageContract\.fromObject\)\./);
  });

  test('an input contract expecting another type than declared is reported with both types', () => {
    const { stack } = newStack();
    const wrongType = InferenceStage.lambda(stack, 'Review', {
      function: userFunction(stack),
      input: StageContract.fromObject({
        type: 'object',
        required: ['results'],
        properties: { results: { type: 'object', required: ['Classify'], properties: { Classify: { type: 'object', required: ['confidence'], properties: { confidence: { type: 'string' } } } } } },
      }),
    });
    expect(() => new Pipeline(stack, 'P', { trigger: uploadTrigger(stack), stages: [extractStage(stack), classifyStage(stack), wrongType] }))
      .toThrow(/stage 'Review' has an input contract .*'results\.Classify\.confidence' must be string, but is declared as number/);
  });

  test('the same contract is satisfied when the producing stage comes first', () => {
    const { stack } = newStack();
    const review = InferenceStage.lambda(stack, 'Review', {
      function: userFunction(stack),
      input: StageContract.fromObject({
        type: 'object',
        required: ['results'],
        properties: { results: { type: 'object', required: ['Classify'], properties: { Classify: { type: 'object', required: ['documentType'] } } } },
      }),
    });
    expect(() => new Pipeline(stack, 'P', { trigger: uploadTrigger(stack), stages: [extractStage(stack), classifyStage(stack), review] })).not.toThrow();
  });

  test('Summarize before Classify: its prompt reads results.Classify.documentType, which nothing produced yet', () => {
    const { stack } = newStack();
    expect(() => new Pipeline(stack, 'P', { trigger: uploadTrigger(stack), stages: [extractStage(stack), summarizeStage(stack), classifyStage(stack)] }))
      .toThrow(/stage 'Summarize' has an input contract the stages before it do not satisfy: 'results\.Classify[^']*' is required/);
  });

  test('a {{text}} reader needs a text producer before it (SageMaker reads text by default)', () => {
    const { stack: first } = newStack();
    expect(() => new Pipeline(first, 'P', { trigger: uploadTrigger(first), stages: [classifyStage(first), extractStage(first)] }))
      .toThrow(/stage 'Classify' reads \{\{text\}\}, but no stage before it produces a required 'text' pointer/);
  });

  test('a Bedrock {{text}} reader needs a text producer before it', () => {
    const { stack } = newStack();
    const summarize = InferenceStage.bedrock(stack, 'Summarize', {
      model: BedrockModel.inferenceProfile('us.anthropic.claude-3-5-haiku-20241022-v1:0'),
      prompt: PromptTemplate.fromText('Summarize:\n{{text}}', { version: '1' }),
      output: StageContract.fromObject({ type: 'object', required: ['summary'], properties: { summary: { type: 'string' } } }),
    });
    const prepare = InferenceStage.lambda(stack, 'Prepare', { function: userFunction(stack) });
    expect(() => new Pipeline(stack, 'P', { trigger: uploadTrigger(stack), stages: [prepare, summarize] }))
      .toThrow(/\[Pipeline Flagship\/P\] stage 'Summarize' reads \{\{text\}\}, but no stage before it produces a required 'text' pointer\. Fix: put a text-producing stage \(InferenceStage\.textract\) before 'Summarize'/);
  });

  function withRule(condition: RuleCondition): () => Pipeline {
    const { stack } = newStack();
    const { legalTopic, reviewQueue } = destinations(stack);
    const routing = new RoutingPolicy(stack, 'Route', {
      rules: [RoutingRule.when('custom', condition, RouteDestination.snsTopic('legal', legalTopic))],
      defaultRoute: RouteDestination.sqsQueue('review', reviewQueue),
    });
    const stages = [extractStage(stack), classifyStage(stack), summarizeStage(stack)];
    return () => new Pipeline(stack, 'P', { trigger: uploadTrigger(stack), stages, routing });
  }

  test('a routing rule reading a path no contract declares fails synth', () => {
    expect(withRule(RuleCondition.numberAtLeast('Summarize.score', 0.5)))
      .toThrow(/rule 'custom' reads 'Summarize\.score', which no stage's output contract declares\. Declare it in the output contract of stage 'Summarize', or fix the path\./);
    expect(withRule(RuleCondition.stringEquals('Translate.language', 'fr')))
      .toThrow(/rule 'custom' reads 'Translate\.language', which no stage's output contract declares/);
  });

  test('a routing rule comparing a path with the wrong type fails synth', () => {
    expect(withRule(RuleCondition.stringEquals('Summarize.riskScore', 'high')))
      .toThrow(/rule 'custom' compares 'Summarize\.riskScore' as a string, but its contract declares number\. Use a number condition, or fix the contract\./);
    expect(withRule(RuleCondition.numberAtLeast('Classify.documentType', 1)))
      .toThrow(/rule 'custom' compares 'Classify\.documentType' as a number, but its contract declares string/);
  });

  test('a routing rule comparing an enum with a value it never takes fails synth', () => {
    expect(withRule(RuleCondition.stringEquals('Classify.documentType', 'LEASE')))
      .toThrow(/rule 'custom' compares 'Classify\.documentType' with \["LEASE"\], which its contract never allows/);
  });

  test('routing rules over declared paths with the right types pass', () => {
    expect(withRule(RuleCondition.all([
      RuleCondition.stringEquals('Classify.documentType', 'MSA'),
      RuleCondition.numberAtLeast('Classify.confidence', 0.5),
      RuleCondition.numberAtLeast('Summarize.riskScore', 0.5),
    ]))).not.toThrow();
  });

  test('a routing policy serves one pipeline only', () => {
    const parts = flagshipParts();
    new Pipeline(parts.stack, 'First', { trigger: parts.trigger, stages: [parts.extract, parts.classify, parts.summarize], routing: parts.routing });
    const stack = parts.stack;
    expect(() => new Pipeline(stack, 'Second', {
      trigger: uploadTrigger(stack, 'Upload2'),
      stages: [extractStage(stack, 'Extract2'), classifyStage(stack, 'Classify2'), summarizeStage(stack, 'Summarize2', 'Summarize {{text}}')],
      routing: parts.routing,
    })).toThrow(/the routing policy is already used by another pipeline/);
  });

  test('a flagship routing policy built for other stage ids is rejected', () => {
    const { stack } = newStack();
    const { legalTopic, reviewQueue } = destinations(stack);
    const routing = flagshipRouting(stack, legalTopic, reviewQueue);
    // No Summarize stage: the rules read Summarize.riskScore.
    expect(() => new Pipeline(stack, 'P', { trigger: uploadTrigger(stack), stages: [extractStage(stack), classifyStage(stack)], routing }))
      .toThrow(/rule 'high-risk' reads 'Summarize\.riskScore', which no stage's output contract declares/);
  });
});
