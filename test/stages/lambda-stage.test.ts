import * as fs from 'fs';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import { StageContract } from '../../src/contracts/stage-contract';
import { loadValidatorsSource } from '../../src/runtime/contracts';
import { InferenceStage, StageKind } from '../../src/stages/inference-stage';
import { LambdaStage } from '../../src/stages/lambda/lambda-stage';
import {
  arnOf, attachStage, newAttachment, newStack, roleStatements, stageAssetDir, stateMachineOf, statementsWith,
} from '../helpers/construct-test-kit';

const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:enrich';

describe('LambdaStage with an imported function', () => {
  let stack: Stack;
  let stage: LambdaStage;
  let template: Template;
  let asl: any;

  beforeAll(() => {
    stack = newStack({ withEnv: true });
    stage = InferenceStage.lambda(stack, 'Enrich', {
      function: lambda.Function.fromFunctionArn(stack, 'Target', FUNCTION_ARN),
      output: StageContract.fromObject({ type: 'object', required: ['parties'], properties: { parties: { type: 'array', items: { type: 'string' } } } }),
    });
    attachStage(stage, newAttachment(stack));
    asl = stateMachineOf(stage).asl;
    template = Template.fromStack(stack);
  });

  test('kind and function', () => {
    expect(stage).toBeInstanceOf(LambdaStage);
    expect(stage.kind).toBe(StageKind.LAMBDA);
    expect(stage.function.functionArn).toBe(FUNCTION_ARN);
    expect(stage.readsText).toBe(false);
  });

  test('InvokeFunction on your function ARN and its versions, as grantInvoke grants (imported: on the role)', () => {
    expect(statementsWith(roleStatements(template, stage.role), 'lambda:InvokeFunction')).toEqual([
      { Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: [FUNCTION_ARN, `${FUNCTION_ARN}:*`] },
    ]);
  });

  test('the proxy handler knows your function; 256 MiB by default', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      MemorySize: 256,
      Environment: { Variables: { TARGET_FUNCTION: FUNCTION_ARN } },
    });
  });

  test('retries Lambda throttling of both the stage task and the call to your function', () => {
    expect(asl.States.Enrich.Retry[0].ErrorEquals).toEqual(expect.arrayContaining([
      'Lambda.TooManyRequestsException', 'Lambda.ServiceException', 'TooManyRequestsException', 'ServiceException',
    ]));
  });

  test('config and validators of your contracts', () => {
    const dir = stageAssetDir(stage);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'stage-config.json'), 'utf8'))).toEqual({ stage: 'Enrich', kind: 'lambda' });
    const v = loadValidatorsSource(fs.readFileSync(path.join(dir, 'validators.js'), 'utf8'));
    expect(v.output({ parties: ['ACME', 'Globex'] })).toBe(true);
    expect(v.output({ parties: [1] })).toBe(false);
    expect(v.output({})).toBe(false);
    expect(v.model).toBeUndefined();
  });
});

describe('LambdaStage with a function in the same stack', () => {
  test('InvokeFunction on the function ARN attribute; default contracts', () => {
    const stack = newStack();
    const fn = new lambda.Function(stack, 'Mine', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => ({})'),
    });
    const stage = InferenceStage.lambda(stack, 'Enrich', { function: fn });
    attachStage(stage, newAttachment(stack));
    expect(stage.outputContract.schema).toEqual({ type: 'object' });
    expect(stage.inputContract.schema.required).toEqual(['document']);
    const template = Template.fromStack(stack);
    expect(statementsWith(roleStatements(template, stage.role), 'lambda:InvokeFunction')).toEqual([
      { Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: [arnOf(fn), { 'Fn::Join': ['', [arnOf(fn), ':*']] }] },
    ]);
    template.resourceCountIs('AWS::Lambda::Function', 2);
  });
});

describe('LambdaStage and cdk-nag', () => {
  test.each([false, true])('the version wildcard grantInvoke adds is acknowledged, for this function only (imported: %p)', (imported) => {
    const stack = newStack();
    const fn = imported
      ? lambda.Function.fromFunctionArn(stack, 'Mine', FUNCTION_ARN)
      : new lambda.Function(stack, 'Mine', { runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = async () => ({})') });
    const stage = InferenceStage.lambda(stack, 'Enrich', { function: fn });
    attachStage(stage, newAttachment(stack));
    Template.fromStack(stack);
    const report = new AwsSolutionsChecks(stack.node.root as App).validateScope(stack);
    const onStage = report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`))
      .filter((v) => v.includes('/Enrich/'));
    expect(onStage).toEqual([]);
    // ... while a wildcard on another function stays reported.
    stage.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: ['arn:aws:lambda:us-east-1:123456789012:function:other:*'] }));
    Template.fromStack(stack);
    const again = new AwsSolutionsChecks(stack.node.root as App).validateScope(stack);
    expect(again.violations.map((v) => v.ruleName)).toContain('AwsSolutions-IAM5[Resource::arn:aws:lambda:us-east-1:123456789012:function:other:*]');
  });
});

describe('format keywords in a stage contract', () => {
  const FN = (stack: Stack) => lambda.Function.fromFunctionArn(stack, 'Target', FUNCTION_ARN);

  test('are enforced by the validators generated at synth (the handler bundle resolves ajv-formats)', () => {
    const stack = newStack({ withEnv: true });
    const stage = InferenceStage.lambda(stack, 'Dated', {
      function: FN(stack),
      output: StageContract.fromObject({ type: 'object', required: ['signedAt'], properties: { signedAt: { type: 'string', format: 'date-time' }, contact: { type: 'string', format: 'email' } } }),
    });
    attachStage(stage, newAttachment(stack));
    const v = loadValidatorsSource(fs.readFileSync(path.join(stageAssetDir(stage), 'validators.js'), 'utf8'));
    expect(v.output({ signedAt: '2026-11-29T02:41:05Z', contact: 'a@example.com' })).toBe(true);
    expect(v.output({ signedAt: 'yesterday' })).toBe(false);
    expect(v.output({ signedAt: '2026-11-29T02:41:05Z', contact: 'nobody' })).toBe(false);
    // The bundle the Lambda runs carries the formats module the generated code requires.
    expect(fs.readFileSync(path.join(stageAssetDir(stage), 'index.js'), 'utf8')).toContain('fullFormats');
  });

  test('an unknown format fails synth with a message naming the stage, the format and the known ones', () => {
    const stack = newStack({ withEnv: true });
    expect(() => attachStage(InferenceStage.lambda(stack, 'Dated', {
      function: FN(stack),
      output: StageContract.fromObject({ type: 'object', properties: { signedAt: { type: 'string', format: 'datetime' } } }),
    }), newAttachment(stack)))
      .toThrow(/stage Dated: its contracts cannot be compiled into validators: unknown format 'datetime' in the output contract; known formats: .*date-time.*Fix the schema/);
  });
});
