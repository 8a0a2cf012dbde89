/**
 * The REAL SageMaker and Bedrock stage cores over the local adapters, with the flagship example's
 * prompt and schemas: the local classifier and summarizer satisfy the example's contracts.
 */
import * as fs from 'fs';
import * as path from 'path';
import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { EMPLOYMENT_TEXT, INJECTED_TEXT, MSA_TEXT, NDA_TEXT, tempDir } from './fixtures';
import { handler as classifier } from '../../../../examples/legal-contracts/local-models/classifier';
import { handler as summarizer } from '../../../../examples/legal-contracts/local-models/summarizer';
import { LocalEvents } from '../../../../src/cli/local/adapters/local-events';
import { LocalLambda } from '../../../../src/cli/local/adapters/local-lambda';
import { LocalS3 } from '../../../../src/cli/local/adapters/local-s3';
import { Client, RunContext, userModelClient } from '../../../../src/cli/local/model-sources';
import { StageContext } from '../../../../src/runtime/stage-runner';
import { ErrorNames, StageInvocation } from '../../../../src/shared';
import { runBedrockStage } from '../../../../src/stages/bedrock/handler/bedrock-stage';
import { runLambdaProxyStage } from '../../../../src/stages/lambda/handler/lambda-proxy-stage';
import { runSageMakerStage } from '../../../../src/stages/sagemaker/handler/sagemaker-stage';
import { fixedClock, makeValidators, RecordingLogger, STAGE_VIEW_SCHEMA } from '../../../helpers/handler-test-kit';

const EXAMPLE = path.join(__dirname, '../../../../examples/legal-contracts');
const readJson = (p: string) => JSON.parse(fs.readFileSync(path.join(EXAMPLE, p), 'utf8'));
const CLASSIFICATION_SCHEMA = readJson('schemas/classification.schema.json');
const SUMMARY_SCHEMA = readJson('schemas/summary.schema.json');
const PROMPT = fs.readFileSync(path.join(EXAMPLE, 'prompts/summarize.txt'), 'utf8');

const run: RunContext = { document: 'contract.pdf', sha256: '0'.repeat(64), plan: () => ({}), nextCall: () => 1 };
const model = (kind: 'bedrock' | 'sagemaker', stage: string, fn: (...args: any[]) => unknown): Client => userModelClient(kind, stage, `${stage}.ts`, fn, () => run);

let cleanup: () => void;
let s3: LocalS3;
let events: LocalEvents;
beforeEach(() => {
  const t = tempDir();
  cleanup = t.cleanup;
  s3 = new LocalS3(t.dir);
  events = new LocalEvents();
});
afterEach(() => cleanup());

function ctx(stage: string, stageKind: string, validators: ReturnType<typeof makeValidators>): StageContext {
  return {
    s3: s3 as unknown as S3Client,
    events: events as unknown as EventBridgeClient,
    validators,
    logger: new RecordingLogger(),
    pipeline: 'Contracts',
    stage,
    stageKind,
    workBucket: 'work',
    auditBucket: 'audit',
    auditBus: 'audit-bus',
    now: fixedClock(),
  };
}

/** A run state after the Extract stage: the text as the Textract stage writes it. */
async function afterExtract(text: string, results: object = {}): Promise<StageInvocation> {
  const pointer = await s3.putObject('work', 'stages/Extract/run-1/text.json', JSON.stringify({ pages: [{ page: 1, text }] }));
  return {
    state: {
      document: { bucket: 'docs', key: 'incoming/contract.pdf' },
      results: { Extract: { text: { bucket: 'work', key: 'stages/Extract/run-1/text.json', versionId: pointer.VersionId }, pages: 1, mode: 'sync' }, ...results },
    },
    runId: 'run-1',
  };
}

async function classify(text: string) {
  return runSageMakerStage({
    ctx: ctx('Classify', 'sagemaker', makeValidators({ input: STAGE_VIEW_SCHEMA, output: CLASSIFICATION_SCHEMA })),
    sagemaker: model('sagemaker', 'Classify', classifier) as unknown as SageMakerRuntimeClient,
    config: { stage: 'Classify', kind: 'sagemaker', request: { text: 'text' }, maxInputChars: 100_000 },
    endpointName: 'contract-classifier',
  }, await afterExtract(text));
}

async function summarize(text: string, documentType: string, bedrock = model('bedrock', 'Summarize', summarizer)) {
  const output = await runBedrockStage({
    ctx: ctx('Summarize', 'bedrock', makeValidators({ input: STAGE_VIEW_SCHEMA, model: SUMMARY_SCHEMA })),
    bedrock: bedrock as unknown as BedrockRuntimeClient,
    config: {
      stage: 'Summarize',
      kind: 'bedrock',
      modelId: 'us.anthropic.claude-3-5-haiku-20241022-v1:0',
      prompt: PROMPT,
      promptVersion: '1',
      systemPrompt: 'You are a meticulous contract reviewer.',
      maxTokens: 2000,
      temperature: 0,
      offloadFields: ['summary'],
      maxInputChars: 100_000,
    },
  }, await afterExtract(text, { Classify: { documentType, confidence: 0.9 } }));
  return output as any;
}

test('SageMaker core + the example\'s local classifier (as --model): the classification satisfies the example\'s contract', async () => {
  await expect(classify(NDA_TEXT)).resolves.toEqual({ documentType: 'NDA', confidence: expect.any(Number) });
  await expect(classify(EMPLOYMENT_TEXT)).resolves.toMatchObject({ documentType: 'EMPLOYMENT' });
  expect(s3.getJson('audit', 'stages/Classify/run-1.json')).toMatchObject({ outcome: 'SUCCEEDED', modelId: 'contract-classifier' });
});

test('Bedrock core + the example\'s local summarizer (as --model): scores, clauses, offloaded summary, screening', async () => {
  const msa = await summarize(MSA_TEXT, 'MSA');
  expect(msa.riskScore).toBeGreaterThanOrEqual(0.7);
  expect(msa.riskClauses.map((c: any) => c.type)).toEqual(['UNLIMITED_LIABILITY', 'INDEMNIFICATION']);
  expect(msa.summary).toMatchObject({ bucket: 'work', key: 'stages/Summarize/run-1/summary.json' });
  expect(s3.getJson('work', 'stages/Summarize/run-1/summary.json')).toContain('MASTER SERVICES AGREEMENT');
  expect(msa.screening).toEqual({
    promptInjection: false,
    patterns: [],
    injectionSuspected: false,
    layers: { normalization: false, phrases: false, structure: false },
  });

  expect((await summarize(NDA_TEXT, 'NDA')).riskScore).toBeLessThan(0.3);
});

test('the injected contract fools the local model (riskScore 0) but the core\'s screening flags it', async () => {
  const out = await summarize(INJECTED_TEXT, 'MSA');
  expect(out.riskScore).toBe(0);
  expect(out.riskClauses).toEqual([]);
  expect(out.screening.promptInjection).toBe(true);
});

test('a model reply that stays invalid after the repair attempt is Model.InvalidOutput', async () => {
  const requests: any[] = [];
  const bedrock = model('bedrock', 'Summarize', (request) => {
    requests.push(request);
    return 'I think this contract is fine.';
  });
  await expect(summarize(NDA_TEXT, 'NDA', bedrock)).rejects.toMatchObject({ name: ErrorNames.MODEL_INVALID_OUTPUT });
  expect(requests).toHaveLength(2);
  // The repair turn carries the first turn and asks again.
  expect(requests[1].messages.length).toBeGreaterThan(requests[0].messages.length);
  expect(requests[1].messages[0]).toEqual(requests[0].messages[0]);
});

test('Lambda proxy core + LocalLambda: a user function\'s error keeps its name', async () => {
  const lambda = new LocalLambda((name) => (name === 'user-fn'
    ? async (event: any) => {
      if (event.results.Extract) throw Object.assign(new Error('nothing useful'), { name: 'Document.NoText' });
      return {};
    }
    : undefined));
  await expect(runLambdaProxyStage({
    ctx: ctx('Enrich', 'lambda', makeValidators({ input: STAGE_VIEW_SCHEMA })),
    lambda: lambda as unknown as LambdaClient,
    config: { stage: 'Enrich', kind: 'lambda' },
    functionName: 'user-fn',
  }, await afterExtract('x'))).rejects.toMatchObject({ name: ErrorNames.DOCUMENT_NO_TEXT });
});
