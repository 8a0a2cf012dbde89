import { AspectPriority, Aspects, Duration, IAspect } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct, IConstruct } from 'constructs';
import { acknowledgeRule } from './acknowledge';
import { logsKey } from './logs-key';
import { LAMBDA_TRANSIENT_ERRORS } from '../shared';

/** What differs between the library's handler functions (stage, recorder, starter). */
export interface HandlerFunctionOptions {
  /** One line on what the function does: its description and its role's. */
  readonly description: string;
  readonly code: lambda.Code;
  readonly timeout: Duration;
  readonly memorySize: number;
  readonly environment?: { [name: string]: string };
  /** Description of the role. @default - the function's description */
  readonly roleDescription?: string;
  /** Id of the role. @default `${id}Role` */
  readonly roleId?: string;
  /** Id of the log group. @default `${id}Logs` */
  readonly logsId?: string;
  /**
   * Why the function needs no dead-letter queue or on-failure destination of its own.
   * @default - it is invoked synchronously by a Step Functions task
   */
  readonly noDeadLetterReason?: string;
}

/** Why a function invoked by a Step Functions task needs no dead-letter queue. */
const SYNC_INVOKE = 'Invoked synchronously by a Step Functions task: a failure returns to the task, whose Retry and Catch handle it; there is no asynchronous event to keep.';

/** A handler function and the role it runs with. */
export interface HandlerFunction {
  readonly fn: lambda.Function;
  readonly role: iam.Role;
}

/**
 * A handler function of the library: Node 24 on ARM, its own role (nothing granted yet), X-Ray
 * tracing, JSON logs in a log group kept one year. The handlers' logger (`src/runtime/logger.ts`)
 * names the service itself, so no service name is set in the environment here.
 */
export function handlerFunction(scope: Construct, id: string, options: HandlerFunctionOptions): HandlerFunction {
  const role = new iam.Role(scope, options.roleId ?? `${id}Role`, {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: options.roleDescription ?? options.description,
  });
  const fn = new lambda.Function(scope, id, {
    description: options.description,
    runtime: lambda.Runtime.NODEJS_24_X,
    architecture: lambda.Architecture.ARM_64,
    handler: 'index.handler',
    code: options.code,
    role,
    timeout: options.timeout,
    memorySize: options.memorySize,
    tracing: lambda.Tracing.ACTIVE,
    logGroup: new logs.LogGroup(scope, options.logsId ?? `${id}Logs`, { retention: logs.RetentionDays.ONE_YEAR, encryptionKey: logsKey(scope) }),
    loggingFormat: lambda.LoggingFormat.JSON,
    environment: options.environment,
  });
  acknowledgeFunction(fn, options.noDeadLetterReason ?? SYNC_INVOKE);
  return { fn, role };
}

/**
 * Acknowledges, with reasons, the pack findings a library function keeps by default: no dead-letter
 * queue (why: `noDeadLetter`), no VPC and no reserved concurrency unless the pipeline's `network` and
 * `functionConcurrency` ask for them (the findings then do not arise).
 */
export function acknowledgeFunction(fn: lambda.Function, noDeadLetter: string): void {
  for (const pack of ['Serverless', 'HIPAA.Security', 'NIST.800.53.R5']) acknowledgeRule(fn, `${pack}-LambdaDLQ`, noDeadLetter);
  // Decided at synth, after the `network` option placed the function (or not) in a VPC.
  Aspects.of(fn).add(new AcknowledgeOutsideVpc(fn), { priority: AspectPriority.MUTATING + 150 });
  for (const pack of ['HIPAA.Security', 'NIST.800.53.R5']) {
    acknowledgeRule(fn, `${pack}-LambdaConcurrency`, 'No reserved concurrency unless the Pipeline\'s `functionConcurrency` sets it: reserving takes from the account\'s unreserved pool; the trigger\'s maxConcurrency and the state machine bound the load. Set `functionConcurrency` to lift.');
  }
}

/** Why a function outside a VPC is acknowledged. */
export const OUTSIDE_VPC_REASON = 'Runs outside a VPC: every call it makes goes to AWS APIs over TLS with IAM auth. Set `network` on the Pipeline (or `standalone.network` on a stand-alone stage) to place it in private isolated subnets with VPC endpoints (see docs/security/nag-register.md).';

/** Acknowledges `LambdaInsideVPC` on a function that, once the aspects placed it, is in no VPC. */
class AcknowledgeOutsideVpc implements IAspect {
  constructor(private readonly fn: lambda.Function) {}
  public visit(node: IConstruct): void {
    if (node !== this.fn || (this.fn.node.defaultChild as lambda.CfnFunction).vpcConfig !== undefined) return;
    for (const pack of ['HIPAA.Security', 'NIST.800.53.R5', 'PCI.DSS.321']) acknowledgeRule(this.fn, `${pack}-LambdaInsideVPC`, OUTSIDE_VPC_REASON);
  }
}

/** How a task retries: the numbers of the shared retry shape. */
export interface TaskRetryShape {
  readonly maxAttempts: number;
  readonly interval: Duration;
  readonly backoffRate: number;
  readonly maxDelay: Duration;
}

/** The retry of the pipeline's own tasks (the recorder): 4 attempts, 1 s first wait, backoff 2, at most 20 s. */
export const RECORDER_RETRY: TaskRetryShape = { maxAttempts: 4, interval: Duration.seconds(1), backoffRate: 2, maxDelay: Duration.seconds(20) };

/**
 * The one retry shape of every Lambda task: Lambda's transient errors plus the service's own, bounded
 * attempts, exponential backoff with full jitter.
 */
export function taskRetry(shape: TaskRetryShape, serviceErrors: string[] = []): sfn.RetryProps {
  return {
    errors: [...new Set([...LAMBDA_TRANSIENT_ERRORS, ...serviceErrors])],
    interval: shape.interval,
    maxAttempts: shape.maxAttempts,
    backoffRate: shape.backoffRate,
    maxDelay: shape.maxDelay,
    jitterStrategy: sfn.JitterType.FULL,
  };
}

/** The one alarm shape: alarms as soon as the metric reaches 1 in one period; no data is not a breach. */
export function countAlarm(scope: Construct, id: string, metric: cloudwatch.IMetric, description: string): cloudwatch.Alarm {
  return new cloudwatch.Alarm(scope, id, {
    alarmDescription: description,
    metric,
    threshold: 1,
    evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
}
