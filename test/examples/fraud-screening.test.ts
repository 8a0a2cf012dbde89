/**
 * The fraud-screening example end to end, without AWS: the example app is synthesized (the real
 * template), then every sample transaction (a JSON document) runs through the real definition in the
 * local interpreter: the example's own Parse function from its asset, the rule gate, the example's
 * local fraud model for the SageMaker stage (cdk-ai-pipeline.local.json), routing and the
 * OpenSearch output's local index. Each sample must come to its expected outcome.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { FraudScreeningStack } from '../../examples/fraud-screening/lib/fraud-screening-stack';
import { scoreTransaction } from '../../examples/fraud-screening/local-models/fraud-model';
import { runLocalCommand } from '../../src/cli/local/command';
import { DocumentOutcome } from '../../src/cli/local/runner';

const EXAMPLE = path.join(__dirname, '..', '..', 'examples', 'fraud-screening');
const SAMPLES = path.join(EXAMPLE, 'samples');
const expected: { [file: string]: { status: string; rule?: string; route?: string; error?: string } } = JSON.parse(
  fs.readFileSync(path.join(EXAMPLE, 'expected-outcomes.json'), 'utf8'));

function synthExample(): { outdir: string; app: App; stack: Stack } {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'fraud-cdkout-'));
  const app = new App({ outdir, context: { 'aws:cdk:enable-asset-metadata': true } });
  const stack = new FraudScreeningStack(app, 'FraudScreening', { env: { account: '111111111111', region: 'us-east-1' } });
  app.synth();
  return { outdir, app, stack };
}

describe('fraud-screening samples through the local runner', () => {
  let outcomes: DocumentOutcome[];
  let out: string;
  let synthesized: ReturnType<typeof synthExample>;

  beforeAll(async () => {
    synthesized = synthExample();
    out = fs.mkdtempSync(path.join(os.tmpdir(), 'fraud-out-'));
    outcomes = await runLocalCommand({ documents: [SAMPLES], out, assembly: synthesized.outdir, quiet: true, cwd: EXAMPLE }, () => undefined);
  }, 180_000);

  test('every sample transaction was run', () => {
    expect(outcomes.map((o) => o.document).sort()).toEqual(Object.keys(expected).sort());
  });

  test.each(Object.entries(expected))('%s comes to %j', (file, want) => {
    const o = outcomes.find((x) => x.document === file)!;
    expect(o.status).toBe(want.status);
    if (want.error) {
      expect(o.error).toBe(want.error);
    } else {
      expect({ route: o.route, ...(want.rule ? { rule: o.rule } : {}) }).toEqual({ route: want.route, ...(want.rule ? { rule: want.rule } : {}) });
    }
  });

  test('transactions the rules escalate never reach the model', () => {
    for (const file of ['blocked-country.json', 'card-testing.json']) {
      const o = outcomes.find((x) => x.document === file)!;
      expect(o.path.map((s) => s.state)).not.toContain('Score');
      expect(o.results.Score).toBeUndefined();
    }
    const scored = outcomes.find((x) => x.document === 'wire-abroad.json')!;
    expect(scored.results.Score).toEqual(scoreTransaction(scored.results.Parse as any));
    expect(scored.results.Score).toMatchObject({ fraudScore: 0.9 });
  });

  test('the results are indexed with the fields analysts search by (local index)', () => {
    const index = fs.readFileSync(path.join(out, 'index', 'transactions.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const succeeded = outcomes.filter((o) => o.status === 'SUCCEEDED');
    expect(index).toHaveLength(succeeded.length);
    expect(JSON.stringify(index)).toContain('txn-0004');
  });

  test('the app is cdk-nag AwsSolutions clean', () => {
    const { app, stack } = synthesized;
    Template.fromStack(stack);
    const violations = new AwsSolutionsChecks(app).validateScope(stack).violations
      .flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`));
    expect(violations).toEqual([]);
  });
});
