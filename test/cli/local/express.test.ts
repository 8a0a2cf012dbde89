/**
 * An Express pipeline in the local runner (ADR-0029): the fraud-screening example synthesized as an
 * Express workflow runs every sample to its expected outcome, through the same states (and the same
 * number of transitions) as the Standard one: only the state machine's type and timeouts differ.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { FraudScreeningStack } from '../../../examples/fraud-screening/lib/fraud-screening-stack';
import { runLocalCommand } from '../../../src/cli/local/command';
import { DocumentOutcome } from '../../../src/cli/local/runner';

const EXAMPLE = path.join(__dirname, '..', '..', '..', 'examples', 'fraud-screening');
const expected: { [file: string]: { status: string; route?: string; error?: string } } = JSON.parse(
  fs.readFileSync(path.join(EXAMPLE, 'expected-outcomes.json'), 'utf8'));

async function run(workflowType: sfn.StateMachineType): Promise<{ outcomes: DocumentOutcome[]; template: any }> {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'express-cdkout-'));
  const app = new App({ outdir, context: { 'aws:cdk:enable-asset-metadata': true } });
  new FraudScreeningStack(app, 'FraudScreening', { env: { account: '111111111111', region: 'us-east-1' }, workflowType });
  app.synth();
  const template = JSON.parse(fs.readFileSync(path.join(outdir, 'FraudScreening.template.json'), 'utf8'));
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'express-out-'));
  const outcomes = await runLocalCommand({ documents: [path.join(EXAMPLE, 'samples')], out, assembly: outdir, quiet: true, cwd: EXAMPLE }, () => undefined);
  return { outcomes, template };
}

describe('an Express pipeline in the local runner', () => {
  let express: Awaited<ReturnType<typeof run>>;
  let standard: Awaited<ReturnType<typeof run>>;
  beforeAll(async () => {
    express = await run(sfn.StateMachineType.EXPRESS);
    standard = await run(sfn.StateMachineType.STANDARD);
  }, 300_000);

  test('the template the runner read is an Express state machine', () => {
    const machines = Object.values(express.template.Resources).filter((r: any) => r.Type === 'AWS::StepFunctions::StateMachine' && r.Metadata?.['cdk-ai-pipeline']) as any[];
    expect(machines.map((m) => m.Properties.StateMachineType)).toEqual(['EXPRESS']);
  });

  test.each(Object.entries(expected))('%s comes to %j', (file, want) => {
    const o = express.outcomes.find((x) => x.document === file)!;
    expect(o.status).toBe(want.status);
    if (want.error) expect(o.error).toBe(want.error);
    else expect(o.route).toBe(want.route);
  });

  test('each sample takes the same path and transitions as in the Standard workflow', () => {
    const shape = (outcomes: DocumentOutcome[]) => outcomes
      .map((o) => ({ document: o.document, route: o.route, transitions: o.transitions, path: o.path.map((s) => s.state) }))
      .sort((a, b) => a.document.localeCompare(b.document));
    expect(shape(express.outcomes)).toEqual(shape(standard.outcomes));
    expect(express.outcomes.every((o) => o.transitions > 0)).toBe(true);
  });
});
