import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { StageContract } from '../../src/contracts/stage-contract';
import { BedrockModel } from '../../src/stages/bedrock/bedrock-model';
import { PromptTemplate } from '../../src/stages/bedrock/prompt-template';
import { InferenceStage } from '../../src/stages/inference-stage';
import { attachStage, newAttachment, newStack, stateMachineOf } from '../helpers/construct-test-kit';

test('probe', () => {
  const t0 = Date.now();
  const stack = newStack({ withEnv: true });
  const att = newAttachment(stack);
  const s = InferenceStage.textract(stack, 'Extract');
  attachStage(s, att);
  const b = InferenceStage.bedrock(stack, 'Summarize', {
    model: BedrockModel.inferenceProfile('us.anthropic.claude-3-5-haiku-20241022-v1:0'),
    prompt: PromptTemplate.fromText('Summarize {{text}} {{results.Classify.documentType}}', { version: '1' }),
    output: StageContract.fromObject({ type: 'object', required: ['summary'], properties: { summary: { type: 'string' } } }),
    guardrail: { guardrailId: 'gr1', guardrailVersion: '1' },
  });
  attachStage(b, att, { upstreamStages: ['Extract'] });
  const { asl } = stateMachineOf(s);
  console.log(JSON.stringify(asl, null, 1));
  const t = Template.fromStack(stack);
  console.log(JSON.stringify(t.findResources('AWS::IAM::Policy'), null, 1));
  console.log(JSON.stringify(t.findResources('AWS::Lambda::Function'), null, 1).slice(0, 4000));
  console.log(JSON.stringify(b.inputContract.schema), JSON.stringify(b.outputContract.schema));
  console.log((s.handler as any), Date.now() - t0);
  void lambda;
});
