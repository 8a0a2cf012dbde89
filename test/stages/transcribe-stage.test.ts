/** The Transcribe stage kind: the task-token task, the completion rule, its exact-ARN role, validation, cdk-nag. */
import * as fs from 'fs';
import * as path from 'path';
import { App, Size, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { InferenceStage, StageKind } from '../../src/stages/inference-stage';
import { allActions, attachStage, newAttachment, newStack, roleStatements, stageAssetDir, stateMachineOf, statementsWith } from '../helpers/construct-test-kit';

function built(props: Parameters<typeof InferenceStage.transcribe>[2] = {}) {
  const stack = newStack({ withEnv: true });
  const stage = InferenceStage.transcribe(stack, 'Transcribe', props);
  const attachment = newAttachment(stack);
  attachStage(stage, attachment);
  const { stateMachine, asl } = stateMachineOf(stage);
  stage.grantTaskResponse(stateMachine);
  return { stack, stage, attachment, asl, template: Template.fromStack(stack) };
}

describe('TranscribeStage', () => {
  test('one waitForTaskToken task whose result lands at $.results.<id>; Transcribe throttling is retried', () => {
    const { stage, asl } = built();
    expect(stage.kind).toBe(StageKind.TRANSCRIBE);
    const state = asl.States.Transcribe;
    expect(state.Resource).toMatch(/lambda:invoke\.waitForTaskToken/);
    expect(state.Parameters.Payload['taskToken.$']).toBe('$$.Task.Token');
    expect(state.ResultPath).toBe('$.results.Transcribe');
    expect(state.TimeoutSeconds).toBe(1800);
    expect(state.Retry.flatMap((r: any) => r.ErrorEquals)).toEqual(expect.arrayContaining(['LimitExceededException', 'InternalFailureException']));
  });

  test('the role starts and reads only its own jobs (their name prefix), encrypts with the working key, answers only its state machine', () => {
    const { stage, template } = built();
    const config = JSON.parse(fs.readFileSync(path.join(stageAssetDir(stage), 'stage-config.json'), 'utf8'));
    expect(config).toEqual({ stage: 'Transcribe', kind: 'transcribe', languageCode: 'en-US', maxMediaBytes: 2 * 1024 ** 3, jobPrefix: expect.stringMatching(/^cdkaip-[0-9a-f]{12}-$/) });
    const statements = roleStatements(template, stage.role);
    const [jobs] = statementsWith(statements, 'transcribe:StartTranscriptionJob');
    expect(jobs.Action).toEqual(['transcribe:StartTranscriptionJob', 'transcribe:GetTranscriptionJob']);
    const resource = JSON.stringify(jobs.Resource);
    expect(resource).toContain(`:transcribe:us-east-1:123456789012:transcription-job/${config.jobPrefix}*`);
    expect(allActions(statements).filter((a) => a.startsWith('transcribe:'))).toEqual(['transcribe:StartTranscriptionJob', 'transcribe:GetTranscriptionJob']);
    expect(statementsWith(statements, 'kms:Encrypt')).toHaveLength(1);
    // The callback grant is a policy of its own on the state machine's exact ARN.
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: [{ Action: ['states:SendTaskSuccess', 'states:SendTaskFailure'], Effect: 'Allow', Resource: { Ref: Match.stringLikeRegexp('^SM') } }] },
    });
  });

  test('Transcribe\'s job events of this stage only bring the handler back; the handler knows the working key', () => {
    const { stack, stage, template } = built();
    const prefix = JSON.parse(fs.readFileSync(path.join(stageAssetDir(stage), 'stage-config.json'), 'utf8')).jobPrefix;
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        'source': ['aws.transcribe'],
        'detail-type': ['Transcribe Job State Change'],
        'detail': { TranscriptionJobStatus: ['COMPLETED', 'FAILED'], TranscriptionJobName: [{ prefix }] },
      },
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [stack.getLogicalId(stage.handler.node.defaultChild as any), 'Arn'] } })],
    });
    const fn = template.toJSON().Resources[stack.getLogicalId(stage.handler.node.defaultChild as any)];
    expect(fn.Properties.Environment.Variables.TRANSCRIBE_OUTPUT_KEY).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^WorkingKey/), 'Arn'] });
  });

  test('two stages have different job prefixes (each rule matches its own jobs)', () => {
    const stack = newStack({ withEnv: true });
    const a = InferenceStage.transcribe(stack, 'CallsA');
    const b = InferenceStage.transcribe(stack, 'CallsB');
    const prefix = (s: typeof a) => JSON.parse(fs.readFileSync(path.join(stageAssetDir(s), 'stage-config.json'), 'utf8')).jobPrefix;
    expect(prefix(a)).not.toBe(prefix(b));
  });

  test.each([
    [{ languageCode: 'english' }, "`languageCode` must be an Amazon Transcribe language code such as 'en-US' or 'de-DE', got: 'english'"],
    [{ maxMediaSize: Size.gibibytes(3) }, '`maxMediaSize` must be between 1 byte and 2 GiB'],
  ])('invalid props %p fail with a message naming the construct and the prop', (props, message) => {
    expect(() => InferenceStage.transcribe(newStack({ withEnv: true }), 'Bad', props as any)).toThrow(message);
    expect(() => InferenceStage.transcribe(newStack({ withEnv: true }), 'Bad', props as any)).toThrow(/\[TranscribeStage TestStack\/Bad\]/);
  });
});

test('cdk-nag AwsSolutions: zero unacknowledged findings on the stage', () => {
  const app = new App({ builtinCloudFormationValidation: false });
  const stack = new Stack(app, 'Calls', { env: { account: '123456789012', region: 'us-east-1' } });
  const stage = InferenceStage.transcribe(stack, 'Transcribe');
  attachStage(stage, newAttachment(stack));
  const { stateMachine } = stateMachineOf(stage);
  stage.grantTaskResponse(stateMachine);
  Template.fromStack(stack);
  const violations = new AwsSolutionsChecks(app).validateScope(stack).violations
    .flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`))
    .filter((v) => v.includes('/Transcribe/'));
  expect(violations).toEqual([]);
});
