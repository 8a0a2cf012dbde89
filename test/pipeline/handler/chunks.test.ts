/**
 * The chunk function's core (split, keep, reduce) against a mocked S3 that stores what is put, so
 * the chunks the split writes are the ones keep and reduce read.
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { ChunksDeps, chunkPages, handleChunks } from '../../../src/pipeline/handler/chunks';
import { ExtractedText, RunState } from '../../../src/shared';
import { ChunkItem, ChunkRef, ChunksConfig, SplitOutput } from '../../../src/shared/chunks-config';
import { awsError, docRef, fixedClock, makeValidators, RecordingLogger, s3Body } from '../../helpers/handler-test-kit';

const s3 = mockClient(S3Client);
const events = mockClient(EventBridgeClient);
const lambda = mockClient(LambdaClient);
const objects = new Map<string, string>();

const OUTPUT = {
  type: 'object',
  required: ['summary', 'riskScore', 'riskClauses'],
  properties: {
    summary: { type: 'string' },
    riskScore: { type: 'number', minimum: 0, maximum: 1 },
    riskClauses: { type: 'array', items: { type: 'string' } },
    urgent: { type: 'boolean' },
  },
};

const CONFIG: ChunksConfig = {
  step: 'Chunks',
  stage: 'Summarize',
  unit: 'pages',
  size: 3,
  charsPerToken: 4,
  maxChunks: 100,
  inlineMax: 0,
  reducers: { summary: 'concatenate', riskScore: 'max', riskClauses: 'union', urgent: 'any' },
  lambda: false,
  separator: '\n\n',
};

function deps(config: Partial<ChunksConfig> = {}, extra: Partial<ChunksDeps> = {}): ChunksDeps {
  return {
    config: { ...CONFIG, ...config },
    sourceStage: 'Extract',
    ctx: {
      s3: new S3Client({}),
      events: new EventBridgeClient({}),
      validators: makeValidators({ output: OUTPUT }),
      logger: new RecordingLogger(),
      pipeline: 'P',
      stage: 'Chunks',
      stageKind: 'chunks',
      workBucket: 'work',
      auditBucket: 'audit',
      auditBus: 'bus',
      now: fixedClock(),
    },
    ...extra,
  };
}

const pages = (n: number, text = (i: number) => `text of page ${i}`): ExtractedText => ({ pages: Array.from({ length: n }, (_, i) => ({ page: i + 1, text: text(i + 1) })) });

function state(): RunState {
  objects.set('work/stages/Extract/run-1/text.json', JSON.stringify(pages(8)));
  return { document: docRef(), results: { Extract: { text: { bucket: 'work', key: 'stages/Extract/run-1/text.json' }, pages: 8 } } };
}

beforeEach(() => {
  s3.reset();
  events.reset();
  lambda.reset();
  objects.clear();
  s3.on(PutObjectCommand).callsFake((input) => {
    objects.set(`${input.Bucket}/${input.Key}`, String(input.Body));
    return { VersionId: 'v1' };
  });
  s3.on(GetObjectCommand).callsFake((input) => {
    const body = objects.get(`${input.Bucket}/${input.Key}`);
    if (body === undefined) throw awsError('NoSuchKey', 404);
    return { Body: s3Body(body) };
  });
  events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [] });
});

async function splitRun(d: ChunksDeps): Promise<SplitOutput> {
  return await handleChunks(d, { action: 'split', state: state(), runId: 'run-1' }) as SplitOutput;
}

const refOf = (item: ChunkItem) => item.Chunks;

describe('split', () => {
  test('by pages: chunks of n pages written as text pointers (the OCR text shape) under the step prefix', async () => {
    const out = await splitRun(deps());
    expect(out.count).toBe(3);
    const refs = out.items!.map(refOf);
    expect(refs.map((r) => r.pages)).toEqual([{ first: 1, last: 3 }, { first: 4, last: 6 }, { first: 7, last: 8 }]);
    expect(refs[0].text).toEqual({ bucket: 'work', key: 'stages/Chunks/run-1/chunks/00000.json', versionId: 'v1', sha256: expect.stringMatching(/^[a-f0-9]{64}$/) });
    const second = JSON.parse(objects.get(`work/${refs[1].text.key}`)!) as ExtractedText;
    expect(second.pages.map((p) => p.page)).toEqual([4, 5, 6]);
    expect(second.pages[0].text).toBe('text of page 4');
    expect(refs[2].resultKey).toBe('stages/Chunks/run-1/results/00002.json');
  });

  test('by tokens: whole pages packed to the budget; a page longer than the budget is cut at whitespace', () => {
    const text = (n: number) => (n === 3 ? 'word '.repeat(60).trim() : `p${n} ${'x'.repeat(30)}`);
    const chunks = chunkPages(pages(4, text).pages, 'tokens', 20, 4); // 80 characters per chunk
    expect(chunks.every((c) => c.reduce((t, p) => t + p.text.length, 0) <= 80)).toBe(true);
    expect(chunks[0].map((p) => p.page)).toEqual([1, 2]);
    // page 3 (299 characters) spans several chunks, cut between words; nothing is lost
    const page3 = chunks.flat().filter((p) => p.page === 3).map((p) => p.text);
    expect(page3.length).toBeGreaterThan(3);
    expect(page3.every((part) => !part.startsWith(' ') && !part.endsWith('wor'))).toBe(true);
    expect(page3.join(' ')).toBe('word '.repeat(60).trim());
    expect(chunks[chunks.length - 1].map((p) => p.page)).toContain(4);
  });

  test('above inlineMax the items go to S3 for the Distributed Map; the state holds only the count and the pointer', async () => {
    const out = await splitRun(deps({ size: 1, inlineMax: 5 }));
    expect(out).toEqual({ count: 8, manifest: { bucket: 'work', key: 'stages/Chunks/run-1/chunks.json' } });
    const manifest = JSON.parse(objects.get('work/stages/Chunks/run-1/chunks.json')!) as ChunkItem[];
    expect(manifest.map((i) => refOf(i).index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  test('too many chunks: Document.TooLarge before any model runs; empty text: Document.NoText', async () => {
    await expect(splitRun(deps({ size: 1, maxChunks: 7 }))).rejects.toMatchObject({ name: 'Document.TooLarge', message: expect.stringMatching(/8 chunks, over the limit of 7/) });
    const d = deps();
    objects.set('work/stages/Extract/run-2/text.json', JSON.stringify(pages(3, () => '  ')));
    const blank = { document: docRef(), results: { Extract: { text: { bucket: 'work', key: 'stages/Extract/run-2/text.json' } } } };
    await expect(handleChunks(d, { action: 'split', state: blank, runId: 'run-2' })).rejects.toMatchObject({ name: 'Document.NoText' });
  });
});

describe('keep and reduce', () => {
  async function runChunks(d: ChunksDeps, answers: object[]): Promise<RunState> {
    const out = await splitRun(d);
    const refs = out.items!.map(refOf);
    for (const [i, ref] of refs.entries()) await handleChunks(d, { action: 'keep', chunk: ref, result: answers[i] });
    return await handleChunks(d, { action: 'reduce', state: state(), chunking: { count: out.count }, runId: 'run-1' }) as RunState;
  }

  test('named reducers per field: concatenated in chunk order, the maximum, the union, any; the result lands at results.<stage>', async () => {
    const out = await runChunks(deps(), [
      { summary: 'one', riskScore: 0.2, riskClauses: ['A'], urgent: false },
      { summary: 'two', riskScore: 0.8, riskClauses: ['B', 'A'], urgent: true },
      { summary: 'three', riskScore: 0.5, riskClauses: [], urgent: false },
    ]);
    expect(out.results!.Summarize).toEqual({ summary: 'one\n\ntwo\n\nthree', riskScore: 0.8, riskClauses: ['A', 'B'], urgent: true });
    expect(out.results!.Extract).toBeDefined();
    expect(Object.keys(out)).toEqual(['document', 'results']);
    // its audit record: under the step's own prefix, the reduced result's hash
    const record = JSON.parse(objects.get('audit/stages/Chunks/run-1.json')!);
    expect(record).toMatchObject({ stage: 'Chunks', stageKind: 'chunks', outcome: 'SUCCEEDED' });
  });

  test('a reduced result that fails the output contract is Contract.OutputViolation', async () => {
    // no chunk answered riskClauses: the reduced result misses a required field
    const result = runChunks(deps(), [{ summary: 'a', riskScore: 0.1 }, { summary: 'b', riskScore: 0.2 }, { summary: 'c', riskScore: 0.3 }]);
    await expect(result).rejects.toMatchObject({ name: 'Contract.OutputViolation', message: expect.stringMatching(/missing required property 'riskClauses'/) });
  });

  test('a field of the wrong type in a chunk is Contract.OutputViolation naming the field and the reducer', async () => {
    const result = runChunks(deps(), [{ summary: 'a', riskScore: 'high', riskClauses: [] }, { summary: 'b', riskScore: 0.2, riskClauses: [] }, { summary: 'c', riskScore: 0.3, riskClauses: [] }]);
    await expect(result).rejects.toMatchObject({ name: 'Contract.OutputViolation', message: expect.stringMatching(/'riskScore' \(max\) needs a number/) });
  });

  test('concatenated pointers (an offloaded field) are read, joined and written back as one pointer', async () => {
    const d = deps({ reducers: { summary: 'concatenate', riskScore: 'max', riskClauses: 'union' } });
    const pointerDeps: ChunksDeps = { ...d, ctx: { ...d.ctx, validators: makeValidators({ output: { ...OUTPUT, properties: { ...OUTPUT.properties, summary: { type: 'object' } } } }) } };
    const answers = ['alpha', 'beta', 'gamma'].map((s, i) => {
      objects.set(`work/stages/Summarize/run-1/s${i}.json`, JSON.stringify(s));
      return { summary: { bucket: 'work', key: `stages/Summarize/run-1/s${i}.json` }, riskScore: 0.1, riskClauses: [] };
    });
    const out = await runChunks(pointerDeps, answers);
    const summary = (out.results!.Summarize as any).summary;
    expect(summary).toMatchObject({ bucket: 'work', key: 'stages/Chunks/run-1/reduced/summary.json' });
    expect(JSON.parse(objects.get(`work/${summary.key}`)!)).toBe('alpha\n\nbeta\n\ngamma');
  });

  test('a reduced result over the inline limit fails with the fix (offload the field)', async () => {
    const big = 'x'.repeat(12_000);
    const result = runChunks(deps(), [0, 1, 2].map(() => ({ summary: big, riskScore: 0.1, riskClauses: [] })));
    await expect(result).rejects.toMatchObject({ name: 'Contract.OutputViolation', message: expect.stringMatching(/largest field: 'summary'.*offloadFields/) });
  });

  test('merge: booleans any, numbers summed, arrays united (the Bedrock screening and usage)', async () => {
    const d = deps({ reducers: { summary: 'first', riskScore: 'max', riskClauses: 'union', screening: 'merge', usage: 'merge' } });
    const answers = [
      { summary: 's', riskScore: 0.1, riskClauses: [], screening: { promptInjection: false, patterns: [], layers: { phrases: false } }, usage: { inputTokens: 10, outputTokens: 2 } },
      { summary: 's', riskScore: 0.1, riskClauses: [], screening: { promptInjection: true, patterns: ['phrases:ignore'], layers: { phrases: true } }, usage: { inputTokens: 20, outputTokens: 3 } },
      { summary: 's', riskScore: 0.1, riskClauses: [], screening: { promptInjection: false, patterns: [], layers: { phrases: false } }, usage: { inputTokens: 5, outputTokens: 1 } },
    ];
    const out = await runChunks(d, answers);
    expect((out.results!.Summarize as any).screening).toEqual({ promptInjection: true, patterns: ['phrases:ignore'], layers: { phrases: true } });
    expect((out.results!.Summarize as any).usage).toEqual({ inputTokens: 35, outputTokens: 6 });
  });

  test('a Lambda reducer gets every chunk\'s result in order; its reply is checked against the contract', async () => {
    let payload: any;
    lambda.on(InvokeCommand).callsFake((input) => {
      payload = JSON.parse(Buffer.from(input.Payload as Uint8Array).toString('utf8'));
      return { Payload: Buffer.from(JSON.stringify({ summary: 'all', riskScore: 0.4, riskClauses: ['Z'] })) };
    });
    const d = deps({ reducers: {}, lambda: true }, { reducer: { lambda: new LambdaClient({}), functionName: 'my-reducer' } });
    const answers = [1, 2, 3].map((n) => ({ summary: `s${n}`, riskScore: n / 10, riskClauses: [] }));
    const out = await runChunks(d, answers);
    expect(payload.chunks.map((c: any) => c.summary)).toEqual(['s1', 's2', 's3']);
    expect(payload.stage).toBe('Summarize');
    expect(out.results!.Summarize).toEqual({ summary: 'all', riskScore: 0.4, riskClauses: ['Z'] });

    lambda.on(InvokeCommand).resolves({ Payload: Buffer.from(JSON.stringify({ summary: 'all' })) } as any);
    await expect(runChunks(d, answers)).rejects.toMatchObject({ name: 'Contract.OutputViolation' });

    // the fields the stage kind adds itself are reduced by the step and win over the function's reply
    lambda.on(InvokeCommand).resolves({ Payload: Buffer.from(JSON.stringify({ summary: 'all', riskScore: 0.1, riskClauses: [], urgent: false })) } as any);
    const flagged = await runChunks(deps({ reducers: { urgent: 'any' }, lambda: true }, { reducer: { lambda: new LambdaClient({}), functionName: 'f' } }),
      [false, true, false].map((urgent) => ({ summary: 's', riskScore: 0.1, riskClauses: [], urgent })));
    expect((flagged.results!.Summarize as any).urgent).toBe(true);
  });

  test('keep writes only under the step\'s own prefix', async () => {
    const ref = { resultKey: 'stages/Other/run-1/results/00000.json', index: 0 } as ChunkRef;
    await expect(handleChunks(deps(), { action: 'keep', chunk: ref, result: {} })).rejects.toMatchObject({ name: 'Contract.InputViolation' });
    expect(objects.has('work/stages/Other/run-1/results/00000.json')).toBe(false);
  });
});
