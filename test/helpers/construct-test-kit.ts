/**
 * Shared helpers for construct tests: a stack whose synthesis skips the built-in CloudFormation
 * validation plugin (it is slow and checks nothing of ours), and a minimal attachment (document
 * bucket, working bucket, audit sink) so a stage's "attached" validation passes.
 *
 * Keep every helper free of module-level side effects.
 */
import { App, AssetStaging, CfnResource, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { IConstruct } from 'constructs';
import { AuditSink } from '../../src/audit/audit-sink';
import { InferenceStageBase, StageAttachOptions } from '../../src/stages/inference-stage';

/** Account and region of every test stack, so ARNs resolve to plain strings. */
export const TEST_ENV = { account: '123456789012', region: 'us-east-1' } as const;

/** Options of `newStack`. */
export interface NewStackOptions {
  /** Give the stack a concrete account and region (default: environment-agnostic). */
  readonly withEnv?: boolean;
}

/** A Stack in an App with the built-in CloudFormation validation disabled. */
export function newStack(options: NewStackOptions = {}): Stack {
  const app = new App({ builtinCloudFormationValidation: false });
  return new Stack(app, 'TestStack', options.withEnv ? { env: TEST_ENV } : {});
}

/** What a test attaches stages to. */
export interface TestAttachment {
  readonly documentBucket: s3.Bucket;
  readonly documentKey: kms.Key;
  readonly workingBucket: s3.Bucket;
  readonly workingKey: kms.Key;
  readonly auditSink: AuditSink;
}

/** A KMS-encrypted document bucket, a KMS-encrypted working bucket and an audit sink in `stack`. */
export function newAttachment(stack: Stack): TestAttachment {
  const documentKey = new kms.Key(stack, 'DocumentKey');
  const workingKey = new kms.Key(stack, 'WorkingKey');
  return {
    documentBucket: new s3.Bucket(stack, 'Documents', { encryption: s3.BucketEncryption.KMS, encryptionKey: documentKey }),
    documentKey,
    workingBucket: new s3.Bucket(stack, 'Working', { encryption: s3.BucketEncryption.KMS, encryptionKey: workingKey }),
    workingKey,
    auditSink: new AuditSink(stack, 'Audit'),
  };
}

/** Attaches `stage` to `attachment` (pipeline 'TestPipeline', documents under 'incoming/'). */
export function attachStage(stage: InferenceStageBase, attachment: TestAttachment, overrides: Partial<StageAttachOptions> = {}): void {
  stage.attach({
    pipelineName: 'TestPipeline',
    documentBucket: attachment.documentBucket,
    documentPrefix: 'incoming/',
    workingBucket: attachment.workingBucket,
    auditSink: attachment.auditSink,
    ...overrides,
  });
}

/** A state machine running only `stage`, and its resolved ASL. */
export function stateMachineOf(stage: InferenceStageBase, id = 'SM'): { stateMachine: sfn.StateMachine; asl: any } {
  const stack = Stack.of(stage);
  const stateMachine = new sfn.StateMachine(stack, id, { definitionBody: sfn.DefinitionBody.fromChainable(stage) });
  return { stateMachine, asl: renderAsl(stateMachine) };
}

/** The resolved ASL of a state machine (the DefinitionString Fn::Join, parsed with tokens kept as markers). */
export function renderAsl(stateMachine: sfn.StateMachine): any {
  const stack = Stack.of(stateMachine);
  const cfn = stateMachine.node.defaultChild as sfn.CfnStateMachine;
  const resolved = stack.resolve(cfn.definitionString);
  return JSON.parse(flattenJoin(resolved));
}

/** Joins an `Fn::Join` into a string, writing each token as `<TOKEN:...>` so the JSON stays parseable. */
function flattenJoin(value: any): string {
  if (typeof value === 'string') return value;
  if (value && value['Fn::Join']) {
    const [sep, parts] = value['Fn::Join'];
    return parts.map((p: any) => (typeof p === 'string' ? p : `<TOKEN:${JSON.stringify(p).replace(/"/g, '\'')}>`)).join(sep);
  }
  throw new Error(`cannot flatten ${JSON.stringify(value)}`);
}

/** The source folder of a stage handler's code asset (what `stageCode` staged). */
export function stageAssetDir(stage: InferenceStageBase): string {
  const asset = stage.handler.node.findChild('Code') as s3assets.Asset;
  return (asset.node.findChild('Stage') as AssetStaging).sourcePath;
}

/** The asset hash of a stage handler's code. */
export function stageAssetHash(stage: InferenceStageBase): string {
  return (stage.handler.node.findChild('Code') as s3assets.Asset).assetHash;
}

/** The statements of the default policy of a role, as synthesized in `template`. */
export function roleStatements(template: Template, role: iam.Role): any[] {
  const policy = role.node.tryFindChild('DefaultPolicy') as iam.Policy | undefined;
  if (!policy) return [];
  const id = Stack.of(role).getLogicalId(policy.node.defaultChild as iam.CfnPolicy);
  return template.toJSON().Resources[id].Properties.PolicyDocument.Statement;
}

/** The statements that grant `action` (alone or with others). */
export function statementsWith(statements: any[], action: string): any[] {
  return statements.filter((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]).includes(action));
}

/** Every action the statements allow. */
export function allActions(statements: any[]): string[] {
  return statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
}

/** `{ 'Fn::Join': ['', [{ 'Fn::GetAtt': [logicalId, 'Arn'] }, suffix]] }`: an object ARN under a bucket. */
export function objectArn(stack: Stack, bucket: s3.IBucket, suffix: string): any {
  return { 'Fn::Join': ['', [{ 'Fn::GetAtt': [stack.getLogicalId(bucket.node.defaultChild as s3.CfnBucket), 'Arn'] }, suffix]] };
}

/** `{ 'Fn::GetAtt': [logicalId, 'Arn'] }` of a resource construct. */
export function arnOf(construct: IConstruct): any {
  const cfn = (construct.node.defaultChild ?? construct) as CfnResource;
  return { 'Fn::GetAtt': [Stack.of(construct).getLogicalId(cfn), 'Arn'] };
}
