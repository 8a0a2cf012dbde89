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
  let assembly: string;
  const before = new Map<string, string>();

  beforeAll(async () => {
    for (const f of fs.readdirSync(SAMPLES)) before.set(f, sha(path.join(SAMPLES, f)));
    assembly = synthExample();
    out = fs.mkdtempSync(path.join(os.tmpdir(), 'legal-out-'));
    outcomes = await runLocalCommand({ documents: [SAMPLES], out, assembly, quiet: true, cwd: EXAMPLE }, () => undefined);
  }, 400_000);

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

  test('the happy path: 20 state transitions, each accounted for; a translated contract 21; the gate 5; the long contract its chunks', () => {
    const states = (doc: string) => outcomes.find((o) => o.document === doc)!.path.map((p) => p.state);
    const transitions = (doc: string) => outcomes.find((o) => o.document === doc)!.transitions;
    // Extract, Language, Intake (gate), IfNotEnglish (Choice), Classify, Analyse (Parallel);
    // per branch: split, Map, the stage once per chunk, keep once per chunk, reduce;
    // LegalReview-when (Choice), Route (Choice), the destination, RecordRun.
    const branch = (chunks: number) => 3 + 2 * chunks;
    expect(transitions('nda-short.pdf')).toBe(6 + branch(1) + branch(1) + 4);
    expect(transitions('nda-short.pdf')).toBe(20);
    expect(new Set(states('nda-short.pdf'))).toEqual(new Set([
      'Extract', 'Language', 'Intake', 'IfNotEnglish', 'Classify', 'Analyse',
      'SummaryChunks', 'SummaryChunks-chunks', 'Summarize', 'SummaryChunks-keep', 'SummaryChunks-reduce',
      'ClauseChunks', 'ClauseChunks-chunks', 'Clauses', 'ClauseChunks-keep', 'ClauseChunks-reduce',
      'LegalReview-when', 'Route', 'Route-low-risk-nda', 'RecordRun',
    ]));
    // The German contract is translated first (conditional): one more.
    expect(states('nda-german.pdf')).toContain('ToEnglish');
    expect(transitions('nda-german.pdf')).toBe(21);
    // The Finnish one stops at the deterministic gate before any model: 5.
    expect(states('nda-finnish.pdf')).toEqual(['Extract', 'Language', 'Intake', 'Intake-unsupported-language', 'RecordRun']);
    // The 304-page contract is read in full: 3 chunks of 60,000 tokens for the summary, 16 of 20 pages
    // for the clauses; nobody decides locally, so legal's review times out and escalates.
    const long = states('msa-long.pdf');
    expect(long.filter((s) => s === 'Summarize')).toHaveLength(3);
    expect(long.filter((s) => s === 'Clauses')).toHaveLength(16);
    expect(long.slice(-4)).toEqual(['LegalReview', 'LegalReview-timed-out', 'LegalReview-escalated', 'RecordRun']);
    expect(transitions('msa-long.pdf')).toBe(6 + branch(3) + branch(16) + 5);
  });

  test('the long contract\'s clause inventory, reduced over its 16 chunks, holds its HIGH indemnity', () => {
    const long = outcomes.find((o) => o.document === 'msa-long.pdf')!;
    const result = JSON.parse(fs.readFileSync(path.join(out, long.result!), 'utf8'));
    const clauses = result.results?.Clauses ?? result.output?.results?.Clauses;
    expect(clauses.highSeverityCount).toBeGreaterThanOrEqual(1);
    expect(clauses.clauses.map((c: any) => c.type)).toEqual(expect.arrayContaining(['INDEMNIFICATION']));
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

  test('with the demo\'s decisions, legal signs the high-risk contract off; the decision is in the run', async () => {
    const demoOut = fs.mkdtempSync(path.join(os.tmpdir(), 'legal-demo-'));
    const [o] = await runLocalCommand({
      documents: [path.join(SAMPLES, 'msa-high-risk.pdf')],
      out: demoOut,
      assembly,
      quiet: true,
      cwd: EXAMPLE,
      scenario: path.join(EXAMPLE, 'scenarios', 'demo.json'),
    }, () => undefined);
    expect(o.route).toBe('signed-off');
    expect(o.path.map((p) => p.state).slice(-4)).toEqual(['LegalReview', 'LegalReview-decision', 'LegalReview-approved', 'RecordRun']);
    const run = JSON.parse(fs.readFileSync(path.join(demoOut, o.audit.find((p) => p.includes('/runs/'))!), 'utf8'));
    expect(JSON.stringify(run)).toContain('legal-dana');
  }, 400_000);

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
