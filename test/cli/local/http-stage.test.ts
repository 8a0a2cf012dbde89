/**
 * An HTTP stage through the local runner and the real synthesized definition: the HTTP task answered
 * by a local module (`--model`) or the contract stand-in, its 429s retried by the definition's Retry,
 * a body off the contract failing the run with Contract.OutputViolation, JSON documents as input.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { DocumentTrigger, InferenceStage, Pipeline, RouteDestination, RoutingPolicy, RoutingRule, RuleCondition, StageContract } from '../../../src';
import { runLocalCommand } from '../../../src/cli/local/command';
import { DocumentOutcome } from '../../../src/cli/local/runner';

const tmp = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), prefix));

function synth(): string {
  const outdir = tmp('http-cdkout-');
  const app = new App({ outdir, context: { 'aws:cdk:enable-asset-metadata': true } });
  const stack = new Stack(app, 'Lookups', { env: { account: '111111111111', region: 'us-east-1' } });
  const lookup = InferenceStage.http(stack, 'Lookup', {
    apiRoot: 'https://lists.example.org/v2',
    path: 'screen',
    apiKeySecret: new secretsmanager.Secret(stack, 'Key'),
    queryParameters: { ref: '$.document.key', list: 'sanctions' },
    output: StageContract.fromObject({
      type: 'object',
      required: ['listed', 'list'],
      additionalProperties: false,
      properties: { listed: { type: 'boolean' }, list: { type: 'string', maxLength: 20 } },
    }),
  });
  new Pipeline(stack, 'Lookups', {
    trigger: DocumentTrigger.s3Upload(stack, 'Upload', { prefix: 'in/', suffixes: ['.json'] }),
    stages: [lookup],
    routing: new RoutingPolicy(stack, 'Route', {
      rules: [RoutingRule.when('clear', RuleCondition.booleanEquals('Lookup.listed', false), RouteDestination.autoApprove())],
      defaultRoute: RouteDestination.sqsQueue('review', new sqs.Queue(stack, 'Review', { enforceSSL: true })),
    }),
  });
  app.synth();
  return outdir;
}

const MODULE = `
exports.handler = (request, context) => {
  const ref = request.query.ref;
  if (ref.endsWith('garbled.json')) return { listed: 'maybe' };
  return { listed: ref.includes('listed'), list: request.query.list + ':' + context.method };
};
`;

describe('HTTP stage in the local runner', () => {
  let assembly: string;
  let docs: string;

  beforeAll(() => {
    assembly = synth();
    docs = tmp('http-docs-');
    fs.mkdirSync(path.join(docs, 'in'));
    fs.writeFileSync(path.join(docs, 'in', 'clean.json'), JSON.stringify({ id: 't-1' }));
    fs.writeFileSync(path.join(docs, 'in', 'listed.json'), JSON.stringify({ id: 't-2' }));
    fs.writeFileSync(path.join(docs, 'in', 'garbled.json'), JSON.stringify({ id: 't-3' }));
    fs.writeFileSync(path.join(docs, 'lookup.js'), MODULE);
  }, 120_000);

  async function run(extra: { models?: { [stage: string]: string }; scenario?: string } = {}): Promise<Map<string, DocumentOutcome>> {
    const runs = await runLocalCommand({ documents: [path.join(docs, 'in')], out: tmp('http-out-'), assembly, quiet: true, cwd: docs, ...extra }, () => undefined);
    return new Map(runs.map((o) => [o.document, o]));
  }

  test('a local module answers the call: the request is built by JSONPath, the body is the stage\'s result', async () => {
    const outcomes = await run({ models: { Lookup: 'lookup.js' } });
    const clean = outcomes.get('clean.json')!;
    expect(clean.status).toBe('SUCCEEDED');
    expect(clean.results.Lookup).toEqual({ listed: false, list: 'sanctions:GET' });
    expect(clean).toMatchObject({ rule: 'clear', route: 'auto-approve' });
    expect(clean.path.map((s) => s.state).slice(0, 2)).toEqual(['Lookup-Call', 'Lookup']);
    const listed = outcomes.get('listed.json')!;
    expect(listed.results.Lookup).toEqual({ listed: true, list: 'sanctions:GET' });
    expect(listed.route).toBe('review');
  }, 60_000);

  test('an answer off the contract fails the run with Contract.OutputViolation, through the failure path', async () => {
    const garbled = (await run({ models: { Lookup: 'lookup.js' } })).get('garbled.json')!;
    expect(garbled.status).toBe('FAILED');
    expect(garbled.path.find((s) => s.state === 'Lookup')?.error).toBe('Contract.OutputViolation');
  }, 60_000);

  test('without a module, the contract stand-in answers; 429s are retried by the definition', async () => {
    const scenario = path.join(docs, 'scenario.json');
    fs.writeFileSync(scenario, JSON.stringify({ rules: [{ documents: 'clean.json', stage: 'Lookup', fault: { throttle: 2 }, fields: { listed: false } }] }));
    const clean = (await run({ scenario })).get('clean.json')!;
    expect(clean.status).toBe('SUCCEEDED');
    expect(clean.results.Lookup).toMatchObject({ listed: false, list: expect.any(String) });
    expect(clean.path.find((s) => s.state === 'Lookup-Call')?.retries).toBe(2);
    expect(clean).toMatchObject({ rule: 'clear', route: 'auto-approve' });
  }, 60_000);

  test('an API that answers a body that is not JSON (scenario invalid-json) fails the check, not the call', async () => {
    const scenario = path.join(docs, 'broken.json');
    fs.writeFileSync(scenario, JSON.stringify({ rules: [{ documents: 'listed.json', stage: 'Lookup', fault: 'invalid-json' }] }));
    const listed = (await run({ scenario })).get('listed.json')!;
    expect(listed.status).toBe('FAILED');
    expect(listed.path.find((s) => s.state === 'Lookup-Call')?.error).toBeUndefined();
    expect(listed.path.find((s) => s.state === 'Lookup')?.error).toBe('Contract.OutputViolation');
  }, 60_000);
});
