import * as fs from 'fs';
import * as path from 'path';
import { Size, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { TEXTRACT_OUTPUT_SCHEMA } from '../../src/contracts/schemas';
import { StageContract } from '../../src/contracts/stage-contract';
import { loadValidatorsSource } from '../../src/runtime/contracts';
import { InferenceStage, StageKind } from '../../src/stages/inference-stage';
import { TextractStage } from '../../src/stages/textract/textract-stage';
import {
  arnOf, attachStage, newAttachment, newStack, roleStatements, stageAssetDir, stateMachineOf, statementsWith,
} from '../helpers/construct-test-kit';

describe('TextractStage', () => {
  let stack: Stack;
  let stage: TextractStage;
  let template: Template;
  let asl: any;
  let stateMachine: sfn.StateMachine;

  beforeAll(() => {
    stack = newStack({ withEnv: true });
    stage = InferenceStage.textract(stack, 'Extract');
    attachStage(stage, newAttachment(stack));
    ({ asl, stateMachine } = stateMachineOf(stage));
    stage.grantTaskResponse(stateMachine);
    template = Template.fromStack(stack);
  });

  test('is a TextractStage of kind TEXTRACT that does not read the text alias', () => {
    expect(stage).toBeInstanceOf(TextractStage);
    expect(stage.kind).toBe(StageKind.TEXTRACT);
    expect(stage.readsText).toBe(false);
  });

  test('waits for the task token the handler answers with', () => {
    const task = asl.States.Extract;
    expect(task.Resource).toMatch(/^arn:.*:states:::lambda:invoke\.waitForTaskToken$/);
    expect(task.Parameters.Payload['taskToken.$']).toBe('$$.Task.Token');
    expect(task.Parameters.Payload['state.$']).toBe('$');
    expect(task.Parameters.Payload['runId.$']).toBe('$$.Execution.Name');
    expect(task.TimeoutSeconds).toBe(30 * 60);
    expect(task.Retry[0].ErrorEquals).toEqual(expect.arrayContaining(['ProvisionedThroughputExceededException', 'ThrottlingException']));
  });

  test('the handler runs at most 2 minutes with 1024 MiB (no Lambda waits on a job)', () => {
    template.hasResourceProperties('AWS::Lambda::Function', { Timeout: 120, MemorySize: 1024 });
  });

  test('grants exactly the three text-detection actions, on "*" (no resource-level permissions)', () => {
    const statements = roleStatements(template, stage.role);
    const textract = statements.filter((s) => JSON.stringify(s.Action).includes('textract:'));
    expect(textract).toEqual([{
      Action: ['textract:DetectDocumentText', 'textract:StartDocumentTextDetection', 'textract:GetDocumentTextDetection'],
      Effect: 'Allow',
      Resource: '*',
    }]);
  });

  test('may pass exactly the Textract publish role', () => {
    const statements = roleStatements(template, stage.role);
    expect(statementsWith(statements, 'iam:PassRole')).toEqual([
      { Action: 'iam:PassRole', Effect: 'Allow', Resource: arnOf(stage.textractServiceRole) },
    ]);
  });

  test('the completion topic is encrypted, SSL-only, and subscribed by the handler', () => {
    template.resourceCountIs('AWS::SNS::Topic', 1);
    template.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':kms:us-east-1:123456789012:alias/aws/sns']] },
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: [{
          Action: 'sns:Publish',
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          Effect: 'Deny',
          Principal: '*',
          Resource: { Ref: stack.getLogicalId(stage.completionTopic.node.defaultChild as any) },
          Sid: 'AllowPublishThroughSSLOnly',
        }],
      },
    });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'lambda',
      TopicArn: { Ref: stack.getLogicalId(stage.completionTopic.node.defaultChild as any) },
      Endpoint: arnOf(stage.handler),
    });
  });

  test('the publish role is assumed by Textract and may publish to exactly the completion topic', () => {
    const roleId = stack.getLogicalId(stage.textractServiceRole.node.defaultChild as any);
    expect(template.toJSON().Resources[roleId].Properties.AssumeRolePolicyDocument.Statement).toEqual([
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'textract.amazonaws.com' } },
    ]);
    expect(roleStatements(template, stage.textractServiceRole)).toEqual([
      { Action: 'sns:Publish', Effect: 'Allow', Resource: { Ref: stack.getLogicalId(stage.completionTopic.node.defaultChild as any) } },
    ]);
  });

  test('the handler knows the topic and the publish role', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: {
          TEXTRACT_TOPIC_ARN: { Ref: stack.getLogicalId(stage.completionTopic.node.defaultChild as any) },
          TEXTRACT_ROLE_ARN: arnOf(stage.textractServiceRole),
          STAGE_NAME: 'Extract',
          PIPELINE_NAME: 'TestPipeline',
          WORK_BUCKET: { Ref: stack.getLogicalId(stage.node.scope!.node.findChild('Working').node.defaultChild as any) },
          AUDIT_BUCKET: { Ref: stack.getLogicalId(stage.node.scope!.node.findChild('Audit').node.findChild('Resource').node.defaultChild as any) },
          AUDIT_BUS: { Ref: stack.getLogicalId(stage.node.scope!.node.findChild('Audit').node.findChild('Bus').node.defaultChild as any) },
        },
      },
    });
  });

  test('grantTaskResponse: SendTaskSuccess/Failure on exactly the state machine, in a separate policy', () => {
    const policy = stage.node.findChild('TaskResponsePolicy');
    const id = stack.getLogicalId(policy.node.defaultChild as any);
    const props = template.toJSON().Resources[id].Properties;
    expect(props.PolicyDocument.Statement).toEqual([{
      Action: ['states:SendTaskSuccess', 'states:SendTaskFailure'],
      Effect: 'Allow',
      Resource: { Ref: stack.getLogicalId(stateMachine.node.defaultChild as any) },
    }]);
    expect(props.Roles).toEqual([{ Ref: stack.getLogicalId(stage.role.node.defaultChild as any) }]);
    // not in the default policy the handler depends on (that would make a cycle with the state machine)
    expect(statementsWith(roleStatements(template, stage.role), 'states:SendTaskSuccess')).toEqual([]);
  });

  test('grantTaskResponse returns the grant; a second state machine gets a policy of its own', () => {
    const s = newStack({ withEnv: true });
    const extract = InferenceStage.textract(s, 'Extract');
    attachStage(extract, newAttachment(s));
    const first = new sfn.StateMachine(s, 'First', { definitionBody: sfn.DefinitionBody.fromChainable(extract) });
    const second = sfn.StateMachine.fromStateMachineName(s, 'Second', 'other-machine');
    const grants = [extract.grantTaskResponse(first), extract.grantTaskResponse(second)];
    expect(grants.map((g) => g.success)).toEqual([true, true]);
    expect(grants.map((g) => s.resolve(g.principalStatements.map((st) => st.toStatementJson())))).toEqual([
      [{ Action: ['states:SendTaskSuccess', 'states:SendTaskFailure'], Effect: 'Allow', Resource: { Ref: s.getLogicalId(first.node.defaultChild as any) } }],
      [{ Action: ['states:SendTaskSuccess', 'states:SendTaskFailure'], Effect: 'Allow', Resource: s.resolve(second.stateMachineArn) }],
    ]);
    const policies = Template.fromStack(s).findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: s.getLogicalId(extract.role.node.defaultChild as any) }] } });
    // The default policy and one policy per state machine.
    expect(Object.keys(policies)).toHaveLength(3);
  });

  test('config and validators: default limits, Textract output contract', () => {
    const dir = stageAssetDir(stage);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'stage-config.json'), 'utf8'))).toEqual({
      stage: 'Extract', kind: 'textract', maxDocumentBytes: 50 * 1024 * 1024, maxPages: 3000, maxDecompressedBytes: 256 * 1024 * 1024,
    });
    expect(stage.outputContract.schema).toEqual(TEXTRACT_OUTPUT_SCHEMA);
    const v = loadValidatorsSource(fs.readFileSync(path.join(dir, 'validators.js'), 'utf8'));
    const sha = 'a'.repeat(64);
    expect(v.output({ text: { bucket: 'work-bucket', key: 'stages/Extract/r/text.json', sha256: sha }, pages: 3, mode: 'async' })).toBe(true);
    expect(v.output({ text: { bucket: 'work-bucket', key: 'k' }, pages: 0 })).toBe(false);
    expect(v.output({ text: 'inline text', pages: 1 })).toBe(false);
    expect(v.output({ pages: 1 })).toBe(false);
  });
});

describe('TextractStage props', () => {
  test('maxPages and maxDocumentSize reach the handler config', () => {
    const stage = InferenceStage.textract(newStack(), 'Extract', { maxPages: 10, maxDocumentSize: Size.mebibytes(5) });
    const config = JSON.parse(fs.readFileSync(path.join(stageAssetDir(stage), 'stage-config.json'), 'utf8'));
    expect(config).toMatchObject({ maxPages: 10, maxDocumentBytes: 5 * 1024 * 1024 });
  });

  test('a custom input contract replaces the default one', () => {
    const input = StageContract.fromObject({ type: 'object', required: ['document', 'results'], properties: { results: { type: 'object' } } });
    const stage = InferenceStage.textract(newStack(), 'Extract', { input });
    expect(stage.inputContract).toBe(input);
  });

  test('maxDecompressedSize reaches the handler config; over 4 GiB fails synth', () => {
    const stage = InferenceStage.textract(newStack(), 'Extract', { maxDecompressedSize: Size.mebibytes(64) });
    expect(JSON.parse(fs.readFileSync(path.join(stageAssetDir(stage), 'stage-config.json'), 'utf8'))).toMatchObject({ maxDecompressedBytes: 64 * 1024 * 1024 });
    expect(() => InferenceStage.textract(newStack(), 'Extract', { maxDecompressedSize: Size.gibibytes(5) }))
      .toThrow(/^\[TextractStage TestStack\/Extract\] `maxDecompressedSize` must be between 1 byte and 4 GiB, got: 5368709120 bytes\./);
  });

  test.each([0, 3001, 1.5])('rejects maxPages %p', (maxPages) => {
    expect(() => InferenceStage.textract(newStack(), 'Extract', { maxPages }))
      .toThrow(new RegExp(`^\\[TextractStage TestStack/Extract\\] \`maxPages\` must be a whole number from 1 to 3000 \\(Textract's asynchronous limit\\), got: ${maxPages}\\.`));
  });

  test('rejects maxDocumentSize over 500 MiB', () => {
    expect(() => InferenceStage.textract(newStack(), 'Extract', { maxDocumentSize: Size.mebibytes(501) }))
      .toThrow(/\[TextractStage TestStack\/Extract\] `maxDocumentSize` must be between 1 byte and 500 MiB \(Textract's limit\), got: 525336576 bytes/);
  });

  test('rejects maxDocumentSize of 0 bytes', () => {
    expect(() => InferenceStage.textract(newStack(), 'Extract', { maxDocumentSize: Size.bytes(0) }))
      .toThrow('[TextractStage TestStack/Extract] `maxDocumentSize` must be between 1 byte and 500 MiB (Textract\'s limit), got: 0 bytes.');
  });
});
