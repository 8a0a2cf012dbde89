/**
 * A Bedrock stage on a model with structured output and prompt caching, run by the local runner
 * through the real synthesized definition: the stand-in answers the structured-output schema, the
 * system prompt is cached, and the stage records carry cache tokens and the cost.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { BedrockModel, BedrockServiceTier, InferenceStage, PromptTemplate, StageContract } from '../../../src';
import { runLocalCommand } from '../../../src/cli/local/command';
import { DocumentOutcome } from '../../../src/cli/local/runner';

const tmp = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), prefix));
const SYSTEM = 'You triage support tickets. Urgency is high only when customers cannot buy. '.repeat(30);

function synth(): string {
  const outdir = tmp('bedrock-opts-cdkout-');
  const app = new App({ outdir, context: { 'aws:cdk:enable-asset-metadata': true } });
  const stack = new Stack(app, 'Tickets', { env: { account: '111111111111', region: 'us-east-1' } });
  const read = InferenceStage.textract(stack, 'Read');
  const triage = InferenceStage.bedrock(stack, 'Triage', {
    model: BedrockModel.inferenceProfile('us.anthropic.claude-sonnet-4-5-20250929-v1:0'),
    prompt: PromptTemplate.fromText('<ticket>\n{{text}}\n</ticket>', { version: '1', systemPrompt: SYSTEM }),
    output: StageContract.fromObject({
      type: 'object',
      required: ['urgency'],
      properties: { urgency: { enum: ['low', 'high'] } },
    }),
    serviceTier: BedrockServiceTier.FLEX,
    price: { inputPer1k: 0.003, outputPer1k: 0.015, cacheReadPer1k: 0.0003, cacheWritePer1k: 0.00375, source: 'test price list' },
  });
  const prepare = new sfn.Pass(stack, 'Prepare', { parameters: { 'document.$': '$.document', 'results': {} } });
  new sfn.StateMachine(stack, 'TicketFlow', {
    definitionBody: sfn.DefinitionBody.fromChainable(prepare.next(read).next(triage)),
    tracingEnabled: true,
    logs: { destination: new logs.LogGroup(stack, 'FlowLogs'), level: sfn.LogLevel.ALL },
  });
  app.synth();
  return outdir;
}

async function ticket(file: string, text: string): Promise<void> {
  const pdf = await PDFDocument.create();
  const font = await pdf.embedFont(StandardFonts.Helvetica);
  pdf.addPage().drawText(text, { x: 50, y: 700, size: 12, font });
  fs.writeFileSync(file, await pdf.save());
}

describe('local run: Bedrock structured output, prompt caching and cost', () => {
  let out: string;
  let outcomes: DocumentOutcome[];

  beforeAll(async () => {
    const assembly = synth();
    const docs = tmp('bedrock-opts-docs-');
    await ticket(path.join(docs, 'a-printer.pdf'), 'Ticket 4411: the printer on floor 2 is jammed again.');
    await ticket(path.join(docs, 'b-outage.pdf'), 'Ticket 4412: production checkout is down for every customer.');
    out = tmp('bedrock-opts-out-');
    outcomes = await runLocalCommand({ documents: [docs], out, assembly, quiet: true, cwd: docs }, () => undefined);
  }, 120_000);

  test('both documents succeed with a reply from the structured-output schema', () => {
    expect(outcomes.map((o) => o.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    for (const o of outcomes) expect(['low', 'high']).toContain((o.results.Triage as any).urgency);
  });

  test('the stage records carry the cache tokens and the cost with its price source', () => {
    const records = outcomes.map((o) => {
      const rel = o.audit.find((a) => a.includes('stages/Triage/') && a.endsWith('.json') && !a.includes('/content'))!;
      return JSON.parse(fs.readFileSync(path.join(out, rel), 'utf8'));
    });
    for (const r of records) {
      expect(r.model.priceSource).toBe('test price list');
      expect(r.model.costUsd).toBeGreaterThan(0);
      expect((r.model.cacheReadInputTokens ?? 0) + (r.model.cacheWriteInputTokens ?? 0)).toBeGreaterThan(0);
    }
  });
});
