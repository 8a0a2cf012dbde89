/**
 * verify-audit over a real local run of the flagship example: the trail the handlers wrote checks
 * out, and each kind of tampering (a changed byte in a content object or a record, a removed record,
 * reordered links, a removed run record) is found and named. The S3 reader runs the same checks
 * over aws-sdk-client-mock.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { App } from 'aws-cdk-lib';
import { mockClient } from 'aws-sdk-client-mock';
import { LegalContractsStack } from '../../../examples/legal-contracts/lib/legal-contracts-stack';
import { runRecordSha256 } from '../../../src/audit/handler/recorder';
import { parseVerifyArgs, readerFor, runVerifyCommand } from '../../../src/cli/audit/command';
import { DirectoryReader, findTrailFolder, S3Reader } from '../../../src/cli/audit/readers';
import { verifyAudit } from '../../../src/cli/audit/verify';
import { RunnerError } from '../../../src/cli/local/cloud-assembly';
import { runLocalCommand } from '../../../src/cli/local/command';
import { DocumentOutcome } from '../../../src/cli/local/runner';
import { s3Body } from '../../helpers/handler-test-kit';

const EXAMPLE = path.join(__dirname, '..', '..', '..', 'examples', 'legal-contracts');
const SAMPLES = ['nda-short.pdf', 'msa-high-risk.pdf', 'encrypted.pdf'].map((f) => path.join(EXAMPLE, 'samples', f));
const sha = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

let out: string;
let outcomes: DocumentOutcome[];

beforeAll(async () => {
  const assembly = fs.mkdtempSync(path.join(os.tmpdir(), 'verify-cdkout-'));
  const app = new App({ outdir: assembly, context: { 'aws:cdk:enable-asset-metadata': true } });
  new LegalContractsStack(app, 'LegalContractIntake', { env: { account: '111111111111', region: 'us-east-1' } });
  app.synth();
  out = fs.mkdtempSync(path.join(os.tmpdir(), 'verify-out-'));
  outcomes = await runLocalCommand({ documents: SAMPLES, out, assembly, quiet: true, cwd: EXAMPLE }, () => undefined);
}, 400_000);

/** A fresh copy of the run's output to tamper with, and its trail folder. */
function copy(): { dir: string; trail: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'verify-tamper-'));
  fs.cpSync(out, dir, { recursive: true });
  return { dir, trail: findTrailFolder(dir)! };
}

/** The run id of a sample's run, from its result file. */
function runIdOf(document: string): string {
  const o = outcomes.find((x) => x.document === document)!;
  return JSON.parse(fs.readFileSync(path.join(out, o.result!), 'utf8')).runId;
}

function readJson(file: string): any {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

async function verdictOf(trail: string, runId: string) {
  const verdicts = await verifyAudit(new DirectoryReader(trail), { runId });
  expect(verdicts).toHaveLength(1);
  return verdicts[0];
}

describe('verify-audit on a local run', () => {
  test('every run of an untouched trail is intact: each record and each object it keeps', async () => {
    const verdicts = await verifyAudit(new DirectoryReader(findTrailFolder(out)!));
    expect(verdicts.map((v) => v.runId).sort()).toEqual(SAMPLES.map((s) => runIdOf(path.basename(s))).sort());
    for (const v of verdicts) expect(v).toMatchObject({ ok: true, notes: [] });
    const nda = verdicts.find((v) => v.runId === runIdOf('nda-short.pdf'))!;
    // Extract, Language, Classify; the two chunked steps (split and reduce) and their stages Summarize
    // and Clauses: seven records; input and output each, prompt and reply for the model stages.
    expect(nda.records).toBe(7);
    expect(nda.objects).toBeGreaterThanOrEqual(8);
    // The encrypted document failed at its first stage: its FAILED record is chained too.
    expect(verdicts.find((v) => v.runId === runIdOf('encrypted.pdf'))!.records).toBe(1);
  });

  test('the command prints OK per run and exits 0', async () => {
    const lines: string[] = [];
    const code = await runVerifyCommand({ location: out }, (l) => lines.push(l), readerFor(out, '/'));
    expect(code).toBe(0);
    expect(lines.filter((l) => l.startsWith('OK      '))).toHaveLength(3);
    expect(lines[lines.length - 1]).toMatch(/3 runs in .*: 3 intact, 0 broken$/);
  });

  test('one changed byte in a stage\'s output object is found and named, and the command exits 1', async () => {
    const { dir, trail } = copy();
    const runId = runIdOf('nda-short.pdf');
    // Summarize runs per chunk (the flagship's SummaryChunks): its one chunk's record and content.
    const file = path.join(trail, 'stages', 'Summarize', runId, 'chunks', '00000', 'output.json');
    const bytes = fs.readFileSync(file);
    const at = bytes.indexOf('riskScore') + 'riskScore":'.length;
    bytes[at] = bytes[at] === 0x30 ? 0x31 : 0x30; // one digit of the score
    fs.writeFileSync(file, bytes);

    const v = await verdictOf(trail, runId);
    expect(v.ok).toBe(false);
    expect(v.problem).toBe(`output object stages/Summarize/${runId}/chunks/00000/output.json of stage record stages/Summarize/${runId}/chunks/00000.json changed: `
      + `sha256 ${sha(bytes)}, the record says ${readJson(path.join(trail, 'stages', 'Summarize', runId, 'chunks', '00000.json')).content.output.sha256}`);

    const lines: string[] = [];
    expect(await runVerifyCommand({ location: dir }, (l) => lines.push(l), readerFor(dir, '/'))).toBe(1);
    expect(lines).toContain(`BROKEN  ${runId}  ${v.problem}`);
    expect(lines[lines.length - 1]).toMatch(/3 runs in .*: 2 intact, 1 broken$/);
  });

  test('a changed byte in the rendered prompt is found and named', async () => {
    const { trail } = copy();
    const runId = runIdOf('msa-high-risk.pdf');
    const file = path.join(trail, 'stages', 'Summarize', runId, 'chunks', '00000', 'prompt.txt');
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(/a/, 'A'));
    expect((await verdictOf(trail, runId)).problem).toMatch(new RegExp(`^prompt object stages/Summarize/${runId}/chunks/00000/prompt.txt of stage record stages/Summarize/${runId}/chunks/00000.json changed: `));
  });

  test('a changed byte in a stage record is found: the run record chains its sha256', async () => {
    const { trail } = copy();
    const runId = runIdOf('nda-short.pdf');
    const file = path.join(trail, 'stages', 'Classify', `${runId}.json`);
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('"SUCCEEDED"', '"SUCCEEDEd"'));
    expect((await verdictOf(trail, runId)).problem).toMatch(new RegExp(`^stage record stages/Classify/${runId}.json changed: sha256 [0-9a-f]{64}, runs/${runId}.json chains [0-9a-f]{64}$`));
  });

  test('a removed stage record is named', async () => {
    const { trail } = copy();
    const runId = runIdOf('nda-short.pdf');
    fs.rmSync(path.join(trail, 'stages', 'Classify', `${runId}.json`));
    expect((await verdictOf(trail, runId)).problem).toMatch(new RegExp(`^stage record stages/Classify/${runId}.json \\(stage Classify\\) is missing; runs/${runId}.json chains it with sha256 [0-9a-f]{64}$`));
  });

  test('reordered links are found even when the run record\'s own sha256 is recomputed', async () => {
    const { trail } = copy();
    const runId = runIdOf('nda-short.pdf');
    const file = path.join(trail, 'runs', `${runId}.json`);
    const run = readJson(file);
    run.chain = [run.chain[1], run.chain[0], ...run.chain.slice(2)];
    delete run.recordSha256;
    run.recordSha256 = runRecordSha256(run);
    fs.writeFileSync(file, JSON.stringify(run));
    expect((await verdictOf(trail, runId)).problem)
      .toBe(`run record runs/${runId}.json: link 0 (stages/Language/${runId}.json) does not follow the start of the chain: links were removed or reordered`);
  });

  test('a link removed from the chain is found', async () => {
    const { trail } = copy();
    const runId = runIdOf('nda-short.pdf');
    const file = path.join(trail, 'runs', `${runId}.json`);
    const run = readJson(file);
    run.chain = [run.chain[0], ...run.chain.slice(2)];
    fs.writeFileSync(file, JSON.stringify(run));
    expect((await verdictOf(trail, runId)).problem).toMatch(new RegExp(`^run record runs/${runId}.json: link 1 \\(stages/Classify/${runId}.json\\) does not follow link 0 \\(stages/Extract/${runId}.json\\)`));
  });

  test('a changed value in the run record is found by its own sha256', async () => {
    const { trail } = copy();
    const runId = runIdOf('msa-high-risk.pdf');
    const file = path.join(trail, 'runs', `${runId}.json`);
    const run = readJson(file);
    run.route = { rule: 'low-risk-nda', destination: 'auto-approve' };
    fs.writeFileSync(file, JSON.stringify(run));
    expect((await verdictOf(trail, runId)).problem).toBe(`run record runs/${runId}.json changed: the sha256 of its content is ${runRecordSha256(run)}, not the ${run.recordSha256} it carries`);
  });

  test('a removed run record is found from the stage records it leaves behind', async () => {
    const { trail } = copy();
    const runId = runIdOf('encrypted.pdf');
    fs.rmSync(path.join(trail, 'runs', `${runId}.json`));
    expect((await verdictOf(trail, runId)).problem).toBe(`runs/${runId}.json is missing, yet the run has stage records (stages/Extract/${runId}.json): the run record was removed, or the run has not finished`);
  });

  test('a stage record outside the chain is a note, not a broken run', async () => {
    const { trail } = copy();
    const runId = runIdOf('encrypted.pdf');
    fs.mkdirSync(path.join(trail, 'stages', 'Classify'), { recursive: true });
    fs.writeFileSync(path.join(trail, 'stages', 'Classify', `${runId}.json`), '{}');
    const v = await verdictOf(trail, runId);
    expect(v.ok).toBe(true);
    expect(v.notes).toEqual([`stage record stages/Classify/${runId}.json is not in the chain of runs/${runId}.json (written after the run was recorded, or added later)`]);
  });
});

describe('verify-audit on S3', () => {
  /** Serves a trail folder through a mocked S3 client, under a prefix, in pages of 2 keys. */
  function s3Over(trail: string, bucket: string, prefix: string): S3Client {
    const client = new S3Client({ region: 'us-east-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' } });
    const mock = mockClient(client);
    const local = new DirectoryReader(trail);
    mock.on(ListObjectsV2Command).callsFake(async (input) => {
      expect(input.Bucket).toBe(bucket);
      const keys = (await local.list(input.Prefix!.slice(prefix.length))).map((k) => prefix + k);
      const start = input.ContinuationToken ? Number(input.ContinuationToken) : 0;
      const page = keys.slice(start, start + 2);
      const more = start + 2 < keys.length;
      return { Contents: page.map((Key) => ({ Key })), IsTruncated: more, ...(more ? { NextContinuationToken: String(start + 2) } : {}) };
    });
    mock.on(GetObjectCommand).callsFake(async (input) => {
      const bytes = await local.read(input.Key!.slice(prefix.length));
      if (!bytes) throw Object.assign(new Error('NoSuchKey'), { name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } });
      return { Body: s3Body(bytes) };
    });
    return client;
  }

  test('an intact trail in a bucket under a prefix checks out, through paged listings', async () => {
    const reader = readerFor('s3://audit-copy/2026/', '/', () => s3Over(findTrailFolder(out)!, 'audit-copy', '2026/'));
    expect(reader).toBeInstanceOf(S3Reader);
    expect(reader.location).toBe('s3://audit-copy/2026/');
    const verdicts = await verifyAudit(reader);
    expect(verdicts).toHaveLength(3);
    expect(verdicts.every((v) => v.ok)).toBe(true);
  });

  test('a changed object in the bucket is named', async () => {
    const { trail } = copy();
    const runId = runIdOf('nda-short.pdf');
    const file = path.join(trail, 'stages', 'Extract', runId, 'input.json');
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('nda-short', 'nda-shorT'));
    const verdicts = await verifyAudit(new S3Reader(s3Over(trail, 'audit', ''), 'audit'), { runId });
    expect(verdicts[0].problem).toMatch(new RegExp(`^input object stages/Extract/${runId}/input.json of stage record stages/Extract/${runId}.json changed: `));
  });
});

describe('verify-audit arguments', () => {
  test('one location, an optional --run', () => {
    expect(parseVerifyArgs(['verify-audit', 'out'])).toEqual({ location: 'out', runId: undefined });
    expect(parseVerifyArgs(['verify-audit', 's3://b/p', '--run', 'r1'])).toEqual({ location: 's3://b/p', runId: 'r1' });
    expect(() => parseVerifyArgs(['verify-audit'])).toThrow(/verify-audit takes one location, got 0\./);
    expect(() => parseVerifyArgs(['verify-audit', 'a', 'b'])).toThrow(/verify-audit takes one location, got 2\./);
    expect(() => parseVerifyArgs(['verify-audit', 'a', '--bogus'])).toThrow(RunnerError);
  });

  test('a folder with no trail, and a run that is not there, are usage errors', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'verify-empty-'));
    expect(() => readerFor(empty, '/')).toThrow(/holds no audit trail/);
    await expect(runVerifyCommand({ location: out, runId: 'nope' }, () => undefined, readerFor(out, '/'))).rejects.toThrow(/holds no run nope/);
  });
});
