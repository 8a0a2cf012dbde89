import { Duration, RemovalPolicy, Annotations, Names } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct, IConstruct } from 'constructs';
// eslint-disable-next-line import/no-cycle
import { ApiTrigger, ApiTriggerProps } from './api-trigger';
// eslint-disable-next-line import/no-cycle
import { ScheduleTrigger, ScheduleTriggerProps } from './schedule-trigger';
import { acknowledgeRule, acknowledgeWildcards, XRAY_REASON } from '../private/acknowledge';
import { accessLogsBucket, secureBucket } from '../private/buckets';
import { Bundles, bundleCode } from '../private/handler-asset';
import { countAlarm, handlerFunction } from '../private/handler-function';
import { bindRunClaims } from '../private/run-claims';
import { invalid, outOfRange } from '../private/validation';
import { Env } from '../shared';

/** Props of an S3 upload trigger. */
export interface S3UploadTriggerProps {
  /**
   * The bucket documents are uploaded to. A bucket defined in this app gets EventBridge notifications
   * turned on; for an imported bucket, turn them on yourself.
   * @default - a new bucket: KMS-encrypted, versioned, public access blocked, SSL only, access-logged
   */
  readonly bucket?: s3.IBucket;
  /**
   * Only keys with this prefix start a run.
   * @default - any key
   */
  readonly prefix?: string;
  /**
   * Only keys ending in one of these start a run (e.g. ['.pdf']).
   * @default - any key
   */
  readonly suffixes?: string[];
  /**
   * How many runs the trigger starts at once at most (the buffer queue absorbs bursts).
   * @default 5
   */
  readonly maxConcurrency?: number;
  /**
   * Deliveries of one upload event before it moves to the dead-letter queue.
   * @default 5
   */
  readonly maxReceiveCount?: number;
  /**
   * What happens to a new bucket and its key when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** What a Pipeline tells the trigger it binds. */
export interface TriggerBindOptions {
  /**
   * The pipeline's kind of state machine. For EXPRESS, which does not deduplicate execution names,
   * the trigger claims each run id in a DynamoDB table before it starts the run (ADR-0029).
   * @default sfn.StateMachineType.STANDARD
   */
  readonly workflowType?: sfn.StateMachineType;
  /**
   * The key the run-claim table (Express) is encrypted with.
   * @default - a new key of the trigger's
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * What happens to the run-claim table (Express) when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** What starts a pipeline's runs; what a Pipeline depends on. */
export interface IDocumentTrigger extends IConstruct {
  /** The bucket runs read documents from. */
  readonly documentBucket: s3.IBucket;
  /** The key prefix documents are read under ('' for the whole bucket). */
  readonly documentPrefix: string;
  /** Key suffixes that start a run (empty: any key). */
  readonly documentSuffixes: string[];
  /**
   * Express pipelines only: the table the trigger claims run ids in, which keeps each run's document.
   * The pipeline's Express backstop reads a run's document from it (ADR-0031).
   * @default - none: a run the Express backstop records names no document
   */
  readonly runClaims?: dynamodb.ITable;

  /**
   * Connects the trigger to the state machine it starts. A Pipeline calls this.
   * @param stateMachine the pipeline's state machine
   * @param options the pipeline's workflow type and key
   */
  bind(stateMachine: sfn.IStateMachine, options?: TriggerBindOptions): void;
}

/**
 * Makes triggers: `DocumentTrigger.s3Upload(...)`, `.api(...)` and `.schedule(...)`; each starts one run per
 * document, exactly once.
 * No trigger kind inherits this factory.
 */
export class DocumentTrigger {
  /**
   * One run per object uploaded to a bucket: S3 → EventBridge (no notification custom resource) →
   * an encrypted buffer queue with a dead-letter queue → a starter that names each execution after
   * bucket/key/version, so a duplicate event never starts a second run.
   */
  public static s3Upload(scope: Construct, id: string, props: S3UploadTriggerProps = {}): S3UploadTrigger {
    return new S3UploadTrigger(scope, id, props);
  }

  /**
   * Runs started through a REST API (IAM authorization by default): a document already in S3, or a
   * presigned upload; an idempotency key names the execution, so the same request twice gives one run.
   */
  public static api(scope: Construct, id: string, props: ApiTriggerProps = {}): ApiTrigger {
    return new ApiTrigger(scope, id, props);
  }

  /**
   * Runs, on a schedule, the documents under a prefix that have not been run, through a Distributed
   * Map with a concurrency limit; each document is still started exactly once. Also a backfill.
   */
  public static schedule(scope: Construct, id: string, props: ScheduleTriggerProps = {}): ScheduleTrigger {
    return new ScheduleTrigger(scope, id, props);
  }

  private constructor() {}
}

/** Starts one run per object uploaded to an S3 bucket, exactly once. */
export class S3UploadTrigger extends Construct implements IDocumentTrigger {
  public readonly documentBucket: s3.IBucket;
  public readonly documentPrefix: string;
  public readonly documentSuffixes: string[];
  /** The key of the trigger's queues, and of its documents bucket when it made one. */
  public readonly encryptionKey: kms.IKey;
  /** The queue buffering upload events. */
  public readonly queue: sqs.Queue;
  /** Where undeliverable upload events land; nothing is lost. */
  public readonly deadLetterQueue: sqs.Queue;
  /** The function that starts the runs. */
  public readonly starter: lambda.Function;
  /** The EventBridge rule matching uploads (the trigger's main child, id `Resource`). */
  public readonly rule: events.Rule;
  /** Alarm: upload events in the dead-letter queue. */
  public readonly deadLetterAlarm: cloudwatch.Alarm;
  private bound?: sfn.IStateMachine;
  private claims?: dynamodb.Table;
  private readonly starterTimeout: Duration;

  constructor(scope: Construct, id: string, props: S3UploadTriggerProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const maxConcurrency = props.maxConcurrency ?? 5;
    const maxReceiveCount = props.maxReceiveCount ?? 5;
    if (outOfRange(maxConcurrency, 2, 1000, true)) {
      invalid(this, `\`maxConcurrency\` must be a whole number from 2 to 1000 (Lambda's SQS limits), got: ${maxConcurrency}.`);
    }
    if (outOfRange(maxReceiveCount, 1, 1000, true)) {
      invalid(this, `\`maxReceiveCount\` must be a whole number from 1 to 1000, got: ${maxReceiveCount}.`);
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

    this.encryptionKey = new kms.Key(this, 'Key', {
      enableKeyRotation: true,
      description: 'cdk-ai-pipeline trigger: uploads bucket and event queues',
      removalPolicy,
    });
    if (props.bucket) {
      this.documentBucket = props.bucket;
      const cfn = props.bucket.node.defaultChild;
      if (cfn instanceof s3.CfnBucket) {
        cfn.addPropertyOverride('NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled', true);
      } else {
        Annotations.of(this).addWarningV2('cdk-ai-pipeline:importedBucketEventBridge',
          `The bucket ${props.bucket.bucketName} is imported: turn on its EventBridge notifications (S3 console → Properties → Amazon EventBridge), or no run will start.`);
      }
    } else {
      const bucket = secureBucket(this, 'Documents', {
        encryptionKey: this.encryptionKey,
        accessLogs: accessLogsBucket(this, 'AccessLogs', removalPolicy),
        accessLogsPrefix: 'documents/',
        lifecycleRules: [{ abortIncompleteMultipartUploadAfter: Duration.days(7) }],
        removalPolicy,
      });
      // EventBridge notifications without the S3 notifications custom resource.
      (bucket.node.defaultChild as s3.CfnBucket).addPropertyOverride('NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled', true);
      this.documentBucket = bucket;
    }

    // EventBridge delivers to the encrypted queue with the key.
    this.encryptionKey.addToResourcePolicy(new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal('events.amazonaws.com')],
      actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
      resources: ['*'],
    }));
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetters', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.encryptionKey,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledgeRule(this.deadLetterQueue, 'AwsSolutions-SQS3', 'This queue is the dead-letter queue of the upload buffer.');
    acknowledgeRule(this.deadLetterQueue, 'Serverless-SQSRedrivePolicy', 'This queue is the dead-letter queue of the upload buffer and of the upload rule\'s target; a dead-letter queue has none of its own.');
    const starterTimeout = Duration.seconds(60);
    this.starterTimeout = starterTimeout;
    this.queue = new sqs.Queue(this, 'Buffer', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.encryptionKey,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(starterTimeout.toSeconds() * 6),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount },
    });

    this.rule = new events.Rule(this, 'Resource', {
      description: 'cdk-ai-pipeline: uploaded documents start runs',
      eventPattern: {
        source: ['aws.s3'],
        detailType: ['Object Created'],
        detail: {
          bucket: { name: [this.documentBucket.bucketName] },
          ...keyFilter(prefix, props.suffixes ?? []),
        },
      },
      targets: [new targets.SqsQueue(this.queue, { deadLetterQueue: this.deadLetterQueue })],
    });

    this.starter = handlerFunction(this, 'Starter', {
      description: 'cdk-ai-pipeline trigger: starts one execution per uploaded document, exactly once',
      roleDescription: 'cdk-ai-pipeline trigger: starts one execution per uploaded document',
      code: bundleCode(Bundles.STARTER),
      timeout: starterTimeout,
      memorySize: 256,
      noDeadLetterReason: 'Invoked synchronously by its SQS event source: a message it fails returns to the buffer, whose redrive policy moves it to the DeadLetters queue after maxReceiveCount tries.',
    }).fn;
    this.starter.addEventSource(new SqsEventSource(this.queue, {
      batchSize: 10,
      maxConcurrency,
      reportBatchItemFailures: true,
    }));

    acknowledgeRule(this.starter.node.findChild(`SqsEventSource:${Names.nodeUniqueId(this.queue.node)}`), 'Serverless-LambdaEventSourceMappingDestination',
      'An SQS event source mapping takes no on-failure destination: messages the starter fails go to the DeadLetters queue through the buffer\'s redrive policy.');
    this.deadLetterAlarm = countAlarm(this, 'DeadLettersAlarm',
      this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5) }),
      'Upload events could not start a run and wait in the dead-letter queue.');
    acknowledgeWildcards(this, [XRAY_REASON]);
    this.node.addValidation({
      validate: () => this.bound ? [] : [`[S3UploadTrigger ${this.node.path}] the trigger starts nothing: pass it as a Pipeline's \`trigger\`.`],
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
    stateMachine.grantStartExecution(this.starter);
    this.starter.addEnvironment(Env.STATE_MACHINE_ARN, stateMachine.stateMachineArn);
    // A claim is stale once the starter that made it has surely timed out; the buffer's visibility
    // timeout (6 x the starter's) redelivers a pending record after that.
    this.claims = bindRunClaims(this, this.starter, this.starter, this.starterTimeout, options);
  }
}

/** EventBridge key filters for a prefix and suffixes (wildcard when both are given). */
function keyFilter(prefix: string, suffixes: string[]): { object?: { key: any[] } } {
  const esc = (s: string) => s.replace(/\\/g, '\\\\').replace(/\*/g, '\\*');
  if (prefix && suffixes.length > 0) return { object: { key: suffixes.map((s) => ({ wildcard: `${esc(prefix)}*${esc(s)}` })) } };
  if (prefix) return { object: { key: [{ prefix }] } };
  if (suffixes.length > 0) return { object: { key: suffixes.map((s) => ({ suffix: s })) } };
  return {};
}
