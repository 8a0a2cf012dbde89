/**
 * `npm run bench express`: Step Functions cost per document, Standard beside Express, for the
 * fraud-screening example (every step synchronous and short: Express-eligible), from the local
 * runner's transition counts and durations over the example's samples (ADR-0029).
 *
 * List prices, us-east-1 (aws.amazon.com/step-functions/pricing), free tiers ignored:
 * - Standard: $0.025 per 1,000 state transitions;
 * - Express: $1.00 per million requests + $0.00001667 per GB-second (the first 1,000 GB-hours a month;
 *   less beyond), duration rounded up to 100 ms, memory billed in 64 MB chunks. Memory, as the pricing
 *   page estimates it: 50 MB + the definition's size + the execution data's size x the Parallel and Map
 *   states (the example has none; counted once).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { median } from './bench-stats';

const ROOT = path.join(__dirname, '..');
const EXAMPLE = path.join(ROOT, 'examples', 'fraud-screening');

export const STANDARD_PER_TRANSITION = 0.025 / 1000;
export const EXPRESS_PER_REQUEST = 1.0 / 1e6;
export const EXPRESS_PER_GB_SECOND = 0.00001667;
/** DynamoDB on-demand write request units, us-east-1: the claim's put and its update (ADR-0029). */
export const DYNAMODB_PER_WRITE = 0.625 / 1e6;

/** Express cost of one execution of `ms` with `billedMb` of memory. */
export function expressCost(ms: number, billedMb: number): number {
  const billedSeconds = Math.max(1, Math.ceil(ms / 100)) / 10;
  return EXPRESS_PER_REQUEST + billedSeconds * (billedMb / 1024) * EXPRESS_PER_GB_SECOND;
}

/** The duration (s) above which an Express execution costs more than a Standard one of `transitions`. */
export function breakEvenSeconds(transitions: number, billedMb: number): number {
  return (transitions * STANDARD_PER_TRANSITION - EXPRESS_PER_REQUEST) / ((billedMb / 1024) * EXPRESS_PER_GB_SECOND);
}

/** Resolve `cdk-ai-pipeline` (what the example imports) to this repo's sources. */
function aliasLibrary(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Module = require('module');
  const resolve = Module._resolveFilename;
  Module._resolveFilename = function (request: string, ...rest: unknown[]) {
    return resolve.call(this, request === 'cdk-ai-pipeline' ? path.join(ROOT, 'src', 'index.ts') : request, ...rest);
  };
}

export interface ExpressRow {
  readonly sample: string;
  readonly route: string;
  readonly transitions: number;
  readonly ms: number;
  readonly standard: number;
  readonly express: number;
  readonly expressAt1s: number;
  readonly breakEven: number;
}

export interface ExpressBench {
  readonly rows: ExpressRow[];
  readonly definitionBytes: number;
  readonly payloadBytes: number;
  readonly billedMb: number;
  readonly memoryMb: number;
}

export async function benchExpress(runs: number): Promise<ExpressBench> {
  process.env.CDK_VALIDATION = 'false';
  aliasLibrary();
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { App } = require('aws-cdk-lib');
  const sfn = require('aws-cdk-lib/aws-stepfunctions');
  const { FraudScreeningStack } = require(path.join(EXAMPLE, 'lib', 'fraud-screening-stack'));
  const { runLocalCommand } = require(path.join(ROOT, 'src', 'cli', 'local', 'command'));
  /* eslint-enable @typescript-eslint/no-require-imports */
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-express-cdkout-'));
  const app = new App({ outdir, context: { 'aws:cdk:enable-asset-metadata': true } });
  new FraudScreeningStack(app, 'FraudScreening', { env: { account: '111111111111', region: 'us-east-1' }, workflowType: sfn.StateMachineType.EXPRESS });
  app.synth();
  const template = JSON.parse(fs.readFileSync(path.join(outdir, 'FraudScreening.template.json'), 'utf8'));
  const machine = Object.values(template.Resources).find((r: any) => r.Type === 'AWS::StepFunctions::StateMachine' && r.Metadata?.['cdk-ai-pipeline']) as any;
  if (machine?.Properties?.StateMachineType !== 'EXPRESS') throw new Error('bench: the example did not synthesize an Express state machine');
  // The definition as deployed: the Fn::Join's literal parts plus a 64-byte stand-in per reference (ARNs, names).
  const parts: any[] = machine.Properties.DefinitionString['Fn::Join']?.[1] ?? [machine.Properties.DefinitionString];
  const definitionBytes = parts.reduce((n: number, p: any) => n + (typeof p === 'string' ? Buffer.byteLength(p) : 64), 0);

  const perDoc = new Map<string, { route: string; transitions: number; ms: number[]; payload: number }>();
  for (let i = 0; i < runs; i++) {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-express-out-'));
    const outcomes = await runLocalCommand({ documents: [path.join(EXAMPLE, 'samples')], out, assembly: outdir, quiet: true, cwd: EXAMPLE }, () => undefined);
    for (const o of outcomes) {
      const saved = o.result ? fs.readFileSync(path.join(out, o.result), 'utf8') : '';
      const entry = perDoc.get(o.document) ?? { route: o.status === 'SUCCEEDED' ? o.route : `${o.status} (${o.error})`, transitions: o.transitions, ms: [], payload: 0 };
      entry.ms.push(o.ms);
      entry.payload = Math.max(entry.payload, Buffer.byteLength(saved));
      perDoc.set(o.document, entry);
    }
    fs.rmSync(out, { recursive: true, force: true });
  }
  fs.rmSync(outdir, { recursive: true, force: true });
  const payloadBytes = Math.max(...[...perDoc.values()].map((e) => e.payload));
  const memoryMb = 50 + (definitionBytes + payloadBytes) / 2 ** 20;
  const billedMb = Math.ceil(memoryMb / 64) * 64;
  const rows = [...perDoc.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([sample, e]) => {
    const ms = median(e.ms);
    return {
      sample,
      route: e.route,
      transitions: e.transitions,
      ms,
      standard: e.transitions * STANDARD_PER_TRANSITION,
      express: expressCost(ms, billedMb),
      expressAt1s: expressCost(1000, billedMb),
      breakEven: breakEvenSeconds(e.transitions, billedMb),
    };
  });
  return { rows, definitionBytes, payloadBytes, billedMb, memoryMb };
}

type Table = (title: string, header: string[], rows: Array<Array<string | number>>) => void;

export async function printExpressBench(runs: number, printTable: Table): Promise<void> {
  const { rows, definitionBytes, payloadBytes, billedMb, memoryMb } = await benchExpress(runs);
  const usd = (x: number) => x.toFixed(8);
  const perMillion = (x: number) => (x * 1e6).toFixed(2);
  printTable(`Step Functions cost per document, Standard vs Express: examples/fraud-screening as Express, local runner, median of ${runs} (us-east-1 list prices)`,
    ['sample', 'route', 'transitions', 'local ms', 'Standard USD/doc', 'Express USD/doc (local ms)', 'Express USD/doc (1 s)', 'break-even s', 'Standard USD/1M', 'Express USD/1M (1 s)'],
    rows.map((r) => [
      r.sample, r.route, r.transitions, r.ms.toFixed(0), usd(r.standard), usd(r.express), usd(r.expressAt1s),
      r.breakEven.toFixed(0), perMillion(r.standard), perMillion(r.expressAt1s),
    ]));
  console.log(`  Express memory: 50 MB + definition ${(definitionBytes / 1024).toFixed(1)} KiB + execution data ${(payloadBytes / 1024).toFixed(1)} KiB (largest run) = ${memoryMb.toFixed(2)} MB, billed ${billedMb} MB.`);
  console.log('  Local durations are the in-process runner\'s (stand-ins answer at once); a deployed run adds each Lambda\'s and the endpoint\'s latency:');
  console.log('  the "1 s" column assumes one second per run; Express stays cheaper up to the break-even duration.');
  console.log(`  Express adds the trigger's run claim: 2 DynamoDB writes (put, mark started) = ${usd(2 * DYNAMODB_PER_WRITE)} USD per document at $0.625 per million write request units.`);
}
