import 'aws-sdk-client-mock-jest';
import { createHash } from 'crypto';
import { BedrockRuntimeClient, ConverseCommand, ConverseCommandOutput } from '@aws-sdk/client-bedrock-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import { auditRecords, mockText, REGION, stageContext, WORK_BUCKET } from './bedrock-test-kit';
import { BedrockPriceConfig, BedrockStageConfig, S3Pointer, StageInvocation } from '../../../../src/shared';
import { BedrockStageDeps, callCost, runBedrockStage } from '../../../../src/stages/bedrock/handler/bedrock-stage';
import { invocation, makeValidators, POINTER_SCHEMA, runState, STAGE_VIEW_SCHEMA } from '../../../helpers/handler-test-kit';

const PAGES = ['Invoice 42 from Acme Corp, total 120.00 EUR.'];
const TEXT: S3Pointer = {
  bucket: WORK_BUCKET,
  key: 'stages/Extract/run-0001/text.json',
  versionId: 'tv1',
  sha256: createHash('sha256').update(JSON.stringify({ pages: PAGES.map((t, i) => ({ page: i + 1, text: t })) })).digest('hex'),
};
const MODEL_SCHEMA = { type: 'object', required: ['total'], properties: { total: { type: 'number' } } };
const STRUCTURED = JSON.stringify({ type: 'object', required: ['total'], properties: { total: { type: 'number' } }, additionalProperties: false });
const SYSTEM = 'You read invoices. Reply with the total.';
const PRICE: BedrockPriceConfig = { inputPer1k: 0.003, outputPer1k: 0.015, cacheReadPer1k: 0.0003, cacheWritePer1k: 0.00375, source: 'test prices' };
const CONFIG: BedrockStageConfig = {
  stage: 'Total',
  kind: 'bedrock',
  modelId: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
  prompt: 'Total of:\n{{text}}',
  promptVersion: '1',
  systemPrompt: SYSTEM,
  maxTokens: 256,
  temperature: 0,
  offloadFields: [],
  maxInputChars: 10_000,
};

function setup(config: Partial<BedrockStageConfig>) {
  const validators = makeValidators({
    input: { ...STAGE_VIEW_SCHEMA, properties: { ...STAGE_VIEW_SCHEMA.properties } },
    output: { type: 'object', required: ['total', 'response', 'usage'], properties: { total: { type: 'number' }, response: POINTER_SCHEMA } },
    model: MODEL_SCHEMA,
  });
  const fx = stageContext('Total', 'bedrock', validators);
  const bedrock = new BedrockRuntimeClient(REGION);
  const bedrockMock = mockClient(bedrock);
  mockText(fx.s3Mock, TEXT, PAGES);
  const deps: BedrockStageDeps = { ctx: fx.ctx, bedrock, config: { ...CONFIG, ...config } };
  return { ...fx, bedrockMock, deps };
}

function event(): StageInvocation {
  return invocation({ state: runState({ results: { Extract: { text: TEXT, pages: 1 } } }) });
}

function reply(text: string, usage: { [k: string]: number } = { inputTokens: 100, outputTokens: 20 }): ConverseCommandOutput {
  return { output: { message: { role: 'assistant', content: [{ text }] } }, stopReason: 'end_turn', usage: usage as any, metrics: { latencyMs: 10 }, $metadata: {} };
}

describe('Bedrock stage: Converse options', () => {
  test('structured output, service tier and a cache point after the system prompt go into the request', async () => {
    const { deps, bedrockMock } = setup({ structuredOutput: { name: 'Total', schema: STRUCTURED }, serviceTier: 'flex', promptCache: true });
    bedrockMock.on(ConverseCommand).resolves(reply('{"total":120}'));
    const output = await runBedrockStage(deps, event());
    expect(output.total).toBe(120);
    expect(bedrockMock).toHaveReceivedCommandWith(ConverseCommand, {
      system: [{ text: SYSTEM }, { cachePoint: { type: 'default' } }],
      serviceTier: { type: 'flex' },
      outputConfig: { textFormat: { type: 'json_schema', structure: { jsonSchema: { name: 'Total', schema: STRUCTURED } } } },
    });
  });

  test('without the options the request carries none of them', async () => {
    const { deps, bedrockMock } = setup({});
    bedrockMock.on(ConverseCommand).resolves(reply('{"total":120}'));
    await runBedrockStage(deps, event());
    const input = bedrockMock.commandCalls(ConverseCommand)[0].args[0].input;
    expect(input.system).toEqual([{ text: SYSTEM }]);
    expect(input).not.toHaveProperty('outputConfig');
    expect(input).not.toHaveProperty('serviceTier');
  });

  test('a structured-output reply that still breaks the contract is repaired like a free-text one', async () => {
    const { deps, bedrockMock } = setup({ structuredOutput: { name: 'Total', schema: STRUCTURED } });
    bedrockMock.on(ConverseCommand).resolvesOnce(reply('{"total":"a lot"}')).resolvesOnce(reply('{"total":120}'));
    const output = await runBedrockStage(deps, event());
    expect(output.total).toBe(120);
    expect(bedrockMock).toHaveReceivedCommandTimes(ConverseCommand, 2);
  });

  test('cache tokens and the cost of every call at the list prices go into the audit record, with the price source', async () => {
    const { deps, bedrockMock, s3Mock } = setup({ promptCache: true, price: PRICE });
    bedrockMock.on(ConverseCommand)
      .resolvesOnce(reply('{"total":"?"}', { inputTokens: 100, outputTokens: 20, cacheWriteInputTokens: 2000, cacheReadInputTokens: 0 }))
      .resolvesOnce(reply('{"total":120}', { inputTokens: 150, outputTokens: 10, cacheWriteInputTokens: 0, cacheReadInputTokens: 2000 }));
    const output = await runBedrockStage(deps, event());
    // call 1: 0.1*0.003 + 0.02*0.015 + 2*0.00375 = 0.0081; call 2: 0.15*0.003 + 0.01*0.015 + 2*0.0003 = 0.0012
    const [record] = auditRecords(s3Mock);
    expect(record.model).toEqual({
      calls: 2,
      inputTokens: 250,
      outputTokens: 30,
      cacheReadInputTokens: 2000,
      cacheWriteInputTokens: 2000,
      latencyMs: 20,
      costUsd: 0.0093,
      priceSource: 'test prices',
    });
    expect(output.usage).toEqual({ inputTokens: 250, outputTokens: 30, cacheReadInputTokens: 2000, cacheWriteInputTokens: 2000 });
  });

  test('without prices the record has token counts and no cost', async () => {
    const { deps, bedrockMock, s3Mock } = setup({});
    bedrockMock.on(ConverseCommand).resolves(reply('{"total":120}'));
    await runBedrockStage(deps, event());
    const [record] = auditRecords(s3Mock);
    expect(record.model).toEqual({ calls: 1, inputTokens: 100, outputTokens: 20, latencyMs: 10 });
  });

  test('cache tokens without their own prices cost as input tokens', () => {
    const cost = callCost({ inputPer1k: 0.001, outputPer1k: 0.002, source: 's' }, { inputTokens: 1000, outputTokens: 1000, cacheReadInputTokens: 1000, cacheWriteInputTokens: 1000 });
    expect(cost).toBeCloseTo(0.005, 10);
  });
});
