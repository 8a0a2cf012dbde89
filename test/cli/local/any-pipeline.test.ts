/**
 * A pipeline of another domain through the local runner, with nothing but its CDK app: insurance
 * claims (Textract, a SageMaker fraud scorer, a Bedrock extraction, a Lambda stage of the user's own
 * that reads the OCR text pointer with the real AWS SDK, and routing on those stages' fields).
 * No --model: every model stage answers with an instance of its own output contract. A scenario
 * steers each document to each destination.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import {
  BedrockModel, DocumentTrigger, InferenceStage, Pipeline, PromptTemplate,
  RouteDestination, RoutingPolicy, RoutingRule, RuleCondition, StageContract,
} from '../../../src';
import { runLocalCommand } from '../../../src/cli/local/command';
import { DocumentOutcome } from '../../../src/cli/local/runner';

const tmp = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), prefix));

/** The user's function: reads the OCR text through the pointer with the AWS SDK's S3 client, counts words. */
const USER_CODE = `
const { S3Client, GetObjectCommand } = require(${JSON.stringify(require.resolve('@aws-sdk/client-s3'))});
const s3 = new S3Client({});
exports.handler = async (event) => {
  const pointer = event.results.Ocr.text;
  const out = await s3.send(new GetObjectCommand({ Bucket: pointer.bucket, Key: pointer.key }));
  const text = JSON.parse(await out.Body.transformToString()).pages.map((p) => p.text).join('\\n');
  if (/POLICY VOID/.test(text)) { const err = new Error('the policy is void'); err.name = 'Claim.PolicyVoid'; throw err; }
  return { words: text.split(/\\s+/).filter(Boolean).length, policyNumber: (/Policy (\\S+)/.exec(text) || [])[1] || 'unknown' };
};`;

function synth(): string {
  const codeDir = tmp('claims-fn-');
  fs.writeFileSync(path.join(codeDir, 'index.js'), USER_CODE);
  const outdir = tmp('claims-cdkout-');
  const app = new App({ outdir, context: { 'aws:cdk:enable-asset-metadata': true } });
  const stack = new Stack(app, 'Claims', { env: { account: '111111111111', region: 'us-east-1' } });

  const trigger = DocumentTrigger.s3Upload(stack, 'Upload', { prefix: 'claims/', suffixes: ['.pdf'] });
  const ocr = InferenceStage.textract(stack, 'Ocr');
  const score = InferenceStage.sagemakerEndpoint(stack, 'Score', {
    endpointName: 'fraud-scorer',
    output: StageContract.fromObject({
      type: 'object',
      required: ['fraudScore'],
      additionalProperties: false,
      properties: { fraudScore: { type: 'number', minimum: 0, maximum: 1 } },
    }),
  });
  const extract = InferenceStage.bedrock(stack, 'Extract', {
    model: BedrockModel.inferenceProfile('us.anthropic.claude-3-5-haiku-20241022-v1:0'),
    prompt: PromptTemplate.fromText('Extract the claim type, the amount claimed and a short summary from this claim:\n<claim>\n{{text}}\n</claim>\nReply with JSON only.', { version: '1' }),
    output: StageContract.fromObject({
      type: 'object',
      required: ['claimType', 'amount', 'summary'],
      additionalProperties: false,
      properties: {
        claimType: { enum: ['auto', 'home', 'health'] },
        amount: { type: 'number', minimum: 0, maximum: 1000000 },
        summary: { type: 'string', minLength: 10, maxLength: 500 },
      },
    }),
  });
  const fn = new lambda.Function(stack, 'PolicyCheck', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromAsset(codeDir),
  });
  const check = InferenceStage.lambda(stack, 'Check', {
    function: fn,
    output: StageContract.fromObject({ type: 'object', required: ['words'], properties: { words: { type: 'integer' }, policyNumber: { type: 'string' } } }),
  });
  const queue = (id: string) => new sqs.Queue(stack, id, { enforceSSL: true });
  const routing = new RoutingPolicy(stack, 'Route', {
    rules: [
      RoutingRule.when('likely-fraud', RuleCondition.numberAtLeast('Score.fraudScore', 0.8), RouteDestination.sqsQueue('fraud-team', queue('Fraud'))),
      RoutingRule.when('large-claim', RuleCondition.numberAtLeast('Extract.amount', 10000), RouteDestination.sqsQueue('adjuster', queue('Adjuster'))),
      RoutingRule.when('fast-track', RuleCondition.all([
        RuleCondition.stringEquals('Extract.claimType', 'auto'),
        RuleCondition.numberBelow('Score.fraudScore', 0.3),
      ]), RouteDestination.autoApprove('fast-track')),
    ],
    defaultRoute: RouteDestination.sqsQueue('review', queue('Review')),
  });
  new Pipeline(stack, 'ClaimsIntake', { trigger, stages: [ocr, score, extract, check], routing });
  app.synth();
  return outdir;
}

async function claimPdf(lines: string[]): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  const page = doc.addPage([612, 792]);
  lines.forEach((line, i) => page.drawText(line, { x: 56, y: 740 - i * 16, size: 11, font }));
  return doc.save();
}

describe('an insurance-claims pipeline through the local runner, with nothing but its CDK app', () => {
  let assembly: string;
  let docs: string;
  beforeAll(async () => {
    assembly = synth();
    docs = tmp('claims-docs-');
    for (let i = 1; i <= 6; i++) {
      fs.writeFileSync(path.join(docs, `claim-${i}.pdf`), await claimPdf([`Claim form ${i}`, `Policy P-${1000 + i}`, 'The insured vehicle was damaged in a parking lot.', `Amount claimed: ${i * 1500} USD`]));
    }
    fs.writeFileSync(path.join(docs, 'void.pdf'), await claimPdf(['Claim form', 'Policy P-9', 'POLICY VOID since 2024']));
  }, 120_000);

  let outcomes: DocumentOutcome[];
  let out: string;
  test('every document reaches a route; the stand-ins answer each stage\'s own contract', async () => {
    out = tmp('claims-out-');
    outcomes = await runLocalCommand({ documents: [docs], out, assembly, quiet: true, cwd: docs }, () => undefined);
    expect(outcomes).toHaveLength(7);
    for (const o of outcomes.filter((x) => x.document !== 'void.pdf')) {
      expect(o.status).toBe('SUCCEEDED');
      expect(['fraud-team', 'adjuster', 'fast-track', 'review']).toContain(o.route);
      const score = o.fields['Score.fraudScore'] as number;
      expect(score).toBeGreaterThanOrEqual(0);
      expect(score).toBeLessThanOrEqual(1);
      expect(['auto', 'home', 'health']).toContain(o.fields['Extract.claimType']);
      // The user's function read the OCR text through the S3 endpoint with the real SDK.
      expect(o.results.Check).toMatchObject({ words: expect.any(Number), policyNumber: expect.stringMatching(/^P-10\d\d$/) });
    }
    // The table's columns are what the routing rules read (the active-content guard of auto-approval included).
    expect(Object.keys(outcomes[0].fields)).toEqual(['Score.fraudScore', 'Extract.amount', 'Extract.claimType', 'Ocr.activeContent']);
  }, 120_000);

  test('an error the user\'s function throws keeps its name, message and stack top', () => {
    const o = outcomes.find((x) => x.document === 'void.pdf')!;
    expect(o).toMatchObject({ status: 'FAILED', error: 'Claim.PolicyVoid' });
    expect(o.errorDetail).toMatchObject({ name: 'Claim.PolicyVoid', message: 'the policy is void' });
    expect(o.errorDetail!.stack![0]).toMatch(/index\.js:\d+/);
    const result = JSON.parse(fs.readFileSync(path.join(out, o.result!), 'utf8'));
    expect(result.error).toMatchObject({ name: 'Claim.PolicyVoid', message: 'the policy is void' });
    expect(fs.readFileSync(path.join(out, 'report.html'), 'utf8')).toContain('the policy is void');
  });

  test('a scenario steers documents to each destination', async () => {
    const scenario = path.join(docs, '..', `claims-scenario-${process.pid}.json`);
    fs.writeFileSync(scenario, JSON.stringify({
      rules: [
        { documents: 'claim-1.pdf', stage: 'Score', fields: { fraudScore: 0.95 } },
        { documents: 'claim-2.pdf', stage: 'Score', fields: { fraudScore: 0.1 } },
        { documents: 'claim-2.pdf', stage: 'Extract', fields: { amount: 25000 } },
        { documents: 'claim-3.pdf', stage: 'Score', fields: { fraudScore: 0.1 } },
        { documents: 'claim-3.pdf', stage: 'Extract', fields: { amount: 900, claimType: 'auto' } },
        { documents: 'claim-4.pdf', stage: 'Score', fields: { fraudScore: 0.5 } },
        { documents: 'claim-4.pdf', stage: 'Extract', fields: { amount: 900, claimType: 'home' } },
      ],
    }));
    const steered = await runLocalCommand({ documents: [docs], out: tmp('claims-steered-'), assembly, quiet: true, cwd: docs, scenario }, () => undefined);
    const route = (d: string) => steered.find((o) => o.document === d)!.route;
    expect([route('claim-1.pdf'), route('claim-2.pdf'), route('claim-3.pdf'), route('claim-4.pdf')]).toEqual(['fraud-team', 'adjuster', 'fast-track', 'review']);
  }, 120_000);
});
