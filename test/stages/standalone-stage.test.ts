/**
 * A stage in a state machine of your own, with no Pipeline and no attach() call: it synthesizes,
 * passes cdk-nag AwsSolutions, and uses the working bucket and audit sink shared by the stack's
 * stand-alone stages, or the ones it is given.
 */
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { AuditSink } from '../../src/audit/audit-sink';
import { StageContract } from '../../src/contracts/stage-contract';
import { Pipeline } from '../../src/pipeline/pipeline';
import { BedrockModel } from '../../src/stages/bedrock/bedrock-model';
import { PromptTemplate } from '../../src/stages/bedrock/prompt-template';
import { InferenceStage } from '../../src/stages/inference-stage';
import { DocumentTrigger } from '../../src/trigger/document-trigger';
import { objectArn, roleStatements, statementsWith, TEST_ENV } from '../helpers/construct-test-kit';

const SUMMARY = StageContract.fromObject({ type: 'object', required: ['summary'], properties: { summary: { type: 'string' } } });
const SHARED = 'CdkAiPipelineStandalone';

function userStack(aspectStabilization = false): { app: App; stack: Stack } {
  const app = new App({ builtinCloudFormationValidation: false, context: { '@aws-cdk/core:aspectStabilization': aspectStabilization } });
  return { app, stack: new Stack(app, 'Mine', { env: TEST_ENV }) };
}

/** A Pass, then Textract, then Bedrock, then Succeed: the user's own state machine, no attach(). */
function ownStateMachine(stack: Stack) {
  const extract = InferenceStage.textract(stack, 'Extract');
  const summarize = InferenceStage.bedrock(stack, 'Summarize', {
    model: BedrockModel.foundationModel('anthropic.claude-3-5-haiku-20241022-v1:0'),
    prompt: PromptTemplate.fromText('Summarize: {{text}}', { version: '1' }),
    output: SUMMARY,
  });
  const prepare = new sfn.Pass(stack, 'Prepare', { parameters: { 'document.$': '$.document', 'results': {} } });
  // A state machine as a user passing cdk-nag writes it: traced, logging to a log group.
  const machine = new sfn.StateMachine(stack, 'MyMachine', {
    definitionBody: sfn.DefinitionBody.fromChainable(prepare.next(extract).next(summarize).next(new sfn.Succeed(stack, 'Done'))),
    tracingEnabled: true,
    logs: { destination: new logs.LogGroup(stack, 'MachineLogs'), level: sfn.LogLevel.ALL },
  });
  return { extract, summarize, machine };
}

function nagViolations(app: App, stack: Stack): string[] {
  const report = new AwsSolutionsChecks(app).validateScope(stack);
  return report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath ?? '?'}`));
}

describe('a stage in your own state machine, with no Pipeline', () => {
  test('synthesizes with no attach() call and uses one shared working bucket and audit sink', () => {
    const { stack } = userStack();
    const { extract, summarize } = ownStateMachine(stack);
    const template = Template.fromStack(stack);
    const shared = stack.node.findChild(SHARED);
    const working = shared.node.findChild('Working') as s3.Bucket;
    const sink = shared.node.findChild('Audit') as AuditSink;
    expect(extract.isAttached).toBe(true);
    expect(summarize.isAttached).toBe(true);
    // Both handlers write to the same shared buckets and bus, under the name 'standalone'.
    for (const stage of [extract, summarize]) {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: {
          Variables: Match.objectLike({
            STAGE_NAME: stage.stageId,
            PIPELINE_NAME: 'standalone',
            WORK_BUCKET: { Ref: stack.getLogicalId(working.node.defaultChild as s3.CfnBucket) },
            AUDIT_BUCKET: { Ref: stack.getLogicalId(sink.bucket.node.defaultChild as s3.CfnBucket) },
          }),
        },
      });
    }
    // One working bucket, one records bucket, one access-logs bucket: nothing per stage.
    template.resourceCountIs('AWS::S3::Bucket', 3);
    template.resourceCountIs('AWS::Events::EventBus', 1);
  });

  test('the stage reads documents under documents/ and the working data of stages/ in the working bucket', () => {
    const { stack } = userStack();
    const { summarize } = ownStateMachine(stack);
    const template = Template.fromStack(stack);
    const working = stack.node.findChild(SHARED).node.findChild('Working') as s3.Bucket;
    const gets = statementsWith(roleStatements(template, summarize.role), 's3:GetObject').map((s) => s.Resource);
    expect(gets).toEqual(expect.arrayContaining([
      objectArn(stack, working, '/documents/*'),
      objectArn(stack, working, '/stages/*'),
      objectArn(stack, working, '/stages/Summarize/*'),
    ]));
    const puts = statementsWith(roleStatements(template, summarize.role), 's3:PutObject').map((s) => s.Resource);
    expect(puts).toContainEqual(objectArn(stack, working, '/stages/Summarize/*'));
    expect(JSON.stringify(puts)).not.toContain('/stages/*"');
  });

  test('a Textract stage may answer the task token of the state machine that runs it', () => {
    const { stack } = userStack();
    const { extract, machine } = ownStateMachine(stack);
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [{
          Action: ['states:SendTaskSuccess', 'states:SendTaskFailure'],
          Effect: 'Allow',
          Resource: { Ref: stack.getLogicalId(machine.node.defaultChild as sfn.CfnStateMachine) },
        }],
      },
      Roles: [{ Ref: stack.getLogicalId(extract.role.node.defaultChild as any) }],
    });
  });

  test.each([false, true])('passes cdk-nag AwsSolutions with zero unacknowledged findings (aspect stabilization %p)', (stabilize) => {
    const { app, stack } = userStack(stabilize);
    const { machine } = ownStateMachine(stack);
    // What the user acknowledges for their own state machine (X-Ray and log delivery take no resource
    // ARNs); every finding the stages bring is acknowledged by the stages themselves.
    const policy = machine.role.node.findChild('DefaultPolicy').node.defaultChild!;
    Validations.of(policy).acknowledge({ id: 'AwsSolutions-IAM5[Resource::*]', reason: 'X-Ray and CloudWatch Logs delivery actions take no resource ARNs.' });
    Template.fromStack(stack);
    expect(nagViolations(app, stack)).toEqual([]);
  });

  test('narrowing upstreamStages narrows the reads, and the finding on stages/* goes away', () => {
    const { app, stack } = userStack();
    InferenceStage.textract(stack, 'Extract');
    const summarize = InferenceStage.bedrock(stack, 'Summarize', {
      model: BedrockModel.foundationModel('anthropic.claude-3-5-haiku-20241022-v1:0'),
      prompt: PromptTemplate.fromText('Summarize: {{text}}', { version: '1' }),
      output: SUMMARY,
      standalone: { upstreamStages: ['Extract'] },
    });
    const template = Template.fromStack(stack);
    const gets = JSON.stringify(statementsWith(roleStatements(template, summarize.role), 's3:GetObject').map((s) => s.Resource));
    expect(gets).toContain('/stages/Extract/*');
    expect(gets).not.toContain('/stages/*"');
    expect(nagViolations(app, stack).filter((v) => v.includes('Summarize'))).toEqual([]);
  });

  test('a stage given its working bucket and audit sink uses them, and the stack gets no shared resources', () => {
    const { stack } = userStack();
    const sink = new AuditSink(stack, 'MyAudit');
    const bucket = new s3.Bucket(stack, 'MyWork', { encryption: s3.BucketEncryption.KMS });
    const docs = s3.Bucket.fromBucketName(stack, 'Docs', 'my-docs');
    const stage = InferenceStage.lambda(stack, 'Enrich', {
      function: new lambda.Function(stack, 'Fn', { runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = async () => ({})') }),
      standalone: { pipelineName: 'mine', workingBucket: bucket, auditSink: sink, documentBucket: docs, documentPrefix: 'in/' },
    });
    new sfn.StateMachine(stack, 'SM', { definitionBody: sfn.DefinitionBody.fromChainable(stage) });
    const template = Template.fromStack(stack);
    expect(stack.node.tryFindChild(SHARED)).toBeUndefined();
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ PIPELINE_NAME: 'mine', WORK_BUCKET: { Ref: stack.getLogicalId(bucket.node.defaultChild as s3.CfnBucket) } }) },
    });
    const gets = JSON.stringify(statementsWith(roleStatements(template, stage.role), 's3:GetObject').map((s) => s.Resource));
    expect(gets).toContain('my-docs/in/*');
  });

  test('stages a Pipeline attaches leave no shared resources behind', () => {
    const { stack } = userStack();
    const extract = InferenceStage.textract(stack, 'Extract');
    new Pipeline(stack, 'P', { trigger: DocumentTrigger.s3Upload(stack, 'Uploads'), stages: [extract] });
    const template = Template.fromStack(stack);
    expect(stack.node.tryFindChild(SHARED)).toBeUndefined();
    expect(Object.keys(template.toJSON().Resources).filter((id) => id.startsWith(SHARED))).toEqual([]);
  });

  test('a stage made before the Pipeline that attaches it and a stand-alone stage share the stack: only the stand-alone one uses the shared resources', () => {
    const { stack } = userStack();
    const inPipeline = InferenceStage.textract(stack, 'Extract');
    const alone = InferenceStage.textract(stack, 'Other');
    new Pipeline(stack, 'P', { trigger: DocumentTrigger.s3Upload(stack, 'Uploads'), stages: [inPipeline] });
    new sfn.StateMachine(stack, 'Mine', { definitionBody: sfn.DefinitionBody.fromChainable(alone) });
    const template = Template.fromStack(stack);
    const working = stack.node.findChild(SHARED).node.findChild('Working') as s3.Bucket;
    const workRef = { Ref: stack.getLogicalId(working.node.defaultChild as s3.CfnBucket) };
    const resources = template.toJSON().Resources;
    const env = (fn: lambda.IFunction) => resources[stack.getLogicalId(fn.node.defaultChild as lambda.CfnFunction)].Properties.Environment.Variables;
    expect(env(alone.handler).WORK_BUCKET).toEqual(workRef);
    expect(env(inPipeline.handler).WORK_BUCKET).not.toEqual(workRef);
    expect(env(inPipeline.handler).PIPELINE_NAME).toBe('P');
  });
});
