/**
 * A Textract analysis stage through the local runner and the real synthesized definition: forms from
 * `Key: value` lines, a table from `|`-separated lines, query answers from the form values, the
 * synchronous path for one page and the asynchronous job (SNS completion, task token) for two; a
 * routing rule on a query's answer, and a later stage that reads the text.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import {
  BedrockModel, DocumentTrigger, InferenceStage, Pipeline, PromptTemplate, RouteDestination, RoutingPolicy, RoutingRule, RuleCondition,
  StageContract, TextractFeature,
} from '../../../src';
import { runLocalCommand } from '../../../src/cli/local/command';
import { DocumentOutcome } from '../../../src/cli/local/runner';

const tmp = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), prefix));

function synth(): string {
  const outdir = tmp('analysis-cdkout-');
  const app = new App({ outdir, context: { 'aws:cdk:enable-asset-metadata': true } });
  const stack = new Stack(app, 'Invoices', { env: { account: '111111111111', region: 'us-east-1' } });
  const analyze = InferenceStage.textractAnalysis(stack, 'Analyze', {
    features: [TextractFeature.FORMS, TextractFeature.TABLES, TextractFeature.QUERIES],
    queries: [
      { text: 'What is the invoice total?', alias: 'total', pages: ['*'] },
      { text: 'What is the purchase order number?', alias: 'po' },
    ],
  });
  const summarize = InferenceStage.bedrock(stack, 'Summarize', {
    model: BedrockModel.foundationModel('anthropic.claude-3-5-haiku-20241022-v1:0'),
    prompt: PromptTemplate.fromText('Summarize this invoice:\n<invoice>\n{{text}}\n</invoice>\nReply with JSON only.', { version: '1' }),
    output: StageContract.fromObject({ type: 'object', required: ['summary'], properties: { summary: { type: 'string' } } }),
  });
  const queue = (id: string) => new sqs.Queue(stack, id, { enforceSSL: true });
  new Pipeline(stack, 'Invoices', {
    trigger: DocumentTrigger.s3Upload(stack, 'Upload', { prefix: 'invoices/', suffixes: ['.pdf'] }),
    stages: [analyze, summarize],
    routing: new RoutingPolicy(stack, 'Route', {
      rules: [RoutingRule.when('no-po', RuleCondition.stringEquals('Analyze.queryAnswers.po.text', ''), RouteDestination.sqsQueue('purchasing', queue('Purchasing')))],
      defaultRoute: RouteDestination.sqsQueue('accounts', queue('Accounts')),
    }),
  });
  app.synth();
  return outdir;
}

async function pdf(file: string, pages: string[][]): Promise<void> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (const lines of pages) {
    const page = doc.addPage();
    lines.forEach((line, i) => page.drawText(line, { x: 40, y: 740 - i * 18, size: 10, font }));
  }
  fs.writeFileSync(file, await doc.save());
}

let assembly: string;
let docs: string;

describe('Textract analysis in the local runner', () => {
  let out: string;
  let outcomes: Map<string, DocumentOutcome>;

  beforeAll(async () => {
    assembly = synth();
    docs = tmp('analysis-docs-');
    await pdf(path.join(docs, 'one-page.pdf'), [[
      'ACME Supplies Ltd',
      'Invoice number: INV-0042',
      'Purchase order: PO-7781',
      'Item | Qty | Amount',
      'Paper | 10 | 50.00',
      'Toner | 2 | 120.00',
      'Invoice total: 170.00 EUR',
    ]]);
    await pdf(path.join(docs, 'two-pages.pdf'), [
      ['Globex GmbH', 'Invoice number: INV-9001', 'Thank you for your order.'],
      ['Invoice total: 9,999.00 EUR'],
    ]);
    out = tmp('analysis-out-');
    const runs = await runLocalCommand({ documents: [docs], out, assembly, quiet: true, cwd: docs }, () => undefined);
    outcomes = new Map(runs.map((o) => [o.document, o]));
  }, 120_000);

  const read = (pointer: any) => JSON.parse(fs.readFileSync(path.join(out, 'buckets', pointer.bucket, pointer.key), 'utf8'));

  test('one page, synchronously: forms, the table, both answers; routed by the purchase order answer', () => {
    const run = outcomes.get('one-page.pdf')!;
    expect(run.status).toBe('SUCCEEDED');
    const result = run.results.Analyze as any;
    expect(result).toMatchObject({
      pages: 1,
      mode: 'sync',
      keyValues: [
        { key: 'Invoice number', value: 'INV-0042', confidence: 0.99, page: 1 },
        { key: 'Purchase order', value: 'PO-7781', confidence: 0.99, page: 1 },
        { key: 'Invoice total', value: '170.00 EUR', confidence: 0.99, page: 1 },
      ],
      keyValueCount: 3,
      tableCount: 1,
      queryAnswers: { total: { text: '170.00 EUR', page: 1 }, po: { text: 'PO-7781', page: 1 } },
    });
    expect(read(result.analysis).tables).toEqual([{ page: 1, rows: [['Item', 'Qty', 'Amount'], ['Paper', '10', '50.00'], ['Toner', '2', '120.00']] }]);
    expect(run.route).toBe('accounts');
    expect(run.rule).toBe('default');
  });

  test('two pages, through the asynchronous job: the total from page 2; no purchase order, so to purchasing', () => {
    const run = outcomes.get('two-pages.pdf')!;
    expect(run.status).toBe('SUCCEEDED');
    expect(run.results.Analyze).toMatchObject({
      pages: 2,
      mode: 'async',
      keyValueCount: 2,
      tableCount: 0,
      queryAnswers: { total: { text: '9,999.00 EUR', page: 2 }, po: { text: '', confidence: 0 } },
    });
    expect(run.route).toBe('purchasing');
    expect(run.rule).toBe('no-po');
  });

  test('the text pointer still serves stages that read `text`', () => {
    const run = outcomes.get('two-pages.pdf')!;
    const text = read((run.results.Analyze as any).text);
    expect(text.pages.map((p: any) => p.text)).toEqual(['Globex GmbH\nInvoice number: INV-9001\nThank you for your order.', 'Invoice total: 9,999.00 EUR']);
    expect(run.path.map((s) => s.state)).toContain('Summarize');
    expect(run.results.Summarize).toMatchObject({ summary: expect.any(String) });
  });
});

describe('faults on the analysis stage run through the definition', () => {
  async function runWith(rules: object[]): Promise<Map<string, DocumentOutcome>> {
    const scenario = path.join(tmp('analysis-scenario-'), 'scenario.json');
    fs.writeFileSync(scenario, JSON.stringify({ rules }));
    const runs = await runLocalCommand({ documents: [docs], out: tmp('analysis-fault-out-'), assembly, scenario, quiet: true, cwd: docs }, () => undefined);
    return new Map(runs.map((o) => [o.document, o]));
  }

  test('Textract throttling that clears is retried by the task; the document still gets its route', async () => {
    const run = (await runWith([{ documents: 'one-page.pdf', stage: 'Analyze', fault: { throttle: 2 } }])).get('one-page.pdf')!;
    expect(run.status).toBe('SUCCEEDED');
    expect(run.path.find((p) => p.state === 'Analyze')?.retries).toBe(2);
    expect(run.route).toBe('accounts');
  }, 120_000);

  test('a source deleted mid-run is Source.Gone: quarantined, not retried', async () => {
    const run = (await runWith([{ documents: 'two-pages.pdf', stage: 'Analyze', fault: 'delete-source' }])).get('two-pages.pdf')!;
    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('Source.Gone');
    expect(run.route).toBe('quarantine');
    expect(run.path.find((p) => p.state === 'Analyze')?.retries ?? 0).toBe(0);
  }, 120_000);
});
