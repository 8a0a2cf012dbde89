import { BedrockRuntimeClient, ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
import { ContractBedrock, estimateTokens } from '../../../../src/cli/local/stand-ins/contract-bedrock';
import { BedrockStageConfig, S3Pointer } from '../../../../src/shared';
import { runBedrockStage } from '../../../../src/stages/bedrock/handler/bedrock-stage';
import { structuredSchema } from '../../../../src/stages/bedrock/model-catalog';
import { invocation, makeValidators, runState, STAGE_VIEW_SCHEMA } from '../../../helpers/handler-test-kit';
import { auditRecords, mockText, stageContext, WORK_BUCKET } from '../../../stages/bedrock/handler/bedrock-test-kit';

const MODEL_SCHEMA = { type: 'object', required: ['total'], properties: { total: { type: 'number', minimum: 0 } } };
const OTHER_SCHEMA = { type: 'object', required: ['label'], properties: { label: { enum: ['A', 'B'] } }, additionalProperties: false };
const SYSTEM = 'You read invoices and reply with their total as JSON. '.repeat(20);

function converse(schema?: object, system = SYSTEM, cache = false) {
  return new ConverseCommand({
    modelId: 'm',
    system: [{ text: system }, ...(cache ? [{ cachePoint: { type: 'default' as const } }] : [])],
    messages: [{ role: 'user', content: [{ text: 'Invoice 7: total 12.50' }] }],
    inferenceConfig: { maxTokens: 500 },
    ...(schema ? { outputConfig: { textFormat: { type: 'json_schema' as const, structure: { jsonSchema: { name: 'x', schema: JSON.stringify(schema) } } } } } : {}),
  });
}

describe('ContractBedrock: structured output and prompt caching', () => {
  test('with outputConfig the reply is an instance of the request schema, not of the stage schema', async () => {
    const bedrock = new ContractBedrock({ schema: MODEL_SCHEMA, seed: () => 'seed' });
    const out = await bedrock.send(converse(OTHER_SCHEMA));
    const value = JSON.parse(out.output.message.content[0].text);
    expect(Object.keys(value)).toEqual(['label']);
    expect(['A', 'B']).toContain(value.label);
    expect(bedrock.calls[0].structured).toBe(true);
    const plain = JSON.parse((await bedrock.send(converse())).output.message.content[0].text);
    expect(Object.keys(plain)).toEqual(['total']);
  });

  test('the spotlight field of a structured schema is left to the local guardrail (never drawn at random)', async () => {
    const bedrock = new ContractBedrock({ schema: MODEL_SCHEMA, seed: () => 'seed' });
    const out = await bedrock.send(converse(structuredSchema(MODEL_SCHEMA, true)));
    expect(JSON.parse(out.output.message.content[0].text)).not.toHaveProperty('injectionSuspected');
  });

  test('a cache point: the first call writes the system prompt to the cache, the next reads it', async () => {
    const bedrock = new ContractBedrock({ schema: MODEL_SCHEMA, seed: () => 'seed' });
    const first = (await bedrock.send(converse(undefined, SYSTEM, true))).usage;
    const second = (await bedrock.send(converse(undefined, SYSTEM, true))).usage;
    const cached = estimateTokens(SYSTEM);
    expect(first).toMatchObject({ cacheWriteInputTokens: cached, cacheReadInputTokens: 0 });
    expect(second).toMatchObject({ cacheWriteInputTokens: 0, cacheReadInputTokens: cached });
    expect(second.inputTokens).toBe(first.inputTokens);
    expect(second.totalTokens).toBe(second.inputTokens + second.outputTokens + cached);
    const uncached = (await bedrock.send(converse())).usage;
    expect(uncached).not.toHaveProperty('cacheReadInputTokens');
  });

  test('through the real Bedrock core: a structured-output call, cache tokens and the cost in the audit record', async () => {
    const validators = makeValidators({ input: STAGE_VIEW_SCHEMA, output: { type: 'object' }, model: MODEL_SCHEMA });
    const fx = stageContext('Total', 'bedrock', validators);
    const text: S3Pointer = { bucket: WORK_BUCKET, key: 'stages/Extract/run-0001/text.json', versionId: 'tv1' };
    mockText(fx.s3Mock, text, ['Invoice 7: total 12.50']);
    const bedrock = new ContractBedrock({ schema: MODEL_SCHEMA, validate: validators.model, seed: () => 'doc:Total' });
    const config: BedrockStageConfig = {
      stage: 'Total',
      kind: 'bedrock',
      modelId: 'm',
      prompt: 'Total of {{text}}',
      promptVersion: '1',
      systemPrompt: SYSTEM,
      maxTokens: 500,
      temperature: 0,
      offloadFields: [],
      maxInputChars: 1000,
      structuredOutput: { name: 'Total', schema: JSON.stringify(structuredSchema(MODEL_SCHEMA, false)) },
      promptCache: true,
      price: { inputPer1k: 0.003, outputPer1k: 0.015, cacheReadPer1k: 0.0003, cacheWritePer1k: 0.00375, source: 'test prices' },
    };
    const output = await runBedrockStage({ ctx: fx.ctx, bedrock: bedrock as unknown as BedrockRuntimeClient, config },
      invocation({ state: runState({ results: { Extract: { text, pages: 1 } } }) }));
    expect(typeof output.total).toBe('number');
    expect(bedrock.calls[0].structured).toBe(true);
    const [record] = auditRecords(fx.s3Mock);
    const m = record.model!;
    expect(m.cacheWriteInputTokens).toBe(estimateTokens(SYSTEM));
    expect(m.priceSource).toBe('test prices');
    const expected = (m.inputTokens! * 0.003 + m.outputTokens! * 0.015 + m.cacheWriteInputTokens! * 0.00375) / 1000;
    expect(m.costUsd).toBeCloseTo(expected, 6);
    expect(m.costUsd).toBeGreaterThan(0);
  });
});
