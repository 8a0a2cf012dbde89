import * as fs from 'fs';
import * as path from 'path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ServiceQuota } from '../../src/capacity/service-quota';
import { StageContract } from '../../src/contracts/stage-contract';
import { Bundles, bundleFile } from '../../src/private/handler-asset';
import { CAPACITY_ENV, THROTTLING_ERROR_NAMES, TRANSIENT_ERRORS } from '../../src/shared';
import { BedrockModel } from '../../src/stages/bedrock/bedrock-model';
import { PromptTemplate } from '../../src/stages/bedrock/prompt-template';
import { InferenceStage } from '../../src/stages/inference-stage';
import { attachStage, newAttachment, newStack, roleStatements, stageAssetDir, stateMachineOf, statementsWith } from '../helpers/construct-test-kit';

const HAIKU = 'us.anthropic.claude-3-5-haiku-20241022-v1:0';
const OUTPUT = StageContract.fromObject({ type: 'object', required: ['summary'], properties: { summary: { type: 'string' } } });

function haikuQuota(stack: Stack, extra: object = {}) {
  return ServiceQuota.bedrockModel(stack, 'HaikuQuota', {
    model: BedrockModel.inferenceProfile(HAIKU),
    requestsPerMinute: 2000,
    tokensPerMinute: 4_000_000,
    ...extra,
  });
}

function summarize(stack: Stack, id: string, quota: ServiceQuota, model = HAIKU) {
  return InferenceStage.bedrock(stack, id, {
    model: BedrockModel.inferenceProfile(model),
    prompt: PromptTemplate.fromText('Summarize: {{text}}', { version: '1' }),
    output: OUTPUT,
    quota,
  });
}

describe('ServiceQuota', () => {
  test('a Bedrock quota grants 95% of its per-minute quotas, with a minute of burst', () => {
    const quota = haikuQuota(newStack());
    expect(quota.service).toBe('bedrock');
    expect(quota.resourceName).toBe(HAIKU);
    expect(quota.limits).toEqual([
      { dimension: 'requests', quotaPerSecond: 2000 / 60, grantPerSecond: (2000 / 60) * 0.95, burst: 2000 * 0.95 },
      { dimension: 'tokens', quotaPerSecond: 4_000_000 / 60, grantPerSecond: (4_000_000 / 60) * 0.95, burst: 4_000_000 * 0.95 },
    ]);
  });

  test('a Textract quota has one bucket per API, a second of burst, defaults of 10 TPS', () => {
    const quota = ServiceQuota.textract(newStack(), 'Textract', { startDocumentTextDetectionPerSecond: 5, utilizationTarget: 0.9 });
    expect(quota.limits.map((l) => [l.dimension, l.quotaPerSecond, l.grantPerSecond, l.burst])).toEqual([
      ['DetectDocumentText', 10, 9, 9],
      ['StartDocumentTextDetection', 5, 4.5, 4.5],
      ['AnalyzeDocument', 10, 9, 9],
      ['StartDocumentAnalysis', 10, 9, 9],
    ]);
  });

  test('one on-demand table, encrypted, and an alarm on backlog age', () => {
    const stack = newStack();
    haikuQuota(stack, { backlogAgeAlarm: Duration.minutes(5) });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      SSESpecification: { SSEEnabled: true },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'cdk-ai-pipeline/Capacity',
      MetricName: 'BacklogAge',
      Statistic: 'Maximum',
      Threshold: 300,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  test.each([
    [{ requestsPerMinute: 0 }, /`requestsPerMinute` must be a positive number, got: 0\./],
    [{ tokensPerMinute: -5 }, /`tokensPerMinute` must be a positive number, got: -5\./],
    [{ utilizationTarget: 1.2 }, /\[ServiceQuota TestStack\/HaikuQuota\] `utilizationTarget` must be between 0.1 and 1, got: 1.2\./],
    [{ maxWait: Duration.seconds(10) }, /`maxWait` must be between 1 minute and 24 hours, got: 10 seconds\./],
    [{ maxPollDelay: Duration.hours(1) }, /`maxPollDelay` must be between 2 seconds and 10 minutes, got: 1 hour\./],
  ])('rejects %p', (extra, message) => {
    expect(() => haikuQuota(newStack(), extra)).toThrow(message);
  });

  test('metricUtilization names an unknown dimension with the ones there are', () => {
    expect(() => haikuQuota(newStack()).metricUtilization('pages')).toThrow(/got dimension 'pages', which this quota does not have\. Use one of: requests, tokens\./);
  });
});

describe('a stage with a quota', () => {
  test('waits for capacity and waits out throttling up to maxWait; other transient errors keep their bounded retry', () => {
    const stack = newStack();
    const quota = haikuQuota(stack, { maxWait: Duration.minutes(30), maxPollDelay: Duration.seconds(30) });
    const stage = summarize(stack, 'Summarize', quota);
    const retry = stateMachineOf(stage).asl.States.Summarize.Retry;
    // ramp 1,2,4,8,16 (5 tries) + 2 x 1800 s / 30 s
    const waiting = { IntervalSeconds: 1, BackoffRate: 2, MaxDelaySeconds: 30, MaxAttempts: 5 + 120, JitterStrategy: 'FULL' };
    expect(retry[0]).toEqual({ ErrorEquals: ['Capacity.Wait'], ...waiting });
    expect(retry[1]).toEqual({ ErrorEquals: ['ThrottlingException'], ...waiting });
    expect(retry[2].MaxAttempts).toBe(4);
    expect(retry[2].ErrorEquals).not.toContain('ThrottlingException');
    expect(retry[2].ErrorEquals).toEqual(expect.arrayContaining(['ModelTimeoutException', 'Lambda.ServiceException']));
  });

  test('passes the time the task was entered, so the handler measures the wait', () => {
    const stack = newStack();
    const stage = summarize(stack, 'Summarize', haikuQuota(stack));
    expect(stateMachineOf(stage).asl.States.Summarize.Parameters['enteredAt.$']).toBe('$$.State.EnteredTime');
  });

  test('the handler gets the table and the quota, and may read and write exactly that table', () => {
    const stack = newStack();
    const quota = haikuQuota(stack);
    const stage = summarize(stack, 'Summarize', quota);
    attachStage(stage, newAttachment(stack));
    const template = Template.fromStack(stack);
    const env = template.findResources('AWS::Lambda::Function', { Properties: { Description: Match.stringLikeRegexp('stage Summarize') } });
    const vars = (Object.values(env)[0] as any).Properties.Environment.Variables;
    expect(vars[CAPACITY_ENV.TABLE]).toEqual({ Ref: expect.stringMatching(/^HaikuQuotaBuckets/) });
    expect(JSON.parse(vars[CAPACITY_ENV.QUOTA])).toEqual({
      id: quota.quotaId,
      dimensions: [
        { name: 'requests', ratePerSecond: (2000 / 60) * 0.95, burst: 1900 },
        { name: 'tokens', ratePerSecond: (4_000_000 / 60) * 0.95, burst: 3_800_000 },
      ],
    });
    const ddb = statementsWith(roleStatements(template, stage.role), 'dynamodb:UpdateItem');
    expect(ddb).toHaveLength(1);
    expect(ddb[0].Action).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:UpdateItem']));
    expect(JSON.stringify(ddb[0].Resource)).toMatch(/HaikuQuotaBuckets.*Arn/);
    expect(JSON.stringify(ddb[0].Resource)).not.toContain('*');
  });

  test.each([
    ['Bedrock', Bundles.BEDROCK, Bundles.BEDROCK_QUOTA, (stack: Stack, quota: boolean) =>
      (quota ? summarize(stack, 'Summarize', haikuQuota(stack)) : InferenceStage.bedrock(stack, 'Summarize', {
        model: BedrockModel.inferenceProfile(HAIKU), prompt: PromptTemplate.fromText('Summarize: {{text}}', { version: '1' }), output: OUTPUT,
      }))],
    ['Textract', Bundles.TEXTRACT, Bundles.TEXTRACT_QUOTA, (stack: Stack, quota: boolean) =>
      InferenceStage.textract(stack, 'Extract', quota ? { quota: ServiceQuota.textract(stack, 'Textract') } : {})],
    ['SageMaker', Bundles.SAGEMAKER, Bundles.SAGEMAKER_QUOTA, (stack: Stack, quota: boolean) =>
      InferenceStage.sagemakerEndpoint(stack, 'Classify', {
        endpointName: 'classifier',
        ...(quota ? { quota: ServiceQuota.sagemakerEndpoint(stack, 'Q', { endpointName: 'classifier', invocationsPerSecond: 5 }) } : {}),
      })],
  ])('a %s stage runs its kind\'s -quota bundle only when given a quota (ADR-0034)', (_, plain, withQuota, make) => {
    const code = (quota: boolean) => fs.readFileSync(path.join(stageAssetDir(make(newStack(), quota)), 'index.js'));
    expect(code(true).equals(fs.readFileSync(bundleFile(withQuota)))).toBe(true);
    expect(code(false).equals(fs.readFileSync(bundleFile(plain)))).toBe(true);
  });

  test('two stages in two stacks share one quota', () => {
    const app = new App({ builtinCloudFormationValidation: false });
    const shared = new Stack(app, 'Quotas', { env: { account: '123456789012', region: 'us-east-1' } });
    const quota = ServiceQuota.textract(shared, 'Textract');
    const a = InferenceStage.textract(new Stack(app, 'A', { env: { account: '123456789012', region: 'us-east-1' } }), 'Extract', { quota });
    const b = InferenceStage.textract(new Stack(app, 'B', { env: { account: '123456789012', region: 'us-east-1' } }), 'Extract', { quota });
    expect(a.quota).toBe(quota);
    expect(b.quota).toBe(quota);
    expect(a._capacityMetadata()).toMatchObject({ quota: { id: quota.quotaId, service: 'textract' } });
  });

  test('Textract: ProvisionedThroughputExceededException and LimitExceededException wait; InternalServerError stays bounded', () => {
    const stack = newStack();
    const stage = InferenceStage.textract(stack, 'Extract', { quota: ServiceQuota.textract(stack, 'Textract') });
    const retry = stateMachineOf(stage).asl.States.Extract.Retry;
    const throttling = TRANSIENT_ERRORS.textract.filter((e) => THROTTLING_ERROR_NAMES.includes(e));
    expect(retry[1].ErrorEquals).toEqual(throttling);
    expect(throttling).toEqual(['ProvisionedThroughputExceededException', 'ThrottlingException', 'LimitExceededException']);
    expect(retry[2].ErrorEquals).toContain('InternalServerError');
  });

  test.each([
    ['a Textract quota on a Bedrock stage', (stack: Stack) => summarize(stack, 'Summarize', ServiceQuota.textract(stack, 'Textract')),
      /\[BedrockStage TestStack\/Summarize\] `quota` is a textract quota \(TestStack\/Textract\), which a bedrock stage does not call\./],
    ['another model\'s quota', (stack: Stack) => summarize(stack, 'Summarize', haikuQuota(stack), 'us.anthropic.claude-3-7-sonnet-20250219-v1:0'),
      /`quota` is for model 'us\.anthropic\.claude-3-5-haiku-20241022-v1:0', but the stage calls 'us\.anthropic\.claude-3-7-sonnet-20250219-v1:0'\./],
    ['another endpoint\'s quota', (stack: Stack) => InferenceStage.sagemakerEndpoint(stack, 'Classify', {
      endpointName: 'classifier', quota: ServiceQuota.sagemakerEndpoint(stack, 'Q', { endpointName: 'other', invocationsPerSecond: 5 }),
    }), /`quota` is for endpoint 'other', but the stage calls 'classifier'\./],
    ['a quota on a Lambda stage', (stack: Stack) => InferenceStage.lambda(stack, 'Enrich', {
      function: lambda.Function.fromFunctionArn(stack, 'Fn', 'arn:aws:lambda:us-east-1:123456789012:function:f'),
      quota: ServiceQuota.textract(stack, 'Textract'),
    }), /`quota` is a textract quota \(TestStack\/Textract\), which a lambda stage does not call\./],
  ])('rejects %s', (_name, make, message) => {
    expect(() => make(newStack())).toThrow(message);
  });

  test('cdk-nag: the quota adds no unacknowledged finding', () => {
    const stack = newStack();
    const stage = summarize(stack, 'Summarize', haikuQuota(stack));
    attachStage(stage, newAttachment(stack));
    Template.fromStack(stack);
    const report = new AwsSolutionsChecks(stack.node.root as App).validateScope(stack);
    const onQuota = report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`))
      .filter((v) => v.includes('/HaikuQuota/') || (v.includes('/Summarize/') && /dynamodb|Buckets/i.test(v)));
    expect(onQuota).toEqual([]);
  });
});
