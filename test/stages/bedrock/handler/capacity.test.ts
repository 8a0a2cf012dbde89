/**
 * The Bedrock handler under a quota: capacity is taken before the screening's guardrail call, a
 * document without capacity raises `Capacity.Wait` (no model call, no guardrail call, no audit
 * record), and the tokens the reply did not use are given back.
 */
import 'aws-sdk-client-mock-jest';
import { ApplyGuardrailCommand, BedrockRuntimeClient, ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import { auditRecords, caught, mockText, REGION, stageContext, WORK_BUCKET } from './bedrock-test-kit';
import { CapacityControl, CapacityEvent, MemoryQuotaStore } from '../../../../src/runtime/capacity';
import { BedrockStageConfig, QuotaConfig, S3Pointer } from '../../../../src/shared';
import { runBedrockStage } from '../../../../src/stages/bedrock/handler/bedrock-stage';
import { awsError, invocation, makeValidators, POINTER_SCHEMA, runState, STAGE_VIEW_SCHEMA } from '../../../helpers/handler-test-kit';

const TEXT: S3Pointer = { bucket: WORK_BUCKET, key: 'stages/Extract/run-0001/text.json', versionId: 'tv1' };
const NDA = 'This Mutual Non-Disclosure Agreement is made between Acme Corp and Beta LLC.';
const CONFIG: BedrockStageConfig = {
  stage: 'Summarize',
  kind: 'bedrock',
  modelId: 'us.anthropic.claude-3-5-haiku-20241022-v1:0',
  prompt: 'Review the contract.\n<contract>\n{{text}}\n</contract>',
  promptVersion: '1',
  maxTokens: 1000,
  temperature: 0,
  offloadFields: [],
  maxInputChars: 100_000,
  screening: {
    normalization: 'enforce',
    phrases: 'enforce',
    structure: 'enforce',
    guardrail: 'enforce',
    spotlight: 'off',
    promptAttackGuardrail: { id: 'gr', version: 'DRAFT' },
    delimiterTags: ['contract'],
    outputFields: ['riskScore'],
  },
};
const QUOTA: QuotaConfig = { id: 'haiku', dimensions: [{ name: 'requests', ratePerSecond: 1, burst: 2 }, { name: 'tokens', ratePerSecond: 100, burst: 10_000 }] };
const NOW = Date.parse('2025-01-01T00:01:00Z');

function setup(store = new MemoryQuotaStore()) {
  const output = { type: 'object', required: ['riskScore'], properties: { riskScore: { type: 'number' }, response: POINTER_SCHEMA } };
  const fx = stageContext('Summarize', 'bedrock', makeValidators({ input: STAGE_VIEW_SCHEMA, output, model: { type: 'object', required: ['riskScore'] } }));
  const events: CapacityEvent[] = [];
  const capacity = new CapacityControl(store, QUOTA, 'Summarize', (e) => events.push(e), () => NOW);
  const bedrock = new BedrockRuntimeClient(REGION);
  const bedrockMock = mockClient(bedrock);
  bedrockMock.on(ApplyGuardrailCommand).resolves({ action: 'NONE', outputs: [], assessments: [], $metadata: {} } as any);
  mockText(fx.s3Mock, TEXT, [NDA]);
  const deps = { ctx: { ...fx.ctx, capacity }, bedrock, config: CONFIG };
  const event = invocation({ state: runState({ results: { Extract: { text: TEXT, pages: 1 } } }), enteredAt: '2025-01-01T00:00:00Z' });
  return { ...fx, deps, bedrockMock, events, store, event };
}

describe('Bedrock stage with a quota', () => {
  test('granted: the reservation (prompt / 4 + maxTokens) is taken, then settled to the tokens the reply used', async () => {
    const { deps, bedrockMock, events, store, event } = setup();
    bedrockMock.on(ConverseCommand).resolves({
      output: { message: { role: 'assistant', content: [{ text: '{"riskScore":0.1}' }] } },
      stopReason: 'end_turn',
      usage: { inputTokens: 40, outputTokens: 10, totalTokens: 50 },
      $metadata: {},
    } as any);
    await runBedrockStage(deps, event);
    const [granted] = events;
    expect(granted).toMatchObject({ quota: 'haiku', outcome: 'granted', waitedSeconds: 60 });
    expect(granted.units!.requests).toBe(1);
    expect(granted.units!.tokens).toBeGreaterThan(1000);
    // After the refund the tokens bucket holds 50 tokens' worth: 0.5 s at 100 tokens/s.
    expect(store.readNow('haiku').buckets.tokens.tat).toBe(NOW + 500);
  });

  test('no capacity: Capacity.Wait before any guardrail or model call, and no audit record', async () => {
    const store = new MemoryQuotaStore();
    store.writeNow('haiku', 0, { requests: { tat: NOW + 5_000 } });
    const { deps, bedrockMock, events, s3Mock, event } = setup(store);
    const err = await caught(() => runBedrockStage(deps, event));
    expect(err).toMatchObject({ name: 'Capacity.Wait', message: expect.stringMatching(/^quota haiku has no capacity now; expected wait 4 s$/) });
    expect(bedrockMock).not.toHaveReceivedCommand(ApplyGuardrailCommand);
    expect(bedrockMock).not.toHaveReceivedCommand(ConverseCommand);
    expect(auditRecords(s3Mock)).toEqual([]);
    expect(events).toEqual([{ quota: 'haiku', stage: 'Summarize', outcome: 'wait', waitedSeconds: 60 }]);
  });

  test('throttled anyway: reported, the grant given back, the error re-thrown for the long retry', async () => {
    const { deps, bedrockMock, events, store, event } = setup();
    bedrockMock.on(ConverseCommand).rejects(awsError('ThrottlingException', 429));
    const err = await caught(() => runBedrockStage(deps, event));
    expect(err.name).toBe('ThrottlingException');
    expect(events.map((e) => e.outcome)).toEqual(['granted', 'throttled']);
    expect(store.readNow('haiku').buckets).toEqual({ requests: { tat: NOW }, tokens: { tat: NOW } });
  });
});
