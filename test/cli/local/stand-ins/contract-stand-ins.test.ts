/**
 * The REAL Bedrock and SageMaker stage cores driven by the contract stand-ins: the replies satisfy
 * the stage's own contracts (an insurance-claims app, not the legal example), a reply cut at
 * `maxTokens` goes through the core's repair path, and other commands are refused.
 */
import { BedrockRuntimeClient, ConverseCommand, InvokeModelCommand } from '@aws-sdk/client-bedrock-runtime';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { ContractBedrock, estimateTokens } from '../../../../src/cli/local/stand-ins/contract-bedrock';
import { ContractSageMaker } from '../../../../src/cli/local/stand-ins/contract-sagemaker';
import { BedrockStageConfig, ErrorNames, S3Pointer, StageInvocation } from '../../../../src/shared';
import { runBedrockStage } from '../../../../src/stages/bedrock/handler/bedrock-stage';
import { runSageMakerStage } from '../../../../src/stages/sagemaker/handler/sagemaker-stage';
import { invocation, makeValidators, POINTER_SCHEMA, runState, STAGE_VIEW_SCHEMA } from '../../../helpers/handler-test-kit';
import { caught, mockText, stageContext, WORK_BUCKET } from '../../../stages/bedrock/handler/bedrock-test-kit';

const TEXT: S3Pointer = { bucket: WORK_BUCKET, key: 'stages/Extract/run-0001/text.json', versionId: 'tv1' };
const PAGES = ['CLAIM FORM. Policy POL-12345678. On 3 May a pipe burst in the kitchen.', 'Estimated repair cost: 4,200 USD.'];
const EVENT: StageInvocation = invocation({ state: runState({ results: { Extract: { text: TEXT, pages: 2 } } }) });

const CLAIM_SCHEMA = {
  type: 'object',
  required: ['claimType', 'amount', 'summary'],
  additionalProperties: false,
  properties: {
    claimType: { enum: ['AUTO', 'HOME', 'HEALTH', 'TRAVEL'] },
    amount: { type: 'number', minimum: 0 },
    summary: { type: 'string', maxLength: 600 },
  },
};
const CLAIM_OUTPUT_SCHEMA = {
  type: 'object',
  required: ['claimType', 'amount', 'summary', 'response', 'screening', 'usage'],
  properties: {
    claimType: CLAIM_SCHEMA.properties.claimType,
    amount: CLAIM_SCHEMA.properties.amount,
    summary: { type: 'string' },
    response: POINTER_SCHEMA,
    screening: { type: 'object', required: ['promptInjection', 'patterns'] },
    usage: {
      type: 'object',
      required: ['inputTokens', 'outputTokens'],
      properties: { inputTokens: { type: 'integer', minimum: 1 }, outputTokens: { type: 'integer', minimum: 1 } },
    },
  },
};
const PROMPT = 'Classify the insurance claim {{document.key}} and summarize it as JSON.\n<claim>\n{{text}}\n</claim>';
const SYSTEM = 'You are a claims handler. Reply with JSON only.';

function bedrockStage(config: Partial<BedrockStageConfig> = {}, pins?: { [path: string]: unknown }) {
  const validators = makeValidators({ input: STAGE_VIEW_SCHEMA, model: CLAIM_SCHEMA, output: CLAIM_OUTPUT_SCHEMA });
  const fx = stageContext('Triage', 'bedrock', validators);
  mockText(fx.s3Mock, TEXT, PAGES);
  const bedrock = new ContractBedrock({ schema: CLAIM_SCHEMA, validate: validators.model, seed: () => 'doc-sha:Triage', pins: () => pins });
  const full: BedrockStageConfig = {
    stage: 'Triage',
    kind: 'bedrock',
    modelId: 'us.anthropic.claude-3-5-haiku-20241022-v1:0',
    prompt: PROMPT,
    promptVersion: '1',
    systemPrompt: SYSTEM,
    maxTokens: 1000,
    temperature: 0,
    offloadFields: [],
    maxInputChars: 10_000,
    ...config,
  };
  const run = () => runBedrockStage({ ctx: fx.ctx, bedrock: bedrock as unknown as BedrockRuntimeClient, config: full }, EVENT);
  return { run, bedrock, validators, ...fx };
}

describe('ContractBedrock with the real Bedrock core', () => {
  test('the reply meets the model contract and the stage output meets the output contract', async () => {
    const { run, bedrock, validators } = bedrockStage();
    const output = await run();

    expect(validators.output(output)).toBe(true);
    expect(bedrock.calls).toHaveLength(1);
    const call = bedrock.calls[0];
    const reply = JSON.parse(call.reply);
    expect(output).toMatchObject(reply);
    expect(['AUTO', 'HOME', 'HEALTH', 'TRAVEL']).toContain(reply.claimType);
    expect(reply.amount).toBeGreaterThanOrEqual(0);
    // The prompt was rendered by the core (placeholders resolved) and reached the stand-in with the system prompt.
    expect(call.prompt).toContain(PAGES[0]);
    expect(call.prompt).toContain('incoming/contract.pdf');
    expect(call.system).toBe(SYSTEM);
    expect(call.stopReason).toBe('end_turn');
    // Usage: input counts the user turn and the system prompt; output counts the reply.
    expect(output.usage).toEqual({
      inputTokens: estimateTokens(call.prompt) + estimateTokens(SYSTEM),
      outputTokens: estimateTokens(call.reply),
    });
  });

  test('pins set fields of the reply', async () => {
    const { run } = bedrockStage({}, { claimType: 'TRAVEL', amount: 12.5 });
    await expect(run()).resolves.toMatchObject({ claimType: 'TRAVEL', amount: 12.5 });
  });

  test('a reply longer than maxTokens is cut (stopReason max_tokens): the core asks for a repair, then gives up', async () => {
    const { run, bedrock, s3Mock } = bedrockStage({ maxTokens: 5 });
    const err = await caught(run);

    expect(err.name).toBe(ErrorNames.MODEL_INVALID_OUTPUT);
    expect(err.message).toContain('cut off at the 5-token limit');
    expect(bedrock.calls.map((c) => [c.stopReason, c.reply.length, c.maxTokens])).toEqual([['max_tokens', 20, 5], ['max_tokens', 20, 5]]);
    // The repair turn carries the core's request to answer again.
    expect(bedrock.calls[1].prompt).toContain('Keep it short enough to fit in the token limit.');
    expect(s3Mock.calls().length).toBeGreaterThan(0);
  });

  test('only Converse is implemented', async () => {
    const bedrock = new ContractBedrock({ schema: CLAIM_SCHEMA, seed: () => 's' });
    await expect(bedrock.send(new InvokeModelCommand({ modelId: 'm', body: new Uint8Array() }))).rejects.toMatchObject({
      name: 'LocalAdapter.UnsupportedCommand',
      message: 'ContractBedrock does not implement InvokeModelCommand (it implements ConverseCommand)',
    });
  });

  test('a schema without an instance fails the call with the path and the keyword', async () => {
    const schema = { type: 'object', required: ['amount'], properties: { amount: { type: 'number', minimum: 10, maximum: 5 } } };
    const bedrock = new ContractBedrock({ schema, seed: () => 's' });
    await expect(bedrock.send(new ConverseCommand({ modelId: 'm', messages: [{ role: 'user', content: [{ text: 'hi' }] }] })))
      .rejects.toThrow('cannot generate /amount: \'minimum\' 10 > \'maximum\' 5');
  });
});

describe('ContractSageMaker with the real SageMaker core', () => {
  const FRAUD_SCHEMA = {
    type: 'object',
    required: ['fraudScore'],
    additionalProperties: false,
    properties: { fraudScore: { type: 'number', minimum: 0, maximum: 1 } },
  };

  function sagemakerStage(seed: string) {
    const validators = makeValidators({ input: STAGE_VIEW_SCHEMA, output: FRAUD_SCHEMA });
    const fx = stageContext('Fraud', 'sagemaker', validators);
    mockText(fx.s3Mock, TEXT, PAGES);
    const sagemaker = new ContractSageMaker({ schema: FRAUD_SCHEMA, validate: validators.output, seed: () => seed, endpointNames: ['fraud-model'] });
    const run = (endpointName = 'fraud-model') => runSageMakerStage({
      ctx: fx.ctx,
      sagemaker: sagemaker as unknown as SageMakerRuntimeClient,
      config: { stage: 'Fraud', kind: 'sagemaker', request: { inputs: 'text' }, maxInputChars: 10_000 },
      endpointName,
    }, EVENT);
    return { run, sagemaker, validators };
  }

  test('the endpoint\'s body is the stage output and meets the output contract', async () => {
    const { run, sagemaker, validators } = sagemakerStage('doc-sha:Fraud');
    const output = await run();

    expect(validators.output(output)).toBe(true);
    expect(Object.keys(output)).toEqual(['fraudScore']);
    expect(sagemaker.invocations).toEqual([{ endpointName: 'fraud-model', request: { inputs: PAGES.join('\n\n') }, reply: output }]);
  });

  test('different documents get different scores', async () => {
    const scores = new Set<unknown>();
    for (let i = 0; i < 20; i++) scores.add((await sagemakerStage(`doc-${i}:Fraud`).run()).fraudScore);
    expect(scores.size).toBeGreaterThan(10);
  });

  test('an unknown endpoint is a ValidationError; other commands are refused', async () => {
    const { run, sagemaker } = sagemakerStage('s');
    await expect(run('other')).rejects.toMatchObject({ name: 'ValidationError' });
    await expect(sagemaker.send(new ConverseCommand({ modelId: 'm', messages: [] }))).rejects.toMatchObject({ name: 'LocalAdapter.UnsupportedCommand' });
    await expect(sagemaker.send(new InvokeEndpointCommand({ EndpointName: 'fraud-model', Body: 'not json' }))).rejects.toMatchObject({ name: 'ModelError' });
  });
});
