/**
 * Runner errors are one clear line naming the stage, the file and the fix, and the command exits 2.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { LegalContractsStack } from '../../../examples/legal-contracts/lib/legal-contracts-stack';
import { RunnerError } from '../../../src/cli/local/cloud-assembly';
import { runLocalCommand } from '../../../src/cli/local/command';

const ROOT = path.join(__dirname, '..', '..', '..');
const EXAMPLE = path.join(ROOT, 'examples', 'legal-contracts');
const NDA = path.join(EXAMPLE, 'samples', 'nda-short.pdf');
const tmp = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), prefix));

let assembly: string;
let dir: string;
beforeAll(() => {
  assembly = tmp('errors-cdkout-');
  const app = new App({ outdir: assembly, context: { 'aws:cdk:enable-asset-metadata': true } });
  new LegalContractsStack(app, 'LegalContractIntake', { env: { account: '111111111111', region: 'us-east-1' } });
  app.synth();
  dir = tmp('errors-modules-');
  fs.writeFileSync(path.join(dir, 'throws.js'), 'exports.handler = () => { throw new TypeError("boom"); };');
  fs.writeFileSync(path.join(dir, 'lease.js'), 'exports.handler = () => ({ documentType: "LEASE", confidence: 0.9 });');
  fs.writeFileSync(path.join(dir, 'none.js'), 'exports.classify = () => ({});');
  fs.writeFileSync(path.join(dir, 'typed.ts'), 'export function handler(request: { text: string }): { documentType: string; confidence: number } {\n  return { documentType: request.text.includes("Non-Disclosure") ? "NDA" : "OTHER", confidence: 0.99 };\n}\n');
});

const run = (models: { [stage: string]: string }, cwd = EXAMPLE, config?: string) =>
  runLocalCommand({ documents: [NDA], out: tmp('errors-out-'), assembly, quiet: true, cwd, models, config }, () => undefined);

test('a model module that throws: the stage, the file, the error and the fix', async () => {
  await expect(run({ Summarize: path.join(dir, 'throws.js') })).rejects.toThrow(RunnerError);
  await expect(run({ Summarize: path.join(dir, 'throws.js') })).rejects.toThrow(/--model Summarize: throws\.js threw TypeError: boom \(document nda-short\.pdf\); fix the module/);
});

test('a model reply that fails the contract: the stage, the field and the value', async () => {
  await expect(run({ Classify: path.join(dir, 'lease.js') })).rejects.toThrow(/--model Classify: lease\.js returned a reply that fails the stage's contract \(document nda-short\.pdf\): \/documentType = "LEASE" fails 'enum'/);
});

test('a module without the export, a stage that does not exist', async () => {
  await expect(run({ Classify: path.join(dir, 'none.js') })).rejects.toThrow(/--model Classify: .*none\.js exports no function 'handler' \(it exports classify; name one with #<export>\)/);
  await expect(run({ Classify: `${path.join(dir, 'none.js')}#classify` })).rejects.toThrow(/fails the stage's contract/);
  await expect(run({ Clasify: path.join(dir, 'lease.js') })).rejects.toThrow(/--model Clasify: the pipeline has no stage 'Clasify'; its stages are Extract, Language, ToEnglish, Classify, Summarize/);
});

test('a TypeScript model module is compiled and used; the settings file is read next to cdk.json', async () => {
  const outcomes = await run({ Classify: path.join(dir, 'typed.ts') });
  expect(outcomes[0].fields['Classify.documentType']).toBe('NDA');
  const settings = path.join(dir, 'bad-settings.json');
  fs.writeFileSync(settings, JSON.stringify({ model: {} }));
  await expect(run({}, EXAMPLE, settings)).rejects.toThrow(/bad-settings\.json: unknown setting 'model'; the settings are models, functions, scenario, live, record, replay/);
});

test('a stage kind the runner does not know', async () => {
  const copy = tmp('errors-kind-');
  fs.cpSync(assembly, copy, { recursive: true });
  const template = path.join(copy, 'LegalContractIntake.template.json');
  // The pipeline's metadata on its state machine names each stage's kind: make one unknown.
  const parsed = JSON.parse(fs.readFileSync(template, 'utf8'));
  const machine: any = Object.values(parsed.Resources).find((r: any) => r.Metadata?.['cdk-ai-pipeline']);
  machine.Metadata['cdk-ai-pipeline'].stages.find((s: any) => s.kind === 'sagemaker').kind = 'rekognition';
  fs.writeFileSync(template, JSON.stringify(parsed));
  await expect(runLocalCommand({ documents: [NDA], out: tmp('errors-out-'), assembly: copy, quiet: true, cwd: EXAMPLE }, () => undefined))
    .rejects.toThrow(/stage Classify: the local runner does not know the stage kind 'rekognition'; upgrade cdk-ai-pipeline/);
});

test('the command line prints one line and exits 2 for a usage error', () => {
  const bin = path.join(ROOT, 'bin', 'cdk-ai-pipeline');
  let status = 0;
  let stderr = '';
  try {
    execFileSync(process.execPath, [bin, 'local', '--documents', 'x', '--out', 'y', '--bogus'], { stdio: 'pipe' });
  } catch (err: any) {
    status = err.status;
    stderr = String(err.stderr);
  }
  expect(status).toBe(2);
  expect(stderr.split('\n')[0]).toMatch(/^cdk-ai-pipeline: Unknown option '--bogus'/);
});
