import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { acknowledgeWildcards, XRAY_REASON } from '../private/acknowledge';
import { Bundles, bundleCode } from '../private/handler-asset';
import { handlerFunction, RECORDER_RETRY, taskRetry } from '../private/handler-function';
import { OutputAttachContext } from '../private/output-context';
import { invalid, STAGE_ID, whereOf } from '../private/validation';
import { OutputConfig, OutputEnv } from '../shared/outputs-config';

/** The kinds of output step. */
export enum ResultOutputKind {
  /** The result document, written to S3. */
  S3 = 's3',
  /** The result, indexed in OpenSearch. */
  OPENSEARCH = 'opensearch',
  /** The result (or one approved field of it), sent to an SQS queue. */
  SQS = 'sqs',
}

/** Errors of an output step worth retrying (their service's throttling and transient errors). */
const OUTPUT_TRANSIENT = ['OpenSearch.Throttled', 'OpenSearch.Unavailable', 'ThrottlingException', 'ServiceUnavailableException', 'InternalError', 'SlowDown',
  'RequestThrottled', 'KmsThrottled', 'AWS.SimpleQueueService.RequestThrottled'];

/**
 * An output step: runs after routing and before the run record, writing the run's result somewhere.
 * Its state is named after its id; what it returns lands at `$.outputs.<id>`.
 */
export abstract class ResultOutputBase extends Construct {
  /** The output's id: its state name and its key under `$.outputs`. */
  public readonly outputId: string;
  /** The function the step runs. */
  public readonly handler: lambda.Function;
  /** The role of the function. */
  public readonly role: iam.Role;
  /** What kind of output this is. */
  public abstract readonly kind: ResultOutputKind;
  private task?: tasks.LambdaInvoke;

  protected constructor(scope: Construct, id: string, description: string) {
    if (!STAGE_ID.test(id)) {
      invalid(whereOf('ResultOutput', scope, id), `the id must be a letter then letters, digits or '_' (at most 64), got: '${id}'. It names the output's state and its key under $.outputs: use e.g. 'Results'.`);
    }
    super(scope, id);
    this.outputId = id;
    const fn = handlerFunction(this, 'Handler', {
      description,
      code: bundleCode(Bundles.OUTPUT),
      timeout: Duration.seconds(60),
      memorySize: 512,
    });
    this.handler = fn.fn;
    this.role = fn.role;
    acknowledgeWildcards(this, [XRAY_REASON]);
    this.node.addValidation({
      validate: () => this.task ? [] : [`[${this.constructor.name} ${this.node.path}] the output writes nothing: pass it in a Pipeline's \`outputs\`.`],
    });
  }

  /**
   * Places the output in a pipeline: its configuration, its grants, and its task state.
   * @internal
   */
  public _attach(context: OutputAttachContext): tasks.LambdaInvoke {
    if (this.task) invalid(this, 'the output is already part of another pipeline. Create one output per Pipeline.');
    const config = this._configure(context);
    this.handler.addEnvironment(OutputEnv.CONFIG, JSON.stringify(config));
    this.handler.addEnvironment(OutputEnv.AUDIT_BUCKET, context.auditBucket.bucketName);
    this.task = new tasks.LambdaInvoke(this, 'Task', {
      stateName: this.outputId,
      lambdaFunction: this.handler,
      payload: sfn.TaskInput.fromObject({
        state: sfn.JsonPath.entirePayload,
        runId: sfn.JsonPath.stringAt('$$.Execution.Name'),
        startedAt: sfn.JsonPath.stringAt('$$.Execution.StartTime'),
      }),
      payloadResponseOnly: true,
      resultPath: `$.outputs.${this.outputId}`,
      retryOnServiceExceptions: false,
      taskTimeout: sfn.Timeout.duration(Duration.seconds(90)),
      comment: `output ${this.outputId} (${this.kind})`,
    });
    this.task.addRetry(taskRetry(RECORDER_RETRY, OUTPUT_TRANSIENT));
    return this.task;
  }

  /**
   * Builds the handler's configuration and grants what it needs, for one pipeline.
   * @internal
   */
  public abstract _configure(context: OutputAttachContext): OutputConfig;
}
