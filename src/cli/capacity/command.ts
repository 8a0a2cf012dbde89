import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseArgs as parseArgv } from 'util';
import { DEFAULT_PRICES, PriceTable } from './defaults';
import { CapacityLoad, CapacityPlan, CapacityStage, planCapacity, QuotaOverrides, renderPlan } from './model';
import { appFromCdkJson, loadPipelines, RunnerError, synthesize } from '../local/cloud-assembly';

export const CAPACITY_USAGE = `Usage: cdk-ai-pipeline capacity --docs-per-day <n> [options]

Reads the synthesized app (its pipelines' stages, models and quotas) and prints, for a daily load, the
bottleneck quota, the expected wait for capacity, the sustainable documents per day and the cost per
document, with the quota numbers and prices it assumed and where they come from.

  --docs-per-day <n>           documents a day (required)
  --pages-per-doc <n>          average pages per document (default 3)
  --single-page-share <0..1>   share of single-page documents (default 0.3)
  --tokens-per-page <n>        text tokens per page that reach a model's prompt (default 600)
  --output-tokens <n>          tokens a model writes per document (default 500)
  --burst-factor <n>           peak arrival rate over the average (default 3)
  --burst-hours <n>            how long the peak lasts (default 2)
  --quotas <file>              your account's quotas (JSON): {"textract": {"DetectDocumentText": 25},
                               "bedrock": {"<model>": {"requestsPerMinute": n, "tokensPerMinute": n}},
                               "sagemaker": {"<endpoint>": {"invocationsPerSecond": n}}, "utilizationTarget": 0.95}
  --prices <file>              list prices to use instead of the built-in table (JSON, same fields)
  --app "<command>"            the CDK app command (default: "app" of ./cdk.json)
  --assembly <dir>             a cloud assembly already synthesized (skips running the app)
  --pipeline <id>              the pipeline name or construct id, when the app has several
  --json                       print the plan as JSON`;

export interface CapacityCommandOptions {
  readonly load: CapacityLoad;
  readonly quotas?: string;
  readonly prices?: string;
  readonly app?: string;
  readonly assembly?: string;
  readonly pipeline?: string;
  readonly json?: boolean;
  readonly cwd?: string;
}

const OPTIONS = {
  'docs-per-day': { type: 'string' },
  'pages-per-doc': { type: 'string' },
  'single-page-share': { type: 'string' },
  'tokens-per-page': { type: 'string' },
  'output-tokens': { type: 'string' },
  'burst-factor': { type: 'string' },
  'burst-hours': { type: 'string' },
  'quotas': { type: 'string' },
  'prices': { type: 'string' },
  'app': { type: 'string' },
  'assembly': { type: 'string' },
  'pipeline': { type: 'string' },
  'json': { type: 'boolean' },
  'help': { type: 'boolean', short: 'h' },
} as const;

/** `capacity ...` arguments. */
export function parseCapacityArgs(argv: string[]): CapacityCommandOptions {
  if (argv[0] !== 'capacity') throw new RunnerError(`unknown command '${argv[0] ?? ''}'.\n${CAPACITY_USAGE}`);
  let values: any;
  try {
    values = parseArgv({ args: argv.slice(1), options: OPTIONS, strict: true }).values;
  } catch (err: any) {
    throw new RunnerError(`${err?.message ?? err}.\n${CAPACITY_USAGE}`);
  }
  if (values.help) throw new RunnerError(CAPACITY_USAGE);
  if (values['docs-per-day'] === undefined) throw new RunnerError(`--docs-per-day is required.\n${CAPACITY_USAGE}`);
  const num = (flag: string, fallback: number) => {
    const raw = values[flag];
    if (raw === undefined) return fallback;
    const n = Number(String(raw).replace(/_/g, ''));
    if (!Number.isFinite(n)) throw new RunnerError(`--${flag} must be a number, got: '${raw}'.`);
    return n;
  };
  return {
    load: {
      documentsPerDay: num('docs-per-day', 0),
      pagesPerDocument: num('pages-per-doc', 3),
      singlePageShare: num('single-page-share', 0.3),
      inputTokensPerPage: num('tokens-per-page', 600),
      outputTokensPerDocument: num('output-tokens', 500),
      burstFactor: num('burst-factor', 3),
      burstHours: num('burst-hours', 2),
    },
    quotas: values.quotas,
    prices: values.prices,
    app: values.app,
    assembly: values.assembly,
    pipeline: values.pipeline,
    json: values.json ?? false,
  };
}

function readJson(file: string, cwd: string, what: string): any {
  const p = path.resolve(cwd, file);
  if (!fs.existsSync(p)) throw new RunnerError(`${what} ${p} does not exist`);
  try {
    return JSON.parse(fs.readFileSync(p, 'utf8'));
  } catch (err: any) {
    throw new RunnerError(`${what} ${p} is not valid JSON: ${err?.message ?? err}`);
  }
}

/** Runs `capacity`: synthesizes the app (or reads an assembly), plans, prints. Returns the plan. */
export function runCapacityCommand(options: CapacityCommandOptions, log: (text: string) => void = (t) => process.stdout.write(t + '\n')): CapacityPlan {
  const cwd = options.cwd ?? process.cwd();
  let assembly = options.assembly ? path.resolve(cwd, options.assembly) : undefined;
  if (!assembly) {
    const app = options.app ?? appFromCdkJson(cwd);
    assembly = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-ai-pipeline-cdkout-'));
    synthesize(app, cwd, assembly);
  }
  const pipelines = loadPipelines(assembly);
  if (pipelines.length === 0) throw new RunnerError('no pipeline: the app defines no cdk-ai-pipeline Pipeline');
  const matching = options.pipeline
    ? pipelines.filter((p) => p.meta.pipeline === options.pipeline || p.stateMachineId.startsWith(options.pipeline!))
    : pipelines;
  if (matching.length !== 1) {
    throw new RunnerError(matching.length === 0
      ? `no pipeline named '${options.pipeline}'; the app has: ${pipelines.map((p) => p.meta.pipeline).join(', ')}`
      : `the app has several pipelines (${matching.map((p) => p.meta.pipeline).join(', ')}): choose one with --pipeline`);
  }
  const pipeline = matching[0];
  const overrides: QuotaOverrides = options.quotas ? readJson(options.quotas, cwd, '--quotas') : {};
  const prices: PriceTable = options.prices ? { ...DEFAULT_PRICES, ...readJson(options.prices, cwd, '--prices'), source: `your --prices file ${options.prices}` } : DEFAULT_PRICES;
  let plan: CapacityPlan;
  try {
    plan = planCapacity(pipeline.meta.stages as unknown as CapacityStage[], options.load, overrides, prices);
  } catch (err: any) {
    throw new RunnerError(err?.message ?? String(err));
  }
  log(options.json ? JSON.stringify(plan, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)
    : renderPlan(`Pipeline ${pipeline.meta.pipeline} (${pipeline.stackName})`, plan));
  return plan;
}
