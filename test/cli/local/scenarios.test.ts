/**
 * Scenarios through the REAL definition of the legal example: pinned fields steer routes, and each
 * kind of fault is handled by the definition's own retries, catches and failure path.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { LegalContractsStack } from '../../../examples/legal-contracts/lib/legal-contracts-stack';
import { RunnerError } from '../../../src/cli/local/cloud-assembly';
import { runLocalCommand } from '../../../src/cli/local/command';
import { DocumentOutcome } from '../../../src/cli/local/runner';
import { globMatches, parseScenario } from '../../../src/cli/local/scenario';

const EXAMPLE = path.join(__dirname, '..', '..', '..', 'examples', 'legal-contracts');
const NDA = path.join(EXAMPLE, 'samples', 'nda-short.pdf');
const MSA = path.join(EXAMPLE, 'samples', 'msa-high-risk.pdf');
const tmp = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), prefix));

let assembly: string;
beforeAll(() => {
  assembly = tmp('scenario-cdkout-');
  const app = new App({ outdir: assembly, context: { 'aws:cdk:enable-asset-metadata': true } });
  new LegalContractsStack(app, 'LegalContractIntake', { env: { account: '111111111111', region: 'us-east-1' } });
  app.synth();
});

/** Runs documents with a scenario; returns the outcomes and the out folder. */
async function run(rules: object[], documents = [NDA]): Promise<{ outcomes: DocumentOutcome[]; out: string }> {
  const dir = tmp('scenario-');
  const scenario = path.join(dir, 'scenario.json');
  fs.writeFileSync(scenario, JSON.stringify({ rules }));
  const out = path.join(dir, 'out');
  const outcomes = await runLocalCommand({ documents, out, assembly, quiet: true, cwd: EXAMPLE, scenario }, () => undefined);
  return { outcomes, out };
}

const entered = (o: DocumentOutcome) => o.path.map((p) => p.state);

describe('pinned fields steer the route', () => {
  test('without a scenario the short NDA is auto-approved', async () => {
    const { outcomes } = await run([]);
    expect(outcomes[0]).toMatchObject({ route: 'auto-approve', status: 'SUCCEEDED' });
  });

  test('a pinned risk score sends it to legal, a pinned type to review', async () => {
    expect((await run([{ documents: 'nda-*.pdf', stage: 'Summarize', fields: { riskScore: 0.95 } }])).outcomes[0]).toMatchObject({ route: 'legal', fields: { 'Summarize.riskScore': 0.95 } });
    expect((await run([{ stage: 'Classify', fields: { documentType: 'SOW' } }])).outcomes[0]).toMatchObject({ route: 'review', fields: { 'Classify.documentType': 'SOW' } });
  });

  test('rules apply to the documents their glob matches, and only to them', async () => {
    const { outcomes } = await run([
      { documents: 'msa-*.pdf', stage: 'Classify', fields: { documentType: 'NDA' } },
      { documents: 'msa-*.pdf', stage: 'Summarize', fields: { riskScore: 0.1 } },
      { documents: 'msa-*.pdf', stage: 'Clauses', fields: { clauses: [], highSeverityCount: 0 } },
      { documents: 'zzz-*.pdf', stage: 'Summarize', fields: { riskScore: 0.95 } },
    ], [NDA, MSA]);
    // The MSA (legal without a scenario) matched its rules; the NDA matched none.
    expect(outcomes.map((o) => o.route)).toEqual(['auto-approve', 'auto-approve']);
  });

  test('a pinned value that breaks the contract is a runner error naming stage, field and value', async () => {
    await expect(run([{ stage: 'Summarize', fields: { riskScore: 7 } }])).rejects.toThrow(/stage Summarize.*\/riskScore = 7 fails 'maximum'/);
  });
});

describe('faults run through the definition\'s retries and catches', () => {
  test('throttling that clears: retried by the definition, the document still gets its route', async () => {
    const { outcomes } = await run([{ stage: 'Summarize', fault: { throttle: 2 } }]);
    expect(outcomes[0]).toMatchObject({ route: 'auto-approve', status: 'SUCCEEDED' });
    expect(outcomes[0].path.find((p) => p.state === 'Summarize')?.retries).toBe(2);
  });

  test.each([
    ['a service error that never clears', 'Summarize', { error: 'ServiceUnavailableException' }, 'ServiceUnavailableException', 'failed'],
    ['a timeout', 'Classify', 'timeout', 'States.Timeout', 'failed'],
    ['invalid JSON from the model', 'Summarize', 'invalid-json', 'Model.InvalidOutput', 'failed'],
    // The classification contract allows no extra field: the contract stops the padded reply.
    ['an oversized reply', 'Classify', 'oversized', 'Contract.OutputViolation', 'failed'],
    ['the source deleted mid-run', 'Extract', 'delete-source', 'Source.Gone', 'quarantine'],
  ])('%s ends in the failure path with an audit record', async (_what, stage, fault, error, route) => {
    const { outcomes, out } = await run([{ stage, fault }]);
    const o = outcomes[0];
    expect(o.status).toBe('FAILED');
    expect(entered(o)).toContain(stage);
    expect(o.error).toBe(error);
    expect(o.route).toBe(route);
    expect(entered(o).slice(-2)).toEqual(['RecordFailure', 'Failed']);
    // The run record names the error; the document is kept in its bucket.
    const runRecord = o.audit.map((a) => JSON.parse(fs.readFileSync(path.join(out, a), 'utf8'))).find((r) => r.outcome === 'FAILED' && r.route);
    expect(runRecord).toMatchObject({ errorName: error });
  });
});

describe('scenario files are checked', () => {
  test('a rule naming a stage the pipeline does not have', async () => {
    await expect(run([{ stage: 'Score', fields: { fraudScore: 1 } }])).rejects.toThrow(RunnerError);
    await expect(run([{ stage: 'Score', fields: { fraudScore: 1 } }])).rejects.toThrow(/rules\[0\] names stage 'Score', which the pipeline does not have; its stages are Extract, Language, ToEnglish, Classify, Summarize/);
  });

  test('an unknown fault and a rule without fields or fault', () => {
    expect(() => parseScenario({ rules: [{ stage: 'Extract', fault: 'explode' }] }, 's.json', ['Extract'])).toThrow(/unknown fault 'explode'/);
    expect(() => parseScenario({ rules: [{ stage: 'Extract', fault: { throttle: 0 } }] }, 's.json', ['Extract'])).toThrow(/throttle/);
    expect(() => parseScenario({ rules: [{ stage: 'Extract' }] }, 's.json', ['Extract'])).toThrow(/neither "fields" nor "fault"/);
    expect(() => parseScenario({ steps: [] }, 's.json', ['Extract'])).toThrow(/no "rules" list/);
  });

  test('globs', () => {
    expect(globMatches('claim-*.pdf', 'claim-17.pdf')).toBe(true);
    expect(globMatches('claim-*.pdf', 'claim-17.pdf.bak')).toBe(false);
    expect(globMatches('a?.pdf', 'ab.pdf')).toBe(true);
    expect(globMatches('a.pdf', 'axpdf')).toBe(false);
  });
});
