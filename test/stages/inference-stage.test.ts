import * as fs from 'fs';
import * as path from 'path';
import { CfnParameter, Duration, Stack, Token } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { StageContract } from '../../src/contracts/stage-contract';
import { loadValidatorsSource } from '../../src/runtime/contracts';
import { LAMBDA_TRANSIENT_ERRORS, TRANSIENT_ERRORS } from '../../src/shared';
import { BedrockModel } from '../../src/stages/bedrock/bedrock-model';
import { BedrockStage } from '../../src/stages/bedrock/bedrock-stage';
import { PromptTemplate } from '../../src/stages/bedrock/prompt-template';
import { InferenceStage, InferenceStageBase, StageKind, StageRetryOptions } from '../../src/stages/inference-stage';
import { LambdaStage } from '../../src/stages/lambda/lambda-stage';
import { SageMakerEndpointStage } from '../../src/stages/sagemaker/sagemaker-stage';
import { TextractStage } from '../../src/stages/textract/textract-stage';
import {
  allActions, arnOf, attachStage, newAttachment, newStack, objectArn, renderAsl, roleStatements,
  stageAssetDir, stageAssetHash, stateMachineOf, statementsWith, TestAttachment,
} from '../helpers/construct-test-kit';

const SUMMARY_SCHEMA = { type: 'object', required: ['summary'], properties: { summary: { type: 'string' } } };
const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:enrich';

interface KindCase {
  readonly kind: StageKind;
  readonly id: string;
  readonly make: (scope: Construct, id: string, extra?: any) => InferenceStageBase;
  readonly transient: readonly string[];
  readonly timeoutSeconds: number;
  readonly handlerTimeoutSeconds: number;
  readonly memorySize: number;
  readonly callback: boolean;
}

const KINDS: KindCase[] = [
  {
    kind: StageKind.TEXTRACT,
    id: 'Extract',
    make: (scope, id, extra = {}) => InferenceStage.textract(scope, id, extra),
    transient: [...TRANSIENT_ERRORS.textract, ...TRANSIENT_ERRORS.s3],
    timeoutSeconds: 1800,
    handlerTimeoutSeconds: 120,
    memorySize: 1024,
    callback: true,
  },
  {
    kind: StageKind.BEDROCK,
    id: 'Summarize',
    make: (scope, id, extra = {}) => InferenceStage.bedrock(scope, id, {
      model: BedrockModel.foundationModel('anthropic.claude-3-5-haiku-20241022-v1:0'),
      prompt: PromptTemplate.fromText('Summarize: {{text}}', { version: '1' }),
      output: StageContract.fromObject(SUMMARY_SCHEMA),
      ...extra,
    }),
    transient: [...TRANSIENT_ERRORS.bedrock, ...TRANSIENT_ERRORS.s3],
    timeoutSeconds: 300,
    handlerTimeoutSeconds: 300,
    memorySize: 512,
    callback: false,
  },
  {
    kind: StageKind.SAGEMAKER,
    id: 'Classify',
    make: (scope, id, extra = {}) => InferenceStage.sagemakerEndpoint(scope, id, { endpointName: 'contract-classifier', ...extra }),
    transient: [...TRANSIENT_ERRORS.sagemaker, ...TRANSIENT_ERRORS.s3],
    timeoutSeconds: 120,
    handlerTimeoutSeconds: 120,
    memorySize: 512,
    callback: false,
  },
  {
    kind: StageKind.LAMBDA,
    id: 'Enrich',
    make: (scope, id, extra = {}) => InferenceStage.lambda(scope, id, {
      function: lambda.Function.fromFunctionArn(scope, `${id}Target`, FUNCTION_ARN),
      ...extra,
    }),
    transient: [...TRANSIENT_ERRORS.lambda],
    timeoutSeconds: 300,
    handlerTimeoutSeconds: 300,
    memorySize: 256,
    callback: false,
  },
];

const NON_TRANSIENT = [
  'States.ALL', 'States.TaskFailed', 'Contract.InputViolation', 'Contract.OutputViolation', 'Model.InvalidOutput',
  'Document.Empty', 'Document.Encrypted', 'Document.TooLarge', 'Document.NoText', 'Source.Gone', 'Source.AccessDenied',
];

describe.each(KINDS)('InferenceStage.$kind (common stage machinery)', (k) => {
  let stack: Stack;
  let att: TestAttachment;
  let stage: InferenceStageBase;
  let template: Template;
  let task: any;

  beforeAll(() => {
    stack = newStack({ withEnv: true });
    att = newAttachment(stack);
    stage = k.make(stack, k.id);
    attachStage(stage, att, { upstreamStages: ['Earlier'] });
    const { asl } = stateMachineOf(stage);
    expect(asl.StartAt).toBe(k.id);
    task = asl.States[k.id];
    template = Template.fromStack(stack);
  });

  test('exposes its id, kind, timeout and contracts', () => {
    expect(stage.stageId).toBe(k.id);
    expect(stage.kind).toBe(k.kind);
    expect(stage.timeout.toSeconds()).toBe(k.timeoutSeconds);
    expect(stage.isAttached).toBe(true);
    expect(stage.inputContract.schema.required).toContain('document');
    expect(stage.outputContract.schema.type).toBe('object');
    expect(stage.grantPrincipal).toBe(stage.role);
  });

  test('one Node.js handler with X-Ray tracing, JSON logs in its own log group and its own role', () => {
    template.resourceCountIs('AWS::Lambda::Function', 1);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: Match.stringLikeRegexp('^nodejs\\d+\\.x$'),
      Handler: 'index.handler',
      TracingConfig: { Mode: 'Active' },
      LoggingConfig: { LogFormat: 'JSON', LogGroup: { Ref: stack.getLogicalId(stage.node.findChild('Logs').node.defaultChild as any) } },
      Role: arnOf(stage.role),
      MemorySize: k.memorySize,
      Timeout: k.handlerTimeoutSeconds,
      Description: Match.stringLikeRegexp(`^cdk-ai-pipeline ${k.kind} stage ${k.id}: `),
      Environment: {
        Variables: Match.objectLike({
          STAGE_NAME: k.id,
          PIPELINE_NAME: 'TestPipeline',
          WORK_BUCKET: { Ref: stack.getLogicalId(att.workingBucket.node.defaultChild as any) },
          AUDIT_BUCKET: { Ref: stack.getLogicalId(att.auditSink.bucket.node.defaultChild as any) },
          AUDIT_BUS: { Ref: stack.getLogicalId(att.auditSink.eventBus.node.defaultChild as any) },
        }),
      },
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
  });

  test('the role is assumed by Lambda only and has no managed policies', () => {
    const roleId = stack.getLogicalId(stage.role.node.defaultChild as any);
    const role = template.toJSON().Resources[roleId];
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } },
    ]);
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
  });

  test('the task puts its result at $.results.<id>, with the stage timeout', () => {
    expect(task.Type).toBe('Task');
    expect(task.ResultPath).toBe(`$.results.${k.id}`);
    expect(task.TimeoutSeconds).toBe(k.timeoutSeconds);
    expect(task.End).toBe(true);
    expect(task.Catch).toBeUndefined();
  });

  test('the task calls its own handler with the state, run id and execution ARN', () => {
    const handlerArn = `<TOKEN:{'Fn::GetAtt':['${stack.getLogicalId(stage.handler.node.defaultChild as any)}','Arn']}>`;
    if (k.callback) {
      expect(task.Resource).toMatch(/:states:::lambda:invoke\.waitForTaskToken$/);
      expect(task.Parameters).toEqual({
        FunctionName: handlerArn,
        Payload: { 'state.$': '$', 'runId.$': '$$.Execution.Name', 'executionArn.$': '$$.Execution.Id', 'taskToken.$': '$$.Task.Token' },
      });
    } else {
      // payloadResponseOnly: the function ARN is the resource and the payload the parameters.
      expect(task.Resource).toBe(handlerArn);
      expect(task.Parameters).toEqual({ 'state.$': '$', 'runId.$': '$$.Execution.Name', 'executionArn.$': '$$.Execution.Id' });
    }
  });

  test('one bounded retry with full jitter on exactly the transient errors', () => {
    expect(task.Retry).toHaveLength(1);
    const [retry] = task.Retry;
    expect(retry).toEqual({
      ErrorEquals: expect.any(Array),
      IntervalSeconds: 2,
      MaxAttempts: 4,
      BackoffRate: 2,
      MaxDelaySeconds: 60,
      JitterStrategy: 'FULL',
    });
    expect(new Set(retry.ErrorEquals)).toEqual(new Set([...LAMBDA_TRANSIENT_ERRORS, ...k.transient]));
    expect(retry.ErrorEquals).toHaveLength(new Set(retry.ErrorEquals).size); // no duplicates
    for (const name of NON_TRANSIENT) expect(retry.ErrorEquals).not.toContain(name);
    for (const name of retry.ErrorEquals) expect(name).not.toMatch(/^(Contract|Document|Model|Source)\./);
  });

  test('after attach: reads only the document prefix and upstream stage prefixes, writes only its own prefix', () => {
    const statements = roleStatements(template, stage.role);
    const gets = statementsWith(statements, 's3:GetObject').map((s) => s.Resource);
    expect(gets).toEqual(expect.arrayContaining([
      objectArn(stack, att.documentBucket, '/incoming/*'),
      objectArn(stack, att.workingBucket, `/stages/${k.id}/*`),
      objectArn(stack, att.workingBucket, '/stages/Earlier/*'),
    ]));
    expect(gets).toHaveLength(3);
    const puts = statementsWith(statements, 's3:PutObject');
    expect(puts.map((s) => s.Resource)).toEqual([
      objectArn(stack, att.workingBucket, `/stages/${k.id}/*`),
      objectArn(stack, att.auditSink.bucket, `/stages/${k.id}/*`),
    ]);
    expect(statementsWith(statements, 'events:PutEvents')).toEqual([
      { Action: 'events:PutEvents', Effect: 'Allow', Resource: arnOf(att.auditSink.eventBus) },
    ]);
  });

  test('after attach: exact KMS actions on exactly the keys it uses', () => {
    const statements = roleStatements(template, stage.role);
    const kms = statements.filter((s) => allActions([s]).some((a) => a.startsWith('kms:')));
    for (const a of allActions(kms)) expect(['kms:Decrypt', 'kms:GenerateDataKey']).toContain(a);
    expect(allActions(statements).filter((a) => a.startsWith('kms:') && a.includes('*'))).toEqual([]);
    const byKey = (key: any) => new Set(allActions(kms.filter((s) => JSON.stringify(s.Resource) === JSON.stringify(arnOf(key)))));
    expect(byKey(att.documentKey)).toEqual(new Set(['kms:Decrypt']));
    expect(byKey(att.workingKey)).toEqual(new Set(['kms:Decrypt', 'kms:GenerateDataKey']));
    expect(byKey(att.auditSink.encryptionKey)).toEqual(new Set(['kms:GenerateDataKey']));
  });

  test('no wildcard action, and Resource "*" only for X-Ray (and the service actions that require it)', () => {
    const statements = roleStatements(template, stage.role);
    for (const a of allActions(statements)) expect(a).not.toContain('*');
    for (const s of statements.filter((st) => st.Resource === '*')) {
      for (const a of allActions([s])) expect(a).toMatch(/^(xray|textract):/);
    }
  });

  test('the stage code folder holds the bundle, its config and validators that check its contracts', () => {
    const dir = stageAssetDir(stage);
    expect(fs.readdirSync(dir).sort()).toEqual(['contracts.json', 'index.js', 'stage-config.json', 'validators.js']);
    expect(Object.keys(JSON.parse(fs.readFileSync(path.join(dir, 'contracts.json'), 'utf8')))).toEqual(expect.arrayContaining(['input', 'output']));
    const config = JSON.parse(fs.readFileSync(path.join(dir, 'stage-config.json'), 'utf8'));
    expect(config).toMatchObject({ stage: k.id, kind: k.kind });
    const validators = loadValidatorsSource(fs.readFileSync(path.join(dir, 'validators.js'), 'utf8'));
    const goodInput = { document: { bucket: 'docs-bucket', key: 'incoming/a.pdf' }, results: {} };
    expect(validators.input(goodInput)).toBe(true);
    expect(validators.input({ results: {} })).toBe(false);
    expect(validators.input({ document: { bucket: 'docs-bucket' }, results: {} })).toBe(false);
    expect(validators.output('not an object')).toBe(false);
  });
});

describe('InferenceStage as a fragment of your own state machine', () => {
  test('chains between your states: Pass -> stage -> Succeed', () => {
    const stack = newStack();
    const att = newAttachment(stack);
    const stage = InferenceStage.sagemakerEndpoint(stack, 'Classify', { endpointName: 'classifier' });
    attachStage(stage, att);
    const start = new sfn.Pass(stack, 'Prepare', { parameters: { 'document.$': '$.doc', 'results': {} } });
    const done = new sfn.Succeed(stack, 'Done');
    const sm = new sfn.StateMachine(stack, 'Mine', { definitionBody: sfn.DefinitionBody.fromChainable(start.next(stage).next(done)) });
    const asl = renderAsl(sm);
    expect(asl.StartAt).toBe('Prepare');
    expect(asl.States.Prepare.Next).toBe('Classify');
    expect(asl.States.Classify.Next).toBe('Done');
    expect(asl.States.Classify.End).toBeUndefined();
    expect(asl.States.Done).toEqual({ Type: 'Succeed' });
    expect(stage.startState).toBe(stage.task);
    expect(stage.endStates).toEqual([stage.task]);
    // The state machine may invoke the handler; synthesis passes (the stage is attached).
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({
          Action: 'lambda:InvokeFunction',
          Resource: Match.arrayWith([arnOf(stage.handler)]),
        })]),
      },
    });
  });

  test('addCatch sends the stage errors to your handler state', () => {
    const stack = newStack();
    const stage = InferenceStage.sagemakerEndpoint(stack, 'Classify', { endpointName: 'classifier' });
    attachStage(stage, newAttachment(stack));
    expect(stage.addCatch(new sfn.Fail(stack, 'Failed'), { errors: ['Contract.InputViolation'], resultPath: '$.error' })).toBe(stage);
    const { asl } = stateMachineOf(stage);
    expect(asl.States.Classify.Catch).toEqual([{ ErrorEquals: ['Contract.InputViolation'], ResultPath: '$.error', Next: 'Failed' }]);
  });

  test('custom timeout, memory and retry options reach the handler and the task', () => {
    const stack = newStack();
    const retry: StageRetryOptions = { maxAttempts: 7, interval: Duration.seconds(5), backoffRate: 3, maxDelay: Duration.minutes(2) };
    const stage = InferenceStage.sagemakerEndpoint(stack, 'Classify', {
      endpointName: 'classifier', timeout: Duration.minutes(10), memorySize: 2048, retry,
    });
    attachStage(stage, newAttachment(stack));
    const { asl } = stateMachineOf(stage);
    expect(asl.States.Classify.TimeoutSeconds).toBe(600);
    expect(asl.States.Classify.Retry[0]).toMatchObject({ IntervalSeconds: 5, MaxAttempts: 7, BackoffRate: 3, MaxDelaySeconds: 120, JitterStrategy: 'FULL' });
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', { Timeout: 600, MemorySize: 2048 });
  });

  test('maxAttempts 0 disables retries but keeps the retry bounded', () => {
    const stack = newStack();
    const stage = InferenceStage.sagemakerEndpoint(stack, 'Classify', { endpointName: 'classifier', retry: { maxAttempts: 0 } });
    attachStage(stage, newAttachment(stack));
    expect(stateMachineOf(stage).asl.States.Classify.Retry[0].MaxAttempts).toBe(0);
  });

  test('without documentPrefix the stage may read the whole document bucket', () => {
    const stack = newStack();
    const att = newAttachment(stack);
    const stage = InferenceStage.sagemakerEndpoint(stack, 'Classify', { endpointName: 'classifier' });
    attachStage(stage, att, { documentPrefix: undefined });
    const gets = statementsWith(roleStatements(Template.fromStack(stack), stage.role), 's3:GetObject').map((s) => s.Resource);
    expect(gets).toContainEqual(objectArn(stack, att.documentBucket, '/*'));
  });

  test('two stages have two roles and two handlers', () => {
    const stack = newStack();
    const att = newAttachment(stack);
    const a = InferenceStage.sagemakerEndpoint(stack, 'Classify', { endpointName: 'classifier' });
    const b = InferenceStage.sagemakerEndpoint(stack, 'Score', { endpointName: 'scorer' });
    attachStage(a, att);
    attachStage(b, att, { upstreamStages: ['Classify'] });
    expect(a.role).not.toBe(b.role);
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Lambda::Function', 2);
    const aInvoke = statementsWith(roleStatements(template, a.role), 'sagemaker:InvokeEndpoint');
    expect(JSON.stringify(aInvoke)).not.toContain('scorer');
  });

  test('a stage id that matches a child construct name still builds (e.g. "Handler")', () => {
    // The task state is a child of the stage named after the stage id; the stage's own children
    // ('Role', 'Logs', 'Handler', ...) must not clash with a valid stage id.
    const stack = newStack();
    const stage = InferenceStage.sagemakerEndpoint(stack, 'Handler', { endpointName: 'classifier' });
    attachStage(stage, newAttachment(stack));
    const { asl } = stateMachineOf(stage);
    expect(asl.States.Handler.ResultPath).toBe('$.results.Handler');
  });
});

describe('InferenceStage assets are deterministic', () => {
  test('same props in two apps -> same asset hash; different config -> different hash', () => {
    const make = (maxInputChars: number) => {
      const stack = newStack();
      return InferenceStage.sagemakerEndpoint(stack, 'Classify', { endpointName: 'classifier', maxInputChars });
    };
    const a = make(1000);
    const b = make(1000);
    const c = make(2000);
    expect(stageAssetHash(a)).toBe(stageAssetHash(b));
    expect(stageAssetDir(a)).toBe(stageAssetDir(b));
    expect(stageAssetHash(c)).not.toBe(stageAssetHash(a));
  });

  test('the S3 key of the code is the same across synths', () => {
    const key = () => {
      const stack = newStack({ withEnv: true });
      const stage = InferenceStage.bedrock(stack, 'Summarize', {
        model: BedrockModel.foundationModel('anthropic.claude-3-5-haiku-20241022-v1:0'),
        prompt: PromptTemplate.fromText('Summarize: {{text}}', { version: '1' }),
        output: StageContract.fromObject(SUMMARY_SCHEMA),
      });
      attachStage(stage, newAttachment(stack));
      const fn = Template.fromStack(stack).findResources('AWS::Lambda::Function');
      return Object.values(fn).map((f: any) => f.Properties.Code.S3Key);
    };
    const first = key();
    expect(first).toHaveLength(1);
    expect(first[0]).toMatch(/^[a-f0-9]{64}\.zip$/);
    expect(key()).toEqual(first);
  });
});

describe('InferenceStage factories', () => {
  test('each factory exists once: on InferenceStage, inherited by no stage kind', () => {
    const factories = ['textract', 'bedrock', 'sagemakerEndpoint', 'lambda'];
    for (const name of factories) expect(typeof (InferenceStage as any)[name]).toBe('function');
    for (const kind of [TextractStage, BedrockStage, SageMakerEndpointStage, LambdaStage]) {
      expect(factories.filter((name) => name in kind)).toEqual([]);
      expect(Object.getPrototypeOf(kind)).toBe(InferenceStageBase);
    }
  });
});

describe('InferenceStage validation', () => {
  const make = (id: string, extra: any = {}) => InferenceStage.sagemakerEndpoint(newStack(), id, { endpointName: 'classifier', ...extra });

  test.each(['1Extract', 'Ex-tract', 'a'.repeat(65), '_x'])('rejects the stage id %p', (id) => {
    expect(() => make(id)).toThrow(/the stage id must be a letter followed by letters, digits or '_' \(at most 64\), got: '/);
  });

  test('accepts a 64-character stage id', () => {
    expect(make('A'.repeat(64)).stageId).toBe('A'.repeat(64));
  });

  test('the message names the construct and the path', () => {
    expect(() => make('bad-id')).toThrow(/^\[SageMakerEndpointStage TestStack\/bad-id\] the stage id/);
  });

  test.each([['25 hours', Duration.hours(25)], ['0 seconds', Duration.seconds(0)]])('rejects timeout %s outside 1 s..24 h', (_label, timeout) => {
    expect(() => InferenceStage.textract(newStack(), 'Extract', { timeout }))
      .toThrow(/`timeout` must be between 1 second and 24 hours, got: /);
  });

  test('rejects a timeout over 15 minutes for a stage whose handler runs the whole call', () => {
    expect(() => make('Classify', { timeout: Duration.minutes(16) }))
      .toThrow(/`timeout` must be at most 15 minutes for a sagemaker stage \(its handler runs the whole call\), got: 16 minutes/);
  });

  test('Textract may wait longer than 15 minutes (its handler does not wait on the job)', () => {
    expect(InferenceStage.textract(newStack(), 'Extract', { timeout: Duration.hours(2) }).timeout.toHours()).toBe(2);
  });

  test.each([127, 10241])('rejects memorySize %p', (memorySize) => {
    expect(() => make('Classify', { memorySize })).toThrow(`[SageMakerEndpointStage TestStack/Classify] \`memorySize\` must be a whole number of MiB from 128 to 10240, got: ${memorySize}. Set a value in that range.`);
  });

  test.each([-1, 11, 2.5])('rejects retry.maxAttempts %p', (maxAttempts) => {
    expect(() => make('Classify', { retry: { maxAttempts } }))
      .toThrow(/`retry.maxAttempts` must be a whole number from 0 to 10, got: /);
  });

  test.each([1, 1.5, 11])('rejects retry.backoffRate %p', (backoffRate) => {
    expect(() => make('Classify', { retry: { backoffRate } }))
      .toThrow(new RegExp(`\`retry.backoffRate\` must be between 2 and 10, got: ${backoffRate}\\.`));
  });

  test('rejects retry.maxDelay below retry.interval', () => {
    expect(() => make('Classify', { retry: { interval: Duration.seconds(30), maxDelay: Duration.seconds(10) } }))
      .toThrow(/`retry.maxDelay` \(10 seconds\) must be at least `retry.interval` \(30 seconds\)/);
  });

  test('attach twice throws, naming the first pipeline', () => {
    const stack = newStack();
    const att = newAttachment(stack);
    const stage = InferenceStage.sagemakerEndpoint(stack, 'Classify', { endpointName: 'classifier' });
    attachStage(stage, att);
    expect(() => attachStage(stage, att, { pipelineName: 'Other' }))
      .toThrow(/the stage is already attached \(to pipeline 'TestPipeline'\); a stage belongs to one pipeline\. Create another stage for 'Other'/);
  });

  test('a stage given standalone options cannot also be attached', () => {
    const stack = newStack();
    const att = newAttachment(stack);
    const stage = InferenceStage.sagemakerEndpoint(stack, 'Classify', { endpointName: 'classifier', standalone: { pipelineName: 'mine' } });
    expect(() => attachStage(stage, att))
      .toThrow("[SageMakerEndpointStage TestStack/Classify] the stage was given `standalone` options, which apply only outside a Pipeline; it cannot also be attached to 'TestPipeline'. Remove `standalone`, or keep the stage out of the Pipeline.");
  });

  test('rejects a standalone pipelineName that is not a name', () => {
    expect(() => make('Classify', { standalone: { pipelineName: 'my pipeline' } }))
      .toThrow("[SageMakerEndpointStage TestStack/Classify] `standalone.pipelineName` must be 1-64 letters, digits, '-' or '_', got: 'my pipeline'.");
  });

  test('skips checks of values that are tokens (CloudFormation parameters)', () => {
    const stack = newStack();
    const memory = new CfnParameter(stack, 'Memory', { type: 'Number' });
    const attempts = new CfnParameter(stack, 'Attempts', { type: 'Number' });
    const stage = InferenceStage.sagemakerEndpoint(stack, 'Classify', {
      endpointName: 'classifier',
      memorySize: Token.asNumber(memory.value),
      retry: { maxAttempts: Token.asNumber(attempts.value) },
    });
    attachStage(stage, newAttachment(stack));
    const sm = new sfn.StateMachine(stack, 'SM', { definitionBody: sfn.DefinitionBody.fromChainable(stage) });
    const definition = JSON.stringify(stack.resolve((sm.node.defaultChild as sfn.CfnStateMachine).definitionString));
    expect(definition).toMatch(/MaxAttempts[^,]*,\{"Ref":"Attempts"\}/);
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', { MemorySize: { Ref: 'Memory' } });
  });
});
