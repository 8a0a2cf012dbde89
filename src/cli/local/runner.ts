import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { commandName, serviceError } from './adapters/errors';
import { LocalEvents } from './adapters/local-events';
import { LocalLambda } from './adapters/local-lambda';
import { LocalS3 } from './adapters/local-s3';
import { LocalSfn } from './adapters/local-sfn';
import { LocalTextract, toSnsEvent } from './adapters/local-textract';
import { LocalFunction, LocalPipeline, LOCAL_ACCOUNT, LOCAL_REGION, RunnerError } from './cloud-assembly';
import { loadInterpreter } from './interpreter';
import { Client, faultyClient, ModelKind, pinnedClient, recordingClient, replayClient, RunContext, STATE_PAYLOAD_LIMIT, userModelClient } from './model-sources';
import { localOutputs, OutputFiles } from './outputs';
import { LocalReviewOutcome, ReviewDecider, reviewHandlers } from './review';
import { applyFields, Fault, Scenario, planFor, reviewPlanFor, StagePlan } from './scenario';
import { ContractBedrock } from './stand-ins/contract-bedrock';
import { ContractSageMaker } from './stand-ins/contract-sagemaker';
import { instanceOf } from './stand-ins/instance';
import { LocalGuardrail } from './stand-ins/local-guardrail';
import { LocalComprehend, LocalTranslate } from './stand-ins/local-language';
import { LocalTranscribe } from './stand-ins/local-transcribe';
import { ErrorDetail, UserFunctions } from './user-functions';
import { BackstopResult, EXECUTION_STATUS_CHANGE, parseStageOrder, recordRun } from '../../audit/handler/recorder';
import { ChunksDeps, handleChunks } from '../../pipeline/handler/chunks';
import { MemoryQuotaStore } from '../../runtime/capacity';
import { Validator } from '../../runtime/contracts';
import { loadStageConfig, stageContextFromEnv } from '../../runtime/environment';
import { LogPort, SILENT_LOGGER } from '../../runtime/logger';
import { Env, httpCallState, Keys, PROMPT_ATTACK_GUARDRAIL_ENV, StageAssetFiles } from '../../shared';
import { ChunkEnv, chunkStageConfig } from '../../shared/chunks-config';
import { runBedrockStage, withGuardrailFromEnv } from '../../stages/bedrock/handler/bedrock-stage';
import { runComprehendStage } from '../../stages/comprehend/handler/comprehend-stage';
import { runHttpStage } from '../../stages/http/handler/http-stage';
import { runLambdaProxyStage } from '../../stages/lambda/handler/lambda-proxy-stage';
import { runSageMakerStage } from '../../stages/sagemaker/handler/sagemaker-stage';
import { handleTextractEvent } from '../../stages/textract/handler/textract';
import { handleTranscribeEvent } from '../../stages/transcribe/handler/transcribe-stage';
import { runTranslateStage } from '../../stages/translate/handler/translate-stage';
import { executionName } from '../../trigger/handler/starter';

const KNOWN_KINDS: readonly string[] = ['textract', 'bedrock', 'sagemaker', 'lambda', 'comprehend', 'translate', 'http', 'transcribe'];
/** Why --live and --model do not apply to a kind, and what the runner does instead. */
const HINTS: { readonly [kind: string]: string } = {
  lambda: ' (run your own function with --function)',
  textract: ' (its text is read from the document locally)',
  comprehend: ' (a local stand-in answers it; pin language or sentiment with a scenario)',
  translate: ' (a local stand-in passes the text through)',
  transcribe: ' (the transcript is read from the WAV recording\'s INFO/ICMT chunk locally)',
};

/** One state a document went through. */
export interface PathStep {
  readonly state: string;
  /** Time from entering to leaving the state. */
  readonly ms?: number;
  /** The error the state failed with. */
  readonly error?: string;
  /** How many times the state's Retry ran it again. */
  readonly retries?: number;
}

/** What happened to one document. */
export interface DocumentOutcome {
  /** File name of the input document. */
  readonly document: string;
  /** Terminal status of the execution: SUCCEEDED, FAILED (or SKIPPED when the trigger's filter does not match). */
  readonly status: 'SUCCEEDED' | 'FAILED' | 'SKIPPED';
  /** The destination's name, or quarantine / review / failed for the failure path. */
  readonly route: string;
  readonly rule?: string;
  /** The error name of a failed run. */
  readonly error?: string;
  /** The error's message and, for an error a user function threw, the top of its stack. */
  readonly errorDetail?: ErrorDetail;
  /** The values the routing rules read (`Stage.field` → value). */
  readonly fields: { readonly [column: string]: unknown };
  /** Each stage's result (`$.results`). */
  readonly results: { readonly [stage: string]: unknown };
  /** The states entered, in order. */
  readonly path: readonly PathStep[];
  /** State transitions (states entered). */
  readonly transitions: number;
  readonly ms: number;
  /** Audit records written for this run, relative to the output folder. */
  readonly audit: string[];
  /** Where the per-document result is, relative to the output folder. */
  readonly result?: string;
  /** What the pipeline's output steps wrote for this run (output id → file), relative to the output folder. */
  readonly outputs?: OutputFiles;
  /** The human reviews the run reached: the decision (or timeout), who, and where it came from. */
  readonly reviews?: { readonly [review: string]: LocalReviewOutcome };
}

/** Progress callbacks while a document runs. */
export interface RunnerProgress {
  documentStarted?(document: string, index: number, total: number): void;
  stateEntered?(document: string, state: string): void;
  documentFinished?(outcome: DocumentOutcome): void;
}

/** A local model of the user's for one stage (`--model`). */
export interface LocalModel {
  readonly file: string;
  readonly fn: (...args: any[]) => unknown;
}

export interface RunDocumentsOptions {
  readonly pipeline: LocalPipeline;
  readonly documents: string[];
  readonly outDir: string;
  readonly progress?: RunnerProgress;
  /** Local models by stage id; other model stages answer with contract stand-ins. */
  readonly models?: { readonly [stage: string]: LocalModel };
  /** Pinned fields and faults per document and stage. */
  readonly scenario?: Scenario;
  /** Stages whose model calls go to the real service (`all`: every model stage). */
  readonly live?: readonly string[];
  /** Save every model request/reply pair under this folder. */
  readonly record?: string;
  /** Answer model calls from the pairs saved under this folder. */
  readonly replay?: string;
  /** User functions run from modules of the user's (function id → `file[#export]`), instead of their assets. */
  readonly functions?: { readonly [id: string]: string };
  /** Folder `functions` paths are relative to. */
  readonly cwd?: string;
  /** Asks a person for the decisions of human reviews the scenario does not decide (`--interactive`). */
  readonly decide?: ReviewDecider;
  /**
   * Where the built-in handlers' log lines go (the stage cores and the recorder), as in Lambda.
   * @default - nowhere
   */
  readonly handlerLogger?: LogPort;
}

/** The JSONPath a Choice rule reads (`$.results.Score.fraudScore`) as a column (`Score.fraudScore`). */
export function routingColumns(definition: any): string[] {
  const columns: string[] = [];
  const visit = (rule: any) => {
    if (!rule || typeof rule !== 'object') return;
    if (typeof rule.Variable === 'string') {
      const m = /^\$\.results\.(.+)$/.exec(rule.Variable);
      if (m && !/\.screening\b/.test(m[1]) && !columns.includes(m[1])) columns.push(m[1]);
    }
    for (const key of ['And', 'Or']) (rule[key] ?? []).forEach(visit);
    if (rule.Not) visit(rule.Not);
  };
  const states = (d: any) => Object.values<any>(d?.States ?? {});
  const walk = (d: any) => {
    for (const s of states(d)) {
      if (s.Type === 'Choice') (s.Choices ?? []).forEach(visit);
      (s.Branches ?? []).forEach(walk);
      if (s.ItemProcessor) walk(s.ItemProcessor);
      if (s.Iterator) walk(s.Iterator);
    }
  };
  walk(definition);
  return columns;
}

function lookupPath(results: any, dotted: string): unknown {
  let node = results;
  for (const part of dotted.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = node[part];
  }
  return node;
}

function named(name: string, message: string): Error {
  const err = new Error(message);
  err.name = name;
  return err;
}

/** Every state of a definition, nested branches and iterators included. */
function allStates(definition: any): Array<[string, any]> {
  const out: Array<[string, any]> = [];
  for (const [name, state] of Object.entries<any>(definition?.States ?? {})) {
    out.push([name, state]);
    for (const branch of state.Branches ?? []) out.push(...allStates(branch));
    if (state.Iterator) out.push(...allStates(state.Iterator));
    if (state.ItemProcessor) out.push(...allStates(state.ItemProcessor));
  }
  return out;
}

/** The stage's contracts as written by the construct beside its handler (absent in older assemblies). */
function readContracts(assetDir: string): { [name: string]: object } | undefined {
  const file = path.join(assetDir, StageAssetFiles.CONTRACTS);
  return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : undefined;
}

/**
 * A validator's first complaint, with the value found there (values are the user's own local data,
 * so the message may quote them).
 */
function firstViolation(validator: Validator, value: unknown): string {
  const e = validator.errors?.[0];
  if (!e) return 'it fails the contract';
  const where = e.instancePath || '/';
  const found = e.instancePath.split('/').slice(1).reduce<any>((n, k) => (n === null || typeof n !== 'object' ? undefined : n[k]), value);
  const detail = e.keyword === 'required' ? `misses required field '${e.params?.missingProperty}'`
    : `${where} = ${JSON.stringify(found)?.slice(0, 80)} fails '${e.keyword}'${e.message ? ` (${e.message})` : ''}`;
  return detail;
}

/** Runs each document through the pipeline's real definition, with the real handler cores and local stand-ins. */
export async function runDocuments(options: RunDocumentsOptions): Promise<DocumentOutcome[]> {
  const { StateMachine } = loadInterpreter();
  const { pipeline, outDir } = options;
  const handlerLogger = options.handlerLogger ?? SILENT_LOGGER;
  const bucketsDir = path.join(outDir, 'buckets');
  fs.mkdirSync(bucketsDir, { recursive: true });
  const s3 = new LocalS3(bucketsDir);
  const textract = new LocalTextract(s3);
  const transcribe = new LocalTranscribe(s3);
  const sfn = new LocalSfn();
  const events = new LocalEvents();
  const stageIds = pipeline.meta.stages.map((s) => s.id);
  for (const stage of pipeline.meta.stages) {
    if (!KNOWN_KINDS.includes(stage.kind)) {
      throw new RunnerError(`stage ${stage.id}: the local runner does not know the stage kind '${stage.kind}'; upgrade cdk-ai-pipeline so the CLI matches the library that synthesized the app`);
    }
  }
  for (const id of [...Object.keys(options.models ?? {}), ...(options.live ?? []).filter((l) => l !== 'all')]) {
    const stage = pipeline.meta.stages.find((s) => s.id === id);
    const flag = options.models?.[id] ? '--model' : '--live';
    if (!stage) throw new RunnerError(`${flag} ${id}: the pipeline has no stage '${id}'; its stages are ${stageIds.join(', ')}`);
    if (stage.kind === 'http' && flag === '--live') {
      throw new RunnerError(`--live ${id}: stage ${id} is an http stage, whose call needs the EventBridge connection of a deployed state machine; answer it with --model ${id}=<module> or its contract stand-in`);
    }
    if (stage.kind !== 'bedrock' && stage.kind !== 'sagemaker' && stage.kind !== 'http') {
      throw new RunnerError(`${flag} ${id}: stage ${id} is a ${stage.kind} stage; ${flag} applies to bedrock, sagemaker and http stages${HINTS[stage.kind] ?? ''}`);
    }
  }

  // The document being run: what every stage client reads (seed, scenario plan, call counts), the
  // stages its execution has reached and whether the execution is still running.
  let current: RunContext & { calls: Map<string, number>; reached: Set<string>; running: boolean; source?: { bucket: string; key: string } } = {
    document: '', sha256: '', calls: new Map(), plan: () => ({}), nextCall: () => 0, reached: new Set(), running: false,
  };
  const run = () => current;
  let fatal: RunnerError | undefined;
  /** True while the execution runs and a stage it reached has this fault (faults that last from their stage on). */
  const lasting = (fault: Fault) => current.running && [...current.reached].some((stage) => current.plan(stage).fault === fault);

  const userFunctions = new UserFunctions(pipeline, s3, options.functions ?? {}, options.cwd ?? process.cwd());
  const lambda = new LocalLambda((name) => userFunctions.resolve(name, () => current.document));
  const clients = { s3: faultyS3(s3) as any, events: events as any };

  // A state machine of your own with stand-alone stages has no recorder: its stages' records only.
  const recorderFn = pipeline.meta.recorder ? pipeline.functions[pipeline.meta.recorder] : undefined;
  const envOf = recorderFn ?? pipeline.functions[pipeline.meta.stages[0].handler];
  const recorderDeps = {
    ...clients,
    pipeline: envOf.env[Env.PIPELINE_NAME],
    auditBucket: envOf.env[Env.AUDIT_BUCKET],
    auditBus: envOf.env[Env.AUDIT_BUS],
    stageOrder: recorderFn ? parseStageOrder(recorderFn.env[Env.STAGE_ORDER]) : pipeline.meta.stages.map((st) => st.id),
    reviewSteps: parseStageOrder(recorderFn?.env[Env.REVIEW_STEPS]),
    chainOrder: parseStageOrder(recorderFn?.env[Env.CHAIN_ORDER]),
    logger: handlerLogger,
  };
  const auditBucket = recorderDeps.auditBucket;
  const outputSteps = localOutputs(pipeline, s3, outDir);

  // Stages with a quota take capacity from buckets in memory. The runner has no notion of time between
  // calls: its clock moves an hour per call, so the buckets are full and no local run waits for capacity.
  let localHours = 0;
  const localCapacity = { store: new MemoryQuotaStore(), now: () => ++localHours * 3_600_000 };

  // One handler per Task state: the stages' real cores, the recorder's, and local destinations.
  const stageHandlers: { [state: string]: (input: any) => Promise<any> } = {};
  let tokens = 0;
  for (const stage of pipeline.meta.stages) {
    const fn = pipeline.functions[stage.handler];
    if (!fn?.assetDir) throw new RunnerError(`stage ${stage.id}: its handler's asset folder is not in the cloud assembly (synthesize with asset metadata on)`);
    // The handler's own synth-time files and environment, as Lambda would give them to it.
    const config = loadStageConfig<any>(fn.assetDir);
    const ctx = stageContextFromEnv(config, fn.assetDir, clients, {}, { env: fn.env, logger: handlerLogger, capacity: localCapacity });
    const validators = ctx.validators;
    let handler: (input: any) => Promise<any>;
    switch (stage.kind) {
      case 'textract': {
        const deps = {
          ...clients,
          textract: faultyClient(textract, 'textract', stage.id, run) as any,
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
          logger: handlerLogger,
          capacity: ctx.capacity,
        };
        handler = async (input) => {
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
      case 'bedrock': {
        // The prompt-attack guardrail is answered locally (ApplyGuardrail); so is the model's spotlighting
        // answer (`injectionSuspected`) when the reply comes from a stand-in or a local model.
        const fromService = options.replay !== undefined || options.live?.includes(stage.id) || options.live?.includes('all');
        const bedrock = new LocalGuardrail({ next: modelClient('bedrock', stage.id, fn, validators.model), answerSpotlight: !fromService });
        // The guardrail's id is a deploy-time value (Fn::GetAtt) in the template: any local id will do.
        const guardrailId = fn.env[PROMPT_ATTACK_GUARDRAIL_ENV.id];
        const bedrockConfig = withGuardrailFromEnv(config, {
          [PROMPT_ATTACK_GUARDRAIL_ENV.id]: typeof guardrailId === 'string' ? guardrailId : guardrailId ? 'local-prompt-attack' : undefined,
          [PROMPT_ATTACK_GUARDRAIL_ENV.version]: fn.env[PROMPT_ATTACK_GUARDRAIL_ENV.version] ?? 'DRAFT',
        });
        const bedrockCtx = { ...ctx, modelId: config.modelId, promptVersion: config.promptVersion };
        handler = (input) => runBedrockStage({ bedrock: bedrock as any, config: bedrockConfig, ctx: bedrockCtx }, input);
        break;
      }
      case 'sagemaker': {
        const sagemaker = modelClient('sagemaker', stage.id, fn, validators.output);
        handler = (input) => runSageMakerStage({ sagemaker: sagemaker as any, config, endpointName: fn.env[Env.ENDPOINT_NAME], ctx }, input);
        break;
      }
      case 'lambda': {
        const client = faultyClient(lambda, 'lambda', stage.id, run);
        handler = (input) => runLambdaProxyStage({ lambda: client as any, config, functionName: fn.env[Env.TARGET_FUNCTION], ctx }, input);
        break;
      }
      case 'comprehend': {
        const comprehend = faultyClient(new LocalComprehend(() => run().plan(stage.id).fields), 'comprehend', stage.id, run);
        handler = (input) => runComprehendStage({ comprehend: comprehend as any, config, ctx }, input);
        break;
      }
      case 'transcribe': {
        const deps = {
          ctx,
          transcribe: faultyClient(transcribe, 'transcribe', stage.id, run) as any,
          sfn: sfn as any,
          config,
          outputKey: typeof fn.env[Env.TRANSCRIBE_OUTPUT_KEY] === 'string' ? fn.env[Env.TRANSCRIBE_OUTPUT_KEY] : undefined,
        };
        handler = async (input) => {
          // A waitForTaskToken task hands the handler { FunctionName, Payload }.
          const invocation = input?.Payload ?? input;
          const taskToken = `local-task-${++tokens}`;
          await handleTranscribeEvent(deps, { ...invocation, taskToken });
          let answer = sfn.take(taskToken);
          // The job's end: deliver Transcribe's job events, as the EventBridge rule would.
          for (let i = 0; !answer && i < 10; i++) {
            const pending = transcribe.takeEvents();
            if (pending.length === 0) break;
            for (const event of pending) await handleTranscribeEvent(deps, event);
            answer = sfn.take(taskToken);
          }
          if (!answer) throw named('States.Timeout', `stage ${stage.id} never answered its task token`);
          if (answer.status === 'FAILURE') throw named(answer.error ?? 'States.TaskFailed', answer.cause ?? '');
          return answer.output;
        };
        break;
      }
      case 'translate': {
        const translate = faultyClient(new LocalTranslate(), 'translate', stage.id, run);
        handler = (input) => runTranslateStage({ translate: translate as any, config, ctx }, input);
        break;
      }
      case 'http': {
        // The HTTP task is answered in process: the user's module (--model) or the contract stand-in.
        stageHandlers[httpCallState(stage.id)] = taskHandler(stage.id, localHttpCall(stage.id, fn, validators.output));
        handler = (input) => runHttpStage({ config, ctx }, input);
        break;
      }
      default:
        throw new RunnerError(`stage ${(stage as any).id}: the local runner does not know the stage kind '${(stage as any).kind}'; upgrade cdk-ai-pipeline so the CLI matches the library that synthesized the app`);
    }
    stageHandlers[stage.id] = taskHandler(stage.id, handler);
  }

  // Human reviews: decisions from the scenario or a prompt go through the decision API's core.
  let reviews: { [review: string]: LocalReviewOutcome } = {};
  const reviewTasks = reviewHandlers({
    pipeline,
    s3,
    events,
    sfn,
    outDir,
    document: () => current.document,
    planned: (review) => reviewPlanFor(options.scenario, current.document, review),
    decide: options.decide,
    reviewed: (review, outcome) => { reviews[review] = outcome; },
  });
  for (const [state, handler] of Object.entries(reviewTasks)) stageHandlers[state] = taskHandler(state, handler);
  /**
   * S3 with the scenario's lasting faults: the source document's reads refused (`deny-source`), the
   * audit bucket's writes failing (`audit-unavailable`).
   */
  function faultyS3(inner: LocalS3): Client {
    return {
      async send(command: any) {
        const name = commandName(command);
        const { Bucket, Key } = command?.input ?? {};
        const source = current.source;
        if (source && Bucket === source.bucket && Key === source.key && ['GetObjectCommand', 'HeadObjectCommand'].includes(name) && lasting('deny-source')) {
          throw serviceError(name === 'HeadObjectCommand' ? 'Forbidden' : 'AccessDenied', 403, 'Access Denied (scenario)');
        }
        if (Bucket === recorderDeps.auditBucket && ['PutObjectCommand', 'CopyObjectCommand'].includes(name) && lasting('audit-unavailable')) {
          throw serviceError('ServiceUnavailable', 503, 'Please reduce your request rate. (scenario: the audit bucket is unavailable)');
        }
        return inner.send(command);
      },
    };
  }
  // Chunked steps: their split/keep/reduce states run the chunk function's core (the Distributed Map
  // path is not run locally: the interpreter has no child executions, see ADR-0014).
  for (const chunks of pipeline.meta.chunks ?? []) {
    const fn = pipeline.functions[chunks.handler];
    if (!fn?.assetDir) throw new RunnerError(`step ${chunks.step}: its function's asset folder is not in the cloud assembly (synthesize with asset metadata on)`);
    const config = loadStageConfig<any>(fn.assetDir);
    const deps: ChunksDeps = {
      config,
      ctx: stageContextFromEnv(chunkStageConfig(config), fn.assetDir, clients, {}, { env: fn.env, logger: SILENT_LOGGER }),
      sourceStage: fn.env[ChunkEnv.SOURCE_STAGE],
      reducer: config.lambda ? { lambda: lambda as any, functionName: fn.env[ChunkEnv.REDUCER_FUNCTION] } : undefined,
    };
    const splitOrRun = async (input: any) => {
      const output: any = await handleChunks(deps, input);
      if (output?.manifest) {
        throw new RunnerError(`step ${chunks.step}: the document makes ${output.count} chunks, more than distributedAbove (${config.inlineMax}): the real definition runs them in a Distributed Map, which the local runner cannot run (no child executions). Raise distributedAbove, or cut bigger chunks, to run this document locally`);
      }
      return output;
    };
    for (const state of chunks.states) stageHandlers[state] = taskHandler(state, splitOrRun);
  }

  /** A stage's task: the scenario's task-level faults, the state payload limit, runner errors kept aside. */
  function taskHandler(stage: string, handler: (input: any) => Promise<any>) {
    return async (input: any) => {
      current.reached.add(stage);
      const fault = current.plan(stage).fault;
      if (fault === 'timeout') throw named('States.Timeout', `stage ${stage}: the task timed out (scenario)`);
      if (fault === 'delete-source') {
        const doc = (input?.Payload ?? input)?.state?.document;
        if (doc?.bucket && doc?.key) fs.rmSync(s3.localPath(doc.bucket, doc.key), { force: true });
      }
      try {
        const output = await handler(input);
        if (Buffer.byteLength(JSON.stringify(output ?? null)) > STATE_PAYLOAD_LIMIT) {
          throw named('States.DataLimitExceeded', `stage ${stage}: the task's result is larger than 256 KiB`);
        }
        return output;
      } catch (err: any) {
        if (err instanceof RunnerError) fatal = fatal ?? err;
        throw err;
      }
    };
  }

  /** A model stage's client: replay, live, the user's model or the contract stand-in; pins, faults, recording around it. */
  function modelClient(kind: ModelKind, stage: string, fn: LocalFunction, validate: Validator | undefined): Client {
    let source: Client;
    const model = options.models?.[stage];
    if (options.replay) {
      source = replayClient(kind, stage, options.replay, run);
    } else if (options.live?.includes(stage) || options.live?.includes('all')) {
      source = kind === 'bedrock' ? new BedrockRuntimeClient({}) : new SageMakerRuntimeClient({});
    } else if (model) {
      source = checked(userModelClient(kind, stage, model.file, model.fn, run), kind, stage, validate, `--model ${stage}: ${path.basename(model.file)} returned a reply that fails the stage's contract`);
    } else {
      const contracts = readContracts(fn.assetDir!);
      const schema = kind === 'bedrock' ? contracts?.model : contracts?.output;
      if (!schema || !validate) {
        throw new RunnerError(`stage ${stage}: its asset has no ${StageAssetFiles.CONTRACTS}; synthesize the app with this version of cdk-ai-pipeline, or give the stage a local model with --model ${stage}=<module>`);
      }
      const seed = () => `${current.sha256}:${stage}`;
      try {
        source = kind === 'bedrock'
          ? new ContractBedrock({ schema, validate, seed, stage } as any)
          : new ContractSageMaker({ schema, validate, seed, stage } as any);
      } catch (err: any) {
        throw new RunnerError(`stage ${stage}: ${err?.message ?? err}`);
      }
      source = standInErrors(source, stage);
    }
    if (options.record && !options.replay) source = recordingClient(source, kind, stage, options.record, run);
    source = checked(pinnedClient(source, kind, stage, run), kind, stage, validate, `--scenario: the fields pinned for stage ${stage} make its reply fail the contract`, true);
    return faultyClient(source, kind, stage, run);
  }

  /**
   * The HTTP task of an http stage, answered locally: the user's module (`--model <stage>=<module>`,
   * called with the request and `{ stage, document, kind, method, url }`, returning the response body)
   * or a deterministic instance of the stage's output contract; pinned fields and the throttle, error,
   * invalid-json and truncated-json faults of a scenario apply as they do to model stages.
   */
  function localHttpCall(stage: string, fn: LocalFunction, validate: Validator | undefined): (input: any) => Promise<any> {
    const throttled = new Map<string, number>();
    return async (request: any) => {
      const fault = current.plan(stage).fault;
      const key = `${current.document}\u0000${current.sha256}`;
      if (typeof fault === 'object' && 'throttle' in fault && (throttled.get(key) ?? 0) < fault.throttle) {
        throttled.set(key, (throttled.get(key) ?? 0) + 1);
        throw named('States.Http.StatusCode.429', `stage ${stage}: Too Many Requests (scenario)`);
      }
      if (typeof fault === 'object' && 'error' in fault) {
        const n = (throttled.get(`${key}:error`) ?? 0);
        if (fault.times === undefined || n < fault.times) {
          throttled.set(`${key}:error`, n + 1);
          throw named(fault.error, `stage ${stage}: ${fault.error} (scenario)`);
        }
      }
      if (fault === 'invalid-json' || fault === 'truncated-json') {
        // What an API in trouble sends: a body the stage's check must refuse.
        return { StatusCode: 200, StatusText: 'OK', Headers: { 'content-type': ['text/html'] }, ResponseBody: fault === 'invalid-json' ? '<html>maintenance</html>' : '{"listed": tr' };
      }
      const model = options.models?.[stage];
      const url: string = request?.ApiEndpoint ?? '';
      const method: string = request?.Method ?? 'GET';
      let body: unknown;
      if (model) {
        try {
          body = await model.fn({ method, url, query: request?.QueryParameters ?? {}, body: request?.RequestBody, headers: request?.Headers ?? {} },
            { stage, document: current.document, kind: 'http', method, url });
        } catch (err: any) {
          throw new RunnerError(`--model ${stage}: ${path.basename(model.file)} threw ${err?.name ?? 'Error'}: ${err?.message ?? err} (document ${current.document}); fix the module`);
        }
        if (body === undefined || body === null) {
          throw new RunnerError(`--model ${stage}: ${path.basename(model.file)} returned ${body} for document ${current.document}; return the response body as an object`);
        }
      } else {
        const schema = readContracts(fn.assetDir!)?.output;
        if (!schema || !validate) throw new RunnerError(`stage ${stage}: its asset has no ${StageAssetFiles.CONTRACTS}; synthesize the app with this version of cdk-ai-pipeline, or give the stage a local module with --model ${stage}=<module>`);
        try {
          body = instanceOf(schema, { seed: `${current.sha256}:${stage}`, validate });
        } catch (err: any) {
          throw new RunnerError(`stage ${stage}: the contract stand-in cannot answer: ${err?.message ?? err}; fix the stage's output contract or give it a local module with --model ${stage}=<module>`);
        }
      }
      const fields = current.plan(stage).fields;
      if (fields && body && typeof body === 'object' && !Array.isArray(body)) body = applyFields(body as { [key: string]: unknown }, fields);
      return { StatusCode: 200, StatusText: 'OK', Headers: { 'content-type': ['application/json'] }, ResponseBody: body };
    };
  }

  /** Turns a stand-in's generation error into a runner error naming the stage. */
  function standInErrors(inner: Client, stage: string): Client {
    return {
      async send(command: any) {
        try {
          return await inner.send(command);
        } catch (err: any) {
          if (err?.$metadata || err instanceof RunnerError) throw err;
          throw new RunnerError(`stage ${stage}: the contract stand-in cannot answer: ${err?.message ?? err}; fix the stage's output contract or give it a local model with --model ${stage}=<module>`);
        }
      },
    };
  }

  /** Checks a model reply against the stage's contract; a violation is a runner error naming stage, field and value. */
  function checked(inner: Client, kind: ModelKind, stage: string, validate: Validator | undefined, what: string, onlyWhenPinned = false): Client {
    return {
      async send(command: any) {
        const reply = await inner.send(command);
        if (!validate || (onlyWhenPinned && !current.plan(stage).fields)) return reply;
        const text = kind === 'bedrock'
          ? (reply?.output?.message?.content ?? []).map((b: any) => b?.text ?? '').join('')
          : new TextDecoder().decode(reply?.Body ?? new Uint8Array());
        const start = text.indexOf('{');
        const end = text.lastIndexOf('}');
        if (start < 0 || end < start) return reply; // not JSON: the handler's own parsing and repair take it
        let value: unknown;
        try {
          value = JSON.parse(text.slice(start, end + 1));
        } catch {
          return reply;
        }
        if (!validate(value)) throw new RunnerError(`${what} (document ${current.document}): ${firstViolation(validate, value)}`);
        return reply;
      },
    };
  }

  // The definition is validated once; each document is one execution of it.
  const machine = new StateMachine(pipeline.definition, { validationOptions: { checkArn: false } });
  const retryIntervalOverrides: { [state: string]: number } = {};
  for (const [state, def] of allStates(pipeline.definition)) {
    if (def.Retry) retryIntervalOverrides[state] = 0;
  }
  const columns = routingColumns(pipeline.definition);

  const outcomes: DocumentOutcome[] = [];
  const { prefix, suffixes } = pipeline.meta.documents;
  let index = 0;
  try {
    for (const file of options.documents) {
      index++;
      const name = path.basename(file);
      options.progress?.documentStarted?.(name, index, options.documents.length);
      const started = Date.now();
      if (suffixes.length > 0 && !suffixes.some((s) => name.endsWith(s))) {
        const skipped: DocumentOutcome = { document: name, status: 'SKIPPED', route: 'none', fields: {}, results: {}, path: [], transitions: 0, ms: 0, audit: [] };
        outcomes.push(skipped);
        options.progress?.documentFinished?.(skipped);
        continue;
      }
      // "Upload": copy the document into the local document bucket; the source file is never touched.
      const key = `${prefix}${name}`;
      const bytes = fs.readFileSync(file);
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      const plans = new Map<string, StagePlan>();
      current = {
        document: name,
        sha256,
        calls: new Map(),
        plan: (stage) => {
          if (!plans.has(stage)) plans.set(stage, planFor(options.scenario, name, stage));
          return plans.get(stage)!;
        },
        nextCall(stage) {
          const n = (this.calls.get(stage) ?? 0) + 1;
          this.calls.set(stage, n);
          return n;
        },
        reached: new Set(),
        running: true,
        source: { bucket: pipeline.documentBucket, key },
      };
      userFunctions.lastError = undefined;
      reviews = {};
      const put = await s3.send(new PutObjectCommand({ Bucket: pipeline.documentBucket, Key: key, Body: bytes }));
      const document = {
        bucket: pipeline.documentBucket,
        key,
        versionId: put.VersionId,
        size: bytes.length,
        etag: createHash('md5').update(bytes).digest('hex'),
      };
      const runId = executionName(document);
      let failureInput: any;
      let failure: any;
      const handlers: { [state: string]: (input: any) => Promise<any> } = { ...stageHandlers, ...outputSteps.handlers };
      const records = pipeline.meta.records;
      if (records) {
        const recorderUp = () => {
          if (lasting('recorder-fails')) throw named('Lambda.ServiceException', 'the recorder is unavailable (scenario)');
        };
        handlers[records.run] = async (input) => {
          recorderUp();
          return recordRun(recorderDeps, input);
        };
        handlers[records.failure] = async (input) => {
          failureInput = input;
          recorderUp();
          failure = await recordRun(recorderDeps, input);
          return failure;
        };
      }
      for (const d of pipeline.meta.destinations) {
        handlers[d.state] = async (input) => {
          deliver(outDir, d.destination, { rule: d.rule, destination: d.destination, kind: d.kind, message: input });
          return d.kind === 'event-bus' ? { FailedEntryCount: 0, Entries: [{ EventId: `local-${runId}` }] } : { MessageId: `local-${runId}` };
        };
      }
      const startTime = new Date(started).toISOString();
      const executionArn = `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:execution:${pipeline.stateMachineId}:${runId}`;
      const execution = machine.run({ document } as any, {
        overrides: { taskResourceLocalHandlers: handlers as any, retryIntervalOverrides },
        context: {
          Execution: {
            Id: executionArn,
            Name: runId,
            StartTime: startTime,
            Input: { document },
            RoleArn: `arn:aws:iam::${LOCAL_ACCOUNT}:role/local`,
          },
          StateMachine: { Id: `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:${pipeline.stateMachineId}`, Name: pipeline.stateMachineId },
          Task: { Token: 'local-task-token' },
          // The interpreter keeps no `$$.State`: a stage given a quota passes `$$.State.EnteredTime`
          // (its handler measures the wait for capacity from it). Read when a state's parameters are
          // built, so it is the time the state (or its retry) was entered.
          State: { get EnteredTime() { return new Date().toISOString(); } },
        } as any,
      });
      const steps: Array<{ state: string; ms?: number; error?: string; retries?: number; at: number }> = [];
      const consume = (async () => {
        for await (const event of execution.eventLogs as AsyncIterable<any>) {
          if (event.type === 'StateEntered') {
            steps.push({ state: event.state.name, at: event.timestamp });
            options.progress?.stateEntered?.(name, event.state.name);
          } else if (event.type === 'StateRetried') {
            // The interpreter reports the failed attempt first; the state runs again in the same step.
            const step = [...steps].reverse().find((s) => s.state === event.state.name);
            if (step) {
              step.retries = (step.retries ?? 0) + 1;
              step.ms = undefined;
              step.error = undefined;
            }
          } else if (event.type === 'StateExited' || event.type === 'StateFailed') {
            const step = [...steps].reverse().find((s) => s.state === event.state.name && s.ms === undefined);
            if (step) {
              step.ms = Math.max(0, event.timestamp - step.at);
              if (event.Error) step.error = event.Error;
            }
          }
        }
      })();
      let output: any;
      let status: 'SUCCEEDED' | 'FAILED' = 'SUCCEEDED';
      let executionError: { name?: string; message?: string } | undefined;
      try {
        output = await execution.result;
      } catch (err: any) {
        status = 'FAILED';
        executionError = { name: err?.cause?.name ?? err?.name, message: err?.cause?.message ?? err?.message };
      }
      await consume.catch(() => undefined);
      current.running = false;
      if (fatal) throw fatal;

      let backstopRoute: { rule: string; destination: string } | undefined;
      if (status === 'FAILED' && records) {
        // As in AWS, the backstop rule sees every failed execution: it writes the run record only when
        // the workflow could not (a terminal error, the recorder or the audit bucket down).
        const backstop = await recordRun(recorderDeps, {
          'detail-type': EXECUTION_STATUS_CHANGE,
          'detail': {
            executionArn,
            name: runId,
            status: 'FAILED',
            input: JSON.stringify({ document }),
            startDate: started,
            stopDate: Date.now(),
            // As the status-change event carries them: the error and cause the execution ended with.
            error: executionError?.name,
            cause: executionError?.message,
          },
        } as any) as BackstopResult;
        if (backstop.record && backstop.route) backstopRoute = backstop.route;
      }

      const stateAtFailure = failureInput?.state ?? failureInput?.Payload?.state;
      const results = output?.results ?? stateAtFailure?.results ?? {};
      const finalRoute = status === 'SUCCEEDED'
        ? (output?.route ?? { rule: 'none', destination: 'none' }) // $.route, set by the destination state
        : (failure?.route ?? backstopRoute ?? (records ? { rule: 'backstop', destination: 'quarantine' } : { rule: 'none', destination: 'failed' }));
      const caught = stateAtFailure?.error ?? output?.error;
      const errorName: string | undefined = status === 'FAILED' || caught
        ? (failure?.error ?? caught?.Error ?? executionError?.name) : undefined;
      const errorDetail = errorName ? describeError(errorName, caught?.Cause ?? executionError?.message, userFunctions.lastError) : undefined;
      const audit = [
        ...listAudit(s3, auditBucket, stageIds, runId, outDir),
        ...Object.values(reviews).flatMap((r) => (r.record ? [path.relative(outDir, s3.localPath(auditBucket, r.record))] : [])),
      ];
      const resultFile = path.join('results', `${name}.json`);
      const fields = Object.fromEntries(columns.map((c) => [c, lookupPath(results, c)]));
      const pathSteps: PathStep[] = steps.map(({ state, ms, error, retries }) =>
        ({ state, ms, ...(error ? { error } : {}), ...(retries ? { retries } : {}) }));
      writeJson(path.join(outDir, resultFile), {
        document: name,
        runId,
        status,
        route: finalRoute,
        error: errorDetail,
        fields,
        path: pathSteps,
        output: status === 'SUCCEEDED' ? output : undefined,
        audit,
        ...(Object.keys(reviews).length > 0 ? { reviews } : {}),
      });
      const outcome: DocumentOutcome = {
        document: name,
        status,
        route: finalRoute.destination,
        rule: finalRoute.rule,
        error: errorName,
        errorDetail,
        fields,
        results,
        path: pathSteps,
        transitions: steps.length,
        ms: Date.now() - started,
        audit,
        result: resultFile,
        ...(status === 'SUCCEEDED' && output?.outputs ? { outputs: outputSteps.files(runId) } : {}),
        ...(Object.keys(reviews).length > 0 ? { reviews } : {}),
      };
      outcomes.push(outcome);
      options.progress?.documentFinished?.(outcome);
    }
  } finally {
    await userFunctions.close();
  }
  writeJson(path.join(outDir, 'events.json'), events.entries());
  return outcomes;
}

/** The error of a run: its name, the cause's message, and a user function's stack when it threw it. */
function describeError(name: string, cause: unknown, thrown: ErrorDetail | undefined): ErrorDetail {
  let message = typeof cause === 'string' ? cause : undefined;
  if (message) {
    try {
      const parsed = JSON.parse(message);
      if (typeof parsed?.errorMessage === 'string') message = parsed.errorMessage;
    } catch {
      // a plain message
    }
  }
  if (thrown && (thrown.name === name || name.endsWith(thrown.name) || (message && thrown.message && message.includes(thrown.message)))) {
    return { name, message: thrown.message, stack: thrown.stack, function: thrown.function };
  }
  return { name, ...(message ? { message } : {}) };
}

function deliver(outDir: string, destination: string, record: any) {
  const file = path.join(outDir, 'destinations', `${destination}.jsonl`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.appendFileSync(file, JSON.stringify(record) + '\n');
}

/** The audit records of one run (each stage's record and the run record), relative to the output folder. */
function listAudit(s3: LocalS3, auditBucket: string, stages: readonly string[], runId: string, outDir: string): string[] {
  // A stage run per chunk keeps one record per chunk.
  const chunkRecords = stages.flatMap((stage) => {
    const dir = s3.localPath(auditBucket, Keys.stageChunkPrefix(stage, runId).replace(/\/$/, ''));
    return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => /^\d{5}\.json$/.test(f)).map((f) => `${Keys.stageChunkPrefix(stage, runId)}${f}`) : [];
  });
  return [...stages.map((stage) => Keys.stageAudit(stage, runId)), ...chunkRecords, Keys.runAudit(runId)]
    .filter((key) => s3.exists(auditBucket, key))
    .map((key) => path.relative(outDir, s3.localPath(auditBucket, key)))
    .sort();
}

function writeJson(file: string, value: unknown) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(value, null, 2) + '\n');
}
