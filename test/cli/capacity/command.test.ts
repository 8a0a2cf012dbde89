/**
 * `cdk-ai-pipeline capacity` on the flagship example (synthesized in process) at 1,000,000 documents a day.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { LegalContractsStack } from '../../../examples/legal-contracts/lib/legal-contracts-stack';
import { parseCapacityArgs, runCapacityCommand } from '../../../src/cli/capacity/command';
import { RunnerError } from '../../../src/cli/local/cloud-assembly';

function synthExample(): string {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'legal-cdkout-'));
  const app = new App({ outdir, context: { 'aws:cdk:enable-asset-metadata': true }, builtinCloudFormationValidation: false } as any);
  new LegalContractsStack(app, 'LegalContractIntake', { env: { account: '111111111111', region: 'us-east-1' } });
  app.synth();
  return outdir;
}

describe('cdk-ai-pipeline capacity on the legal-contracts example', () => {
  let assembly: string;
  beforeAll(() => {
    assembly = synthExample();
  });

  test('at 1,000,000 documents a day: the plan names the bottleneck, the wait, the sustainable rate, the cost and the sources', () => {
    const lines: string[] = [];
    const plan = runCapacityCommand({ ...parseCapacityArgs(['capacity', '--docs-per-day', '1_000_000']), assembly }, (t) => lines.push(t));
    const text = lines.join('\n');
    if (process.env.PRINT_PLAN) process.stdout.write(text + '\n');
    // The pipeline's stages from the template's metadata: Textract, the classifier endpoint, Claude 3.5 Haiku.
    expect(plan.uses.map((u) => u.name)).toEqual([
      'textract DetectDocumentText',
      'textract StartDocumentTextDetection',
      'sagemaker invocations (contract-classifier)',
      'bedrock requests (us.anthropic.claude-3-5-haiku-20241022-v1:0)',
      'bedrock tokens (us.anthropic.claude-3-5-haiku-20241022-v1:0)',
    ]);
    // 70% of the documents start a job: 10 TPS x 0.95 x 86,400 / 0.7 = 1,172,571 documents a day, below
    // single-page detection (/ 0.3: 2,736,000), the endpoint's assumed 20/s (1,641,600) and Haiku's tokens.
    const tokensPerDoc = plan.uses[4].unitsPerDocument;
    const template = JSON.parse(fs.readFileSync(path.join(assembly, 'LegalContractIntake.template.json'), 'utf8'));
    const meta = Object.values<any>(template.Resources).find((r) => r.Metadata?.['cdk-ai-pipeline']).Metadata['cdk-ai-pipeline'];
    // Two Bedrock stages read the whole text (Summarize and Clauses, in parallel over chunks): each
    // call's tokens are the text, the prompt and the reply.
    const models = meta.stages.filter((st: any) => st.kind === 'bedrock');
    expect(models.map((st: any) => st.id)).toEqual(['Summarize', 'Clauses']);
    for (const st of models) expect(st).toMatchObject({ model: 'us.anthropic.claude-3-5-haiku-20241022-v1:0', maxTokens: 2048 });
    expect(tokensPerDoc).toBe(models.reduce((n: number, st: any) => n + 3 * 600 + Math.ceil(st.promptChars / 4) + 500, 0));
    expect(plan.uses[4].documentsPerSecond).toBeCloseTo((4_000_000 / 60) * 0.95 / tokensPerDoc, 6);
    // Two model stages over the whole text make Haiku's tokens a minute the binding quota: about
    // 909,000 documents a day, below the load. The plan says so instead of promising the load.
    const sustainable = (4_000_000 / 60) * 0.95 / tokensPerDoc * 86_400;
    expect(plan.bottleneck.name).toBe('bedrock tokens (us.anthropic.claude-3-5-haiku-20241022-v1:0)');
    expect(plan.sustainableDocumentsPerDay).toBeCloseTo(sustainable, 3);
    expect(sustainable).toBeLessThan(1_000_000);
    expect(plan.overloaded).toBe(true);
    expect(text).toMatch(/Warning: the load \(1,000,000 documents\/day\) exceeds what bedrock tokens .* sustains \(\d[\d,]*\/day\): the backlog grows without end\./);
    // Textract's job starts are next: 10 TPS x 0.95 x 86,400 / 0.7 = 1,172,571 documents a day.
    expect(plan.uses[1].documentsPerSecond * 86_400).toBeCloseTo(10 * 0.95 * 86_400 / 0.7, 3);
    expect(text).toContain("assumed default; check your account's Service Quotas");
    expect(text).toMatch(/Cost per document: \$0\.0\d{4}/);
    expect(text).toContain('prices: us-east-1 list prices');
    expect(plan.cost.lines.map((l) => l.item.split(':')[0])).toEqual(['Extract', 'Classify', 'Summarize', 'Clauses', 'Step Functions', 'Lambda', 'S3 requests', 'EventBridge']);
  });

  test('the user\'s quotas win over the defaults, and an overloaded plan says so', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'quotas-'));
    fs.writeFileSync(path.join(dir, 'quotas.json'), JSON.stringify({ bedrock: { 'anthropic.claude-3-5-haiku-20241022-v1:0': { requestsPerMinute: 100, tokensPerMinute: 200_000 } } }));
    const lines: string[] = [];
    const plan = runCapacityCommand({ ...parseCapacityArgs(['capacity', '--docs-per-day', '1000000', '--quotas', 'quotas.json']), assembly, cwd: dir }, (t) => lines.push(t));
    expect(plan.bottleneck.name).toBe('bedrock tokens (us.anthropic.claude-3-5-haiku-20241022-v1:0)');
    expect(plan.bottleneck.source).toBe('your --quotas file');
    expect(plan.overloaded).toBe(true);
    expect(lines.join('\n')).toMatch(/Warning: the load \(1,000,000 documents\/day\) exceeds what bedrock tokens .* sustains \(\d[\d,]*\/day\): the backlog grows without end\./);
  });

  test.each([
    [['capacity'], /--docs-per-day is required\./],
    [['capacity', '--docs-per-day', 'many'], /--docs-per-day must be a number, got: 'many'\./],
    [['capacity', '--docs-per-day', '10', '--burst'], /Unknown option '--burst'/],
  ])('rejects %p', (argv, message) => {
    expect(() => parseCapacityArgs(argv)).toThrow(message);
    expect(() => parseCapacityArgs(argv)).toThrow(RunnerError);
  });

  test('a bad load is a runner error naming the flag', () => {
    expect(() => runCapacityCommand({ ...parseCapacityArgs(['capacity', '--docs-per-day', '1000', '--single-page-share', '2']), assembly }, () => {}))
      .toThrow(/--single-page-share must be between 0 and 1, got: 2\./);
  });
});
