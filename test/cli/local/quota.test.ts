/**
 * A pipeline whose stages are given quotas, run by the local runner through the real synthesized
 * definition. Their tasks pass `$$.State.EnteredTime` to the handler (it measures the wait for
 * capacity from it), which the interpreter does not keep: the runner supplies it.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { BedrockModel, DocumentTrigger, InferenceStage, Pipeline, PromptTemplate, ServiceQuota, StageContract } from '../../../src';
import { runLocalCommand } from '../../../src/cli/local/command';
import { DocumentOutcome } from '../../../src/cli/local/runner';

const tmp = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), prefix));

function synth(): string {
  const outdir = tmp('quota-cdkout-');
  const app = new App({ outdir, context: { 'aws:cdk:enable-asset-metadata': true } });
  const stack = new Stack(app, 'Invoices', { env: { account: '111111111111', region: 'us-east-1' } });
  const haiku = BedrockModel.inferenceProfile('us.anthropic.claude-3-5-haiku-20241022-v1:0');
  const read = InferenceStage.textract(stack, 'Read', { quota: ServiceQuota.textract(stack, 'TextractQuota') });
  const total = InferenceStage.bedrock(stack, 'Total', {
    model: haiku,
    prompt: PromptTemplate.fromText('The total of this invoice:\n{{text}}', { version: '1' }),
    output: StageContract.fromObject({ type: 'object', required: ['total'], properties: { total: { type: 'number' } } }),
    quota: ServiceQuota.bedrockModel(stack, 'HaikuQuota', { model: haiku, requestsPerMinute: 100, tokensPerMinute: 200_000 }),
  });
  new Pipeline(stack, 'Invoices', {
    trigger: DocumentTrigger.s3Upload(stack, 'Upload', { prefix: 'invoices/' }),
    stages: [read, total],
    timeout: Duration.hours(3),
  });
  app.synth();
  return outdir;
}

describe('local run: stages given quotas', () => {
  let assembly: string;
  let outcomes: DocumentOutcome[];

  beforeAll(async () => {
    assembly = synth();
    const docs = tmp('quota-docs-');
    for (const [name, text] of [['a.pdf', 'Invoice 1: total 120.50 EUR'], ['b.pdf', 'Invoice 2: total 99.00 EUR']]) {
      const pdf = await PDFDocument.create();
      const font = await pdf.embedFont(StandardFonts.Helvetica);
      pdf.addPage().drawText(text, { x: 50, y: 700, size: 12, font });
      fs.writeFileSync(path.join(docs, name), await pdf.save());
    }
    outcomes = await runLocalCommand({ documents: [docs], out: tmp('quota-out-'), assembly, quiet: true, cwd: docs }, () => undefined);
  }, 120_000);

  test('the tasks pass the time they were entered', () => {
    const template = fs.readdirSync(assembly).find((f) => f.endsWith('.template.json'))!;
    expect(fs.readFileSync(path.join(assembly, template), 'utf8')).toContain('$$.State.EnteredTime');
  });

  test('both documents run through both quota-controlled stages', () => {
    expect(outcomes.map((o) => [o.status, o.error])).toEqual([['SUCCEEDED', undefined], ['SUCCEEDED', undefined]]);
    for (const o of outcomes) expect(typeof (o.results.Total as any).total).toBe('number');
  });
});
