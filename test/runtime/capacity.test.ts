import { ConditionalCheckFailedException, DynamoDBClient, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import {
  acquireCapacity, acquireNow, CapacityControl, CapacityEvent, capacityMetricLine, MemoryQuotaStore, QuotaStore,
} from '../../src/runtime/capacity';
// What the -quota handler entries import first: capacityFromEnv's DynamoDB store (ADR-0034).
import '../../src/runtime/dynamo-capacity';
import { DynamoQuotaStore } from '../../src/runtime/dynamo-quota-store';
import { capacityFromEnv, useQuotaStore } from '../../src/runtime/environment';
import { bedrockReservation, decide, QuotaConfig, QuotaDimension } from '../../src/shared/capacity';

const TPS10: QuotaDimension = { name: 'DetectDocumentText', ratePerSecond: 10, burst: 10 };
const BEDROCK: QuotaConfig = {
  id: 'haiku',
  dimensions: [
    { name: 'requests', ratePerSecond: 1, burst: 60 },
    { name: 'tokens', ratePerSecond: 1000, burst: 60_000 },
  ],
};

describe('decide (GCRA)', () => {
  test('an idle bucket grants its burst at once, then refuses with the exact wait', () => {
    let tat: number | undefined;
    for (let i = 0; i < 10; i++) {
      const d = decide(tat === undefined ? undefined : { tat }, TPS10, 1, 5_000);
      expect(d.granted).toBe(true);
      tat = d.tat;
    }
    const refused = decide({ tat: tat! }, TPS10, 1, 5_000);
    expect(refused).toEqual({ granted: false, tat: tat!, waitMs: 100 });
    // 100 ms later one unit has come back.
    expect(decide({ tat: tat! }, TPS10, 1, 5_100).granted).toBe(true);
    expect(decide({ tat: tat! }, TPS10, 2, 5_100)).toMatchObject({ granted: false, waitMs: 100 });
  });

  test('a cost above the bucket is charged as the whole bucket, so it is granted when the bucket is full', () => {
    expect(decide(undefined, TPS10, 50, 0)).toEqual({ granted: true, tat: 1000, waitMs: 0 });
    expect(decide({ tat: 1000 }, TPS10, 50, 500).granted).toBe(false);
  });

  test('Bedrock reserves the prompt (4 characters a token, rounded up) plus maxTokens', () => {
    expect(bedrockReservation(4001, 2048)).toBe(1001 + 2048);
  });
});

describe('acquireCapacity', () => {
  test('all or nothing: a refused dimension charges none of the others', async () => {
    const store = new MemoryQuotaStore();
    await acquireCapacity(store, BEDROCK, { requests: 1, tokens: 59_000 }, 0);
    await expect(acquireCapacity(store, BEDROCK, { requests: 1, tokens: 2_000 }, 0))
      .rejects.toMatchObject({ name: 'Capacity.Wait', message: 'quota haiku has no capacity now; expected wait 1 s' });
    const { buckets } = store.readNow('haiku');
    expect(buckets.requests.tat).toBe(1000); // only the first request
    // a smaller call still fits the tokens left
    await acquireCapacity(store, BEDROCK, { requests: 1, tokens: 1_000 }, 0);
    expect(store.readNow('haiku').buckets.requests.tat).toBe(2000);
  });

  test('a lost conditional write is read again; three lost writes ask the run to wait', async () => {
    const inner = new MemoryQuotaStore();
    let losses = 2;
    const racy: QuotaStore = {
      read: (id) => inner.read(id),
      write: async (id, v, b) => (losses-- > 0 ? false : inner.write(id, v, b)),
      refund: (id, ms) => inner.refund(id, ms),
    };
    await expect(acquireCapacity(racy, BEDROCK, { requests: 1 }, 0)).resolves.toMatchObject({ quotaId: 'haiku' });
    losses = 3;
    await expect(acquireCapacity(racy, BEDROCK, { requests: 1 }, 0)).rejects.toMatchObject({ name: 'Capacity.Wait' });
  });

  test('the synchronous twin decides the same as the async acquire', async () => {
    const a = new MemoryQuotaStore();
    const b = new MemoryQuotaStore();
    const q: QuotaConfig = { id: 't', dimensions: [TPS10] };
    for (let t = 0; t < 3000; t += 37) {
      const sync = acquireNow(a, q, { DetectDocumentText: 1 }, t).granted;
      const async = await acquireCapacity(b, q, { DetectDocumentText: 1 }, t).then(() => true, () => false);
      expect(sync).toBe(async);
    }
  });
});

describe('CapacityControl', () => {
  test('reports the grant with its units and the wait since the task was entered, then refunds unused tokens', async () => {
    const store = new MemoryQuotaStore();
    const events: CapacityEvent[] = [];
    const control = new CapacityControl(store, BEDROCK, 'Summarize', (e) => events.push(e), () => Date.parse('2026-01-01T00:00:30Z'));
    const out = await control.run({ requests: 1, tokens: 5_000 }, async () => 'reply', () => ({ requests: 1, tokens: 1_200 }), '2026-01-01T00:00:00Z');
    expect(out).toBe('reply');
    expect(events).toEqual([{ quota: 'haiku', stage: 'Summarize', outcome: 'granted', units: { requests: 1, tokens: 5_000 }, waitedSeconds: 30 }]);
    const now = Date.parse('2026-01-01T00:00:30Z');
    // 1,200 tokens used of 5,000 reserved: the bucket is charged 1.2 s, not 5 s
    expect(store.readNow('haiku').buckets.tokens.tat).toBe(now + 1_200);
  });

  test('reports a wait (with the backlog age) and a throttle, and re-throws both', async () => {
    const store = new MemoryQuotaStore();
    const events: CapacityEvent[] = [];
    const control = new CapacityControl(store, { id: 't', dimensions: [{ ...TPS10, burst: 1 }] }, 'Extract', (e) => events.push(e), () => 10_000);
    const throttled = Object.assign(new Error('slow down'), { name: 'ProvisionedThroughputExceededException' });
    await expect(control.run({ DetectDocumentText: 1 }, async () => { throw throttled; })).rejects.toBe(throttled);
    // The throttled call's unit came back: the next call gets it, the one after waits.
    await expect(control.run({ DetectDocumentText: 1 }, async () => 'x')).resolves.toBe('x');
    await expect(control.run({ DetectDocumentText: 1 }, async () => 'x', undefined, new Date(4_000).toISOString())).rejects.toMatchObject({ name: 'Capacity.Wait' });
    expect(events.map((e) => [e.outcome, e.waitedSeconds])).toEqual([['granted', undefined], ['throttled', undefined], ['granted', undefined], ['wait', 6]]);
  });

  test('metric lines are CloudWatch embedded metrics in the capacity namespace, by quota', () => {
    const line = JSON.parse(capacityMetricLine({ quota: 'haiku', stage: 'S', outcome: 'granted', units: { tokens: 10 }, waitedSeconds: 3 }, 42));
    expect(line).toEqual({
      _aws: {
        Timestamp: 42,
        CloudWatchMetrics: [{
          Namespace: 'cdk-ai-pipeline/Capacity',
          Dimensions: [['Quota']],
          Metrics: [{ Name: 'Granted', Unit: 'Count' }, { Name: 'Units_tokens', Unit: 'Count' }, { Name: 'WaitTime', Unit: 'Seconds' }],
        }],
      },
      Quota: 'haiku',
      Stage: 'S',
      Granted: 1,
      Units_tokens: 10,
      WaitTime: 3,
    });
    expect(JSON.parse(capacityMetricLine({ quota: 'q', stage: 'S', outcome: 'wait', waitedSeconds: 90 }, 0))).toMatchObject({ Waits: 1, BacklogAge: 90 });
  });
});

describe('DynamoQuotaStore', () => {
  const ddb = mockClient(DynamoDBClient);
  beforeEach(() => ddb.reset());

  test('reads the buckets strongly consistent; writes only over the version it read', async () => {
    ddb.on(GetItemCommand).resolves({ Item: { pk: { S: 'haiku' }, v: { N: '7' }, tat_tokens: { N: '1500' } } });
    ddb.on(UpdateItemCommand).resolves({});
    const store = new DynamoQuotaStore(new DynamoDBClient({}), 'buckets');
    expect(await store.read('haiku')).toEqual({ version: 7, buckets: { tokens: { tat: 1500 } } });
    expect(ddb.commandCalls(GetItemCommand)[0].args[0].input).toMatchObject({ TableName: 'buckets', ConsistentRead: true });
    expect(await store.write('haiku', 7, { tokens: { tat: 2500.4 } })).toBe(true);
    expect(ddb.commandCalls(UpdateItemCommand)[0].args[0].input).toEqual({
      TableName: 'buckets',
      Key: { pk: { S: 'haiku' } },
      UpdateExpression: 'SET #v = :next, #d0 = :d0',
      ConditionExpression: '#v = :v',
      ExpressionAttributeNames: { '#v': 'v', '#d0': 'tat_tokens' },
      ExpressionAttributeValues: { ':next': { N: '8' }, ':d0': { N: '2500' }, ':v': { N: '7' } },
    });
  });

  test('a failed condition is a lost race (false); other errors propagate', async () => {
    const store = new DynamoQuotaStore(new DynamoDBClient({}), 'buckets');
    ddb.on(UpdateItemCommand).rejectsOnce(new ConditionalCheckFailedException({ message: 'no', $metadata: {} }));
    expect(await store.write('haiku', 0, { requests: { tat: 1 } })).toBe(false);
    expect(ddb.commandCalls(UpdateItemCommand)[0].args[0].input.ConditionExpression).toBe('attribute_not_exists(#v)');
    ddb.reset();
    ddb.on(UpdateItemCommand).rejects(Object.assign(new Error('x'), { name: 'ProvisionedThroughputExceededException' }));
    await expect(store.write('haiku', 0, { requests: { tat: 1 } })).rejects.toMatchObject({ name: 'ProvisionedThroughputExceededException' });
  });

  test('capacityFromEnv in a -quota bundle: buckets in the named table, one metric line per event', async () => {
    ddb.on(GetItemCommand).resolves({});
    ddb.on(UpdateItemCommand).resolves({});
    const lines: string[] = [];
    const control = capacityFromEnv('Summarize', { CAPACITY_TABLE: 'buckets', CAPACITY_QUOTA: JSON.stringify(BEDROCK) }, (l) => lines.push(l))!;
    await control.run({ requests: 1, tokens: 10 }, async () => 'ok');
    expect(ddb.commandCalls(GetItemCommand)[0].args[0].input).toMatchObject({ TableName: 'buckets', Key: { pk: { S: 'haiku' } } });
    expect(ddb.commandCalls(UpdateItemCommand)[0].args[0].input.ConditionExpression).toBe('attribute_not_exists(#v)');
    expect(lines.map((l) => JSON.parse(l))).toEqual([expect.objectContaining({ Quota: 'haiku', Stage: 'Summarize', Granted: 1, Units_requests: 1, Units_tokens: 10 })]);
  });

  test('a refund moves the bucket back with ADD', async () => {
    ddb.on(UpdateItemCommand).resolves({});
    await new DynamoQuotaStore(new DynamoDBClient({}), 'buckets').refund('haiku', { tokens: 3800 });
    expect(ddb.commandCalls(UpdateItemCommand)[0].args[0].input).toMatchObject({
      UpdateExpression: 'ADD #v :one, #d0 :d0',
      ExpressionAttributeValues: { ':one': { N: '1' }, ':d0': { N: '-3800' } },
    });
  });
});

test('capacityFromEnv in a bundle without the DynamoDB store: a quota in the environment is an error naming the fix', () => {
  const before = useQuotaStore(undefined);
  try {
    expect(() => capacityFromEnv('Summarize', { CAPACITY_TABLE: 'buckets', CAPACITY_QUOTA: JSON.stringify(BEDROCK) }))
      .toThrow(/stage Summarize has a quota \(CAPACITY_TABLE is set\) but its handler bundle has no capacity control: .*-quota bundle/);
    // Without a quota, or with the local runner's store, no DynamoDB store is needed.
    expect(capacityFromEnv('Summarize', {})).toBeUndefined();
    expect(capacityFromEnv('Summarize', { CAPACITY_TABLE: 'buckets', CAPACITY_QUOTA: JSON.stringify(BEDROCK) }, () => {}, { store: new MemoryQuotaStore() })).toBeDefined();
  } finally {
    useQuotaStore(before);
  }
});

test('capacityFromEnv: none without a quota; a local store when the runner gives one', async () => {
  expect(capacityFromEnv('S', {})).toBeUndefined();
  const env = { CAPACITY_TABLE: 'buckets', CAPACITY_QUOTA: JSON.stringify(BEDROCK) };
  const store = new MemoryQuotaStore();
  const control = capacityFromEnv('S', env, () => {}, { store, now: () => 0 })!;
  expect(control.quota).toEqual(BEDROCK);
  await control.run({ requests: 1 }, async () => 1);
  expect(store.readNow('haiku').buckets.requests.tat).toBe(1000);
});
