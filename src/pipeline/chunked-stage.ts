import { Aws, Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { IPipelineStep } from './pipeline-step';
import { IAuditSink } from '../audit/audit-sink';
import { DOCUMENT_INPUT_SCHEMA } from '../contracts/schemas';
import { acknowledgeWildcards, XRAY_REASON } from '../private/acknowledge';
import { lookupPath, typesOf } from '../private/contract-check';
import { grantReadPrefix, grantWritePrefix } from '../private/grants';
import { Bundles, stageCode } from '../private/handler-asset';
import { handlerFunction, RECORDER_RETRY, taskRetry } from '../private/handler-function';
import { invalid, outOfRange, STAGE_ID } from '../private/validation';
import { Env, Keys, TRANSIENT_ERRORS } from '../shared';
import { ChunkActions, ChunkEnv, ChunksConfig, ReducerName } from '../shared/chunks-config';
import { IInferenceStage, InferenceStageBase, StageKind } from '../stages/inference-stage-base';

/** How a ChunkedStage cuts a text: `ChunkBy.pages(10)` or `ChunkBy.tokens(8000)`. */
export class ChunkBy {
  /**
   * A chunk of `count` pages (empty pages are left out).
   * @param count pages per chunk, 1 to 1000
   */
  public static pages(count: number): ChunkBy {
    return new ChunkBy('pages', count, CHARS_PER_TOKEN);
  }

  /**
   * As many whole pages as fit a token budget; a page longer than the budget is cut at whitespace.
   * Tokens are counted as characters / `charsPerToken` (4 by default, a safe rule for English with
   * the common tokenizers); keep the budget well under the model's context window, which also holds
   * the prompt and the reply.
   * @param budget tokens per chunk, 100 to 1000000
   * @param charsPerToken characters per token; default 4
   */
  public static tokens(budget: number, charsPerToken?: number): ChunkBy {
    return new ChunkBy('tokens', budget, charsPerToken ?? CHARS_PER_TOKEN);
  }

  /** `pages` or `tokens`. */
  public readonly unit: string;
  /** Pages per chunk, or tokens per chunk. */
  public readonly size: number;
  /** Characters per token (budgets in tokens). */
  public readonly charsPerToken: number;

  private constructor(unit: 'pages' | 'tokens', size: number, charsPerToken: number) {
    this.unit = unit;
    this.size = size;
    this.charsPerToken = charsPerToken;
  }
}

/** The named reducers of a ChunkReducer. */
export enum ChunkReducerKind {
  /** Strings joined (with the step's separator), arrays joined, S3 pointers read, joined and written as one pointer. */
  CONCATENATE = 'concatenate',
  /** The largest number. */
  MAX = 'max',
  /** The smallest number. */
  MIN = 'min',
  /** The sum of the numbers. */
  SUM = 'sum',
  /** The arrays joined, each distinct item once (first seen first). */
  UNION = 'union',
  /** True when any chunk's boolean is true. */
  ANY = 'any',
  /** True when every chunk's boolean is true. */
  ALL = 'all',
  /** The first chunk's value. */
  FIRST = 'first',
  /** Objects merged field by field: booleans ANY, numbers SUM, arrays UNION, pointers CONCATENATE, others FIRST. */
  MERGE = 'merge',
  /** A Lambda function of yours reduces the whole result. */
  LAMBDA = 'lambda',
}

/**
 * How the per-chunk results of one output field become the stage's result: `ChunkReducer.max('riskScore')`,
 * `ChunkReducer.union('riskClauses')`, `ChunkReducer.concatenate('summary')`; or a function of yours
 * for the whole result, `ChunkReducer.lambda(fn)`. Checked against the stage's output contract at synth.
 */
export class ChunkReducer {
  /** Strings joined, arrays joined, or text pointers (an offloaded field) read, joined and written back as one pointer. */
  public static concatenate(field: string): ChunkReducer { return new ChunkReducer(ChunkReducerKind.CONCATENATE, field); }
  /** The largest number (a risk score: the riskiest chunk wins). */
  public static max(field: string): ChunkReducer { return new ChunkReducer(ChunkReducerKind.MAX, field); }
  /** The smallest number. */
  public static min(field: string): ChunkReducer { return new ChunkReducer(ChunkReducerKind.MIN, field); }
  /** The sum of the numbers (counts, token usage). */
  public static sum(field: string): ChunkReducer { return new ChunkReducer(ChunkReducerKind.SUM, field); }
  /** The arrays joined, each distinct item once. */
  public static union(field: string): ChunkReducer { return new ChunkReducer(ChunkReducerKind.UNION, field); }
  /** True when any chunk says true (a flag). */
  public static any(field: string): ChunkReducer { return new ChunkReducer(ChunkReducerKind.ANY, field); }
  /** True when every chunk says true. */
  public static all(field: string): ChunkReducer { return new ChunkReducer(ChunkReducerKind.ALL, field); }
  /** The first chunk's value (a field every chunk answers alike, such as a language). */
  public static first(field: string): ChunkReducer { return new ChunkReducer(ChunkReducerKind.FIRST, field); }
  /** An object merged field by field (booleans: any; numbers: sum; arrays: union; pointers: concatenate; others: first). */
  public static merge(field: string): ChunkReducer { return new ChunkReducer(ChunkReducerKind.MERGE, field); }

  /**
   * A function of yours reduces the whole result: it is called with
   * `{ document, results, stage, chunks: [<each chunk's result>], runId }` (at most 6 MB: Lambda's
   * payload limit) and returns the stage's result, which is checked against its output contract.
   * @param fn the reducer function
   */
  public static lambda(fn: lambda.IFunction): ChunkReducer { return new ChunkReducer(ChunkReducerKind.LAMBDA, undefined, fn); }

  /** The reducer. */
  public readonly kind: ChunkReducerKind;
  /**
   * The output field it reduces.
   * @default - the whole result (LAMBDA)
   */
  public readonly field?: string;
  /**
   * The reducer function (LAMBDA).
   * @default - none
   */
  public readonly reducerFunction?: lambda.IFunction;

  private constructor(kind: ChunkReducerKind, field?: string, fn?: lambda.IFunction) {
    this.kind = kind;
    this.field = field;
    this.reducerFunction = fn;
  }
}

/** Props of a `ChunkedStage` step. */
export interface ChunkedStageProps {
  /** The stage that runs once per chunk, with the chunk as its `{{text}}`. Its result lands at `$.results.<id>`, reduced. */
  readonly stage: IInferenceStage;
  /** How the text is cut. */
  readonly chunkBy: ChunkBy;
  /**
   * How the chunks' results become one: a reducer per output field (every required field of the
   * stage's output contract needs one), or a single `ChunkReducer.lambda(fn)`.
   */
  readonly reducers: ChunkReducer[];
  /**
   * The stage whose `text` pointer is cut.
   * @default - the latest earlier stage that surely produces a `text` pointer
   */
  readonly textFrom?: string;
  /**
   * Chunks that run at once (1 to 1000).
   * @default 4
   */
  readonly maxConcurrency?: number;
  /**
   * Above this many chunks, the chunks run in a Distributed Map (child executions, the chunk list read
   * from S3) instead of an inline Map; at or below it, the chunk list travels in the state (1 to 100).
   * @default 40
   */
  readonly distributedAbove?: number;
  /**
   * Most chunks a document may have: above it the run fails with `Document.TooLarge` before any
   * model runs. At or below `distributedAbove`, no Distributed Map is built.
   * @default 1000
   */
  readonly maxChunks?: number;
  /**
   * Put between two concatenated strings.
   * @default '\n\n'
   */
  readonly separator?: string;
  /**
   * The name of the step's first state (the split); the others are `<name>-chunks`, `<name>-reduce`, ...
   * @default - the step's construct id
   */
  readonly stateName?: string;
}

/** Where the pipeline attaches a ChunkedStage. */
interface ChunkedStageAttachOptions {
  readonly scope: Construct;
  readonly pipelineName: string;
  readonly workingBucket: s3.IBucket;
  readonly auditSink: IAuditSink;
  readonly sourceStage: string;
}

const CHARS_PER_TOKEN = 4;
/** Fields a stage kind adds to its output itself, and how they are reduced when no reducer names them. */
const ADDED_FIELDS: { [kind: string]: { [field: string]: ChunkReducerKind } } = {
  [StageKind.BEDROCK]: { response: ChunkReducerKind.CONCATENATE, screening: ChunkReducerKind.MERGE, usage: ChunkReducerKind.MERGE },
};

/**
 * A step of `Pipeline.stages` that cuts a long text into chunks (pages, or a token budget), runs a
 * stage once per chunk (a Map state with a concurrency limit; a Distributed Map above a threshold) and
 * reduces the chunks' results into the stage's result at `$.results.<id>`, checked against the stage's
 * output contract. Chunk texts travel as S3 pointers of the same shape as extracted text, so a stage
 * reading `{{text}}` reads its chunk; the results of the chunks are kept in S3, so the state stays
 * small whatever the number of chunks.
 *
 * States: `<name>` (split) → `<name>-size` (Choice) → `<name>-chunks` (Map) or
 * `<name>-chunks-distributed` (Distributed Map) → `<name>-reduce`.
 */
export class ChunkedStage extends Construct implements IPipelineStep {
  /** The stage that runs per chunk. */
  public readonly stage: IInferenceStage;
  /** The split/keep/reduce function (the step's main child, id `Resource`). */
  public readonly handler: lambda.Function;
  /** The function's role: its own prefix of the working bucket, the source text, the stage's working data. */
  public readonly role: iam.Role;
  /** The reducers, by field (empty for a Lambda reducer). */
  public readonly reducers: ChunkReducer[];
  /** How the text is cut. */
  public readonly chunkBy: ChunkBy;
  /** The stage whose text is cut, when given (else the pipeline picks the latest text producer). */
  public readonly textFrom?: string;
  /** The split task: the step's first state. */
  public readonly split: tasks.LambdaInvoke;
  /** The reduce task: the step's last state. */
  public readonly reduce: tasks.LambdaInvoke;
  /** The inline Map state. */
  public readonly map: sfn.Map;
  private readonly name: string;
  private readonly maxConcurrency: number;
  private readonly distributedAbove: number;
  private readonly distributed: boolean;
  private readonly keep: tasks.LambdaInvoke;
  private choice?: sfn.Choice;
  private source?: string;
  private distributedMap?: sfn.DistributedMap;

  constructor(scope: Construct, id: string, props: ChunkedStageProps) {
    super(scope, id);
    const name = props.stateName ?? id;
    if (!STAGE_ID.test(name)) {
      invalid(this, `\`stateName\` must be a letter followed by letters, digits or '_' (at most 64), got: '${name}'. It becomes the split state's name and the chunk's key under $.results; rename the step, e.g. 'SummarizeChunks'.`);
    }
    const { chunkBy, stage } = props;
    if (chunkBy.unit === 'pages' && outOfRange(chunkBy.size, 1, 1000, true)) {
      invalid(this, `\`chunkBy\` must cut 1 to 1000 pages per chunk, got: ChunkBy.pages(${chunkBy.size}). Pick a whole number of pages, e.g. ChunkBy.pages(10).`);
    }
    if (chunkBy.unit === 'tokens' && outOfRange(chunkBy.size, 100, 1_000_000, true)) {
      invalid(this, `\`chunkBy\` must give each chunk 100 to 1000000 tokens, got: ChunkBy.tokens(${chunkBy.size}). Pick a budget under the model's context window, e.g. ChunkBy.tokens(8000).`);
    }
    if (outOfRange(chunkBy.charsPerToken, 1, 16)) {
      invalid(this, `\`chunkBy\` counts 1 to 16 characters per token, got: ${chunkBy.charsPerToken}. Leave it out (4) unless your model's tokenizer differs.`);
    }
    this.maxConcurrency = props.maxConcurrency ?? 4;
    if (outOfRange(this.maxConcurrency, 1, 1000, true)) {
      invalid(this, `\`maxConcurrency\` must be a whole number from 1 to 1000, got: ${this.maxConcurrency}. It bounds the model calls a document makes at once: keep it under the model's quota.`);
    }
    this.distributedAbove = props.distributedAbove ?? 40;
    if (outOfRange(this.distributedAbove, 1, 100, true)) {
      invalid(this, `\`distributedAbove\` must be a whole number from 1 to 100, got: ${this.distributedAbove}. Up to that many chunks are listed in the state (about 300 bytes each), so it stays far below the 256 KiB limit.`);
    }
    const maxChunks = props.maxChunks ?? 1000;
    if (outOfRange(maxChunks, 1, 10_000, true)) {
      invalid(this, `\`maxChunks\` must be a whole number from 1 to 10000, got: ${maxChunks}. Cut bigger chunks (chunkBy) for longer documents.`);
    }
    this.distributed = maxChunks > this.distributedAbove;
    if (stage.startState !== (stage.endStates[0] as unknown) || stage.endStates.length !== 1) {
      invalid(this, `\`stage\` '${stage.stageId}' must be a single task state to run per chunk, got: ${stage.endStates.length} end states. Use a stage made by InferenceStage.*.`);
    }
    if (stage.stageId === name) {
      invalid(this, `\`stateName\` '${name}' is the id of its own stage. State names must be unique: rename the step, e.g. '${name}Chunks'.`);
    }
    const reducers = checkReducers(this, stage, props.reducers);
    // The stage's records are kept one per chunk (the chunks run at once).
    if (stage instanceof InferenceStageBase) stage._runPerChunk(name);
    this.name = name;
    this.stage = stage;
    this.reducers = [...props.reducers];
    this.chunkBy = chunkBy;
    this.textFrom = props.textFrom;

    const reducerFn = props.reducers.find((r) => r.kind === ChunkReducerKind.LAMBDA)?.reducerFunction;
    const config: ChunksConfig = {
      step: name,
      stage: stage.stageId,
      unit: chunkBy.unit as 'pages' | 'tokens',
      size: chunkBy.size,
      charsPerToken: chunkBy.charsPerToken,
      maxChunks,
      inlineMax: this.distributed ? this.distributedAbove : 0,
      reducers,
      lambda: reducerFn !== undefined,
      separator: props.separator ?? '\n\n',
    };
    const { fn, role } = handlerFunction(this, 'Resource', {
      description: `cdk-ai-pipeline step ${name}: cuts a text into chunks for ${stage.stageId} and reduces their results`,
      roleDescription: `cdk-ai-pipeline step ${name}: least-privilege role of the chunk function`,
      roleId: 'Role',
      logsId: 'Logs',
      code: stageCode(Bundles.CHUNKS, config, { input: DOCUMENT_INPUT_SCHEMA, output: stage.outputContract.schema }),
      timeout: Duration.minutes(5),
      memorySize: 512,
    });
    this.handler = fn;
    this.role = role;
    if (reducerFn) {
      reducerFn.grantInvoke(role);
      fn.addEnvironment(ChunkEnv.REDUCER_FUNCTION, reducerFn.functionName);
    }

    const retry = taskRetry(RECORDER_RETRY, [...TRANSIENT_ERRORS.s3]);
    const invoke = (stateId: string, stateName: string, payload: { [key: string]: any }, comment: string, resultPath?: string) => {
      const task = new tasks.LambdaInvoke(this, stateId, {
        stateName,
        lambdaFunction: fn,
        payload: sfn.TaskInput.fromObject(payload),
        payloadResponseOnly: true,
        resultPath,
        retryOnServiceExceptions: false,
        taskTimeout: sfn.Timeout.duration(Duration.minutes(5)),
        comment,
      });
      task.addRetry(retry);
      return task;
    };
    const runId = sfn.JsonPath.stringAt('$$.Execution.Name');
    this.split = invoke('Split', name, { action: ChunkActions.SPLIT, state: sfn.JsonPath.entirePayload, runId },
      `cut the text into chunks (${chunkBy.unit === 'pages' ? `${chunkBy.size} pages` : `${chunkBy.size} tokens`} each)`, '$.chunking');
    this.keep = this.keepTask('Keep', `${name}-keep`);
    this.map = new sfn.Map(this, 'Map', {
      stateName: `${name}-chunks`,
      comment: `${stage.stageId} per chunk, at most ${this.maxConcurrency} at once`,
      itemsPath: '$.chunking.items',
      itemSelector: this.itemSelector(),
      maxConcurrency: this.maxConcurrency,
      resultPath: sfn.JsonPath.DISCARD,
    });
    this.map.itemProcessor(sfn.Chain.start(stage).next(this.keep));
    this.reduce = invoke('Reduce', `${name}-reduce`, {
      action: ChunkActions.REDUCE,
      state: { 'document.$': '$.document', 'results.$': '$.results' },
      chunking: { 'count.$': '$.chunking.count' },
      runId,
      executionArn: sfn.JsonPath.stringAt('$$.Execution.Id'),
    }, `reduce the chunks' results into results.${stage.stageId} (checked against its output contract)`);

    acknowledgeWildcards(this, [
      XRAY_REASON,
      {
        matches: (f) => f.endsWith(`/${Keys.stagePrefix(name)}*`),
        reason: `The chunk function of ${name} writes and reads only its own objects (chunks, per-chunk results) under '${Keys.stagePrefix(name)}'; their keys carry the run id.`,
      },
      {
        matches: (f) => f.endsWith(`/${Keys.stagePrefix(stage.stageId)}*`) || (this.source !== undefined && f.endsWith(`/${Keys.stagePrefix(this.source)}*`)),
        reason: `The chunk function of ${name} reads the text it cuts (the source stage's working data) and the pointers of ${stage.stageId}'s per-chunk results it concatenates, under their 'stages/<id>/' prefixes.`,
      },
      {
        matches: (f) => reducerFn !== undefined && f.startsWith('Resource::<') && f.endsWith('.Arn>:*'),
        reason: `The chunk function of ${name} invokes the versions of its reducer function (CDK grants function:*).`,
      },
    ]);
  }

  /** The step's name: its split state's name. */
  public get stepName(): string {
    return this.name;
  }

  /** The step's first state (the split). */
  public get startState(): sfn.State {
    return this.split;
  }

  /** The names of the states that call the chunk function (split, keep, reduce). */
  public get functionStates(): string[] {
    return [this.split.stateId, this.keep.stateId, this.reduce.stateId, ...(this.distributed ? [`${this.name}-keep-distributed`] : [])];
  }

  /**
   * Grants the chunk function what it reads and writes, and builds the Distributed Map (it reads the
   * chunk list from the working bucket). The pipeline calls this.
   * @internal
   */
  public _attach(options: ChunkedStageAttachOptions): void {
    this.source = options.sourceStage;
    const bucket = options.workingBucket;
    grantWritePrefix(this.role, bucket, Keys.stagePrefix(this.name));
    grantReadPrefix(this.role, bucket, Keys.stagePrefix(options.sourceStage));
    if (options.sourceStage !== this.stage.stageId) grantReadPrefix(this.role, bucket, Keys.stagePrefix(this.stage.stageId));
    options.auditSink.grantWriteStageRecords(this.role, this.name);
    this.handler.addEnvironment(ChunkEnv.SOURCE_STAGE, options.sourceStage);
    this.handler.addEnvironment(Env.PIPELINE_NAME, options.pipelineName);
    this.handler.addEnvironment(Env.WORK_BUCKET, bucket.bucketName);
    this.handler.addEnvironment(Env.AUDIT_BUCKET, options.auditSink.bucket.bucketName);
    this.handler.addEnvironment(Env.AUDIT_BUS, options.auditSink.eventBus.eventBusName);
    acknowledgeWildcards(options.scope, [{
      matches: (f) => f === `Resource::<${Stack.of(this).resolve(Stack.of(this).getLogicalId(this.handler.node.defaultChild as lambda.CfnFunction))}.Arn>:*`,
      reason: `Step Functions may invoke the versions of the chunk function of step ${this.name} (CDK grants function:*).`,
    }]);
    if (!this.distributed) return;
    // CDK grants the state machine its Distributed Map's child executions (DistributedMapPolicy) and the item reader's read.
    acknowledgeWildcards(options.scope, [
      {
        matches: (f, actions) => f.startsWith('Resource::arn:') && f.includes(':execution:') && f.endsWith(':*')
          && actions.every((a) => ['states:DescribeExecution', 'states:StopExecution', 'states:RedriveExecution'].includes(a)),
        reason: `The Distributed Map of ${this.name} describes, stops and redrives its own child executions, whose names are known only at run time (CDK's DistributedMapPolicy).`,
      },
      {
        matches: (f, actions) => f.endsWith(`/${Keys.stagePrefix(this.name)}*`) && actions.every((a) => a === 's3:GetObject'),
        reason: `The Distributed Map of ${this.name} reads the chunk list its split wrote under '${Keys.stagePrefix(this.name)}'; the key carries the run id.`,
      },
    ]);

    this.choice = new sfn.Choice(this, 'Size', { stateName: `${this.name}-size`, comment: `an inline Map up to ${this.distributedAbove} chunks, a Distributed Map above` });
    this.distributedMap = new sfn.DistributedMap(this, 'DistributedMap', {
      stateName: `${this.name}-chunks-distributed`,
      comment: `${this.stage.stageId} per chunk in child executions, at most ${this.maxConcurrency} at once; the chunk list is read from S3`,
      itemReader: new ChunkListReader(bucket, Keys.stagePrefix(this.name)),
      itemSelector: this.itemSelector(),
      maxConcurrency: this.maxConcurrency,
      mapExecutionType: sfn.StateMachineType.STANDARD,
      resultPath: sfn.JsonPath.DISCARD,
    });
    // The stage's task, once more: a state belongs to one graph, and the inline Map holds the stage's own.
    const json = (this.stage.startState as sfn.State).toStateJson() as { [key: string]: any };
    const { Next: _n, End: _e, Catch: _c, ...task } = json;
    const copy = new sfn.CustomState(this, `${this.stage.stageId}-distributed`, { stateJson: task });
    this.distributedMap.itemProcessor(sfn.Chain.start(copy).next(this.keepTask('KeepDistributed', `${this.name}-keep-distributed`)));
  }

  /**
   * Wires split → (size) → map → reduce → `next` (none: the reduce ends a Parallel branch); every
   * state's errors go to `onError`. The pipeline calls this.
   * @internal
   */
  public _wire(next: sfn.IChainable | undefined, onError: sfn.IChainable, catchProps: sfn.CatchProps): void {
    const states = [this.split, this.map, this.reduce, ...(this.distributedMap ? [this.distributedMap] : [])];
    for (const state of states) state.addCatch(onError, catchProps);
    if (next) this.reduce.next(next);
    if (this.choice && this.distributedMap) {
      this.split.next(this.choice);
      this.choice.when(sfn.Condition.numberGreaterThan('$.chunking.count', this.distributedAbove), this.distributedMap, { comment: `more than ${this.distributedAbove} chunks` });
      this.choice.otherwise(this.map);
      this.distributedMap.next(this.reduce);
    } else {
      this.split.next(this.map);
    }
    this.map.next(this.reduce);
  }

  /** Each iteration's input: the run's state with the chunk merged into `results` as the latest `text` pointer. */
  private itemSelector(): { [key: string]: any } {
    return {
      'document.$': '$.document',
      'results.$': 'States.JsonMerge($.results, $$.Map.Item.Value, false)',
    };
  }

  private keepTask(id: string, stateName: string): tasks.LambdaInvoke {
    const task = new tasks.LambdaInvoke(this, id, {
      stateName,
      lambdaFunction: this.handler,
      payload: sfn.TaskInput.fromObject({ action: ChunkActions.KEEP, chunk: sfn.JsonPath.objectAt(`$.results.${this.name}`), result: sfn.JsonPath.objectAt(`$.results.${this.stage.stageId}`) }),
      payloadResponseOnly: true,
      resultPath: sfn.JsonPath.DISCARD,
      retryOnServiceExceptions: false,
      taskTimeout: sfn.Timeout.duration(Duration.minutes(1)),
      comment: `keep this chunk's result of ${this.stage.stageId} in S3 (the Map's output stays empty)`,
    });
    task.addRetry(taskRetry(RECORDER_RETRY, [...TRANSIENT_ERRORS.s3]));
    return task;
  }
}

/** The Distributed Map's item reader: the chunk list the split wrote (a JSON array) at `$.chunking.manifest`. */
class ChunkListReader implements sfn.IItemReader {
  public readonly resource = `arn:${Aws.PARTITION}:states:::s3:getObject`;
  constructor(public readonly bucket: s3.IBucket, private readonly prefix: string) {}
  public render(): any {
    return { Resource: this.resource, ReaderConfig: { InputType: 'JSON' }, Parameters: { 'Bucket.$': '$.chunking.manifest.bucket', 'Key.$': '$.chunking.manifest.key' } };
  }
  public providePolicyStatements(): iam.PolicyStatement[] {
    const statements = [new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [this.bucket.arnForObjects(`${this.prefix}*`)] })];
    if (this.bucket.encryptionKey) statements.push(new iam.PolicyStatement({ actions: ['kms:Decrypt'], resources: [this.bucket.encryptionKey.keyArn] }));
    return statements;
  }
  public validateItemReader(): string[] {
    return [];
  }
}

/** The reducer of each field (a Lambda reducer: none), after checking them against the stage's output contract. */
function checkReducers(step: ChunkedStage, stage: IInferenceStage, reducers: ChunkReducer[]): { [field: string]: ReducerName } {
  const contract = stage.outputContract;
  const fn = reducers.filter((r) => r.kind === ChunkReducerKind.LAMBDA);
  if (reducers.length === 0) {
    invalid(step, `\`reducers\` must hold a reducer per output field of '${stage.stageId}', or ChunkReducer.lambda(fn), got: []. Add one, e.g. ChunkReducer.concatenate('summary').`);
  }
  if (fn.length > 0) {
    if (reducers.length > 1) {
      invalid(step, `\`reducers\` holds ChunkReducer.lambda(...) and ${reducers.length - 1} other reducer(s). A function reduces the whole result: pass it alone.`);
    }
    // The fields the stage kind adds itself (a Bedrock stage's screening) are still reduced here, and win over the function's.
    return addedReducers(stage, {});
  }
  const out: { [field: string]: ReducerName } = {};
  for (const r of reducers) {
    const field = r.field!;
    if (field in out) {
      invalid(step, `\`reducers\` reduces '${field}' twice (${out[field]} and ${r.kind}). Keep one reducer per field.`);
    }
    const found = lookupPath(contract.schema, field);
    if (field.includes('.') || found.schema === undefined) {
      invalid(step, `\`reducers\` names '${field}' (${r.kind}), which the output contract of '${stage.stageId}' (${contract.source}) does not declare as a top-level field. Reduce a declared field: ${Object.keys(contract.schema.properties ?? {}).join(', ') || '(none declared)'}.`);
    }
    const types = typesOf(found.schema) ?? [];
    const isPtr = types.includes('object') && ['bucket', 'key'].every((k) => k in (found.schema?.properties ?? {}));
    const ok = ({
      [ChunkReducerKind.MAX]: types.length > 0 && types.every((t) => t === 'number' || t === 'integer'),
      [ChunkReducerKind.MIN]: types.length > 0 && types.every((t) => t === 'number' || t === 'integer'),
      [ChunkReducerKind.SUM]: types.length > 0 && types.every((t) => t === 'number' || t === 'integer'),
      [ChunkReducerKind.UNION]: types.length === 1 && types[0] === 'array',
      [ChunkReducerKind.ANY]: types.length === 1 && types[0] === 'boolean',
      [ChunkReducerKind.ALL]: types.length === 1 && types[0] === 'boolean',
      [ChunkReducerKind.CONCATENATE]: types.length === 1 && (types[0] === 'string' || types[0] === 'array' || isPtr),
      [ChunkReducerKind.MERGE]: types.length === 1 && types[0] === 'object',
      [ChunkReducerKind.FIRST]: true,
      [ChunkReducerKind.LAMBDA]: true,
    } as { [k: string]: boolean })[r.kind];
    if (!ok) {
      const needs = ({
        max: 'a number',
        min: 'a number',
        sum: 'a number',
        union: 'an array',
        any: 'a boolean',
        all: 'a boolean',
        concatenate: 'a string, an array or an S3 pointer',
        merge: 'an object',
      } as { [k: string]: string })[r.kind];
      invalid(step, `\`reducers\` applies ${r.kind} to '${field}', which the output contract of '${stage.stageId}' (${contract.source}) declares as ${types.length > 0 ? types.join(' or ') : 'untyped'}; ${r.kind} needs ${needs}. Pick a reducer for that type (max/min/sum: numbers, union: arrays, concatenate: strings, arrays or pointers, any/all: booleans).`);
    }
    out[field] = r.kind as ReducerName;
  }
  addedReducers(stage, out);
  const missing = (contract.schema.required ?? []).filter((f: string) => !(f in out));
  if (missing.length > 0) {
    invalid(step, `the reduced result of '${stage.stageId}' would miss the required field(s) ${missing.map((f: string) => `'${f}'`).join(', ')} of its output contract (${contract.source}): no reducer covers them. Add a reducer for each (e.g. ChunkReducer.first('${missing[0]}')), or reduce with ChunkReducer.lambda(fn).`);
  }
  return out;
}

/** Adds the default reducers of the fields the stage kind adds itself, where no reducer names them. */
function addedReducers(stage: IInferenceStage, out: { [field: string]: ReducerName }): { [field: string]: ReducerName } {
  for (const [field, kind] of Object.entries(ADDED_FIELDS[stage.kind] ?? {})) {
    if (!(field in out) && field in (stage.outputContract.schema.properties ?? {})) out[field] = kind as ReducerName;
  }
  return out;
}
