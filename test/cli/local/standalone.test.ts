/**
 * Stages in a state machine of your own (no Pipeline, no attach()) run in the local runner through
 * the real synthesized definition: a Pass, Textract, a Bedrock stage answering its own contract.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { BedrockModel, InferenceStage, PromptTemplate, StageContract } from '../../../src';
import { loadPipelines } from '../../../src/cli/local/cloud-assembly';
import { runLocalCommand } from '../../../src/cli/local/command';
import { DocumentOutcome } from '../../../src/cli/local/runner';

const tmp = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), prefix));

function synth(): string {
  const outdir = tmp('own-machine-cdkout-');
  const app = new App({ outdir, context: { 'aws:cdk:enable-asset-metadata': true } });
  const stack = new Stack(app, 'Tickets', { env: { account: '111111111111', region: 'us-east-1' } });
  const read = InferenceStage.textract(stack, 'Read');
  const triage = InferenceStage.bedrock(stack, 'Triage', {
    model: BedrockModel.foundationModel('anthropic.claude-3-5-haiku-20241022-v1:0'),
    prompt: PromptTemplate.fromText('Triage this support ticket:\n<ticket>\n{{text}}\n</ticket>\nReply with JSON only.', { version: '1' }),
    output: StageContract.fromObject({
      type: 'object',
      required: ['urgency', 'category'],
      additionalProperties: false,
      properties: { urgency: { enum: ['low', 'high'] }, category: { type: 'string', minLength: 3, maxLength: 20 } },
    }),
  });
  const prepare = new sfn.Pass(stack, 'Prepare', { parameters: { 'document.$': '$.document', 'results': {} } });
  const urgent = new sfn.Choice(stack, 'IsUrgent')
    .when(sfn.Condition.stringEquals('$.results.Triage.urgency', 'high'), new sfn.Pass(stack, 'PageOncall', { resultPath: '$.paged', result: sfn.Result.fromBoolean(true) }))
    .otherwise(new sfn.Succeed(stack, 'Queue'));
  new sfn.StateMachine(stack, 'TicketFlow', {
    definitionBody: sfn.DefinitionBody.fromChainable(prepare.next(read).next(triage).next(urgent)),
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

describe('a state machine of your own with stand-alone stages', () => {
  let assembly: string;
  let out: string;
  let outcomes: DocumentOutcome[];

  beforeAll(async () => {
    assembly = synth();
    const docs = tmp('own-machine-docs-');
    await ticket(path.join(docs, 'printer.pdf'), 'Ticket 4411: the printer on floor 2 is jammed again.');
    await ticket(path.join(docs, 'outage.pdf'), 'Ticket 4412: production checkout is down for every customer.');
    const scenario = path.join(tmp('own-machine-scenario-'), 'scenario.json');
    fs.writeFileSync(scenario, JSON.stringify({
      rules: [
        { documents: '*', stage: 'Triage', fields: { urgency: 'low' } },
        { documents: 'outage.pdf', stage: 'Triage', fields: { urgency: 'high' } },
      ],
    }));
    out = tmp('own-machine-out-');
    outcomes = await runLocalCommand({ documents: [docs], out, assembly, quiet: true, cwd: docs, scenario }, () => undefined);
  }, 120_000);

  test('the runner finds the state machine by its stages, in the order the definition runs them', () => {
    const found = loadPipelines(assembly);
    expect(found.map((p) => [p.meta.pipeline, p.meta.stages.map((s) => `${s.id}:${s.kind}`)])).toEqual([['TicketFlow', ['Read:textract', 'Triage:bedrock']]]);
    expect(found[0].meta.recorder).toBeUndefined();
    // Documents go where the stand-alone stages read them: documents/ in the shared working bucket.
    expect(found[0].meta.documents.prefix).toBe('documents/');
    expect(found[0].documentBucket).toMatch(/^cdkaipipelinestandaloneworking/);
  });

  test('each document runs through your definition: the stages\' real handlers, then your Choice', () => {
    const byName = new Map(outcomes.map((o) => [o.document, o]));
    expect([...byName.keys()].sort()).toEqual(['outage.pdf', 'printer.pdf']);
    const outage = byName.get('outage.pdf')!;
    const printer = byName.get('printer.pdf')!;
    for (const o of [outage, printer]) {
      expect(o.status).toBe('SUCCEEDED');
      expect((o.results.Read as any).text).toEqual(expect.objectContaining({ key: expect.stringContaining('stages/Read/') }));
    }
    expect(outage.path.map((s) => s.state)).toEqual(['Prepare', 'Read', 'Triage', 'IsUrgent', 'PageOncall']);
    expect(printer.path.map((s) => s.state)).toEqual(['Prepare', 'Read', 'Triage', 'IsUrgent', 'Queue']);
    expect(outage.results.Triage).toMatchObject({ urgency: 'high', category: expect.any(String) });
  });

  test('each stage writes its own audit record; there is no run record without a Pipeline', () => {
    const printer = outcomes.find((o) => o.document === 'printer.pdf')!;
    expect(printer.audit.some((a) => a.includes('stages/Read/'))).toBe(true);
    expect(printer.audit.some((a) => a.includes('stages/Triage/'))).toBe(true);
    expect(printer.audit.some((a) => a.includes('runs/'))).toBe(false);
    expect(printer.route).toBe('none');
  });

  test('a stage failing in your definition fails the run without a failure path of ours', async () => {
    const docs = tmp('own-machine-fail-');
    await ticket(path.join(docs, 'broken.pdf'), 'Ticket 4413: nothing to see.');
    const scenario = path.join(tmp('own-machine-scenario-'), 'scenario.json');
    fs.writeFileSync(scenario, JSON.stringify({ rules: [{ documents: '*', stage: 'Triage', fault: { error: 'ValidationException' } }] }));
    const failed = await runLocalCommand({ documents: [docs], out: tmp('own-machine-fail-out-'), assembly, quiet: true, cwd: docs, scenario }, () => undefined);
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ status: 'FAILED', error: 'ValidationException', route: 'failed' });
  }, 60_000);
});
