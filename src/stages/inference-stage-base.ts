import { AspectPriority, Aspects, Annotations, CfnResource, Duration, IAspect, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct, IConstruct } from 'constructs';
import { IAuditSink } from '../audit/audit-sink';
import { IServiceQuota } from '../capacity/service-quota';
import { StageContract } from '../contracts/stage-contract';
import { PrivateNetworkOptions } from '../network/private-network';
import { IPipelineStep } from '../pipeline/pipeline-step';
import { acknowledgeWildcards, wildcardFindings, XRAY_REASON } from '../private/acknowledge';
import { applySettings, checkSettings } from '../private/deployment-settings';
import { grantReadPrefix, grantWritePrefix } from '../private/grants';
import { handlerFunction, taskRetry } from '../private/handler-function';
import { applyNetwork } from '../private/network';
import { StandaloneResources } from '../private/standalone-resources';
import { invalid, outOfRange, STAGE_ID } from '../private/validation';
import { CAPACITY_ENV, CAPACITY_WAIT, Env, Keys, QuotaConfig, STAGE_METADATA, STANDALONE_METADATA, THROTTLING_ERROR_NAMES } from '../shared';

/** The kinds of stage this library builds. */
export enum StageKind {
  /** Amazon Textract: text detection (`TextractStage`) or document analysis (`TextractAnalysisStage`). */
  TEXTRACT = 'textract',
  /** An Amazon Bedrock model through the Converse API. */
  BEDROCK = 'bedrock',
  /** An Amazon SageMaker real-time endpoint. */
  SAGEMAKER = 'sagemaker',
  /** A Lambda function of your own. */
  LAMBDA = 'lambda',
  /** Amazon Comprehend: language, sentiment, entities, PII. */
  COMPREHEND = 'comprehend',
  /** Amazon Translate: a text pointer in, a translated text pointer out. */
  TRANSLATE = 'translate',
  /** An external HTTP API through the Step Functions HTTP task. */
  HTTP = 'http',
  /** Amazon Transcribe: a recording in, its transcript as a text pointer out (an asynchronous job). */
  TRANSCRIBE = 'transcribe',
}

/** How a stage retries the throttling and transient errors of the service it calls. */
export interface StageRetryOptions {
  /**
   * Attempts after the first one.
   * @default 4
   */
  readonly maxAttempts?: number;
  /**
   * Wait before the first retry.
   * @default Duration.seconds(2)
   */
  readonly interval?: Duration;
  /**
   * Multiplier of the wait after each retry; at least 2.
   * @default 2
   */
  readonly backoffRate?: number;
  /**
   * Longest wait between two attempts.
   * @default Duration.seconds(60)
   */
  readonly maxDelay?: Duration;
}

/** Options every stage kind takes. */
export interface InferenceStageOptions {
  /**
   * How long the stage may take, retries excluded: the task's timeout.
   * @default - depends on the kind: 30 minutes for Textract (asynchronous jobs included), 2 minutes for SageMaker, 5 minutes for Bedrock and Lambda
   */
  readonly timeout?: Duration;
  /**
   * Retry of the service's throttling and transient errors (always with full jitter).
   * @default - 4 retries, 2 s first wait, backoff 2, at most 60 s between attempts
   */
  readonly retry?: StageRetryOptions;
  /**
   * Memory of the stage's handler function, in MiB.
   * @default - depends on the kind: 1024 for Textract (it inspects PDFs), 512 for Bedrock and SageMaker, 256 for Lambda
   */
  readonly memorySize?: number;
  /**
   * The stage's input contract, written against `{ document, results }`.
   * @default - what the kind itself reads (the document pointer; for Bedrock, the prompt's placeholders)
   */
  readonly input?: StageContract;
  /**
   * Where the stage finds documents and writes its data and records when no Pipeline attaches it
   * (a stage in a state machine of your own). A Pipeline supplies its own: a stage given these
   * options cannot be put in a Pipeline.
   * @default - the working bucket and audit sink shared by the stack's stand-alone stages (made on first use)
   */
  readonly standalone?: StandaloneStageOptions;
  /**
   * The service quota the stage's calls count against, shared with every other stage given it. The
   * stage takes capacity from it before each call and waits (up to the quota's `maxWait`) when there
   * is none; the service's throttling errors are then retried up to `maxWait` too, not `retry.maxAttempts`.
   * @default - no capacity control: throttling is retried as `retry` says, then the stage fails
   */
  readonly quota?: IServiceQuota;
}

/**
 * Where a stage used outside a Pipeline finds documents and writes its data and records. Every
 * field is optional: the stack's stand-alone stages share one working bucket and one audit sink,
 * made when the first stage that needs them is created.
 */
export interface StandaloneStageOptions {
  /**
   * The name written in the stage's audit records (letters, digits, '-', '_').
   * @default 'standalone'
   */
  readonly pipelineName?: string;
  /**
   * The working bucket: the stage writes under `stages/<id>/`.
   * @default - a bucket shared by the stack's stand-alone stages (KMS, versioned, SSL only, access-logged; working data expires after 30 days)
   */
  readonly workingBucket?: s3.IBucket;
  /**
   * The audit sink the stage writes its records to.
   * @default - an AuditSink shared by the stack's stand-alone stages
   */
  readonly auditSink?: IAuditSink;
  /**
   * The bucket documents are read from.
   * @default - the working bucket, under `documentPrefix`
   */
  readonly documentBucket?: s3.IBucket;
  /**
   * Key prefix of the documents; the stage may read only under it.
   * @default - 'documents/' in the working bucket; the whole bucket when `documentBucket` is given
   */
  readonly documentPrefix?: string;
  /**
   * Ids of the stages before this one, whose working data the stage may read.
   * @default - every stage writing to the working bucket (read under `stages/`)
   */
  readonly upstreamStages?: string[];
  /**
   * Reserved concurrency of the stage's function (as the Pipeline's `functionConcurrency`).
   * @default - no reserved concurrency (the account's unreserved pool)
   */
  readonly functionConcurrency?: number;
  /**
   * A permissions boundary set on every role the stage creates (as the Pipeline's `permissionsBoundary`).
   * @default - no permissions boundary
   */
  readonly permissionsBoundary?: iam.IManagedPolicy;
  /**
   * A prefix of the name of every role the stage creates (as the Pipeline's `roleNamePrefix`).
   * @default - CloudFormation names the roles
   */
  readonly roleNamePrefix?: string;
  /**
   * Run the stage's functions in a VPC's private subnets, reaching AWS services through VPC endpoints
   * (as the Pipeline's `network`).
   * @default - the functions run outside a VPC
   */
  readonly network?: PrivateNetworkOptions;
}

/** What a stage kind hands to the common stage machinery. For implementers of new stage kinds. */
export interface InferenceStageBaseProps {
  /** The kind of stage. */
  readonly kind: StageKind;
  /** Code of the stage's handler (its bundle, config and generated validators). */
  readonly code: lambda.Code;
  /** The input contract the handler validates. */
  readonly inputContract: StageContract;
  /** The output contract the handler validates (what lands at `results.<id>`). */
  readonly outputContract: StageContract;
  /** Names of the service errors the task retries, besides Lambda's own transient errors. */
  readonly transientErrors: string[];
  /** The stage's timeout (the task's). */
  readonly timeout: Duration;
  /**
   * The handler function's timeout.
   * @default - the stage's timeout
   */
  readonly handlerTimeout?: Duration;
  /** Memory of the handler, in MiB. */
  readonly memorySize: number;
  /**
   * Retry options.
   * @default - see `StageRetryOptions`
   */
  readonly retry?: StageRetryOptions;
  /**
   * True when the handler answers through a task token (the task waits for the callback).
   * @default false
   */
  readonly waitForCallback?: boolean;
  /**
   * Reads the alias `text`: the text of the latest earlier stage that produced a `text` pointer.
   * @default false
   */
  readonly readsText?: boolean;
  /** One line on what the stage does, for the function's description. */
  readonly description: string;
  /**
   * Where the stage reads and writes when no Pipeline attaches it.
   * @default - see `InferenceStageOptions.standalone`
   */
  readonly standalone?: StandaloneStageOptions;
  /**
   * The service quota the stage's calls count against.
   * @default - see `InferenceStageOptions.quota`
   */
  readonly quota?: IServiceQuota;
}

/** Where an attached stage finds the run's data and writes its records. */
export interface StageAttachOptions {
  /** The pipeline's name, written in every audit record. */
  readonly pipelineName: string;
  /** The bucket documents are uploaded to. */
  readonly documentBucket: s3.IBucket;
  /**
   * Key prefix of the documents; the stage may read only under it.
   * @default - the whole bucket
   */
  readonly documentPrefix?: string;
  /** The pipeline's working bucket: the stage writes under `stages/<id>/`. */
  readonly workingBucket: s3.IBucket;
  /** The audit sink the stage writes its records to. */
  readonly auditSink: IAuditSink;
  /**
   * Ids of the stages before this one, whose working data the stage may read.
   * @default - none
   */
  readonly upstreamStages?: string[];
}

/**
 * An AI step as a Pipeline (or any state machine) uses it: a chainable fragment with an id, a kind,
 * contracts and a handler. Implement it through `InferenceStageBase`.
 */
export interface IInferenceStage extends sfn.IChainable, iam.IGrantable, IPipelineStep {
  /** The stage id: its state name and its key under `$.results`. */
  readonly stageId: string;
  /** The kind of stage. */
  readonly kind: StageKind;
  /** The stage's handler function. */
  readonly handler: lambda.IFunction;
  /** The input contract (written against `{ document, results }`). */
  readonly inputContract: StageContract;
  /** The output contract (what lands at `$.results.<id>`). */
  readonly outputContract: StageContract;
  /** The stage's timeout. */
  readonly timeout: Duration;
  /** True when the stage reads the `text` alias (the latest earlier `text` pointer). */
  readonly readsText: boolean;
  /** True once the stage is attached (by a Pipeline, by `attach()`, or at synth as a stand-alone stage). */
  readonly isAttached: boolean;

  /**
   * Connects the stage to the run's data and audit. A Pipeline calls this.
   * @param options where the stage reads and writes
   */
  attach(options: StageAttachOptions): void;

  /**
   * Sends the stage's errors (after retries) to a handler state.
   * @param handler the state to go to
   * @param props which errors, and where the error lands in the state
   */
  addCatch(handler: sfn.IChainable, props?: sfn.CatchProps): IInferenceStage;

  /**
   * Grants what the stage's handler needs on the state machine that runs it (the task-token callback
   * of stages that answer through one); an empty grant for the others.
   * @param stateMachine the state machine that runs this stage
   */
  grantTaskResponse(stateMachine: sfn.IStateMachine): iam.Grant;
}

/**
 * One AI step: a single Step Functions task backed by its own handler function and its own
 * least-privilege role, with a timeout, retries on the service's transient errors, and a JSON-schema
 * contract for its input and output. The base of every stage kind; create stages with the factories
 * of `InferenceStage` (`InferenceStage.bedrock(...)`).
 *
 * A stage is a `StateMachineFragment`: put it in a `Pipeline`, or chain it into any state machine of
 * your own as it is. A stage no Pipeline attaches uses a working bucket and audit sink of its own
 * (see `InferenceStageOptions.standalone`). Its result lands at `$.results.<id>`.
 */
export abstract class InferenceStageBase extends sfn.StateMachineFragment implements IInferenceStage {
  public readonly startState: sfn.State;
  public readonly endStates: sfn.INextable[];
  public readonly stageId: string;
  public readonly kind: StageKind;
  /** The stage's handler function (the stage's main child, id `Resource`). */
  public readonly handler: lambda.IFunction;
  /** The handler's role: it grants exactly what this stage calls. */
  public readonly role: iam.Role;
  public readonly grantPrincipal: iam.IPrincipal;
  public readonly inputContract: StageContract;
  public readonly outputContract: StageContract;
  public readonly timeout: Duration;
  public readonly readsText: boolean;
  /** The stage's single task state. */
  public readonly task: sfn.TaskStateBase;
  private readonly fn: lambda.Function;
  private attachment?: StageAttachOptions;
  private readonly standaloneOptions?: StandaloneStageOptions;
  private readonly shared?: StandaloneResources;
  private readonly waitsForCallback: boolean;

  /**
   * True when the stage's task waits for a callback with a task token (an asynchronous job).
   * @internal
   */
  public get _waitsForCallback(): boolean {
    return this.waitsForCallback;
  }
  private attachedStandalone = false;
  /** Tasks of the kind that run before `task` (see `startWith`). */
  private readonly leadingStates: sfn.TaskStateBase[] = [];
  /** The quota the stage's calls count against, if any. */
  public readonly quota?: IServiceQuota;
  /** @internal what capacity tools read from the pipeline's metadata (model, tokens per call, ...) */
  protected _capacityFacts: { [key: string]: unknown } = {};

  protected constructor(scope: Construct, id: string, props: InferenceStageBaseProps) {
    super(scope, id);
    if (!STAGE_ID.test(id)) {
      invalid(this, `the stage id must be a letter followed by letters, digits or '_' (at most 64), got: '${id}'. It becomes the state name and the key under $.results; rename the stage, e.g. 'Extract'.`);
    }
    const retry = validateRetry(this, props.retry);
    if (!props.timeout.isUnresolved() && (props.timeout.toSeconds() < 1 || props.timeout.toSeconds() > 24 * 3600)) {
      invalid(this, `\`timeout\` must be between 1 second and 24 hours, got: ${props.timeout.toHumanString()}. Set a timeout in that range.`);
    }
    const handlerTimeout = props.handlerTimeout ?? props.timeout;
    if (!handlerTimeout.isUnresolved() && handlerTimeout.toSeconds() > 900) {
      invalid(this, `\`timeout\` must be at most 15 minutes for a ${props.kind} stage (its handler runs the whole call), got: ${handlerTimeout.toHumanString()}. Lower the timeout.`);
    }
    if (outOfRange(props.memorySize, 128, 10240, true)) {
      invalid(this, `\`memorySize\` must be a whole number of MiB from 128 to 10240, got: ${props.memorySize}. Set a value in that range.`);
    }
    const name = props.standalone?.pipelineName;
    if (name !== undefined && !Token.isUnresolved(name) && !/^[A-Za-z0-9_-]{1,64}$/.test(name)) {
      invalid(this, `\`standalone.pipelineName\` must be 1-64 letters, digits, '-' or '_', got: '${name}'.`);
    }

    this.stageId = id;
    this.kind = props.kind;
    this.inputContract = props.inputContract;
    this.outputContract = props.outputContract;
    this.timeout = props.timeout;
    this.readsText = props.readsText ?? false;
    this.waitsForCallback = props.waitForCallback ?? false;
    this.standaloneOptions = props.standalone;

    const { fn, role } = handlerFunction(this, 'Resource', {
      description: `cdk-ai-pipeline ${props.kind} stage ${id}: ${props.description}`,
      roleDescription: `cdk-ai-pipeline ${props.kind} stage ${id}: least-privilege role of the stage handler`,
      roleId: 'Role',
      logsId: 'Logs',
      code: props.code,
      timeout: handlerTimeout,
      memorySize: props.memorySize,
      environment: { [Env.STAGE_NAME]: id },
    });
    this.handler = fn;
    this.fn = fn;
    this.role = role;
    this.grantPrincipal = role;
    // What tools that run a stage from its template (the local runner, in a state machine of your own) need.
    (fn.node.defaultChild as CfnResource).addMetadata(STAGE_METADATA, { version: 1, id, kind: props.kind });

    const payload: { [key: string]: any } = {
      state: sfn.JsonPath.entirePayload,
      runId: sfn.JsonPath.stringAt('$$.Execution.Name'),
      executionArn: sfn.JsonPath.stringAt('$$.Execution.Id'),
    };
    if (props.waitForCallback) payload.taskToken = sfn.JsonPath.taskToken;
    if (props.quota) payload.enteredAt = sfn.JsonPath.stringAt('$$.State.EnteredTime');
    const task = new tasks.LambdaInvoke(this, 'Task', {
      stateName: id,
      lambdaFunction: this.handler,
      payload: sfn.TaskInput.fromObject(payload),
      ...(props.waitForCallback
        ? { integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN }
        : { payloadResponseOnly: true }),
      resultPath: `$.results.${id}`,
      taskTimeout: sfn.Timeout.duration(props.timeout),
      retryOnServiceExceptions: false,
      comment: `${props.kind} stage ${id}`,
    });
    this.quota = props.quota;
    if (props.quota) {
      this.bindQuota(props.quota, task, retry, props.transientErrors);
    } else {
      task.addRetry(taskRetry(retry, props.transientErrors));
    }
    this.task = task;
    this.startState = task;
    this.endStates = [task];

    // Outside a Pipeline, the stage uses the stack's shared working bucket and audit sink (made now,
    // removed again at synth when every stage that could need them was attached by a Pipeline).
    if (!props.standalone?.workingBucket || !props.standalone?.auditSink) {
      this.shared = StandaloneResources.of(this, () => !this.attachment || this.attachedStandalone);
      if (!props.standalone?.auditSink) this.shared.auditSink();
      if (!props.standalone?.workingBucket) this.shared.workingBucket((props.standalone?.auditSink ?? this.shared.auditSink()).accessLogsBucket);
    }
    Aspects.of(this).add(new AttachStandalone(this), { priority: AspectPriority.MUTATING });
    if (this.waitsForCallback) {
      // A task token needs a Standard workflow: a state machine of your own (or a Pipeline) of type EXPRESS cannot run this stage.
      this.node.addValidation({
        validate: () => stateMachinesRunning(this)
          .filter((sm) => (sm.node.defaultChild as sfn.CfnStateMachine).stateMachineType === sfn.StateMachineType.EXPRESS)
          .map((sm) => `[${this.constructor.name} ${this.node.path}] stage '${id}' waits for its asynchronous job's completion with a task token, `
            + `but the state machine ${sm.node.path} is EXPRESS, which does not support task tokens. Fix: make that state machine STANDARD (stateMachineType), or run '${id}' in a Standard one.`),
      });
    }
    if (props.standalone) {
      const { functionConcurrency, permissionsBoundary, roleNamePrefix, network } = props.standalone;
      const settings = { functionConcurrency, permissionsBoundary, roleNamePrefix };
      for (const problem of checkSettings(settings)) invalid(this, problem.replace(/^`/, '`standalone.'));
      applySettings([this], settings);
      if (network) applyNetwork(this, [this], network);
    }

    acknowledgeWildcards(this, [
      XRAY_REASON,
      {
        matches: (f) => f.endsWith(`/${Keys.stagePrefix(id)}*`),
        reason: `The ${id} stage reads and writes only its own objects under '${Keys.stagePrefix(id)}'; their keys carry the run id, known only at run time.`,
      },
      {
        matches: (f) => this.attachment !== undefined && (this.attachment.upstreamStages ?? []).some((up) => f.endsWith(`/${Keys.stagePrefix(up)}*`)),
        reason: `The ${id} stage reads the working data (text, replies) of the stages before it, under their 'stages/<id>/' prefixes.`,
      },
      {
        matches: (f) => this.attachedStandalone && this.standaloneOptions?.upstreamStages === undefined && f.endsWith('/stages/*'),
        reason: `The ${id} stage runs outside a Pipeline, so the stages before it are known only from your state machine: it reads the working data of the stages under 'stages/' of its working bucket (set standalone.upstreamStages to narrow it).`,
      },
      {
        matches: (f) => this.attachment !== undefined && f.startsWith('Resource::') && f.endsWith(`/${this.attachment.documentPrefix ?? ''}*`) && !f.includes('/stages/'),
        reason: 'Read of the uploaded document: its key is only known at run time, so read is scoped to the trigger\'s key prefix.',
      },
    ]);
  }

  /**
   * Connects the stage to the run's data and audit: grants read of the documents, its own prefix in
   * the working bucket, its audit records, and sets the handler's environment. A Pipeline calls this;
   * a stage in a state machine of your own attaches itself at synth (see `standalone`), so call it
   * only to wire a stage to resources of your own choosing.
   */
  public attach(options: StageAttachOptions): void {
    if (this.attachment) {
      invalid(this, `the stage is already attached (to pipeline '${this.attachment.pipelineName}'); a stage belongs to one pipeline. Create another stage for '${options.pipelineName}'.`);
    }
    if (this.standaloneOptions) {
      invalid(this, `the stage was given \`standalone\` options, which apply only outside a Pipeline; it cannot also be attached to '${options.pipelineName}'. Remove \`standalone\`, or keep the stage out of the Pipeline.`);
    }
    this.bindTo(options, options.upstreamStages ?? []);
  }

  /** The stage's id (its name as a step of a Pipeline). */
  public get stepName(): string {
    return this.stageId;
  }

  public get isAttached(): boolean {
    return this.attachment !== undefined;
  }

  public addCatch(handler: sfn.IChainable, props?: sfn.CatchProps): IInferenceStage {
    for (const state of this.leadingStates) state.addCatch(handler, props);
    this.task.addCatch(handler, props);
    return this;
  }

  /**
   * Puts a task of the kind before the stage's own task (an HTTP stage's call): the fragment starts with
   * it, it goes on to the stage's task, and `addCatch` covers it too. For implementers of stage kinds.
   * @param state the task that runs first
   */
  protected startWith(state: sfn.TaskStateBase): void {
    state.next(this.startState);
    (this as unknown as { startState: sfn.State }).startState = state;
    this.leadingStates.unshift(state);
  }

  /**
   * Grants the callback actions of this stage's task on a state machine. Only stages that answer
   * through a task token (Textract) need it; the Pipeline calls it, and a stand-alone stage calls it
   * at synth for the state machines of its stack that run it.
   * @param stateMachine the state machine that runs this stage
   */
  public grantTaskResponse(stateMachine: sfn.IStateMachine): iam.Grant {
    return iam.Grant.drop(this.role, `respond to tasks of ${stateMachine.stateMachineArn} (stage ${this.stageId} does not wait for a callback)`);
  }

  /**
   * Sets an environment variable of the stage's handler function.
   * @param key the variable's name
   * @param value its value
   */
  protected addHandlerEnvironment(key: string, value: string): void {
    this.fn.addEnvironment(key, value);
  }

  /**
   * Marks the stage as run once per chunk of `step`: its audit records are kept one per chunk.
   * @internal
   */
  public _runPerChunk(step: string): void {
    this.addHandlerEnvironment(Env.CHUNK_STEP, step);
  }

  /** @internal what the pipeline's metadata says about this stage for capacity tools */
  public _capacityMetadata(): { [key: string]: unknown } {
    const q = this.quota;
    return {
      ...this._capacityFacts,
      ...(q ? {
        quota: {
          id: q.quotaId,
          service: q.service,
          resource: q.resourceName,
          limits: q.limits,
          maxWaitSeconds: q.maxWait.toSeconds(),
          maxPollDelaySeconds: q.maxPollDelay.toSeconds(),
        },
      } : {}),
    };
  }

  /**
   * A stage with a quota: takes capacity before each call (table and quota in the environment, exact
   * table ARN granted), retries `Capacity.Wait` and the service's throttling up to the quota's
   * `maxWait` with full jitter, and its other transient errors as `retry` says.
   */
  private bindQuota(quota: IServiceQuota, task: sfn.TaskStateBase, retry: ReturnType<typeof validateRetry>, transientErrors: string[]): void {
    if (this.kind === StageKind.LAMBDA || quota.service !== this.kind) {
      invalid(this, `\`quota\` is a ${quota.service} quota (${quota.node.path}), which a ${this.kind} stage does not call. Give the stage a quota of its own service, or none.`);
    }
    const config: QuotaConfig = {
      id: quota.quotaId,
      dimensions: quota.limits.map((l) => ({ name: l.dimension, ratePerSecond: l.grantPerSecond, burst: l.burst })),
    };
    this.addHandlerEnvironment(CAPACITY_ENV.TABLE, quota.table.tableName);
    this.addHandlerEnvironment(CAPACITY_ENV.QUOTA, JSON.stringify(config));
    quota.grantAcquire(this.role);
    const throttling = transientErrors.filter((e) => THROTTLING_ERROR_NAMES.includes(e));
    const waiting = {
      interval: Duration.seconds(1),
      backoffRate: 2,
      maxDelay: quota.maxPollDelay,
      maxAttempts: waitAttempts(quota),
      jitterStrategy: sfn.JitterType.FULL,
    };
    task.addRetry({ errors: [CAPACITY_WAIT], ...waiting });
    if (throttling.length > 0) task.addRetry({ errors: throttling, ...waiting });
    task.addRetry(taskRetry(retry, transientErrors.filter((e) => !throttling.includes(e))));
  }

  /** Kind-specific wiring once the stage is attached. */
  protected onAttach(options: StageAttachOptions): void {
    void options;
  }

  /** Attaches a stage no Pipeline attached: at synth, before the policy checks. */
  private attachStandalone(): void {
    if (this.attachment) return;
    const o = this.standaloneOptions ?? {};
    const auditSink = o.auditSink ?? this.shared!.auditSink();
    const workingBucket = o.workingBucket ?? this.shared!.workingBucket(auditSink.accessLogsBucket);
    this.attachedStandalone = true;
    this.bindTo({
      pipelineName: o.pipelineName ?? 'standalone',
      documentBucket: o.documentBucket ?? workingBucket,
      documentPrefix: o.documentPrefix ?? (o.documentBucket ? '' : 'documents/'),
      workingBucket,
      auditSink,
      upstreamStages: o.upstreamStages,
    }, o.upstreamStages);
    (this.fn.node.defaultChild as CfnResource).addMetadata(STANDALONE_METADATA, {
      pipeline: o.pipelineName ?? 'standalone',
      documentBucket: (o.documentBucket ?? workingBucket).bucketName,
      documentPrefix: o.documentPrefix ?? (o.documentBucket ? '' : 'documents/'),
    });
    const machines = stateMachinesRunning(this);
    for (const machine of machines) acknowledgeInvokeOf(machine, this.handler);
    if (this.waitsForCallback) {
      for (const machine of machines) this.grantTaskResponse(machine);
      if (machines.length === 0) {
        Annotations.of(this).addWarningV2('cdk-ai-pipeline:stageNotInStateMachine',
          `The ${this.kind} stage ${this.stageId} answers through a task token, but no state machine of its stack runs it: grant the callback with grantTaskResponse(stateMachine).`);
      }
    }
  }

  /** Grants and environment for one attachment; `upstream` undefined reads every stage's working data. */
  private bindTo(options: StageAttachOptions, upstream: string[] | undefined): void {
    this.attachment = options;
    grantReadPrefix(this.role, options.documentBucket, options.documentPrefix ?? '', true);
    grantWritePrefix(this.role, options.workingBucket, Keys.stagePrefix(this.stageId));
    if (upstream === undefined) {
      grantReadPrefix(this.role, options.workingBucket, 'stages/');
    } else {
      for (const up of upstream) grantReadPrefix(this.role, options.workingBucket, Keys.stagePrefix(up));
    }
    options.auditSink.grantWriteStageRecords(this.role, this.stageId);
    this.addHandlerEnvironment(Env.PIPELINE_NAME, options.pipelineName);
    this.addHandlerEnvironment(Env.WORK_BUCKET, options.workingBucket.bucketName);
    this.addHandlerEnvironment(Env.AUDIT_BUCKET, options.auditSink.bucket.bucketName);
    this.addHandlerEnvironment(Env.AUDIT_BUS, options.auditSink.eventBus.eventBusName);
    if (options.auditSink.redactFields?.length) this.addHandlerEnvironment(Env.AUDIT_REDACT_FIELDS, JSON.stringify(options.auditSink.redactFields));
    this.onAttach(options);
  }

  /** @internal the synth-time hook of `AttachStandalone` */
  public _attachStandalone(): void {
    this.attachStandalone();
  }
}

/** Attaches a stage no Pipeline attached, at synth (aspects run before the IAM policy checks). */
class AttachStandalone implements IAspect {
  constructor(private readonly stage: InferenceStageBase) {}
  public visit(node: IConstruct): void {
    if (node === this.stage) this.stage._attachStandalone();
  }
}

/** The state machines of the stage's stack whose definition runs the stage's handler. */
function stateMachinesRunning(stage: InferenceStageBase): sfn.StateMachine[] {
  const stack = Stack.of(stage);
  const handlerId = stack.getLogicalId(stage.handler.node.defaultChild as lambda.CfnFunction);
  return stack.node.findAll()
    .filter((c): c is sfn.StateMachine => c instanceof sfn.StateMachine)
    .filter((sm) => JSON.stringify(stack.resolve((sm.node.defaultChild as sfn.CfnStateMachine).definitionString)).includes(`"${handlerId}"`));
}

/**
 * Acknowledges, on a state machine of your own, the one wildcard the stage's task adds to its policy:
 * invoking the versions of the stage's own handler (`<handler arn>:*`). Its other findings stay yours.
 */
function acknowledgeInvokeOf(machine: sfn.StateMachine, handler: lambda.IFunction): void {
  const policy = machine.role.node.tryFindChild('DefaultPolicy')?.node.defaultChild;
  if (!(policy instanceof iam.CfnPolicy)) return;
  const stack = Stack.of(machine);
  const finding = `Resource::<${stack.getLogicalId(handler.node.defaultChild as lambda.CfnFunction)}.Arn>:*`;
  const statements = wildcardFindings(stack.resolve(policy.policyDocument)).filter((w) => w.finding === finding);
  if (statements.length > 0 && statements.every((w) => w.actions.every((a) => a === 'lambda:InvokeFunction'))) {
    Validations.of(policy).acknowledge({
      id: `AwsSolutions-IAM5[${finding}]`,
      reason: 'Step Functions may invoke the versions of the stage\'s own handler function (CDK grants function:*).',
    });
  }
}

/**
 * Tries that cover a quota's `maxWait`: the doubling waits up to `maxPollDelay`, then waits averaging
 * half of it (full jitter). Unresolved durations get the defaults' count.
 */
function waitAttempts(quota: IServiceQuota): number {
  if (quota.maxWait.isUnresolved() || quota.maxPollDelay.isUnresolved()) return 120;
  const cap = quota.maxPollDelay.toSeconds();
  const ramp = Math.ceil(Math.log2(cap));
  return ramp + Math.ceil((2 * quota.maxWait.toSeconds()) / cap);
}

function validateRetry(stage: Construct, retry: StageRetryOptions | undefined) {
  const maxAttempts = retry?.maxAttempts ?? 4;
  const interval = retry?.interval ?? Duration.seconds(2);
  const backoffRate = retry?.backoffRate ?? 2;
  const maxDelay = retry?.maxDelay ?? Duration.seconds(60);
  if (outOfRange(maxAttempts, 0, 10, true)) {
    invalid(stage, `\`retry.maxAttempts\` must be a whole number from 0 to 10, got: ${maxAttempts}. Retries are bounded so a throttled service cannot hold a run forever.`);
  }
  if (outOfRange(backoffRate, 2, 10)) {
    invalid(stage, `\`retry.backoffRate\` must be between 2 and 10, got: ${backoffRate}. Retries back off at least exponentially to relieve a throttled service.`);
  }
  if (!maxDelay.isUnresolved() && !interval.isUnresolved() && maxDelay.toSeconds() < interval.toSeconds()) {
    invalid(stage, `\`retry.maxDelay\` (${maxDelay.toHumanString()}) must be at least \`retry.interval\` (${interval.toHumanString()}). Raise maxDelay or lower interval.`);
  }
  return { maxAttempts, interval, backoffRate, maxDelay };
}
