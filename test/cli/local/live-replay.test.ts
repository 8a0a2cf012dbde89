/**
 * --live, --record and --replay through the legal example's real definition. AWS is unreachable
 * here: live mode is checked with aws-sdk-client-mock (the real SDK client is built and called).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BedrockRuntimeClient, ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
import { App } from 'aws-cdk-lib';
import { mockClient } from 'aws-sdk-client-mock';
import { LegalContractsStack } from '../../../examples/legal-contracts/lib/legal-contracts-stack';
import { parseArgs, runLocalCommand } from '../../../src/cli/local/command';

const EXAMPLE = path.join(__dirname, '..', '..', '..', 'examples', 'legal-contracts');
const SAMPLES = ['nda-short.pdf', 'msa-high-risk.pdf', 'sow.pdf'].map((f) => path.join(EXAMPLE, 'samples', f));
const tmp = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), prefix));

let assembly: string;
beforeAll(() => {
  assembly = tmp('live-cdkout-');
  const app = new App({ outdir: assembly, context: { 'aws:cdk:enable-asset-metadata': true } });
  new LegalContractsStack(app, 'LegalContractIntake', { env: { account: '111111111111', region: 'us-east-1' } });
  app.synth();
});

const bedrock = mockClient(BedrockRuntimeClient);
afterEach(() => bedrock.reset());
afterAll(() => bedrock.restore());

/** What "the real Bedrock" answers here: a high risk for every contract. */
function answerHighRisk() {
  bedrock.on(ConverseCommand).resolves({
    output: { message: { role: 'assistant', content: [{ text: '{"riskScore":0.9,"riskClauses":[{"type":"INDEMNIFICATION","severity":"HIGH"}],"summary":"A risky contract."}' }] } },
    stopReason: 'end_turn',
    usage: { inputTokens: 1200, outputTokens: 40, totalTokens: 1240 },
    metrics: { latencyMs: 800 },
  });
}

test('--live sends the stage\'s real Converse request to the real client; the other stages stay local', async () => {
  answerHighRisk();
  const outcomes = await runLocalCommand({ documents: SAMPLES, out: tmp('live-out-'), assembly, cwd: EXAMPLE, quiet: true, live: ['Summarize'] }, () => undefined);
  expect(outcomes.map((o) => o.route)).toEqual(['legal', 'legal', 'legal']);
  const calls = bedrock.commandCalls(ConverseCommand);
  expect(calls).toHaveLength(3);
  const input = calls[0].args[0].input;
  expect(input.modelId).toMatch(/anthropic|amazon|meta|mistral/);
  expect(JSON.stringify(input.messages)).toContain('Mutual Non-Disclosure Agreement');
  // The local classifier (a --model in the example's settings) still answered Classify.
  expect(outcomes[0].fields['Classify.documentType']).toBe('NDA');
});

test('--record saves each model call; --replay answers from it offline, with the same routes', async () => {
  answerHighRisk();
  const recordings = tmp('recordings-');
  const recorded = await runLocalCommand({ documents: SAMPLES, out: tmp('rec-out-'), assembly, cwd: EXAMPLE, quiet: true, live: ['Summarize'], record: recordings }, () => undefined);
  const files = fs.readdirSync(path.join(recordings, 'Summarize'));
  expect(files).toHaveLength(3);
  const pair = JSON.parse(fs.readFileSync(path.join(recordings, 'Summarize', files[0]), 'utf8'));
  expect(pair).toMatchObject({ stage: 'Summarize', kind: 'bedrock', call: 1, request: { modelId: expect.any(String) }, reply: { stopReason: 'end_turn' } });
  // The classifier's calls are recorded too (from the local model).
  expect(fs.readdirSync(path.join(recordings, 'Classify'))).toHaveLength(3);

  bedrock.reset();
  const replayed = await runLocalCommand({ documents: SAMPLES, out: tmp('replay-out-'), assembly, cwd: EXAMPLE, quiet: true, replay: recordings }, () => undefined);
  expect(bedrock.commandCalls(ConverseCommand)).toHaveLength(0);
  expect(replayed.map((o) => [o.document, o.route])).toEqual(recorded.map((o) => [o.document, o.route]));
  expect(replayed.map((o) => o.fields)).toEqual(recorded.map((o) => o.fields));
});

test('--replay without a recording for a document names the stage, the document and the fix', async () => {
  const empty = tmp('empty-recordings-');
  await expect(runLocalCommand({ documents: SAMPLES.slice(0, 1), out: tmp('replay-miss-'), assembly, cwd: EXAMPLE, quiet: true, replay: empty }, () => undefined))
    .rejects.toThrow(/--replay .*: no recorded reply for stage Classify, document nda-short.pdf \(call 1\).*record it with --record/);
});

test('--live on a stage that is not a model stage, or does not exist, is a usage error', async () => {
  await expect(runLocalCommand({ documents: SAMPLES.slice(0, 1), out: tmp('live-bad-'), assembly, cwd: EXAMPLE, quiet: true, live: ['Extract'] }, () => undefined))
    .rejects.toThrow(/--live Extract: stage Extract is a textract stage/);
  await expect(runLocalCommand({ documents: SAMPLES.slice(0, 1), out: tmp('live-bad-'), assembly, cwd: EXAMPLE, quiet: true, live: ['Nope'] }, () => undefined))
    .rejects.toThrow(/--live Nope: the pipeline has no stage 'Nope'; its stages are Extract, Language, ToEnglish, Classify, Summarize/);
});

test('the flags parse with util.parseArgs; repeated and comma-separated --live', () => {
  expect(parseArgs(['local', '--documents', 'a', 'b', '--out', 'o', '--live', 'A,B', '--live', 'C', '--record', 'r'])).toMatchObject({
    documents: ['a', 'b'], out: 'o', live: ['A', 'B', 'C'], record: 'r',
  });
  expect(parseArgs(['local', '--documents', 'a', '--out', 'o', '--model', 'S=m.ts#fn', '--scenario', 's.json']).models).toEqual({ S: 'm.ts#fn' });
  expect(() => parseArgs(['local', '--documents', 'a', '--out', 'o', '--record', 'r', '--replay', 'r'])).toThrow(/exclude each other/);
  expect(() => parseArgs(['local', '--documents', 'a', '--out', 'o', '--bogus'])).toThrow(/Unknown option '--bogus'/);
  expect(() => parseArgs(['local', '--out', 'o', 'stray', '--documents', 'a'])).toThrow(/unexpected argument 'stray'/);
});
