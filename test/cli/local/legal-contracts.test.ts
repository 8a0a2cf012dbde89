/**
 * The flagship example end to end, without AWS: the example app is synthesized (the real template),
 * then every sample document runs through the real definition in the local interpreter, with the
 * real handler cores behind local adapters. Each sample must take its expected route.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { LegalContractsStack } from '../../../examples/legal-contracts/lib/legal-contracts-stack';
import { RunnerError } from '../../../src/cli/local/cloud-assembly';
import { parseArgs, runLocalCommand } from '../../../src/cli/local/command';
import { DocumentOutcome } from '../../../src/cli/local/runner';

const EXAMPLE = path.join(__dirname, '..', '..', '..', 'examples', 'legal-contracts');
const SAMPLES = path.join(EXAMPLE, 'samples');
const expected: { [file: string]: { route: string; error?: string } } = JSON.parse(
  fs.readFileSync(path.join(EXAMPLE, 'expected-routes.json'), 'utf8'));

function synthExample(): string {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'legal-cdkout-'));
  const app = new App({ outdir, context: { 'aws:cdk:enable-asset-metadata': true } });
  new LegalContractsStack(app, 'LegalContractIntake', { env: { account: '111111111111', region: 'us-east-1' } });
  app.synth();
  return outdir;
}

const sha = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

describe('legal-contracts samples through the local runner', () => {
  let outcomes: DocumentOutcome[];
  let out: string;
  const before = new Map<string, string>();

  beforeAll(async () => {
    for (const f of fs.readdirSync(SAMPLES)) before.set(f, sha(path.join(SAMPLES, f)));
    const assembly = synthExample();
    out = fs.mkdtempSync(path.join(os.tmpdir(), 'legal-out-'));
    outcomes = await runLocalCommand({ documents: [SAMPLES], out, assembly, quiet: true, cwd: EXAMPLE }, () => undefined);
  }, 120_000);

  test('every sample document with an expected route was run', () => {
    const run = outcomes.map((o) => o.document).sort();
    expect(run).toEqual(expect.arrayContaining(Object.keys(expected).sort()));
  });

  test.each(Object.entries(expected))('%s takes the route %j', (file, want) => {
    const o = outcomes.find((x) => x.document === file)!;
    expect({ route: o.route, error: o.error }).toEqual({ route: want.route, error: want.error });
    // Every document ends in a terminal state, and failures never pretend to succeed.
    expect(o.status).toBe(want.error ? 'FAILED' : 'SUCCEEDED');
  });

  test('an injected instruction never produces auto-approve', () => {
    const injected = outcomes.filter((o) => /inject/.test(o.document));
    expect(injected.length).toBeGreaterThan(0);
    for (const o of injected) expect(o.route).not.toBe('auto-approve');
  });

  test('bad documents never reach a model: their runs stop at the first stage', () => {
    for (const o of outcomes.filter((x) => x.route === 'quarantine')) {
      const result = JSON.parse(fs.readFileSync(path.join(out, o.result!), 'utf8'));
      expect(result.status).toBe('FAILED');
      // Extract, Extract-failed (naming the stage), RecordFailure, Failed: no model stage was entered.
      expect(o.path.map((p) => p.state)).toEqual(['Extract', 'Extract-failed', 'RecordFailure', 'Failed']);
      expect(o.transitions).toBe(4);
    }
  });

  test('the happy path costs the stages that ran + 3 state transitions, plus the conditional step\'s Choice', () => {
    const stageIds = ['Extract', 'Language', 'ToEnglish', 'Classify', 'Summarize'];
    const succeeded = outcomes.filter((x) => x.status === 'SUCCEEDED');
    expect(succeeded.length).toBeGreaterThan(0);
    for (const o of succeeded) {
      const stagesRun = o.path.filter((p) => stageIds.includes(p.state)).length;
      expect(o.transitions).toBe(stagesRun + 1 + 3);
    }
    // An English contract: 8; the German one also runs ToEnglish: 9.
    expect(outcomes.find((o) => o.document === 'nda-short.pdf')!.transitions).toBe(8);
    expect(outcomes.find((o) => o.document === 'nda-german.pdf')!.transitions).toBe(9);
  });

  test('summary.json has one entry per document with its status, route and audit records', () => {
    const summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
    expect(summary).toHaveLength(outcomes.length);
    for (const entry of summary.filter((e: any) => e.status !== 'SKIPPED')) {
      expect(entry).toEqual(expect.objectContaining({ document: expect.any(String), status: expect.any(String), route: expect.any(String) }));
      expect(entry.audit.length).toBeGreaterThan(0);
      for (const rel of entry.audit) {
        const record = JSON.parse(fs.readFileSync(path.join(out, rel), 'utf8'));
        expect(record.schemaVersion).toBe('1');
      }
      // A run record exists for every document run, failed or not.
      if (entry.status !== 'SKIPPED') expect(entry.audit.some((p: string) => p.includes('/runs/'))).toBe(true);
    }
  });

  test('a quarantined document keeps its stage and run audit records, with the named error', () => {
    const bad = outcomes.find((o) => o.route === 'quarantine')!;
    const run = bad.audit.find((p) => p.includes('/runs/'))!;
    const record = JSON.parse(fs.readFileSync(path.join(out, run), 'utf8'));
    expect(record).toMatchObject({ kind: 'run', outcome: 'FAILED', errorName: bad.error, route: { destination: 'quarantine' } });
    expect(bad.audit.some((p) => p.includes('/stages/Extract/'))).toBe(true);
  });

  test('the source documents are untouched', () => {
    for (const [f, digest] of before) expect(sha(path.join(SAMPLES, f))).toBe(digest);
  });
});

describe('runner errors are clear and non-zero', () => {
  test('no CDK app in the folder', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'no-app-'));
    await expect(runLocalCommand({ documents: [SAMPLES], out: path.join(empty, 'out'), cwd: empty, quiet: true }, () => undefined))
      .rejects.toThrow(/no CDK app: .*cdk\.json does not exist/);
  });

  test('an unreadable documents folder', async () => {
    await expect(runLocalCommand({ documents: ['/nonexistent/folder'], out: '/tmp/x', cwd: EXAMPLE, quiet: true }, () => undefined))
      .rejects.toThrow(RunnerError);
  });

  test('an app without a pipeline', async () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'empty-cdkout-'));
    const app = new App({ outdir });
    new Stack(app, 'Empty');
    app.synth();
    await expect(runLocalCommand({ documents: [SAMPLES], out: path.join(outdir, 'run'), assembly: outdir, cwd: EXAMPLE, quiet: true }, () => undefined))
      .rejects.toThrow(/no pipeline: the app defines no cdk-ai-pipeline Pipeline/);
  });

  test('arguments', () => {
    expect(() => parseArgs(['local', '--out', 'x'])).toThrow(/--documents is required/);
    expect(() => parseArgs(['local', '--documents', 'a'])).toThrow(/--out is required/);
    expect(() => parseArgs(['deploy'])).toThrow(/unknown command 'deploy'/);
    expect(parseArgs(['local', '--documents', 'a', 'b', '--out', 'o', '--pipeline', 'P'])).toMatchObject({ documents: ['a', 'b'], out: 'o', pipeline: 'P' });
  });
});
