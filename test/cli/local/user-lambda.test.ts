/**
 * A pipeline with a Lambda stage of the user's own: the runner runs the function's Node.js asset
 * from the cloud assembly, or a module named with --function.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DocumentTrigger, InferenceStage, Pipeline, StageContract } from '../../../src';
import { parseArgs, runLocalCommand } from '../../../src/cli/local/command';

const tmp = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), prefix));

/** The user's function: counts the bytes of the key; a key with "bad" raises a named error. */
const USER_CODE = `
exports.main = async (event) => {
  if (event.document.key.includes('bad')) {
    const err = new Error('nothing to read');
    err.name = 'Document.NoText';
    throw err;
  }
  return { keyLength: event.document.key.length, runId: event.runId };
};`;

const OUTPUT = StageContract.fromObject({
  type: 'object',
  required: ['keyLength'],
  properties: { keyLength: { type: 'integer' }, runId: { type: 'string' } },
});

function synth(): string {
  const codeDir = tmp('user-fn-');
  fs.writeFileSync(path.join(codeDir, 'index.js'), USER_CODE);
  const outdir = tmp('user-cdkout-');
  const app = new App({ outdir, context: { 'aws:cdk:enable-asset-metadata': true } });
  const stack = new Stack(app, 'UserStack', { env: { account: '111111111111', region: 'us-east-1' } });
  const fn = new lambda.Function(stack, 'Counter', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.main',
    code: lambda.Code.fromAsset(codeDir),
  });
  const trigger = DocumentTrigger.s3Upload(stack, 'Upload');
  const count = InferenceStage.lambda(stack, 'Count', { function: fn, output: OUTPUT });
  new Pipeline(stack, 'Counting', { trigger, stages: [count] });
  app.synth();
  return outdir;
}

describe('a user Lambda stage in the local runner', () => {
  let assembly: string;
  let docs: string;
  beforeAll(() => {
    assembly = synth();
    docs = tmp('user-docs-');
    fs.writeFileSync(path.join(docs, 'good.txt'), 'hello');
    fs.writeFileSync(path.join(docs, 'bad.txt'), 'hello');
  });

  test('runs the function from its asset, through the proxy that checks its contract', async () => {
    const out = tmp('user-out-');
    const outcomes = await runLocalCommand({ documents: [docs], out, assembly, quiet: true }, () => undefined);
    const good = outcomes.find((o) => o.document === 'good.txt')!;
    // Count, RecordRun: a one-stage pipeline without routing.
    expect(good).toMatchObject({ status: 'SUCCEEDED', transitions: 2 });
    const saved = JSON.parse(fs.readFileSync(path.join(out, good.result!), 'utf8'));
    expect(saved.output.results.Count).toEqual({ keyLength: 'good.txt'.length, runId: saved.runId });
    // The user's error name reaches the state machine: a document with no text goes to review.
    expect(outcomes.find((o) => o.document === 'bad.txt')).toMatchObject({ status: 'FAILED', error: 'Document.NoText', route: 'review' });
  });

  test('a module named with --function replaces the asset', async () => {
    const mod = path.join(tmp('user-mod-'), 'replacement.js');
    fs.writeFileSync(mod, 'exports.handler = async () => ({ keyLength: 42 });');
    const out = tmp('user-out-');
    const outcomes = await runLocalCommand({ documents: [docs], out, assembly, quiet: true, functions: { Counter: mod } }, () => undefined);
    expect(outcomes.map((o) => o.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    const saved = JSON.parse(fs.readFileSync(path.join(out, outcomes[0].result!), 'utf8'));
    expect(saved.output.results.Count).toEqual({ keyLength: 42 });
  });

  test('a function output that breaks its contract fails the run with Contract.OutputViolation', async () => {
    const mod = path.join(tmp('user-mod-'), 'broken.js');
    fs.writeFileSync(mod, "exports.handler = async () => ({ keyLength: 'many' });");
    const outcomes = await runLocalCommand({ documents: [path.join(docs, 'good.txt')], out: tmp('user-out-'), assembly, quiet: true, functions: { Counter: mod } }, () => undefined);
    expect(outcomes[0]).toMatchObject({ status: 'FAILED', error: 'Contract.OutputViolation', route: 'failed' });
  });

  test('--function is parsed as <id>=<module>[#export]', () => {
    expect(parseArgs(['local', '--documents', 'd', '--out', 'o', '--function', 'Counter=./m.js#main']).functions).toEqual({ Counter: './m.js#main' });
    expect(() => parseArgs(['local', '--documents', 'd', '--out', 'o', '--function', 'Counter'])).toThrow(/--function must be <id>=<module>\[#export\]/);
  });
});
