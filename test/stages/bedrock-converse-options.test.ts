import * as fs from 'fs';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { StageContract } from '../../src/contracts/stage-contract';
import { BedrockModel } from '../../src/stages/bedrock/bedrock-model';
import { BedrockServiceTier, BedrockStageProps, StructuredOutputMode } from '../../src/stages/bedrock/bedrock-stage';
import { PromptTemplate } from '../../src/stages/bedrock/prompt-template';
import { InferenceStage } from '../../src/stages/inference-stage';
import { attachStage, newAttachment, newStack, roleStatements, stageAssetDir, statementsWith } from '../helpers/construct-test-kit';

const SONNET_45 = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const HAIKU_35 = 'anthropic.claude-3-5-haiku-20241022-v1:0';
const OUTPUT = {
  type: 'object',
  required: ['total', 'lines'],
  properties: {
    total: { type: 'number' },
    lines: { type: 'array', items: { type: 'object', required: ['amount'], properties: { amount: { type: 'number' } } } },
  },
};

function stageWith(props: Partial<BedrockStageProps> = {}, modelId = SONNET_45, stack = newStack({ withEnv: true }), id = 'Total') {
  return InferenceStage.bedrock(stack, id, {
    model: modelId.includes('.') && /^(us|eu|apac|global)\./.test(modelId) ? BedrockModel.inferenceProfile(modelId) : BedrockModel.foundationModel(modelId),
    prompt: PromptTemplate.fromText('Total of {{text}}', { version: '2', systemPrompt: 'You read invoices.' }),
    output: StageContract.fromObject(OUTPUT),
    ...props,
  });
}
const configOf = (props: Partial<BedrockStageProps> = {}, modelId?: string) =>
  JSON.parse(fs.readFileSync(path.join(stageAssetDir(stageWith(props, modelId)), 'stage-config.json'), 'utf8'));

describe('BedrockStage Converse options', () => {
  test('a model with structured output gets the closed model schema plus the spotlight field as its Converse schema', () => {
    const config = configOf();
    expect(config.structuredOutput.name).toBe('Total');
    expect(JSON.parse(config.structuredOutput.schema)).toEqual({
      type: 'object',
      required: ['total', 'lines', 'injectionSuspected'],
      additionalProperties: false,
      properties: {
        total: { type: 'number' },
        lines: { type: 'array', items: { type: 'object', required: ['amount'], additionalProperties: false, properties: { amount: { type: 'number' } } } },
        injectionSuspected: { type: 'boolean' },
      },
    });
  });

  test('a model without it stays on parse-and-repair; the capability table can be overridden either way', () => {
    expect(configOf({}, HAIKU_35)).not.toHaveProperty('structuredOutput');
    expect(configOf({ modelCapabilities: { structuredOutput: true } }, HAIKU_35)).toHaveProperty('structuredOutput');
    expect(configOf({ modelCapabilities: { structuredOutput: false } })).not.toHaveProperty('structuredOutput');
    expect(configOf({ structuredOutput: StructuredOutputMode.OFF })).not.toHaveProperty('structuredOutput');
  });

  test('service tier, prompt caching and prices reach the handler config', () => {
    const config = configOf({
      serviceTier: BedrockServiceTier.FLEX,
      promptCaching: false,
      price: { inputPer1k: 0.001, outputPer1k: 0.005, source: 'our enterprise agreement 2026' },
    }, HAIKU_35);
    expect(config.serviceTier).toBe('flex');
    expect(config.promptCache).toBe(false);
    expect(config.price).toEqual({ inputPer1k: 0.001, outputPer1k: 0.005, source: 'our enterprise agreement 2026' });
    expect(configOf({}, HAIKU_35).promptCache).toBe(true);
  });

  test('a model the price table does not know has no price (and so no cost) unless given one', () => {
    expect(configOf({}, 'amazon.nova-lite-v1:0')).not.toHaveProperty('price');
  });

  test('the guardrail applied to every call is granted ApplyGuardrail on its exact ARN and sent with its version', () => {
    const stack = newStack({ withEnv: true });
    const stage = stageWith({ guardrail: { guardrailId: 'gr-out1', guardrailVersion: '3' } }, SONNET_45, stack);
    attachStage(stage, newAttachment(stack));
    const [statement] = statementsWith(roleStatements(Template.fromStack(stack), stage.role), 'bedrock:ApplyGuardrail');
    expect(JSON.stringify(statement.Resource)).toContain('guardrail/gr-out1');
    const config = JSON.parse(fs.readFileSync(path.join(stageAssetDir(stage), 'stage-config.json'), 'utf8'));
    expect(config.guardrail).toEqual({ id: 'gr-out1', version: '3' });
  });

  test.each([
    [{ structuredOutput: StructuredOutputMode.ON }, HAIKU_35, "`structuredOutput` is ON, but the model 'anthropic.claude-3-5-haiku-20241022-v1:0'"],
    [{ promptCaching: true }, 'amazon.titan-text-express-v1', '`promptCaching` is true, but the model'],
    [{ guardrail: { guardrailId: 'gr-1', guardrailVersion: 'latest' } }, SONNET_45, "`guardrail.guardrailVersion` must be a version number or 'DRAFT', got: 'latest'"],
    [{ price: { inputPer1k: -1, outputPer1k: 0.1, source: 's' } }, SONNET_45, '`price.inputPer1k` must be a USD price per 1,000 tokens from 0 to 1000, got: -1'],
    [{ price: { inputPer1k: 1, outputPer1k: 0.1, source: ' ' } }, SONNET_45, '`price.source` is empty'],
  ])('wrong props fail synth naming the construct path and the prop: %p', (props, modelId, message) => {
    expect(() => stageWith(props as Partial<BedrockStageProps>, modelId)).toThrow(message);
    expect(() => stageWith(props as Partial<BedrockStageProps>, modelId)).toThrow(/Total/);
  });

  test('prompt caching without a system prompt fails synth', () => {
    expect(() => InferenceStage.bedrock(newStack({ withEnv: true }), 'NoSystem', {
      model: BedrockModel.foundationModel(HAIKU_35),
      prompt: PromptTemplate.fromText('Total of {{text}}', { version: '1' }),
      output: StageContract.fromObject(OUTPUT),
      promptCaching: true,
    })).toThrow('has no system prompt to cache');
  });

  test('with every option on: cdk-nag AwsSolutions has zero unacknowledged findings', () => {
    const app = new App({ builtinCloudFormationValidation: false });
    const stack = new Stack(app, 'Opts', { env: { account: '123456789012', region: 'us-east-1' } });
    const stage = stageWith({
      serviceTier: BedrockServiceTier.PRIORITY,
      guardrail: { guardrailId: 'gr-out1', guardrailVersion: 'DRAFT' },
      price: { inputPer1k: 0.003, outputPer1k: 0.015, source: 'test' },
    }, SONNET_45, stack);
    attachStage(stage, newAttachment(stack));
    Template.fromStack(stack);
    const violations = new AwsSolutionsChecks(app).validateScope(stack).violations
      .flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`))
      .filter((v) => v.includes('/Total/'));
    expect(violations).toEqual([]);
  });
});
