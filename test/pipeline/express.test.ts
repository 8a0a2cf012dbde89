/**
 * Express workflows (ADR-0029): allowed only for synchronous, short steps; the trigger keeps each start
 * exactly once with a claim table; execution logs go to the audit sink's CMK-encrypted log group.
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { FraudScreeningStack } from '../../examples/fraud-screening/lib/fraud-screening-stack';
import {
  ChunkBy, ChunkedStage, ChunkReducer, DocumentTrigger, HumanReview, InferenceStage, ParallelBranch, ParallelStages, Pipeline, RouteDestination,
  ServiceQuota, StageContract,
} from '../../src';
import { describeFindings, FIVE_PACKS, fivePackFindings, packSummary } from '../helpers/nag-packs';
import { classifyStage, destinations, extractStage, newStack, summarizeStage, uploadTrigger } from '../helpers/pipeline-fixture';

const EXPRESS = sfn.StateMachineType.EXPRESS;
const ENV = { account: '111111111111', region: 'us-east-1' };
const short = { timeout: Duration.minutes(1) };
/** A synchronous stage that reads no text: a SageMaker endpoint given the document's key. */
const classify = (scope: Construct, extra: object = {}) => InferenceStage.sagemakerEndpoint(scope, 'Classify', {
  endpointName: 'contract-classifier', request: { key: 'document.key' }, ...short, ...extra,
});

function fraudStack(workflowType?: sfn.StateMachineType): { app: App; stack: Stack; template: Template } {
  const app = new App({ builtinCloudFormationValidation: false } as any);
  const stack = new FraudScreeningStack(app, 'Fraud', { env: ENV, workflowType });
  return { app, stack, template: Template.fromStack(stack) };
}

const resolve = (stack: Stack, v: any) => JSON.stringify(stack.resolve(v));

describe('an Express pipeline (the fraud-screening example)', () => {
  let app: App;
  let stack: Stack;
  let template: Template;
  beforeAll(() => ({ app, stack, template } = fraudStack(EXPRESS)));

  test('the state machine is EXPRESS, traced, logging ALL without execution data to the audit sink\'s CMK-encrypted log group', () => {
    const machines = template.findResources('AWS::StepFunctions::StateMachine', { Metadata: { 'cdk-ai-pipeline': Match.objectLike({ workflowType: 'EXPRESS' }) } });
    expect(Object.keys(machines)).toHaveLength(1);
    const [machine] = Object.values(machines) as any[];
    expect(machine.Properties.StateMachineType).toBe('EXPRESS');
    expect(machine.Properties.TracingConfiguration).toEqual({ Enabled: true });
    expect(machine.Properties.LoggingConfiguration).toMatchObject({ Level: 'ALL', IncludeExecutionData: false });
    const logGroupId = machine.Properties.LoggingConfiguration.Destinations[0].CloudWatchLogsLogGroup.LogGroupArn['Fn::GetAtt'][0];
    const logGroup = template.toJSON().Resources[logGroupId];
    expect(logGroup.Type).toBe('AWS::Logs::LogGroup');
    expect(logGroupId).toMatch(/AuditExecutionLogs/);
    expect(logGroup.Properties.KmsKeyId).toEqual({ 'Fn::GetAtt': [expect.any(String), 'Arn'] });
    // The definition's own timeout: 5 minutes, an Express execution's limit.
    expect(resolve(stack, machine.Properties.DefinitionString)).toContain('\\"TimeoutSeconds\\":300');
  });

  test('the API trigger gets a claim table: the pipeline\'s CMK, point-in-time recovery, a TTL; exact-ARN grants', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    const [[tableId, table]] = Object.entries(template.findResources('AWS::DynamoDB::Table')) as Array<[string, any]>;
    expect(tableId).toMatch(/^ApiRunClaims/);
    expect(table.Properties).toMatchObject({
      KeySchema: [{ AttributeName: 'runId', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: { 'Fn::GetAtt': [expect.stringMatching(/^ScreeningKey/), 'Arn'] } },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
    const pipelineKey = table.Properties.SSESpecification.KMSMasterKeyId['Fn::GetAtt'][0];
    // The API handler's role: the item actions on this table's ARN only, and the key by its ARN only.
    const policies = Object.values(template.findResources('AWS::IAM::Policy')) as any[];
    const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement) as any[];
    const onTable = statements.filter((s) => JSON.stringify(s.Resource).includes(tableId));
    // ... and the recorder reads a run's claim for the Express backstop (ADR-0031; test/pipeline/express-backstop.test.ts).
    expect(onTable).toHaveLength(2);
    expect(onTable).toContainEqual(expect.objectContaining({
      Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
      Resource: [{ 'Fn::GetAtt': [tableId, 'Arn'] }],
    }));
    expect(onTable).toContainEqual(expect.objectContaining({ Action: 'dynamodb:GetItem', Resource: [{ 'Fn::GetAtt': [tableId, 'Arn'] }] }));
    expect(statements).toContainEqual(expect.objectContaining({
      Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'],
      Resource: { 'Fn::GetAtt': [pipelineKey, 'Arn'] },
    }));
    // No DescribeExecution: an Express execution cannot be described (GET /runs reads the claim).
    expect(JSON.stringify(statements)).not.toContain('states:DescribeExecution');
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ CLAIM_TABLE: { Ref: tableId }, CLAIM_STALE_SECONDS: '29' }) },
    });
  });

  test('five cdk-nag packs: zero unacknowledged findings', () => {
    const findings = fivePackFindings(app, stack);
    process.stdout.write(`five cdk-nag packs on examples/fraud-screening (Express): ${packSummary(findings)}\n`);
    expect(describeFindings(findings)).toBe('');
    for (const pack of FIVE_PACKS) expect(findings[pack]).toHaveLength(0);
  });

  test('the same example as Standard has no claim table, and keeps DescribeExecution for its status', () => {
    const { template: standard } = fraudStack();
    standard.resourceCountIs('AWS::DynamoDB::Table', 0);
    standard.hasResourceProperties('AWS::StepFunctions::StateMachine', { StateMachineType: 'STANDARD' });
    expect(JSON.stringify(standard.toJSON())).toContain('states:DescribeExecution');
  });
});

describe('the other triggers of an Express pipeline', () => {
  const output = StageContract.fromObject({ type: 'object', properties: { ok: { type: 'boolean' } } });
  const lambdaStage = (scope: Construct) => InferenceStage.sagemakerEndpoint(scope, 'Score', { endpointName: 'scorer', request: { key: 'document.key' }, output, ...short });

  test('an S3 upload trigger claims in a table of its own, stale after its starter\'s 60 s timeout', () => {
    const { stack } = newStack();
    const trigger = uploadTrigger(stack);
    new Pipeline(stack, 'P', { trigger, stages: [lambdaStage(stack)], workflowType: EXPRESS });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::DynamoDB::Table', 1);
    expect(trigger.runClaims).toBeDefined();
    t.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('starts one execution per uploaded document'),
      Environment: { Variables: Match.objectLike({ CLAIM_TABLE: Match.anyValue(), CLAIM_STALE_SECONDS: '60' }) },
    });
  });

  test('a schedule trigger claims too (its Distributed Map still starts child runs through the same start core)', () => {
    const { stack } = newStack();
    const trigger = DocumentTrigger.schedule(stack, 'Nightly', { prefix: 'incoming/', batchSize: 100 });
    new Pipeline(stack, 'P', { trigger, stages: [lambdaStage(stack)], workflowType: EXPRESS });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::DynamoDB::Table', 1);
    // The batch state machine stays Standard (a Distributed Map); the pipeline is Express.
    t.hasResourceProperties('AWS::StepFunctions::StateMachine', { StateMachineType: 'EXPRESS' });
    t.hasResourceProperties('AWS::StepFunctions::StateMachine', { StateMachineType: 'STANDARD', DefinitionString: Match.anyValue() });
    t.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ DOCUMENT_PREFIX: 'incoming/', CLAIM_STALE_SECONDS: '130' }) },
    });
  });

  test('a Standard pipeline\'s triggers make no claim table', () => {
    const { stack } = newStack();
    const trigger = uploadTrigger(stack);
    new Pipeline(stack, 'P', { trigger, stages: [lambdaStage(stack)] });
    Template.fromStack(stack).resourceCountIs('AWS::DynamoDB::Table', 0);
    expect(trigger.runClaims).toBeUndefined();
  });
});

describe('what an Express workflow cannot run fails synth, naming the Pipeline, the prop, the step and the fix', () => {
  const fix = /Fix: use a Standard workflow \(leave `workflowType` unset\), or move '.+' to a Standard pipeline\./;
  const express = (build: (stack: Stack) => Parameters<typeof buildExpress>[1]) => () => {
    const { stack } = newStack();
    buildExpress(stack, build(stack));
  };
  function buildExpress(stack: Stack, stages: any[], timeout?: Duration): Pipeline {
    return new Pipeline(stack, 'Contracts', { trigger: uploadTrigger(stack), stages, workflowType: EXPRESS, ...(timeout ? { timeout } : {}) });
  }

  test('a Textract stage (its asynchronous job waits with a task token)', () => {
    const run = express((s) => [extractStage(s)]);
    expect(run).toThrow(/\[Pipeline .*\/Contracts\] `workflowType` is EXPRESS, but step 'Extract' is a textract stage, which waits for its asynchronous job's completion with a task token/);
    expect(run).toThrow(fix);
  });

  test('a Transcribe stage', () => {
    expect(express((s) => [InferenceStage.transcribe(s, 'Transcribe')]))
      .toThrow(/`workflowType` is EXPRESS, but step 'Transcribe' is a transcribe stage, which waits for its asynchronous job's completion with a task token/);
  });

  test('a HumanReview', () => {
    const run = express((s) => {
      const summarize = summarizeStage(s, 'Summarize', 'Summarize: {{document.key}}');
      const { legalTopic, reviewQueue } = destinations(s);
      return [summarize, new HumanReview(s, 'LegalReview', {
        stage: summarize, escalation: RouteDestination.snsTopic('legal', legalTopic), rejectedRoute: RouteDestination.sqsQueue('rejected', reviewQueue),
      })];
    });
    expect(run).toThrow(/`workflowType` is EXPRESS, but step 'LegalReview' is a HumanReview, which waits for a reviewer's decision with a task token/);
  });

  test('a ChunkedStage, top-level or as a parallel branch', () => {
    const chunked = (s: Stack, id: string) => new ChunkedStage(s, id, {
      stage: summarizeStage(new Construct(s, `${id}Scope`), `${id}Summarize`, 'Summarize: {{text}}'),
      chunkBy: ChunkBy.pages(5),
      reducers: [ChunkReducer.concatenate('summary'), ChunkReducer.max('riskScore')],
    });
    expect(express((s) => [chunked(s, 'Chunks')])).toThrow(/but step 'Chunks' is a ChunkedStage, which maps a stage over chunks of a long text/);
    expect(express((s) => [new ParallelStages(s, 'Both', {
      branches: [ParallelBranch.chunked(chunked(s, 'Pages')), ParallelBranch.required([classifyStage(s)])],
    })])).toThrow(/but step 'Pages' is a ChunkedStage \(a branch of 'Both'\), which maps a stage over chunks of a long text/);
  });

  test('a timeout over 5 minutes', () => {
    const { stack } = newStack();
    expect(() => buildExpress(stack, [classify(stack)], Duration.minutes(6)))
      .toThrow(/\[Pipeline .*\/Contracts\] `timeout` must be at most 5 minutes when `workflowType` is EXPRESS \(an Express execution's limit\), got: 6 minutes\. Fix: lower `timeout`/);
  });

  test('a quota whose maxWait does not fit in the 5 minutes', () => {
    const { stack } = newStack();
    const quota = ServiceQuota.sagemakerEndpoint(stack, 'Q', { endpointName: 'contract-classifier', invocationsPerSecond: 5, maxWait: Duration.minutes(10) });
    expect(() => buildExpress(stack, [classify(stack, { quota })]))
      .toThrow(/`workflowType` is EXPRESS, but the stages' timeouts plus their quotas' `maxWait` add up to 11 minutes, more than `timeout` \(5 minutes; an Express run lasts at most 5 minutes\): 'Classify' \(quota '\S+', maxWait 10 minutes\)\. Fix: lower the quotas' `maxWait`/);
    // A wait that fits is allowed: the stage retries Capacity.Wait inside the run, no task token.
    const { stack: ok } = newStack();
    const okQuota = ServiceQuota.sagemakerEndpoint(ok, 'Q', { endpointName: 'contract-classifier', invocationsPerSecond: 5, maxWait: Duration.minutes(3) });
    expect(() => buildExpress(ok, [classify(ok, { quota: okQuota })])).not.toThrow();
  });

  test('synchronous, short stages are accepted, with a 5-minute default timeout', () => {
    const { stack } = newStack();
    const p = buildExpress(stack, [classify(stack)]);
    expect(p.workflowType).toBe(EXPRESS);
    expect(resolve(stack, (p.stateMachine.node.defaultChild as sfn.CfnStateMachine).definitionString)).toContain('\\"TimeoutSeconds\\":300');
  });
});

describe('a stand-alone stage that waits for a task token, in an Express state machine of your own', () => {
  test('fails synth naming the stage, the state machine and the fix; Standard is fine', () => {
    const build = (stateMachineType: sfn.StateMachineType) => {
      const app = new App({ builtinCloudFormationValidation: false } as any);
      const stack = new Stack(app, 'Own', { env: ENV });
      const extract = InferenceStage.transcribe(stack, 'Transcribe');
      new sfn.StateMachine(stack, 'Mine', { definitionBody: sfn.DefinitionBody.fromChainable(extract), stateMachineType });
      return () => app.synth();
    };
    expect(build(EXPRESS)).toThrow(/stage 'Transcribe' waits for its asynchronous job's completion with a task token, but the state machine Own\/Mine is EXPRESS, which does not support task tokens\. Fix: make that state machine STANDARD/);
    expect(build(sfn.StateMachineType.STANDARD)).not.toThrow();
  });
});
