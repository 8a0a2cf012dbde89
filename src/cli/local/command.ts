import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { appFromCdkJson, loadPipelines, RunnerError, synthesize } from './cloud-assembly';
import { DocumentOutcome, runDocuments } from './runner';

export const USAGE = `Usage: cdk-ai-pipeline local --documents <dir or files...> --out <dir> [--app "<command>"] [--pipeline <id>]

Runs each document through the pipeline's real synthesized state machine, locally, with no AWS
account: the built-in stages run their real handler code against local stand-ins (S3 on disk, PDF
text extraction for Textract, a keyword classifier for SageMaker, a rule-based summarizer for Bedrock).

  --documents   a folder (every file in it) or one or more files
  --out         where results, audit records and summary.json are written
  --app         the CDK app command (default: "app" of ./cdk.json)
  --pipeline    the pipeline name or construct id, when the app has several
  --function    <id>=<module>[#export]: run your Lambda stage's function (by construct or logical id)
                from a module of your own instead of its asset (default export: handler)
  --quiet       print only the final table`;

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
}

/** Parses `local ...` arguments. */
export function parseArgs(argv: string[]): LocalCommandOptions {
  if (argv[0] !== 'local') throw new RunnerError(`unknown command '${argv[0] ?? ''}'.\n${USAGE}`);
  const documents: string[] = [];
  let out: string | undefined;
  let app: string | undefined;
  let pipeline: string | undefined;
  let quiet = false;
  let assembly: string | undefined;
  const functions: { [id: string]: string } = {};
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new RunnerError(`${arg} needs a value.\n${USAGE}`);
      return v;
    };
    switch (arg) {
      case '--documents':
        documents.push(value());
        while (argv[i + 1] !== undefined && !argv[i + 1].startsWith('--')) documents.push(argv[++i]);
        break;
      case '--out': out = value(); break;
      case '--app': app = value(); break;
      case '--pipeline': pipeline = value(); break;
      case '--assembly': assembly = value(); break;
      case '--quiet': quiet = true; break;
      case '--function': {
        const spec = value();
        const eq = spec.indexOf('=');
        if (eq <= 0 || eq === spec.length - 1) throw new RunnerError(`--function must be <id>=<module>[#export], got: '${spec}'.\n${USAGE}`);
        functions[spec.slice(0, eq)] = spec.slice(eq + 1);
        break;
      }
      case '--help': case '-h': throw new RunnerError(USAGE);
      default: throw new RunnerError(`unknown option '${arg}'.\n${USAGE}`);
    }
  }
  if (documents.length === 0) throw new RunnerError(`--documents is required.\n${USAGE}`);
  if (!out) throw new RunnerError(`--out is required.\n${USAGE}`);
  return { documents, out, app, pipeline, quiet, assembly, functions };
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
  fs.rmSync(outDir, { recursive: true, force: true });
  fs.mkdirSync(outDir, { recursive: true });
  if (!options.quiet) log(`Pipeline ${pipeline.meta.pipeline} (${pipeline.stackName}): ${pipeline.meta.stages.map((s) => s.id).join(' -> ')}; ${documents.length} documents\n`);

  const started = Date.now();
  let line: string[] = [];
  const outcomes = await runDocuments({
    pipeline,
    documents,
    outDir,
    userFunction: (logicalId) => namedModule(options.functions ?? {}, logicalId, cwd),
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
    error: o.error,
    documentType: o.documentType,
    riskScore: o.riskScore,
    transitions: o.transitions,
    ms: o.ms,
    result: o.result,
    audit: o.audit,
  }));
  fs.writeFileSync(path.join(outDir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  log('');
  log(table(outcomes));
  log(`\n${outcomes.length} documents in ${elapsed} ms (${(outcomes.length / Math.max(elapsed, 1) * 1000).toFixed(1)} documents/s). Results, audit records and summary.json: ${outDir}`);
  return outcomes;
}

/** The final table: document, type, risk score, route, outcome, transitions, ms. */
export function table(outcomes: DocumentOutcome[]): string {
  const rows = [['document', 'type', 'risk', 'route', 'outcome', 'transitions', 'ms']];
  for (const o of outcomes) {
    rows.push([
      o.document,
      o.documentType ?? '-',
      o.riskScore === undefined ? '-' : o.riskScore.toFixed(2),
      o.route,
      o.error ? `${o.status} ${o.error}` : o.status,
      String(o.transitions),
      String(o.ms),
    ]);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const fmt = (r: string[]) => r.map((cell, c) => (c >= 5 ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  ');
  return [fmt(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(fmt)].join('\n');
}

/**
 * A user function from a module named with --function: matched by logical id, or by a construct id
 * the logical id starts with (CDK appends a hash).
 */
function namedModule(functions: { [id: string]: string }, logicalId: string, cwd: string): ((event: any) => Promise<any>) | undefined {
  const key = Object.keys(functions).find((id) => logicalId === id || logicalId.startsWith(id.replace(/[^A-Za-z0-9]/g, '')));
  if (!key) return undefined;
  const [file, exportName = 'handler'] = functions[key].split('#');
  const modulePath = path.resolve(cwd, file);
  let mod: any;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    mod = require(modulePath);
  } catch (err: any) {
    throw new RunnerError(`--function ${key}: cannot load ${modulePath} (${err?.code ?? err?.message})`);
  }
  const handler = mod?.[exportName];
  if (typeof handler !== 'function') throw new RunnerError(`--function ${key}: ${modulePath} exports no function '${exportName}'`);
  return async (event: any) => handler(event, { functionName: logicalId, awsRequestId: 'local' });
}
