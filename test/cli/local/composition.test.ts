/**
 * Parallel branches, a conditional stage and a gate between stages, run through the local runner on
 * the REAL synthesized definition (Tasks inside a Parallel included), with contract stand-ins and a
 * scenario that pins fields and injects faults.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { runLocalCommand } from '../../../src/cli/local/command';
import { DocumentOutcome } from '../../../src/cli/local/runner';
import { composedStack } from '../../helpers/composition-app';

const tmp = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), prefix));

async function pdf(lines: string[]): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  const page = doc.addPage([612, 792]);
  lines.forEach((line, i) => page.drawText(line, { x: 56, y: 740 - i * 16, size: 11, font }));
  return doc.save();
}

const NAMES = ['plain', 'german', 'fraud', 'clauses-down', 'summary-down', 'clean', 'clean-german'];

describe('composed steps through the local runner', () => {
  let outcomes: Map<string, DocumentOutcome>;
  let out: string;
  beforeAll(async () => {
    const outdir = tmp('compose-cdkout-');
    const app = new App({ outdir, context: { 'aws:cdk:enable-asset-metadata': true } });
    composedStack(app);
    app.synth();
    const docs = tmp('compose-docs-');
    for (const name of NAMES) {
      fs.writeFileSync(path.join(docs, `${name}.pdf`), await pdf([`Services agreement ${name}`, 'The supplier delivers the services monthly.', 'Either party may terminate on 30 days notice.']));
    }
    const scenario = path.join(tmp('compose-scenario-'), 'scenario.json');
    fs.writeFileSync(scenario, JSON.stringify({
      rules: [
        { documents: '*', stage: 'Score', fields: { fraudScore: 0.1, language: 'en' } },
        { documents: '*', stage: 'Summarize', fields: { riskScore: 0.5 } },
        { documents: 'german.pdf', stage: 'Score', fields: { language: 'de' } },
        { documents: 'clean*.pdf', stage: 'Summarize', fields: { riskScore: 0.1 } },
        { documents: 'clean-german.pdf', stage: 'Score', fields: { language: 'de' } },
        { documents: 'fraud.pdf', stage: 'Score', fields: { fraudScore: 0.95 } },
        { documents: 'clauses-down.pdf', stage: 'Clauses', fault: { error: 'ServiceUnavailableException' } },
        { documents: 'summary-down.pdf', stage: 'Summarize', fault: { error: 'ServiceUnavailableException' } },
      ],
    }));
    out = tmp('compose-out-');
    const list = await runLocalCommand({ documents: [docs], out, assembly: outdir, quiet: true, cwd: docs, scenario }, () => undefined);
    outcomes = new Map(list.map((o) => [o.document.replace(/\.pdf$/, ''), o]));
  }, 180_000);

  const states = (o: DocumentOutcome) => o.path.map((s) => s.state);

  test('both branches run inside the Parallel state; each result lands at results.<id>; the skipped stage has none', () => {
    const o = outcomes.get('plain')!;
    expect(o).toMatchObject({ status: 'SUCCEEDED', route: 'review', rule: 'default' });
    expect(states(o)).toEqual(expect.arrayContaining(['Ocr', 'Score', 'FraudGate', 'IfGerman', 'Analyze', 'Summarize', 'Clauses']));
    expect(states(o)).not.toContain('Translate');
    expect(o.results).toMatchObject({
      Summarize: { riskScore: 0.5, summary: expect.any(String) },
      Clauses: { clauses: expect.any(Array) },
    });
    expect(o.results).not.toHaveProperty('Translate');
    expect(o.results).toHaveProperty('Ocr.text');
  });

  test('the conditional stage runs when its condition holds on a pinned field', () => {
    const o = outcomes.get('german')!;
    expect(o.status).toBe('SUCCEEDED');
    expect(states(o)).toContain('Translate');
    expect(o.results).toMatchObject({ Translate: { english: expect.any(String) } });
  });

  test('auto-approve guards: a skipped conditional Bedrock stage does not block auto-approve; one that ran is screened', () => {
    const skipped = outcomes.get('clean')!;
    expect(skipped).toMatchObject({ status: 'SUCCEEDED', route: 'fast-track', rule: 'clean' });
    expect(skipped.results).not.toHaveProperty('Translate');
    const ran = outcomes.get('clean-german')!;
    expect(ran).toMatchObject({ status: 'SUCCEEDED', route: 'fast-track', rule: 'clean' });
    expect(ran.results).toHaveProperty('Translate.screening.promptInjection', false);
  });

  test('the gate ends the run at its destination before the model stages', () => {
    const o = outcomes.get('fraud')!;
    expect(o).toMatchObject({ status: 'SUCCEEDED', route: 'fraud-team', rule: 'known-fraud' });
    expect(states(o)).not.toContain('Analyze');
    expect(states(o)).not.toContain('Summarize');
    const delivered = fs.readFileSync(path.join(out, 'destinations', 'fraud-team.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(delivered).toHaveLength(1);
    expect(delivered[0]).toMatchObject({ rule: 'known-fraud', destination: 'fraud-team' });
    // The gated run ends with its run record, like a run the final policy routes.
    const runRecord = o.audit.find((a) => a.includes('runs/'))!;
    expect(JSON.parse(fs.readFileSync(path.join(out, runRecord), 'utf8'))).toMatchObject({
      outcome: 'SUCCEEDED',
      route: { rule: 'known-fraud', destination: 'fraud-team' },
      stages: [{ name: 'Ocr' }, { name: 'Score' }],
    });
  });

  test('an optional branch that fails is recorded as an error object and the run goes on', () => {
    const o = outcomes.get('clauses-down')!;
    expect(o).toMatchObject({ status: 'SUCCEEDED', route: 'review' });
    expect(o.results).toMatchObject({ Clauses: { Error: expect.any(String), Cause: expect.any(String) }, Summarize: { riskScore: 0.5 } });
    expect(states(o)).toContain('Analyze-Clauses-failed');
  });

  test('a required branch that fails takes the pipeline\'s failure path', () => {
    const o = outcomes.get('summary-down')!;
    expect(o.status).toBe('FAILED');
    expect(o.route).toBe('failed');
    expect(states(o)).toContain('RecordFailure');
    expect(states(o)).not.toContain('RecordRun');
    // The run record names the stage that failed inside the branch, not the skipped conditional stage.
    const runRecord = o.audit.find((a) => a.includes('runs/'))!;
    expect(JSON.parse(fs.readFileSync(path.join(out, runRecord), 'utf8'))).toMatchObject({
      outcome: 'FAILED', stage: 'Summarize', errorName: 'ServiceUnavailableException',
    });
  });
});
