import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as readline from 'readline';
import { parseArgs as parseArgv } from 'util';
import { appFromCdkJson, loadPipelines, RunnerError, synthesize } from './cloud-assembly';
import { loadFunction, parseModuleSpec } from './modules';
import { renderReport } from './report';
import { promptDecider, ReviewDecider } from './review';
import { DocumentOutcome, LocalModel, routingColumns, runDocuments } from './runner';
import { loadScenario } from './scenario';

/** The file next to cdk.json that holds the same settings as the flags (flags win). */
export const CONFIG_FILE = 'cdk-ai-pipeline.local.json';

export const USAGE = `Usage: cdk-ai-pipeline local --documents <dir or files...> --out <dir> [options]

Runs each document through the pipeline's real synthesized state machine, locally, with no AWS
account: the built-in stages run their real handler code against local stand-ins (S3 on disk, PDF
text extraction for Textract, and for SageMaker and Bedrock stages a deterministic reply that
satisfies the stage's own output contract, unless you plug in a model of your own).

  --documents <path...>        a folder (every file in it) or one or more files
  --out <dir>                  where results, audit records, summary.json and report.html are written
  --app "<command>"            the CDK app command (default: "app" of ./cdk.json)
  --pipeline <id>              the pipeline name or construct id, when the app has several
  --model <stage>=<file>[#fn]  answer a Bedrock, SageMaker or HTTP stage with your module (.js or .ts; default
                               export: handler): it gets the stage's real request and returns the reply
  --function <id>=<file>[#fn]  run your Lambda stage's function from a module instead of its asset
  --scenario <file>            pin reply fields or inject faults per document and stage, and give human
                               reviews' decisions (JSON)
  --interactive                ask in the terminal for review decisions the scenario does not give
                               (without either, a review's deadline passes and the run escalates)
  --live <stage|all>           call the real service for these model stages (your default AWS credentials)
  --record <dir>               save every model request/reply pair under <dir>
  --replay <dir>               answer model calls from pairs saved with --record (no AWS, no models)
  --config <file>              settings file (default: ./${CONFIG_FILE} when it exists)
  --assembly <dir>             a cloud assembly already synthesized (skips running the app)
  --quiet                      print only the final table
  --help                       this text

Exit status: 0 when every document reached a terminal state, 2 for a usage or setup error.

       cdk-ai-pipeline verify-audit <dir | s3://bucket[/prefix]> [--run <id>]

Checks the audit chain of each run (of a --out folder or the audit bucket); exit 1 when one is broken.`;

export interface LocalCommandOptions {
  readonly documents: string[];
  readonly out: string;
  readonly app?: string;
  readonly pipeline?: string;
  readonly quiet?: boolean;
  readonly cwd?: string;
  /** A cloud assembly already synthesized (skips running the app). */
  readonly assembly?: string;
  /** User functions to run from named modules: function id → `module[#export]`. */
  readonly functions?: { [id: string]: string };
  /** Local models: stage id → `module[#export]`. */
  readonly models?: { [stage: string]: string };
  readonly scenario?: string;
  /** Ask in the terminal for human review decisions the scenario does not give (stdin must be a terminal). */
  readonly interactive?: boolean;
  /** How to ask (tests); default: a readline prompt on stdin/stdout. */
  readonly decide?: ReviewDecider;
  readonly live?: string[];
  readonly record?: string;
  readonly replay?: string;
  /** The settings file; default `cdk-ai-pipeline.local.json` in cwd when it exists. */
  readonly config?: string;
}

const OPTIONS = {
  documents: { type: 'string', multiple: true },
  out: { type: 'string' },
  app: { type: 'string' },
  pipeline: { type: 'string' },
  model: { type: 'string', multiple: true },
  function: { type: 'string', multiple: true },
  scenario: { type: 'string' },
  interactive: { type: 'boolean' },
  live: { type: 'string', multiple: true },
  record: { type: 'string' },
  replay: { type: 'string' },
  config: { type: 'string' },
  assembly: { type: 'string' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function pairs(flag: string, specs: readonly string[] | undefined): { [id: string]: string } | undefined {
  if (!specs) return undefined;
  const out: { [id: string]: string } = {};
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    if (eq <= 0 || eq === spec.length - 1) throw new RunnerError(`--${flag} must be <id>=<module>[#export], got: '${spec}'.\n${USAGE}`);
    out[spec.slice(0, eq)] = spec.slice(eq + 1);
  }
  return out;
}

/** Parses `local ...` arguments (values after `--documents` up to the next flag are documents too). */
export function parseArgs(argv: string[]): LocalCommandOptions {
  if (argv[0] !== 'local') throw new RunnerError(`unknown command '${argv[0] ?? ''}'.\n${USAGE}`);
  const parse = () => {
    try {
      return parseArgv({ args: argv.slice(1), options: OPTIONS, allowPositionals: true, strict: true, tokens: true });
    } catch (err: any) {
      throw new RunnerError(`${err?.message ?? err}.\n${USAGE}`);
    }
  };
  const { values, tokens } = parse();
  if (values.help) throw new RunnerError(USAGE);
  // Positionals right after --documents <path> are more documents; anywhere else they are mistakes.
  const documents = [...(values.documents ?? [])];
  let inDocuments = false;
  for (const token of tokens) {
    if (token.kind === 'option') {inDocuments = token.name === 'documents';} else if (token.kind === 'positional') {
      if (!inDocuments) throw new RunnerError(`unexpected argument '${token.value}'.\n${USAGE}`);
      documents.push(token.value);
    }
  }
  if (documents.length === 0) throw new RunnerError(`--documents is required.\n${USAGE}`);
  if (!values.out) throw new RunnerError(`--out is required.\n${USAGE}`);
  if (values.record && values.replay) throw new RunnerError(`--record and --replay exclude each other: record once, then replay.\n${USAGE}`);
  return {
    documents,
    out: values.out,
    app: values.app,
    pipeline: values.pipeline,
    quiet: values.quiet ?? false,
    assembly: values.assembly,
    functions: pairs('function', values.function),
    models: pairs('model', values.model),
    scenario: values.scenario,
    interactive: values.interactive ?? false,
    live: values.live?.flatMap((l) => l.split(',').map((s) => s.trim()).filter((s) => s.length > 0)),
    record: values.record,
    replay: values.replay,
    config: values.config,
  };
}

/** Settings from `cdk-ai-pipeline.local.json`: paths in it are relative to its folder. */
interface FileSettings {
  readonly models?: { [stage: string]: string };
  readonly functions?: { [id: string]: string };
  readonly scenario?: string;
  readonly live?: string[];
  readonly record?: string;
  readonly replay?: string;
}

const SETTINGS_KEYS = ['models', 'functions', 'scenario', 'live', 'record', 'replay'];

function readSettings(file: string | undefined, cwd: string, required: boolean): { settings: FileSettings; dir: string } {
  const p = path.resolve(cwd, file ?? CONFIG_FILE);
  if (!fs.existsSync(p)) {
    if (required) throw new RunnerError(`--config ${p} does not exist`);
    return { settings: {}, dir: cwd };
  }
  let raw: any;
  try {
    raw = JSON.parse(fs.readFileSync(p, 'utf8'));
  } catch (err: any) {
    throw new RunnerError(`${p}: not valid JSON (${err?.message}); fix the file`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new RunnerError(`${p}: must be a JSON object with ${SETTINGS_KEYS.join(', ')}`);
  const unknown = Object.keys(raw).filter((k) => !SETTINGS_KEYS.includes(k) && k !== '$schema');
  if (unknown.length > 0) throw new RunnerError(`${p}: unknown setting '${unknown[0]}'; the settings are ${SETTINGS_KEYS.join(', ')}`);
  for (const key of ['models', 'functions']) {
    const v = raw[key];
    if (v !== undefined && (v === null || typeof v !== 'object' || Array.isArray(v) || Object.values(v).some((x) => typeof x !== 'string'))) {
      throw new RunnerError(`${p}: "${key}" must map ids to "<file>[#export]" strings`);
    }
  }
  return { settings: raw, dir: path.dirname(p) };
}

/** The input documents: every file of a folder (sorted), or the files given. */
export function listDocuments(inputs: string[], cwd: string): string[] {
  const files: string[] = [];
  for (const input of inputs) {
    const p = path.resolve(cwd, input);
    let stat: fs.Stats;
    try {
      stat = fs.statSync(p);
    } catch {
      throw new RunnerError(`cannot read the documents: ${p} does not exist`);
    }
    if (stat.isDirectory()) {
      let entries: string[];
      try {
        entries = fs.readdirSync(p);
      } catch (err: any) {
        throw new RunnerError(`cannot read the documents folder ${p}: ${err?.code ?? err}`);
      }
      files.push(...entries.filter((e) => !e.startsWith('.') && fs.statSync(path.join(p, e)).isFile()).sort().map((e) => path.join(p, e)));
    } else {
      files.push(p);
    }
  }
  if (files.length === 0) throw new RunnerError(`no documents: ${inputs.join(', ')} holds no files`);
  return files;
}

/** Runs the `local` command; returns the outcomes. Throws RunnerError for runner errors. */
export async function runLocalCommand(options: LocalCommandOptions, log: (line: string) => void = (l) => process.stdout.write(l + '\n')): Promise<DocumentOutcome[]> {
  const cwd = options.cwd ?? process.cwd();
  const { settings, dir: settingsDir } = readSettings(options.config, cwd, options.config !== undefined);
  const documents = listDocuments(options.documents, cwd);
  const outDir = path.resolve(cwd, options.out);
  let assembly = options.assembly ? path.resolve(cwd, options.assembly) : undefined;
  if (!assembly) {
    const app = options.app ?? appFromCdkJson(cwd);
    assembly = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-ai-pipeline-cdkout-'));
    if (!options.quiet) log(`Synthesizing ${app} ...`);
    synthesize(app, cwd, assembly);
  }
  const pipelines = loadPipelines(assembly);
  if (pipelines.length === 0) throw new RunnerError('no pipeline: the app defines no cdk-ai-pipeline Pipeline');
  const matching = options.pipeline
    ? pipelines.filter((p) => p.meta.pipeline === options.pipeline || p.stateMachineId.startsWith(options.pipeline!))
    : pipelines;
  if (matching.length === 0) {
    throw new RunnerError(`no pipeline named '${options.pipeline}'; the app has: ${pipelines.map((p) => p.meta.pipeline).join(', ')}`);
  }
  if (matching.length > 1) {
    throw new RunnerError(`the app has several pipelines (${matching.map((p) => p.meta.pipeline).join(', ')}): choose one with --pipeline`);
  }
  const pipeline = matching[0];
  const stageIds = pipeline.meta.stages.map((s) => s.id);

  // Flags win over the settings file; the file's paths are relative to its folder, the flags' to cwd.
  const resolveIn = (base: string, spec: string) => {
    const { file, exportName } = parseModuleSpec(spec, base, 'handler');
    return `${file}#${exportName}`;
  };
  const modelSpecs: { [stage: string]: string } = {};
  for (const [id, spec] of Object.entries(settings.models ?? {})) modelSpecs[id] = resolveIn(settingsDir, spec);
  for (const [id, spec] of Object.entries(options.models ?? {})) modelSpecs[id] = resolveIn(cwd, spec);
  const functionSpecs: { [id: string]: string } = {};
  for (const [id, spec] of Object.entries(settings.functions ?? {})) functionSpecs[id] = resolveIn(settingsDir, spec);
  for (const [id, spec] of Object.entries(options.functions ?? {})) functionSpecs[id] = resolveIn(cwd, spec);
  const models: { [stage: string]: LocalModel } = {};
  for (const [stage, spec] of Object.entries(modelSpecs)) {
    if (!stageIds.includes(stage)) {
      throw new RunnerError(`--model ${stage}: the pipeline has no stage '${stage}'; its stages are ${stageIds.join(', ')} (fix the flag or ${CONFIG_FILE})`);
    }
    const parsed = parseModuleSpec(spec, cwd, 'handler');
    models[stage] = { file: parsed.file, fn: loadFunction(parsed, `--model ${stage}`) };
  }
  // A flag (relative to cwd) wins over the settings file (relative to its folder).
  const pathOf = (flag: string | undefined, setting: string | undefined) =>
    (flag ? path.resolve(cwd, flag) : setting ? path.resolve(settingsDir, setting) : undefined);
  const scenarioFile = pathOf(options.scenario, settings.scenario);
  const reviewNames = (pipeline.meta.reviews ?? []).map((r) => r.name);
  const scenario = scenarioFile ? loadScenario(scenarioFile, stageIds, reviewNames) : undefined;
  let decide = options.decide;
  if (options.interactive && !decide) {
    if (!process.stdin.isTTY) throw new RunnerError('--interactive asks for review decisions in the terminal, but stdin is not a terminal; give the decisions in --scenario instead');
    decide = terminalDecider(log);
  }
  const record = pathOf(options.record, settings.record);
  const replay = pathOf(options.replay, settings.replay);
  if (replay && !fs.existsSync(replay)) throw new RunnerError(`--replay ${replay} does not exist; record it first with --record ${replay}`);
  if (record && replay) throw new RunnerError('--record and --replay exclude each other: record once, then replay');

  fs.rmSync(outDir, { recursive: true, force: true });
  fs.mkdirSync(outDir, { recursive: true });
  // The pipeline's steps as its definition's comment names them (composite steps included); else its stages.
  const steps = /^cdk-ai-pipeline [^:]+: (.+)$/.exec(String(pipeline.definition?.Comment ?? ''))?.[1] ?? stageIds.join(' -> ');
  if (!options.quiet) log(`Pipeline ${pipeline.meta.pipeline} (${pipeline.stackName}): ${steps}; ${documents.length} documents\n`);

  const started = Date.now();
  let line: string[] = [];
  const outcomes = await runDocuments({
    pipeline,
    documents,
    outDir,
    models,
    scenario,
    live: options.live ?? settings.live,
    record,
    replay,
    functions: functionSpecs,
    cwd,
    decide,
    progress: options.quiet ? undefined : {
      documentStarted: (doc, i, n) => { line = [`[${i}/${n}] ${doc}:`]; },
      stateEntered: (_doc, state) => { line.push(state); },
      documentFinished: (o) => log(`${line[0]} ${line.slice(1).join(' > ')} => ${o.status} (${o.route}${o.error ? `, ${o.error}` : ''})`),
    },
  });
  const elapsed = Date.now() - started;
  const summary = outcomes.map((o) => ({
    document: o.document,
    status: o.status,
    route: o.route,
    rule: o.rule,
    error: o.errorDetail,
    fields: o.fields,
    transitions: o.transitions,
    ms: o.ms,
    result: o.result,
    audit: o.audit,
    outputs: o.outputs,
    ...(o.reviews ? { reviews: o.reviews } : {}),
  }));
  fs.writeFileSync(path.join(outDir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  fs.writeFileSync(path.join(outDir, 'report.html'), renderReport({
    pipeline: pipeline.meta.pipeline,
    definition: pipeline.definition,
    generatedAt: new Date().toISOString(),
    documents: outcomes.map((o) => ({
      document: o.document,
      status: o.status,
      route: o.route,
      rule: o.rule,
      error: o.errorDetail
        ? { name: o.errorDetail.name, message: o.errorDetail.message, stack: o.errorDetail.stack ? [...o.errorDetail.stack] : undefined }
        : undefined,
      fields: o.fields,
      path: o.path.map((p) => ({ state: p.state, ms: p.ms, error: p.error, output: o.results[p.state] })),
      transitions: o.transitions,
      ms: o.ms,
      audit: o.audit,
      result: o.result,
      outputs: o.outputs,
    })),
  }));
  log('');
  log(table(outcomes, routingColumns(pipeline.definition)));
  const failedBy = outcomes.filter((o) => o.errorDetail?.stack);
  for (const o of failedBy) {
    log(`\n${o.document}: ${o.errorDetail!.name}: ${o.errorDetail!.message ?? ''}${o.errorDetail!.function ? ` (thrown by ${o.errorDetail!.function})` : ''}`);
    for (const l of o.errorDetail!.stack!) log(`    ${l}`);
  }
  for (const name of reviewNames) {
    const missed = outcomes.filter((o) => o.reviews?.[name]?.source === 'default').map((o) => o.document);
    if (missed.length > 0) {
      log(`\nReview ${name}: no decision given for ${missed.join(', ')} (no scenario rule${options.interactive ? '' : ', no --interactive'}): by default nobody decides, so the deadline passed and the runs escalated.`);
    }
  }
  log(`\n${outcomes.length} documents in ${elapsed} ms (${(outcomes.length / Math.max(elapsed, 1) * 1000).toFixed(1)} documents/s). Results, audit records, summary.json and report.html: ${outDir}`);
  return outcomes;
}

function cell(value: unknown): string {
  if (value === undefined || value === null) return '-';
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : value.toFixed(2);
  if (typeof value === 'string') return value.length > 24 ? `${value.slice(0, 23)}…` : value;
  const json = JSON.stringify(value);
  return json.length > 24 ? `${json.slice(0, 23)}…` : json;
}

/** The final table: document, the fields the routing rules read, route, outcome, transitions, ms. */
export function table(outcomes: DocumentOutcome[], columns: readonly string[]): string {
  const rows = [['document', ...columns, 'route', 'outcome', 'transitions', 'ms']];
  for (const o of outcomes) {
    rows.push([
      o.document,
      ...columns.map((c) => cell(o.fields[c])),
      o.route,
      o.error ? `${o.status} ${o.error}` : o.status,
      String(o.transitions),
      String(o.ms),
    ]);
  }
  const numeric = rows[0].length - 2;
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const fmt = (r: string[]) => r.map((c, i) => (i >= numeric ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [fmt(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(fmt)].join('\n');
}

/** Asks for review decisions on the terminal (readline on stdin and stdout). */
function terminalDecider(log: (line: string) => void): ReviewDecider {
  return async (request) => {
    const rl = readline.createInterface({ input: process.stdin, output: process.stdout });
    try {
      return await promptDecider((q) => new Promise<string>((resolve) => rl.question(q, resolve)), log)(request);
    } finally {
      rl.close();
    }
  };
}
