import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ApiTrigger, ApiTriggerProps, DocumentTrigger, Pipeline } from '../../src';
import { statementsWith } from '../helpers/construct-test-kit';
import { extractStage, logicalIdOf, newStack } from '../helpers/pipeline-fixture';

interface Built {
  readonly app: import('aws-cdk-lib').App;
  readonly stack: Stack;
  readonly trigger: ApiTrigger;
  readonly pipeline: Pipeline;
  readonly template: Template;
}

function build(props: ApiTriggerProps = { prefix: 'incoming/', suffixes: ['.pdf'] }, more?: (stack: Stack, trigger: ApiTrigger) => void): Built {
  const { app, stack } = newStack();
  const trigger = DocumentTrigger.api(stack, 'Api', props);
  const pipeline = new Pipeline(stack, 'Contracts', { trigger, stages: [extractStage(stack)] });
  more?.(stack, trigger);
  return { app, stack, trigger, pipeline, template: Template.fromStack(stack) };
}

function handlerStatements(b: Built): any[] {
  const policy = b.trigger.node.findChild('HandlerRole').node.findChild('DefaultPolicy');
  return b.template.toJSON().Resources[logicalIdOf(b.stack, policy)].Properties.PolicyDocument.Statement;
}

describe('ApiTrigger (IAM authorization)', () => {
  let b: Built;
  beforeAll(() => {
    b = build();
  });

  test('every method requires IAM authorization', () => {
    const methods = Object.values(b.template.findResources('AWS::ApiGateway::Method')) as any[];
    expect(methods.map((m) => `${m.Properties.HttpMethod}`).sort()).toEqual(['GET', 'POST', 'POST']);
    for (const m of methods) expect(m.Properties.AuthorizationType).toBe('AWS_IAM');
  });

  test('request bodies are validated against JSON models; a model failure answers 400 naming the field', () => {
    b.template.hasResourceProperties('AWS::ApiGateway::RequestValidator', { ValidateRequestBody: true, ValidateRequestParameters: true });
    b.template.hasResourceProperties('AWS::ApiGateway::Model', {
      Name: 'RunRequest',
      Schema: Match.objectLike({ required: ['key'], additionalProperties: false }),
    });
    b.template.hasResourceProperties('AWS::ApiGateway::Model', {
      Name: 'UploadRequest',
      Schema: Match.objectLike({ required: ['fileName'], additionalProperties: false }),
    });
    const posts = (Object.values(b.template.findResources('AWS::ApiGateway::Method')) as any[]).filter((m) => m.Properties.HttpMethod === 'POST');
    for (const m of posts) {
      expect(m.Properties.RequestValidatorId).toBeDefined();
      expect(Object.keys(m.Properties.RequestModels)).toEqual(['application/json']);
    }
    b.template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'BAD_REQUEST_BODY',
      StatusCode: '400',
      ResponseTemplates: { 'application/json': Match.stringLikeRegexp('validationErrorString') },
    });
  });

  test('the stage has access logs, tracing and throttling', () => {
    b.template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'v1',
      TracingEnabled: true,
      AccessLogSetting: Match.objectLike({ DestinationArn: Match.anyValue() }),
      MethodSettings: [Match.objectLike({ ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20, HttpMethod: '*', ResourcePath: '/*' })],
    });
    b.template.resourceCountIs('AWS::ApiGateway::Account', 0);
  });

  test('the handler may start and describe executions of its own pipeline only', () => {
    const st = handlerStatements(b);
    const sm = logicalIdOf(b.stack, b.pipeline.stateMachine);
    expect(statementsWith(st, 'states:StartExecution')).toEqual([expect.objectContaining({ Resource: { Ref: sm } })]);
    const describe = statementsWith(st, 'states:DescribeExecution');
    expect(describe).toHaveLength(1);
    expect(JSON.stringify(describe[0].Resource)).toContain(':execution:');
    expect(JSON.stringify(describe[0].Resource)).toContain(sm);
  });

  test('S3: read under the prefix, write only under <prefix>uploads/, list with a prefix condition', () => {
    const st = handlerStatements(b);
    const bucket = logicalIdOf(b.stack, b.trigger.documentBucket);
    expect(statementsWith(st, 's3:GetObject')).toEqual([expect.objectContaining({
      Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, '/incoming/*']] },
    })]);
    expect(statementsWith(st, 's3:PutObject')).toEqual([expect.objectContaining({
      Action: 's3:PutObject',
      Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, '/incoming/uploads/*']] },
    })]);
    expect(statementsWith(st, 's3:ListBucket')).toEqual([expect.objectContaining({ Condition: { StringLike: { 's3:prefix': ['incoming/*'] } } })]);
  });

  test('the handler knows the state machine, the bucket, the filter and the upload URL lifetime', () => {
    const fn = b.template.toJSON().Resources[logicalIdOf(b.stack, b.trigger.handler)];
    expect(fn.Properties.Environment.Variables).toEqual(expect.objectContaining({
      STATE_MACHINE_ARN: { Ref: logicalIdOf(b.stack, b.pipeline.stateMachine) },
      DOCUMENT_BUCKET: { Ref: logicalIdOf(b.stack, b.trigger.documentBucket) },
      DOCUMENT_PREFIX: 'incoming/',
      DOCUMENT_SUFFIXES: '[".pdf"]',
      UPLOAD_URL_SECONDS: '900',
    }));
  });

  test('grantInvoke grants execute-api:Invoke on the three methods only', () => {
    const { stack, template } = build(undefined, (s, trigger) => {
      const caller = new iam.Role(s, 'Caller', { assumedBy: new iam.AccountRootPrincipal() });
      trigger.grantInvoke(caller);
    });
    const policies = Object.values(template.findResources('AWS::IAM::Policy')) as any[];
    const invoke = policies.flatMap((p) => p.Properties.PolicyDocument.Statement).filter((s: any) => s.Action === 'execute-api:Invoke');
    expect(invoke).toHaveLength(1);
    expect(invoke[0].Resource).toHaveLength(3);
    const stage = stack.resolve((stack.node.findChild('Api') as ApiTrigger).api.deploymentStage.stageName);
    expect(stage).toEqual({ Ref: expect.stringMatching(/^ApiDeploymentStagev1/) });
    const tails = stack.resolve(invoke[0].Resource).map((r: any) => [r['Fn::Join'][1].at(-2), r['Fn::Join'][1].at(-1)]);
    expect(tails).toEqual([[stage, '/POST/runs'], [stage, '/GET/runs/*'], [stage, '/POST/uploads']]);
  });

  test('cdk-nag AwsSolutions: zero unacknowledged findings', () => {
    const report = new AwsSolutionsChecks(b.app).validateScope(b.stack);
    const found = report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`));
    expect(found).toEqual([]);
  });
});

describe('ApiTrigger with Cognito', () => {
  test('every method uses the Cognito user pool authorizer', () => {
    const b = build({}, undefined);
    expect(b.template.findResources('AWS::ApiGateway::Authorizer')).toEqual({});
    const { app, stack } = newStack();
    const pool = new cognito.UserPool(stack, 'Pool');
    const trigger = DocumentTrigger.api(stack, 'Api', { cognitoUserPools: [pool] });
    new Pipeline(stack, 'Contracts', { trigger, stages: [extractStage(stack)] });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ApiGateway::Authorizer', { Type: 'COGNITO_USER_POOLS' });
    const methods = Object.values(template.findResources('AWS::ApiGateway::Method')) as any[];
    for (const m of methods) expect(m.Properties.AuthorizationType).toBe('COGNITO_USER_POOLS');
    const report = new AwsSolutionsChecks(app).validateScope(trigger);
    const apiFindings = report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`));
    expect(apiFindings).toEqual([]);
  });
});

describe('ApiTrigger validation', () => {
  test.each<[ApiTriggerProps, RegExp]>([
    [{ prefix: '/incoming/' }, /^\[ApiTrigger Flagship\/Api\] `prefix` must not start with '\/', got: '\/incoming\/'\. .*use 'incoming\/'/],
    [{ suffixes: [''] }, /\[ApiTrigger Flagship\/Api\] `suffixes` must not contain an empty string/],
    [{ uploadUrlExpiration: Duration.hours(2) }, /\[ApiTrigger Flagship\/Api\] `uploadUrlExpiration` must be from 1 minute to 1 hour .*got: 2 hours\./],
    [{ throttlingBurstLimit: 0 }, /\[ApiTrigger Flagship\/Api\] `throttlingBurstLimit` must be a whole number from 1 to 5000, got: 0\./],
    [{ cognitoUserPools: [] }, /\[ApiTrigger Flagship\/Api\] `cognitoUserPools` must hold at least one user pool, got: \[\]\./],
  ])('%j', (props, message) => {
    const { stack } = newStack();
    expect(() => DocumentTrigger.api(stack, 'Api', props)).toThrow(message);
  });

  test('an unbound trigger fails synth, naming the fix', () => {
    const { app, stack } = newStack();
    DocumentTrigger.api(stack, 'Api');
    expect(() => app.synth()).toThrow(/\[ApiTrigger Flagship\/Api\] the trigger starts nothing: pass it as a Pipeline's `trigger`/);
  });
});
