import { Duration, Names, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct, IConstruct } from 'constructs';
import { acknowledgeRule } from '../private/acknowledge';
import { invalid, outOfRange, whereOf } from '../private/validation';
import { CAPACITY_NAMESPACE } from '../shared/capacity';
import { BedrockModel } from '../stages/bedrock/bedrock-model';

/** One dimension of a service quota, as the capacity control enforces it. */
export interface QuotaLimit {
  /** The dimension: `requests`, `tokens`, `invocations`, or a Textract API's name. */
  readonly dimension: string;
  /** The quota itself, per second (a per-minute quota divided by 60). */
  readonly quotaPerSecond: number;
  /** What the control grants per second: the quota times the utilization target. */
  readonly grantPerSecond: number;
  /** The most units granted at once after an idle time. */
  readonly burst: number;
}

/** A service quota that stages share: they take capacity from it before each call of the service. */
export interface IServiceQuota extends IConstruct {
  /** The quota's id: the key of its buckets and the `Quota` dimension of its metrics. */
  readonly quotaId: string;
  /** The service the quota belongs to: `bedrock`, `textract` or `sagemaker`. */
  readonly service: string;
  /** The Bedrock model or SageMaker endpoint the quota is for; empty for Textract. */
  readonly resourceName: string;
  /** The dimensions the control enforces. */
  readonly limits: QuotaLimit[];
  /** The table holding the quota's buckets. */
  readonly table: dynamodb.ITable;
  /** The longest a document waits for capacity (or through throttling) before its stage fails. */
  readonly maxWait: Duration;
  /** The longest wait between two tries for capacity (full jitter below it). */
  readonly maxPollDelay: Duration;

  /**
   * Lets a stage's handler take capacity from the quota (read and conditional write of its item).
   * @param grantee the stage's handler role
   */
  grantAcquire(grantee: iam.IGrantable): iam.Grant;
}

/** What every quota takes. */
export interface ServiceQuotaOptions {
  /**
   * The share of the quota the control grants, from 0.1 to 1: lower it when something outside
   * these pipelines calls the same quota.
   * @default 0.95
   */
  readonly utilizationTarget?: number;
  /**
   * How long a document may wait for capacity, and wait out throttling, before its stage fails.
   * Keep the pipeline's `timeout` above the stages' waits and timeouts added up.
   * @default Duration.hours(1)
   */
  readonly maxWait?: Duration;
  /**
   * The longest wait between two tries for capacity. Each try is a state transition and a Lambda
   * invocation: longer is cheaper, shorter drains a backlog more promptly.
   * @default Duration.minutes(1)
   */
  readonly maxPollDelay?: Duration;
  /**
   * The backlog-age alarm fires when a document has waited this long for capacity.
   * @default Duration.minutes(15)
   */
  readonly backlogAgeAlarm?: Duration;
  /**
   * A table to keep the buckets in (partition key `pk`, a string), shared by several quotas.
   * @default - a table of the quota's own (on-demand, AWS-managed encryption)
   */
  readonly table?: dynamodb.ITable;
}

/** A Bedrock model's per-minute quotas. */
export interface BedrockModelQuotaProps extends ServiceQuotaOptions {
  /** The model (or inference profile) the quota is for. Stages calling another model cannot use it. */
  readonly model: BedrockModel;
  /** The account's requests-per-minute quota for the model (Service Quotas: "... requests per minute for <model>"). */
  readonly requestsPerMinute: number;
  /** The account's tokens-per-minute quota for the model (input and output tokens together). */
  readonly tokensPerMinute: number;
}

/** Amazon Textract's per-API transactions-per-second quotas of the account and region. */
export interface TextractQuotaProps extends ServiceQuotaOptions {
  /**
   * DetectDocumentText transactions per second (single-page documents).
   * @default 10 (assumed default; check your account's Service Quotas)
   */
  readonly detectDocumentTextPerSecond?: number;
  /**
   * StartDocumentTextDetection transactions per second (multi-page documents).
   * @default 10 (assumed default; check your account's Service Quotas)
   */
  readonly startDocumentTextDetectionPerSecond?: number;
  /**
   * AnalyzeDocument transactions per second (single-page documents of a Textract analysis stage).
   * @default 10 (assumed default; check your account's Service Quotas)
   */
  readonly analyzeDocumentPerSecond?: number;
  /**
   * StartDocumentAnalysis transactions per second (multi-page documents of a Textract analysis stage).
   * @default 10 (assumed default; check your account's Service Quotas)
   */
  readonly startDocumentAnalysisPerSecond?: number;
}

/** A SageMaker endpoint's sustainable rate (its instances and their concurrency). */
export interface SageMakerEndpointQuotaProps extends ServiceQuotaOptions {
  /** The endpoint's name. */
  readonly endpointName: string;
  /** Invocations per second the endpoint sustains (instances x concurrency per instance / latency in seconds). */
  readonly invocationsPerSecond: number;
}

interface ServiceQuotaProps extends ServiceQuotaOptions {
  readonly service: string;
  readonly resourceName: string;
  readonly limits: Array<{ dimension: string; perSecond: number; burstSeconds: number }>;
}

/**
 * One service quota (a Bedrock model's requests and tokens per minute, Textract's transactions per
 * second, a SageMaker endpoint's rate) shared by every stage that is given it, in every pipeline of
 * the app. Before each call a stage takes capacity from the quota's token buckets in DynamoDB; when
 * there is none it waits (its task retries `Capacity.Wait`) instead of being throttled. Throttling
 * that still happens is retried up to `maxWait`. Metrics: utilization, wait time, throttles, backlog age.
 */
export class ServiceQuota extends Construct implements IServiceQuota {
  /** A Bedrock model's requests and tokens per minute (no default: they differ per model and account). */
  public static bedrockModel(scope: Construct, id: string, props: BedrockModelQuotaProps): ServiceQuota {
    const where = whereOf('ServiceQuota', scope, id);
    positive(where, 'requestsPerMinute', props.requestsPerMinute);
    positive(where, 'tokensPerMinute', props.tokensPerMinute);
    return new ServiceQuota(scope, id, {
      ...props,
      service: 'bedrock',
      resourceName: props.model.modelId,
      // Bedrock's per-minute quotas: a bucket holding one minute's worth.
      limits: [
        { dimension: 'requests', perSecond: props.requestsPerMinute / 60, burstSeconds: 60 },
        { dimension: 'tokens', perSecond: props.tokensPerMinute / 60, burstSeconds: 60 },
      ],
    });
  }

  /**
   * Amazon Textract's per-API transactions per second in the stack's account and region: text detection
   * (Textract stages) and document analysis (Textract analysis stages). Each call takes from its API's bucket.
   */
  public static textract(scope: Construct, id: string, props: TextractQuotaProps = {}): ServiceQuota {
    const where = whereOf('ServiceQuota', scope, id);
    const detect = props.detectDocumentTextPerSecond ?? 10;
    const start = props.startDocumentTextDetectionPerSecond ?? 10;
    const analyze = props.analyzeDocumentPerSecond ?? 10;
    const startAnalysis = props.startDocumentAnalysisPerSecond ?? 10;
    positive(where, 'detectDocumentTextPerSecond', detect);
    positive(where, 'startDocumentTextDetectionPerSecond', start);
    positive(where, 'analyzeDocumentPerSecond', analyze);
    positive(where, 'startDocumentAnalysisPerSecond', startAnalysis);
    return new ServiceQuota(scope, id, {
      ...props,
      service: 'textract',
      resourceName: '',
      limits: [
        { dimension: 'DetectDocumentText', perSecond: detect, burstSeconds: 1 },
        { dimension: 'StartDocumentTextDetection', perSecond: start, burstSeconds: 1 },
        { dimension: 'AnalyzeDocument', perSecond: analyze, burstSeconds: 1 },
        { dimension: 'StartDocumentAnalysis', perSecond: startAnalysis, burstSeconds: 1 },
      ],
    });
  }

  /** A SageMaker endpoint's sustainable invocations per second. */
  public static sagemakerEndpoint(scope: Construct, id: string, props: SageMakerEndpointQuotaProps): ServiceQuota {
    positive(whereOf('ServiceQuota', scope, id), 'invocationsPerSecond', props.invocationsPerSecond);
    return new ServiceQuota(scope, id, {
      ...props,
      service: 'sagemaker',
      resourceName: props.endpointName,
      limits: [{ dimension: 'invocations', perSecond: props.invocationsPerSecond, burstSeconds: 1 }],
    });
  }

  public readonly quotaId: string;
  public readonly service: string;
  public readonly resourceName: string;
  public readonly limits: QuotaLimit[];
  public readonly table: dynamodb.ITable;
  public readonly maxWait: Duration;
  public readonly maxPollDelay: Duration;
  /** Fires when a document has waited longer than `backlogAgeAlarm` for capacity. */
  public readonly backlogAgeAlarm: cloudwatch.Alarm;

  private constructor(scope: Construct, id: string, props: ServiceQuotaProps) {
    super(scope, id);
    const target = props.utilizationTarget ?? 0.95;
    if (outOfRange(target, 0.1, 1)) {
      invalid(this, `\`utilizationTarget\` must be between 0.1 and 1, got: ${target}. Use 1 only when nothing else calls this quota.`);
    }
    this.maxWait = props.maxWait ?? Duration.hours(1);
    this.maxPollDelay = props.maxPollDelay ?? Duration.minutes(1);
    if (!this.maxWait.isUnresolved() && (this.maxWait.toSeconds() < 60 || this.maxWait.toSeconds() > 24 * 3600)) {
      invalid(this, `\`maxWait\` must be between 1 minute and 24 hours, got: ${this.maxWait.toHumanString()}.`);
    }
    if (!this.maxPollDelay.isUnresolved() && (this.maxPollDelay.toSeconds() < 2 || this.maxPollDelay.toSeconds() > 600)) {
      invalid(this, `\`maxPollDelay\` must be between 2 seconds and 10 minutes, got: ${this.maxPollDelay.toHumanString()}.`);
    }
    this.quotaId = Names.uniqueResourceName(this, { maxLength: 64, separator: '-' });
    this.service = props.service;
    this.resourceName = props.resourceName;
    this.limits = props.limits.map((l) => ({
      dimension: l.dimension,
      quotaPerSecond: l.perSecond,
      grantPerSecond: l.perSecond * target,
      burst: Math.max(1, l.perSecond * target * l.burstSeconds),
    }));

    if (props.table) {
      this.table = props.table;
    } else {
      const table = new dynamodb.Table(this, 'Buckets', {
        partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        encryption: dynamodb.TableEncryption.AWS_MANAGED,
        // Rate state only: rebuilt by the first call after a deploy.
        removalPolicy: RemovalPolicy.DESTROY,
      });
      acknowledgeRule(table, 'AwsSolutions-DDB3', 'The table holds only token-bucket timestamps of the capacity control, rebuilt by the next call: nothing to recover to a point in time.');
      this.table = table;
    }

    this.backlogAgeAlarm = new cloudwatch.Alarm(this, 'BacklogAgeAlarm', {
      alarmDescription: `cdk-ai-pipeline quota ${this.quotaId}: a document has waited ${(props.backlogAgeAlarm ?? Duration.minutes(15)).toHumanString()} for capacity`,
      metric: this.metricBacklogAge(),
      threshold: (props.backlogAgeAlarm ?? Duration.minutes(15)).toSeconds(),
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }

  public grantAcquire(grantee: iam.IGrantable): iam.Grant {
    return this.table.grant(grantee, 'dynamodb:GetItem', 'dynamodb:UpdateItem');
  }

  /**
   * The share of the quota used, per minute (0 to 1): units granted over the quota's units per minute.
   * @param dimension the dimension (`requests`, `tokens`, ...); the first one by default
   */
  public metricUtilization(dimension?: string): cloudwatch.IMetric {
    const limit = dimension === undefined ? this.limits[0] : this.limits.find((l) => l.dimension === dimension);
    if (!limit) {
      invalid(this, `\`metricUtilization\` got dimension '${dimension}', which this quota does not have. Use one of: ${this.limits.map((l) => l.dimension).join(', ')}.`);
    }
    return new cloudwatch.MathExpression({
      expression: `units / ${limit.quotaPerSecond * 60}`,
      usingMetrics: { units: this.metric(`Units_${limit.dimension}`, 'Sum') },
      period: Duration.minutes(1),
      label: `${this.quotaId} ${limit.dimension} utilization`,
    });
  }

  /** Seconds a document waited for capacity before its call (from the task's entry), per grant. */
  public metricWaitTime(props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.metric('WaitTime', 'p99', props);
  }

  /** Calls the service throttled despite the control. */
  public metricThrottles(props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.metric('Throttles', 'Sum', props);
  }

  /** Tries refused for lack of capacity (each a document waiting): the backlog's pressure. */
  public metricWaits(props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.metric('Waits', 'Sum', props);
  }

  /** How long the longest-waiting document has waited for capacity, in seconds. */
  public metricBacklogAge(props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.metric('BacklogAge', 'Maximum', props);
  }

  private metric(name: string, statistic: string, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: CAPACITY_NAMESPACE,
      metricName: name,
      dimensionsMap: { Quota: this.quotaId },
      statistic,
      period: Duration.minutes(1),
      ...props,
    });
  }
}

function positive(where: string, prop: string, value: number): void {
  if (outOfRange(value, Number.MIN_VALUE, Number.MAX_SAFE_INTEGER)) {
    invalid(where, `\`${prop}\` must be a positive number, got: ${value}. Use the value of your account's Service Quotas console.`);
  }
}
