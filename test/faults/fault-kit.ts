/**
 * What the fault and bad-document suites share: the apps they synthesize once (the legal example,
 * and a small pipeline with a Lambda stage of the user's own), a run through the local runner with a
 * scenario, and the checks every run must pass: one defined terminal state, the document kept in
 * its bucket, exactly one run record.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { LegalContractsStack } from '../../examples/legal-contracts/lib/legal-contracts-stack';
import { DocumentTrigger, InferenceStage, Pipeline, StageContract } from '../../src';
import { runLocalCommand } from '../../src/cli/local/command';
import { DocumentOutcome } from '../../src/cli/local/runner';
import { AuditEventTypes, Keys } from '../../src/shared';

export const REPO = path.join(__dirname, '..', '..');
export const LEGAL_EXAMPLE = path.join(REPO, 'examples', 'legal-contracts');
export const tmp = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), prefix));

/** Synthesizes the legal example (Textract, SageMaker, Bedrock) into a cloud assembly. */
export function synthLegal(): string {
  const outdir = tmp('faults-legal-');
  const app = new App({ outdir, context: { 'aws:cdk:enable-asset-metadata': true } });
  new LegalContractsStack(app, 'LegalContractIntake', { env: { account: '111111111111', region: 'us-east-1' } });
  app.synth();
  return outdir;
}

/** The user's function of the Lambda-stage app: counts the characters of the key. */
const USER_CODE = `
exports.main = async (event) => ({ keyLength: event.document.key.length, pages: event.results.Ocr.pages });
`;

/** Textract then a Lambda stage of the user's own (run from its asset in a worker, as Lambda would). */
export function synthLambdaApp(): string {
  const codeDir = tmp('faults-fn-');
  fs.writeFileSync(path.join(codeDir, 'index.js'), USER_CODE);
  const outdir = tmp('faults-lambda-');
  const app = new App({ outdir, context: { 'aws:cdk:enable-asset-metadata': true } });
  const stack = new Stack(app, 'Counting', { env: { account: '111111111111', region: 'us-east-1' } });
  const fn = new lambda.Function(stack, 'Counter', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.main',
    code: lambda.Code.fromAsset(codeDir),
  });
  const trigger = DocumentTrigger.s3Upload(stack, 'Upload', { prefix: 'incoming/' });
  const ocr = InferenceStage.textract(stack, 'Ocr');
  const check = InferenceStage.lambda(stack, 'Check', {
    function: fn,
    output: StageContract.fromObject({
      type: 'object',
      required: ['keyLength'],
      additionalProperties: false,
      properties: { keyLength: { type: 'integer', minimum: 1 }, pages: { type: 'integer' } },
    }),
  });
  new Pipeline(stack, 'Counting', { trigger, stages: [ocr, check] });
  app.synth();
  return outdir;
}

/** One document's run and what the checks found. */
export interface CheckedRun {
  readonly outcome: DocumentOutcome;
  readonly out: string;
  /** Versions ever written at the run record's key (current and superseded). */
  readonly runRecordVersions: number;
  /** "Run Succeeded" / "Run Failed" events on the audit bus for this run. */
  readonly runEvents: number;
  /** The run record (the current version), if any. */
  readonly runRecord?: any;
  /** The uploaded bytes are still at the document's key, unchanged. */
  readonly documentKept: boolean;
  /** Every object of the document bucket other than the document itself (the pipeline writes none). */
  readonly otherDocumentObjects: string[];
}

/** Runs documents through a cloud assembly with a scenario; checks each run's records and document. */
export async function runChecked(assembly: string, documents: string[], rules: object[] = [], cwd = LEGAL_EXAMPLE): Promise<CheckedRun[]> {
  const dir = tmp('faults-run-');
  const scenario = path.join(dir, 'scenario.json');
  fs.writeFileSync(scenario, JSON.stringify({ rules }));
  const out = path.join(dir, 'out');
  const outcomes = await runLocalCommand({ documents, out, assembly, quiet: true, cwd, scenario }, () => undefined);
  const events: any[] = JSON.parse(fs.readFileSync(path.join(out, 'events.json'), 'utf8'));
  const buckets = path.join(out, 'buckets');
  const bucketNames = fs.readdirSync(buckets).filter((b) => !b.startsWith('.'));
  const uploaded = new Set(outcomes.map((o) => `incoming/${o.document}`));
  return outcomes.map((outcome, i) => {
    const result = JSON.parse(fs.readFileSync(path.join(out, outcome.result!), 'utf8'));
    const runId: string = result.runId;
    const runKey = Keys.runAudit(runId);
    const auditBucket = bucketNames.find((b) => fs.existsSync(path.join(buckets, b, runKey)))
      ?? bucketNames.find((b) => fs.existsSync(path.join(buckets, '.versions', b, sha(runKey))));
    const current = auditBucket ? path.join(buckets, auditBucket, runKey) : undefined;
    const superseded = auditBucket ? path.join(buckets, '.versions', auditBucket, sha(runKey)) : undefined;
    const runRecordVersions = (current && fs.existsSync(current) ? 1 : 0)
      + (superseded && fs.existsSync(superseded) ? fs.readdirSync(superseded).length : 0);
    const runTypes: string[] = [AuditEventTypes.RUN_SUCCEEDED, AuditEventTypes.RUN_FAILED];
    const runEvents = events.filter((e) => runTypes.includes(e.detailType) && e.detail?.runId === runId).length;
    const bytes = fs.readFileSync(documents[i]);
    const docBucket = bucketNames.find((b) => fs.existsSync(path.join(buckets, b, 'incoming', outcome.document)))
      ?? bucketNames.find((b) => /document/i.test(b) || /upload/i.test(b));
    const docFile = docBucket ? path.join(buckets, docBucket, 'incoming', outcome.document) : undefined;
    const documentKept = !!docFile && fs.existsSync(docFile) && fs.readFileSync(docFile).equals(bytes);
    const otherDocumentObjects = docBucket ? walk(path.join(buckets, docBucket)).filter((k) => !uploaded.has(k)) : [];
    return {
      outcome,
      out,
      runRecordVersions,
      runEvents,
      runRecord: current && fs.existsSync(current) ? JSON.parse(fs.readFileSync(current, 'utf8')) : undefined,
      documentKept,
      otherDocumentObjects,
    };
  });
}

function sha(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function walk(dir: string, prefix = ''): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    return e.isDirectory() ? walk(path.join(dir, e.name), rel) : [rel];
  });
}
