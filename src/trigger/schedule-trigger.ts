import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { IDocumentTrigger, TriggerBindOptions } from './document-trigger';
import { acknowledgeWildcards, XRAY_REASON } from '../private/acknowledge';
import { accessLogsBucket, secureBucket } from '../private/buckets';
import { grantListPrefix, grantReadPrefix } from '../private/grants';
import { Bundles, bundleCode } from '../private/handler-asset';
import { handlerFunction, taskRetry } from '../private/handler-function';
import { logsKey } from '../private/logs-key';
import { bindRunClaims } from '../private/run-claims';
import { invalid, outOfRange } from '../private/validation';
import { Env } from '../shared';
import { BatchEnv } from '../shared/trigger-env';

/** Props of a schedule trigger. */
export interface ScheduleTriggerProps {
  /**
   * The bucket whose documents are run.
   * @default - a new bucket: KMS-encrypted, versioned, public access blocked, SSL only, access-logged
   */
  readonly bucket?: s3.IBucket;
  /**
   * Only keys with this prefix are run (and only they are listed).
   * @default - the whole bucket
   */
  readonly prefix?: string;
  /**
   * Only keys ending in one of these are run (e.g. ['.pdf']).
   * @default - any key
   */
  readonly suffixes?: string[];
  /**
   * When a batch runs.
   * @default scheduler.ScheduleExpression.rate(Duration.days(1))
   */
  readonly schedule?: scheduler.ScheduleExpression;
  /**
   * How many batches start runs at once (the Distributed Map's concurrency): with `batchSize`, it
   * bounds the rate at which runs start.
   * @default 10
   */
  readonly maxConcurrency?: number;
  /**
   * Objects per batch handed to one starter invocation.
   * @default 100
   */
  readonly batchSize?: number;
  /**
   * Longest a batch (one listing of the prefix) may take.
   * @default Duration.hours(24)
   */
  readonly batchTimeout?: Duration;
  /**
   * Whether the schedule is on. A backfill can also start the batch state machine by hand.
   * @default true
   */
  readonly enabled?: boolean;
  /**
   * What happens to a new bucket, its key and the logs when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Runs, on a schedule, every document under a prefix that has not been run yet: an EventBridge
 * Scheduler schedule starts a batch state machine whose Distributed Map lists the prefix (S3
 * ListObjectsV2, no listing in a Lambda) and hands batches of keys to a starter that starts each
 * document under its deterministic name, so a document already run (by this trigger or by its
 * upload) is skipped, and each is still started exactly once. Started by hand, the same batch state
 * machine backfills a bucket of millions of objects.
 */
export class ScheduleTrigger extends Construct implements IDocumentTrigger {
  public readonly documentBucket: s3.IBucket;
  public readonly documentPrefix: string;
  public readonly documentSuffixes: string[];
  /** The batch state machine: list the prefix, start the runs not yet started. */
  public readonly batchStateMachine: sfn.StateMachine;
  /** The function that starts the runs of one batch. */
  public readonly starter: lambda.Function;
  /** The schedule (the trigger's main child, id `Resource`). */
  public readonly schedule: scheduler.Schedule;
  /** The key of the new bucket, when the trigger made one. */
  public readonly encryptionKey?: kms.IKey;
  private readonly starterRole: iam.Role;
  private bound?: sfn.IStateMachine;
  private claims?: dynamodb.Table;

  constructor(scope: Construct, id: string, props: ScheduleTriggerProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const maxConcurrency = props.maxConcurrency ?? 10;
    const batchSize = props.batchSize ?? 100;
    const batchTimeout = props.batchTimeout ?? Duration.hours(24);
    if (outOfRange(maxConcurrency, 1, 1000, true)) {
      invalid(this, `\`maxConcurrency\` must be a whole number from 1 to 1000 (each runs one starter at a time), got: ${maxConcurrency}.`);
    }
    if (outOfRange(batchSize, 1, 1000, true)) {
      invalid(this, `\`batchSize\` must be a whole number from 1 to 1000 (one starter invocation must finish within its timeout), got: ${batchSize}.`);
    }
    if (!batchTimeout.isUnresolved() && (batchTimeout.toSeconds() < 60 || batchTimeout.toDays({ integral: false }) > 365)) {
      invalid(this, `\`batchTimeout\` must be from 1 minute to 365 days, got: ${batchTimeout.toHumanString()}.`);
    }
    const prefix = props.prefix ?? '';
    if (prefix.startsWith('/')) {
      invalid(this, `\`prefix\` must not start with '/', got: '${prefix}'. S3 keys have no leading slash: use '${prefix.replace(/^\/+/, '')}'.`);
    }
    for (const s of props.suffixes ?? []) {
      if (s.length === 0) invalid(this, '`suffixes` must not contain an empty string. Remove it, or leave `suffixes` unset to accept any key.');
    }
    this.documentPrefix = prefix;
    this.documentSuffixes = [...(props.suffixes ?? [])];

    if (props.bucket) {
      this.documentBucket = props.bucket;
    } else {
      this.encryptionKey = new kms.Key(this, 'Key', {
        enableKeyRotation: true,
        description: 'cdk-ai-pipeline schedule trigger: documents bucket',
        removalPolicy,
      });
      this.documentBucket = secureBucket(this, 'Documents', {
        encryptionKey: this.encryptionKey,
        accessLogs: accessLogsBucket(this, 'AccessLogs', removalPolicy),
        accessLogsPrefix: 'documents/',
        lifecycleRules: [{ abortIncompleteMultipartUploadAfter: Duration.days(7) }],
        removalPolicy,
      });
    }

    // One starter invocation handles one batch: a HeadObject and a StartExecution per document.
    const starterTimeout = Duration.seconds(Math.min(900, 30 + batchSize));
    const starter = handlerFunction(this, 'Starter', {
      description: 'cdk-ai-pipeline schedule trigger: starts the runs of one batch of documents, each exactly once',
      code: bundleCode(Bundles.BATCH_STARTER),
      timeout: starterTimeout,
      memorySize: 256,
      environment: {
        [BatchEnv.DOCUMENT_BUCKET]: this.documentBucket.bucketName,
        [BatchEnv.DOCUMENT_PREFIX]: prefix,
        [BatchEnv.DOCUMENT_SUFFIXES]: JSON.stringify(this.documentSuffixes),
      },
    });
    this.starter = starter.fn;
    this.starterRole = starter.role;
    grantReadPrefix(this.starterRole, this.documentBucket, prefix);
    // HeadObject of a key deleted since the listing: 404 (counted as gone), not 403.
    grantListPrefix(this.starterRole, this.documentBucket, prefix);

    const startBatch = new tasks.LambdaInvoke(this, 'StartBatch', {
      lambdaFunction: this.starter,
      payloadResponseOnly: true,
      retryOnServiceExceptions: false,
      taskTimeout: sfn.Timeout.duration(starterTimeout.plus(Duration.seconds(30))),
      comment: 'start the runs of this batch; documents already run are skipped',
    });
    // Starting a batch again starts nothing twice, so every error is retried (throttled StartExecution included).
    startBatch.addRetry(taskRetry(
      { maxAttempts: 6, interval: Duration.seconds(2), backoffRate: 2, maxDelay: Duration.minutes(1) },
      ['States.TaskFailed', 'States.Timeout'],
    ));
    const map = new sfn.DistributedMap(this, 'Documents under the prefix', {
      itemReader: new sfn.S3ObjectsItemReader({ bucket: this.documentBucket, prefix: prefix || undefined }),
      itemBatcher: new sfn.ItemBatcher({ maxItemsPerBatch: batchSize }),
      maxConcurrency,
      resultPath: sfn.JsonPath.DISCARD,
      comment: 'list the prefix (ListObjectsV2) and start the documents not yet run, batch by batch',
    });
    map.itemProcessor(startBatch);
    this.batchStateMachine = new sfn.StateMachine(this, 'Batch', {
      definitionBody: sfn.DefinitionBody.fromChainable(map),
      stateMachineType: sfn.StateMachineType.STANDARD,
      queryLanguage: sfn.QueryLanguage.JSON_PATH,
      timeout: batchTimeout,
      tracingEnabled: true,
      logs: {
        destination: new logs.LogGroup(this, 'BatchLogs', { retention: logs.RetentionDays.ONE_YEAR, removalPolicy, encryptionKey: logsKey(this) }),
        level: sfn.LogLevel.ALL,
        includeExecutionData: false,
      },
      comment: 'cdk-ai-pipeline schedule trigger: one batch of the documents not yet run',
    });

    this.schedule = new scheduler.Schedule(this, 'Resource', {
      schedule: props.schedule ?? scheduler.ScheduleExpression.rate(Duration.days(1)),
      description: 'cdk-ai-pipeline: run the documents under the prefix that have not been run',
      enabled: props.enabled ?? true,
      target: new schedulerTargets.StepFunctionsStartExecution(this.batchStateMachine, {
        retryAttempts: 3,
        maxEventAge: Duration.hours(1),
      }),
    });

    const bucketLogicalArn = (f: string) => f.includes('Documents') || f.includes('arn:<AWS::Partition>:s3:::');
    acknowledgeWildcards(this, [
      XRAY_REASON,
      {
        matches: (f, actions) => f.endsWith(`/${prefix}*`) && bucketLogicalArn(f) && actions.every((a) => a === 's3:GetObject' || a === 's3:GetObjectVersion'),
        reason: 'The starter reads the metadata (HeadObject) of the documents under the trigger\'s prefix to name each run after its version.',
      },
      {
        matches: (f) => f.startsWith('Resource::<') && f.endsWith('.Arn>:*'),
        reason: 'The batch state machine may invoke the versions of its own starter function (CDK grants function:*).',
      },
      {
        matches: (f, actions) => f === 'Resource::*' && actions.every((a) => a.startsWith('logs:')),
        reason: 'CloudWatch Logs delivery actions (CreateLogDelivery, ...) that Step Functions logging needs do not support resource-level permissions.',
      },
      {
        matches: (f, actions) => f.startsWith('Resource::arn:<AWS::Partition>:states:') && f.endsWith(':*') && actions.every((a) => a.startsWith('states:')),
        reason: 'A Distributed Map runs its batches as child executions of its own state machine (states:StartExecution/DescribeExecution/StopExecution on them).',
      },
    ]);
    this.node.addValidation({
      validate: () => this.bound ? [] : [`[ScheduleTrigger ${this.node.path}] the trigger starts nothing: pass it as a Pipeline's \`trigger\`.`],
    });
  }

  /** Express pipelines only: the table the starter claims run ids in before it starts them. */
  public get runClaims(): dynamodb.ITable | undefined {
    return this.claims;
  }

  public bind(stateMachine: sfn.IStateMachine, options: TriggerBindOptions = {}): void {
    if (this.bound) {
      invalid(this, 'the trigger already starts another pipeline. Create one trigger per Pipeline.');
    }
    this.bound = stateMachine;
    stateMachine.grantStartExecution(this.starterRole);
    this.starter.addEnvironment(Env.STATE_MACHINE_ARN, stateMachine.stateMachineArn);
    this.claims = bindRunClaims(this, this.starter, this.starterRole, this.starter.timeout ?? Duration.minutes(15), options);
  }

  /**
   * Grants starting a batch by hand (a backfill: `aws stepfunctions start-execution --state-machine-arn <batch>`).
   * @param grantee who starts the backfill
   */
  public grantStartBatch(grantee: iam.IGrantable): iam.Grant {
    return this.batchStateMachine.grantStartExecution(grantee);
  }
}
