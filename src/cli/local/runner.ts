import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { LocalBedrock } from './adapters/local-bedrock';
import { LocalEvents } from './adapters/local-events';
import { LocalLambda } from './adapters/local-lambda';
import { LocalS3 } from './adapters/local-s3';
import { LocalSageMaker } from './adapters/local-sagemaker';
import { LocalSfn } from './adapters/local-sfn';
import { LocalTextract, toSnsEvent } from './adapters/local-textract';
import { LocalPipeline, LOCAL_ACCOUNT, LOCAL_REGION, RunnerError } from './cloud-assembly';
import { parseStageOrder, recordRun } from '../../audit/handler/recorder';
import { loadStageConfig, stageContextFromEnv } from '../../runtime/environment';
import { SILENT_LOGGER } from '../../runtime/logger';
import { Env } from '../../shared';
import { runBedrockStage } from '../../stages/bedrock/handler/bedrock-stage';
import { runLambdaProxyStage } from '../../stages/lambda/handler/lambda-proxy-stage';
import { runSageMakerStage } from '../../stages/sagemaker/handler/sagemaker-stage';
import { handleTextractEvent } from '../../stages/textract/handler/textract';
import { executionName } from '../../trigger/handler/starter';

// aws-local-stepfunctions is an ES module with a CommonJS build; load it through require.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const loadInterpreter = () => require('aws-local-stepfunctions') as typeof import('aws-local-stepfunctions', { with: { 'resolution-mode': 'import' } });

/** What happened to one document. */
export interface DocumentOutcome {
  /** File name of the input document. */
  readonly document: string;
  /** Terminal status of the execution: SUCCEEDED, FAILED (or SKIPPED when the trigger's filter does not match). */
  readonly status: 'SUCCEEDED' | 'FAILED' | 'SKIPPED';
  /** The destination's name, or quarantine / review / failed for the failure path. */
  readonly route: string;
  readonly rule?: string;
  readonly error?: string;
  readonly documentType?: string;
  readonly riskScore?: number;
  /** State transitions (states entered). */
  readonly transitions: number;
  readonly ms: number;
  /** Audit records written for this run, relative to the output folder. */
  readonly audit: string[];
  /** Where the per-document result is, relative to the output folder. */
  readonly result?: string;
}

/** Progress callbacks while a document runs. */
export interface RunnerProgress {
  documentStarted?(document: string, index: number, total: number): void;
  stateEntered?(document: string, state: string): void;
  documentFinished?(outcome: DocumentOutcome): void;
}

export interface RunDocumentsOptions {
  readonly pipeline: LocalPipeline;
  readonly documents: string[];
  readonly outDir: string;
  readonly progress?: RunnerProgress;
  /** Resolves a user Lambda (function logical id) to a handler; default: its asset from the cloud assembly. */
  readonly userFunction?: (logicalId: string) => ((event: any) => Promise<any>) | undefined;
}

// Node 20 lacks Promise.withResolvers, which aws-local-stepfunctions 3 uses.
function polyfill() {
  const P = Promise as any;
  if (typeof P.withResolvers !== 'function') {
    P.withResolvers = () => {
      let resolve!: (v: unknown) => void;
      let reject!: (e: unknown) => void;
      const promise = new Promise((res, rej) => { resolve = res; reject = rej; });
      return { promise, resolve, reject };
    };
  }
}

/** Runs each document through the pipeline's real definition, with the real handler cores and local adapters. */
export async function runDocuments(options: RunDocumentsOptions): Promise<DocumentOutcome[]> {
  polyfill();
  // pdf-lib reports parse positions of broken PDFs on the console; the run's outcome already names the error.
  const quiet = quietPdfParser();
  try {
    return await runAll(options);
  } finally {
    quiet.restore();
  }
}

function quietPdfParser() {
  const { log, warn } = console;
  const noisy = (args: unknown[]) => typeof args[0] === 'string' && /^(Trying to parse invalid object|Invalid object ref)/.test(args[0]);
  console.log = (...args: unknown[]) => { if (!noisy(args)) log(...args); };
  console.warn = (...args: unknown[]) => { if (!noisy(args)) warn(...args); };
  return { restore: () => { console.log = log; console.warn = warn; } };
}

async function runAll(options: RunDocumentsOptions): Promise<DocumentOutcome[]> {
  const { StateMachine } = loadInterpreter();
  const { pipeline, outDir } = options;
  const bucketsDir = path.join(outDir, 'buckets');
  fs.mkdirSync(bucketsDir, { recursive: true });
  const s3 = new LocalS3(bucketsDir);
  const textract = new LocalTextract(s3);
  const sagemaker = new LocalSageMaker();
  const bedrock = new LocalBedrock();
  const sfn = new LocalSfn();
  const events = new LocalEvents();
  const lambda = new LocalLambda((name) => resolveUserFunction(pipeline, name, options.userFunction));
  const clients = { s3: s3 as any, events: events as any };

  const recorderFn = pipeline.functions[pipeline.meta.recorder];
  const recorderDeps = {
    ...clients,
    pipeline: recorderFn.env[Env.PIPELINE_NAME],
    auditBucket: recorderFn.env[Env.AUDIT_BUCKET],
    auditBus: recorderFn.env[Env.AUDIT_BUS],
    stageOrder: parseStageOrder(recorderFn.env[Env.STAGE_ORDER]),
    logger: SILENT_LOGGER,
  };
  const auditBucket = recorderDeps.auditBucket;

  // One handler per Task state: the stages' real cores, the recorder's, and local destinations.
  const stageHandlers: { [state: string]: (input: any) => Promise<any> } = {};
  let tokens = 0;
  for (const stage of pipeline.meta.stages) {
    const fn = pipeline.functions[stage.handler];
    if (!fn?.assetDir) throw new RunnerError(`stage ${stage.id}: its handler's asset folder is not in the cloud assembly (synthesize with asset metadata on)`);
    // The handler's own synth-time files and environment, as Lambda would give them to it.
    const config = loadStageConfig<any>(fn.assetDir);
    const ctx = stageContextFromEnv(config, fn.assetDir, clients, {}, { env: fn.env, logger: SILENT_LOGGER });
    const validators = ctx.validators;
    switch (stage.kind) {
      case 'textract': {
        const deps = {
          ...clients,
          textract: textract as any,
          sfn: sfn as any,
          validators,
          config,
          env: {
            pipeline: ctx.pipeline,
            workBucket: ctx.workBucket,
            auditBucket: ctx.auditBucket,
            auditBus: ctx.auditBus,
            topicArn: fn.env[Env.TEXTRACT_TOPIC_ARN],
            roleArn: fn.env[Env.TEXTRACT_ROLE_ARN],
          },
          logger: SILENT_LOGGER,
        };
        stageHandlers[stage.id] = async (input) => {
          // A waitForTaskToken task hands the handler { FunctionName, Payload }.
          const invocation = input?.Payload ?? input;
          const taskToken = `local-task-${++tokens}`;
          await handleTextractEvent(deps, { ...invocation, taskToken });
          let answer = sfn.take(taskToken);
          // An asynchronous job: deliver Textract's completion notifications, as SNS would.
          for (let i = 0; !answer && i < 10; i++) {
            const pending = textract.takeNotifications();
            if (pending.length === 0) break;
            for (const note of pending) await handleTextractEvent(deps, toSnsEvent(note) as any);
            answer = sfn.take(taskToken);
          }
          if (!answer) throw named('States.Timeout', `stage ${stage.id} never answered its task token`);
          if (answer.status === 'FAILURE') throw named(answer.error ?? 'States.TaskFailed', answer.cause ?? '');
          return answer.output;
        };
        break;
      }
      case 'bedrock':
        stageHandlers[stage.id] = (input) =>
          runBedrockStage({ bedrock: bedrock as any, config, ctx: { ...ctx, modelId: config.modelId, promptVersion: config.promptVersion } }, input);
        break;
      case 'sagemaker':
        stageHandlers[stage.id] = (input) =>
          runSageMakerStage({ sagemaker: sagemaker as any, config, endpointName: fn.env[Env.ENDPOINT_NAME], ctx }, input);
        break;
      case 'lambda':
        stageHandlers[stage.id] = (input) =>
          runLambdaProxyStage({ lambda: lambda as any, config, functionName: fn.env[Env.TARGET_FUNCTION], ctx }, input);
        break;
    }
  }

  // The definition is validated once; each document is one execution of it.
  const machine = new StateMachine(pipeline.definition, { validationOptions: { checkArn: false } });
  const retryIntervalOverrides: { [state: string]: number } = {};
  for (const [state, def] of Object.entries<any>(pipeline.definition.States)) {
    if (def.Retry) retryIntervalOverrides[state] = 0;
  }

  const outcomes: DocumentOutcome[] = [];
  const { prefix, suffixes } = pipeline.meta.documents;
  let index = 0;
  for (const file of options.documents) {
    index++;
    const name = path.basename(file);
    options.progress?.documentStarted?.(name, index, options.documents.length);
    const started = Date.now();
    if (suffixes.length > 0 && !suffixes.some((s) => name.endsWith(s))) {
      const skipped: DocumentOutcome = { document: name, status: 'SKIPPED', route: 'none', transitions: 0, ms: 0, audit: [] };
      outcomes.push(skipped);
      options.progress?.documentFinished?.(skipped);
      continue;
    }
    // "Upload": copy the document into the local document bucket; the source file is never touched.
    const key = `${prefix}${name}`;
    const bytes = fs.readFileSync(file);
    const put = await s3.send(new PutObjectCommand({ Bucket: pipeline.documentBucket, Key: key, Body: bytes }));
    const document = {
      bucket: pipeline.documentBucket,
      key,
      versionId: put.VersionId,
      size: bytes.length,
      etag: createHash('md5').update(bytes).digest('hex'),
    };
    const runId = executionName(document);
    let failure: any;
    const handlers: { [state: string]: (input: any) => Promise<any> } = {};
    for (const [state, h] of Object.entries(stageHandlers)) handlers[state] = h;
    handlers[pipeline.meta.records.run] = (input) => recordRun(recorderDeps, input);
    handlers[pipeline.meta.records.failure] = async (input) => {
      failure = await recordRun(recorderDeps, input);
      return failure;
    };
    for (const d of pipeline.meta.destinations) {
      handlers[d.state] = async (input) => {
        deliver(outDir, d.destination, { rule: d.rule, destination: d.destination, kind: d.kind, message: input });
        return d.kind === 'event-bus' ? { FailedEntryCount: 0, Entries: [{ EventId: `local-${runId}` }] } : { MessageId: `local-${runId}` };
      };
    }
    const startTime = new Date().toISOString();
    const execution = machine.run({ document } as any, {
      overrides: { taskResourceLocalHandlers: handlers as any, retryIntervalOverrides },
      context: {
        Execution: {
          Id: `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:execution:${pipeline.stateMachineId}:${runId}`,
          Name: runId,
          StartTime: startTime,
          Input: { document },
          RoleArn: `arn:aws:iam::${LOCAL_ACCOUNT}:role/local`,
        },
        StateMachine: { Id: `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:${pipeline.stateMachineId}`, Name: pipeline.stateMachineId },
        Task: { Token: 'local-task-token' },
      } as any,
    });
    let transitions = 0;
    const consume = (async () => {
      for await (const event of execution.eventLogs) {
        if (event.type === 'StateEntered') {
          transitions++;
          options.progress?.stateEntered?.(name, (event as any).state.name);
        }
      }
    })();
    let output: any;
    let status: 'SUCCEEDED' | 'FAILED' = 'SUCCEEDED';
    let errorName: string | undefined;
    try {
      output = await execution.result;
    } catch (err: any) {
      status = 'FAILED';
      errorName = failure?.error ?? err?.name;
    }
    await consume.catch(() => undefined);

    const results = output?.results ?? {};
    const finalRoute = status === 'SUCCEEDED'
      ? (output?.route ?? { rule: 'none', destination: 'none' }) // $.route, set by the destination state
      : (failure?.route ?? { rule: 'failure', destination: 'failed' });
    const audit = listAudit(path.join(bucketsDir, auditBucket), runId, outDir);
    const resultFile = path.join('results', `${name}.json`);
    writeJson(path.join(outDir, resultFile), {
      document: name,
      runId,
      status,
      route: finalRoute,
      error: errorName,
      output: status === 'SUCCEEDED' ? output : undefined,
      audit,
    });
    const outcome: DocumentOutcome = {
      document: name,
      status,
      route: finalRoute.destination,
      rule: finalRoute.rule,
      error: errorName,
      documentType: findField(results, 'documentType'),
      riskScore: findField(results, 'riskScore'),
      transitions,
      ms: Date.now() - started,
      audit,
      result: resultFile,
    };
    outcomes.push(outcome);
    options.progress?.documentFinished?.(outcome);
  }
  writeJson(path.join(outDir, 'events.json'), events.entries());
  return outcomes;
}

function named(name: string, message: string): Error {
  const err = new Error(message);
  err.name = name;
  return err;
}

function findField(results: any, field: string): any {
  for (const r of Object.values<any>(results ?? {})) {
    if (r && typeof r === 'object' && field in r) return r[field];
  }
  return undefined;
}

function deliver(outDir: string, destination: string, record: any) {
  const file = path.join(outDir, 'destinations', `${destination}.jsonl`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.appendFileSync(file, JSON.stringify(record) + '\n');
}

/** The audit records of one run (stage records and the run record), relative to the output folder. */
function listAudit(root: string, runId: string, outDir: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    if (!fs.existsSync(dir)) return;
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.name === `${runId}.json`) found.push(path.relative(outDir, p));
    }
  };
  walk(root);
  return found.sort();
}

function resolveUserFunction(pipeline: LocalPipeline, functionArnOrName: string, custom?: RunDocumentsOptions['userFunction']) {
  const logicalId = functionArnOrName.split(':').pop()!;
  const fromUser = custom?.(logicalId);
  if (fromUser) return fromUser;
  const fn = pipeline.functions[logicalId];
  if (!fn?.assetDir || !fn.handler) {
    throw new RunnerError(`the user function ${logicalId} has no Node.js asset in the cloud assembly; name a module for it`);
  }
  const [file, exportName] = splitHandler(fn.handler);
  const modulePath = [`${file}.js`, `${file}.cjs`, `${file}.mjs`].map((f) => path.join(fn.assetDir!, f)).find((f) => fs.existsSync(f));
  if (!modulePath) throw new RunnerError(`the user function ${logicalId}: ${file}.js is not in its asset folder ${fn.assetDir}`);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(modulePath);
  const handler = mod[exportName];
  if (typeof handler !== 'function') throw new RunnerError(`the user function ${logicalId}: ${fn.handler} is not an exported function`);
  return async (event: any) => {
    Object.assign(process.env, fn.env);
    return handler(event, { functionName: logicalId, awsRequestId: 'local' });
  };
}

function splitHandler(handler: string): [string, string] {
  const dot = handler.lastIndexOf('.');
  return [handler.slice(0, dot), handler.slice(dot + 1)];
}

function writeJson(file: string, value: unknown) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(value, null, 2) + '\n');
}
