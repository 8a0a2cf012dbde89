import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import type { AuditSink } from '../audit/audit-sink';
import type { BedrockStage, BedrockStageProps } from './bedrock/bedrock-stage';
import type { LambdaStage, LambdaStageProps } from './lambda/lambda-stage';
import type { SageMakerEndpointStage, SageMakerEndpointStageProps } from './sagemaker/sagemaker-stage';
import type { TextractStage, TextractStageProps } from './textract/textract-stage';
import { StageContract } from '../contracts/stage-contract';
import { acknowledgeWildcards, XRAY_REASON } from '../private/acknowledge';
import { grantReadPrefix, grantWritePrefix } from '../private/grants';
import { invalid, STAGE_ID } from '../private/validation';
import { Env, Keys, LAMBDA_TRANSIENT_ERRORS } from '../shared';

/** The kinds of stage this library builds. */
export enum StageKind {
  /** Amazon Textract text detection. */
  TEXTRACT = 'textract',
  /** An Amazon Bedrock model through the Converse API. */
  BEDROCK = 'bedrock',
  /** An Amazon SageMaker real-time endpoint. */
  SAGEMAKER = 'sagemaker',
  /** A Lambda function of your own. */
  LAMBDA = 'lambda',
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
   * @default - depends on the kind: 30 minutes for Textract (asynchronous jobs included), 5 minutes otherwise
   */
  readonly timeout?: Duration;
  /**
   * Retry of the service's throttling and transient errors (always with full jitter).
   * @default - 4 retries, 2 s first wait, backoff 2, at most 60 s between attempts
   */
  readonly retry?: StageRetryOptions;
  /**
   * Memory of the stage's handler function, in MiB.
   * @default - depends on the kind: 1024 for Textract (it inspects PDFs), 512 otherwise
   */
  readonly memorySize?: number;
  /**
   * The stage's input contract, written against `{ document, results }`.
   * @default - what the kind itself reads (the document pointer; for Bedrock, the prompt's placeholders)
   */
  readonly input?: StageContract;
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
  readonly auditSink: AuditSink;
  /**
   * Ids of the stages before this one, whose working data the stage may read.
   * @default - none
   */
  readonly upstreamStages?: string[];
}

/**
 * One AI step: a single Step Functions task backed by its own handler function and its own
 * least-privilege role, with a timeout, retries on the service's transient errors, and a JSON-schema
 * contract for its input and output.
 *
 * A stage is a `StateMachineFragment`: use it inside a `Pipeline`, or chain it into any state
 * machine of your own after calling `attach()`. Its result lands at `$.results.<id>`.
 */
export abstract class InferenceStage extends sfn.StateMachineFragment implements iam.IGrantable {
  /**
   * Text detection with Amazon Textract: the synchronous API for single-page documents, an
   * asynchronous job (resumed by a task token) for multi-page ones, chosen from the page count the
   * preflight finds. Output: `{ text: <S3 pointer>, pages }`.
   */
  public static textract(scope: Construct, id: string, props: TextractStageProps = {}): TextractStage {
    return new (load().TextractStage)(scope, id, props);
  }

  /** A model on Amazon Bedrock (Converse API), prompted from a versioned template, replying in JSON. */
  public static bedrock(scope: Construct, id: string, props: BedrockStageProps): BedrockStage {
    return new (load().BedrockStage)(scope, id, props);
  }

  /** An Amazon SageMaker real-time endpoint, called with JSON and answering JSON. */
  public static sagemakerEndpoint(scope: Construct, id: string, props: SageMakerEndpointStageProps): SageMakerEndpointStage {
    return new (load().SageMakerEndpointStage)(scope, id, props);
  }

  /** A Lambda function of your own, called with `{ document, results, runId }`. */
  public static lambda(scope: Construct, id: string, props: LambdaStageProps): LambdaStage {
    return new (load().LambdaStage)(scope, id, props);
  }

  public readonly startState: sfn.State;
  public readonly endStates: sfn.INextable[];
  /** The stage id: its state name and its key under `$.results`. */
  public readonly stageId: string;
  /** The kind of stage. */
  public readonly kind: StageKind;
  /** The stage's handler function. */
  public readonly handler: lambda.Function;
  /** The handler's role: it grants exactly what this stage calls. */
  public readonly role: iam.Role;
  public readonly grantPrincipal: iam.IPrincipal;
  /** The input contract (written against `{ document, results }`). */
  public readonly inputContract: StageContract;
  /** The output contract (what lands at `$.results.<id>`). */
  public readonly outputContract: StageContract;
  /** The stage's timeout. */
  public readonly timeout: Duration;
  /** True when the stage reads the `text` alias (the latest earlier `text` pointer). */
  public readonly readsText: boolean;
  /** The stage's single task state. */
  public readonly task: sfn.TaskStateBase;
  private attachment?: StageAttachOptions;

  protected constructor(scope: Construct, id: string, props: InferenceStageBaseProps) {
    super(scope, id);
    if (!STAGE_ID.test(id)) {
      invalid(`${this.constructor.name} ${this.node.path}`, `the stage id must be a letter followed by letters, digits or '_' (at most 64), got: '${id}'. It becomes the state name and the key under $.results; rename the stage, e.g. 'Extract'.`);
    }
    const retry = validateRetry(this, props.retry);
    if (props.timeout.toSeconds() < 1 || props.timeout.toSeconds() > 24 * 3600) {
      invalid(this, `\`timeout\` must be between 1 second and 24 hours, got: ${props.timeout.toHumanString()}. Set a timeout in that range.`);
    }
    const handlerTimeout = props.handlerTimeout ?? props.timeout;
    if (handlerTimeout.toSeconds() > 900) {
      invalid(this, `\`timeout\` must be at most 15 minutes for a ${props.kind} stage (its handler runs the whole call), got: ${handlerTimeout.toHumanString()}. Lower the timeout.`);
    }
    if (props.memorySize < 128 || props.memorySize > 10240) {
      invalid(this, `\`memorySize\` must be between 128 and 10240 MiB, got: ${props.memorySize}. Set a value in that range.`);
    }

    this.stageId = id;
    this.kind = props.kind;
    this.inputContract = props.inputContract;
    this.outputContract = props.outputContract;
    this.timeout = props.timeout;
    this.readsText = props.readsText ?? false;

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `cdk-ai-pipeline ${props.kind} stage ${id}: least-privilege role of the stage handler`,
    });
    this.grantPrincipal = this.role;
    const logGroup = new logs.LogGroup(this, 'Logs', { retention: logs.RetentionDays.ONE_YEAR });
    this.handler = new lambda.Function(this, 'Handler', {
      description: `cdk-ai-pipeline ${props.kind} stage ${id}: ${props.description}`,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      handler: 'index.handler',
      code: props.code,
      role: this.role,
      timeout: handlerTimeout,
      memorySize: props.memorySize,
      tracing: lambda.Tracing.ACTIVE,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      environment: {
        [Env.STAGE_NAME]: id,
        POWERTOOLS_SERVICE_NAME: `cdk-ai-pipeline-${props.kind}`,
      },
    });

    const payload: { [key: string]: any } = {
      state: sfn.JsonPath.entirePayload,
      runId: sfn.JsonPath.stringAt('$$.Execution.Name'),
      executionArn: sfn.JsonPath.stringAt('$$.Execution.Id'),
    };
    if (props.waitForCallback) payload.taskToken = sfn.JsonPath.taskToken;
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
    task.addRetry({
      errors: [...new Set([...LAMBDA_TRANSIENT_ERRORS, ...props.transientErrors])],
      interval: retry.interval,
      maxAttempts: retry.maxAttempts,
      backoffRate: retry.backoffRate,
      maxDelay: retry.maxDelay,
      jitterStrategy: sfn.JitterType.FULL,
    });
    this.task = task;
    this.startState = task;
    this.endStates = [task];

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
        matches: (f) => this.attachment !== undefined && f.startsWith('Resource::') && f.endsWith(`/${this.attachment.documentPrefix ?? ''}*`) && !f.includes('/stages/'),
        reason: 'Read of the uploaded document: its key is only known at run time, so read is scoped to the trigger\'s key prefix.',
      },
    ]);
    this.node.addValidation({
      validate: () => this.attachment ? [] : [`[${this.constructor.name} ${this.node.path}] the stage is not attached to a pipeline: pass it in a Pipeline's \`stages\`, or call attach({ ... }) to use it in a state machine of your own.`],
    });
  }

  /**
   * Connects the stage to the run's data and audit: grants read of the documents, its own prefix in
   * the working bucket, its audit records, and sets the handler's environment. A Pipeline calls this;
   * call it yourself to use the stage in a state machine of your own.
   */
  public attach(options: StageAttachOptions): void {
    if (this.attachment) {
      invalid(this, `the stage is already attached (to pipeline '${this.attachment.pipelineName}'); a stage belongs to one pipeline. Create another stage for '${options.pipelineName}'.`);
    }
    this.attachment = options;
    grantReadPrefix(this.role, options.documentBucket, options.documentPrefix ?? '', true);
    grantWritePrefix(this.role, options.workingBucket, Keys.stagePrefix(this.stageId));
    for (const up of options.upstreamStages ?? []) {
      grantReadPrefix(this.role, options.workingBucket, Keys.stagePrefix(up));
    }
    options.auditSink.grantWriteStageRecords(this.role, this.stageId);
    this.handler.addEnvironment(Env.PIPELINE_NAME, options.pipelineName);
    this.handler.addEnvironment(Env.WORK_BUCKET, options.workingBucket.bucketName);
    this.handler.addEnvironment(Env.AUDIT_BUCKET, options.auditSink.bucket.bucketName);
    this.handler.addEnvironment(Env.AUDIT_BUS, options.auditSink.eventBus.eventBusName);
    this.onAttach(options);
  }

  /** True once `attach()` was called. */
  public get isAttached(): boolean {
    return this.attachment !== undefined;
  }

  /**
   * Sends the stage's errors (after retries) to a handler state.
   * @param handler the state to go to
   * @param props which errors, and where the error lands in the state
   */
  public addCatch(handler: sfn.IChainable, props?: sfn.CatchProps): InferenceStage {
    this.task.addCatch(handler, props);
    return this;
  }

  /**
   * Grants the callback actions of this stage's task on a state machine. Only stages that answer
   * through a task token (Textract) need it; the Pipeline calls it.
   * @param stateMachine the state machine that runs this stage
   */
  public grantTaskResponse(stateMachine: sfn.IStateMachine): void {
    void stateMachine;
  }

  /** Kind-specific wiring once the stage is attached. */
  protected onAttach(options: StageAttachOptions): void {
    void options;
  }
}

function validateRetry(stage: Construct, retry: StageRetryOptions | undefined) {
  const maxAttempts = retry?.maxAttempts ?? 4;
  const interval = retry?.interval ?? Duration.seconds(2);
  const backoffRate = retry?.backoffRate ?? 2;
  const maxDelay = retry?.maxDelay ?? Duration.seconds(60);
  if (!Number.isInteger(maxAttempts) || maxAttempts < 0 || maxAttempts > 10) {
    invalid(stage, `\`retry.maxAttempts\` must be a whole number from 0 to 10, got: ${maxAttempts}. Retries are bounded so a throttled service cannot hold a run forever.`);
  }
  if (backoffRate < 2 || backoffRate > 10) {
    invalid(stage, `\`retry.backoffRate\` must be between 2 and 10, got: ${backoffRate}. Retries back off at least exponentially to relieve a throttled service.`);
  }
  if (maxDelay.toSeconds() < interval.toSeconds()) {
    invalid(stage, `\`retry.maxDelay\` (${maxDelay.toHumanString()}) must be at least \`retry.interval\` (${interval.toHumanString()}). Raise maxDelay or lower interval.`);
  }
  return { maxAttempts, interval, backoffRate, maxDelay };
}

/** The stage kinds, loaded on first use: they extend InferenceStage, so they cannot be imported above. */
function load() {
  /* eslint-disable @typescript-eslint/no-require-imports */
  return {
    TextractStage: (require('./textract/textract-stage') as typeof import('./textract/textract-stage')).TextractStage,
    BedrockStage: (require('./bedrock/bedrock-stage') as typeof import('./bedrock/bedrock-stage')).BedrockStage,
    SageMakerEndpointStage: (require('./sagemaker/sagemaker-stage') as typeof import('./sagemaker/sagemaker-stage')).SageMakerEndpointStage,
    LambdaStage: (require('./lambda/lambda-stage') as typeof import('./lambda/lambda-stage')).LambdaStage,
  };
  /* eslint-enable @typescript-eslint/no-require-imports */
}
