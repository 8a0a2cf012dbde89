import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { correctionsSchema, decisionRequestSchema, reviewResultSchema } from './decision-contract';
import { IAuditSink } from '../audit/audit-sink';
import { StageContract } from '../contracts/stage-contract';
import { IPipelineStep } from '../pipeline/pipeline-step';
import { acknowledgeWildcards, XRAY_REASON } from '../private/acknowledge';
import { grantKey, grantWritePrefix } from '../private/grants';
import { Bundles, stageCode } from '../private/handler-asset';
import { handlerFunction } from '../private/handler-function';
import { invalid, ROUTE_NAME, STAGE_ID } from '../private/validation';
import { RouteDestination, RouteDestinationKind } from '../routing/route-destination';
import { RuleCondition } from '../routing/rule-condition';
import { Env } from '../shared';
import { IInferenceStage } from '../stages/inference-stage-base';

/** Props of a `HumanReview` step. */
export interface HumanReviewProps {
  /**
   * The stage whose result the reviewer checks. It must surely run before the review. The
   * notification names it; corrections are validated against its output contract (every field
   * optional) and land at `$.results.<review>.corrections`, never in the stage's own result.
   */
  readonly stage: IInferenceStage;
  /** Where a run goes when the deadline (or the heartbeat) passes without a decision. Cannot auto-approve. */
  readonly escalation: RouteDestination;
  /** Where a rejected run goes (the run ends there, with its run record). Cannot auto-approve. */
  readonly rejectedRoute: RouteDestination;
  /**
   * Where an approved run goes (the run ends there). The reviewer's approval is the human signal:
   * this route does not get the screening guards of auto-approve rules.
   * @default - the run goes on to the next step (a later routing policy's rules, guards included, decide)
   */
  readonly approvedRoute?: RouteDestination;
  /**
   * How long reviewers have to decide; then the run escalates. The pipeline's `timeout` must cover it.
   * @default Duration.hours(24)
   */
  readonly deadline?: Duration;
  /**
   * When set, a reviewer working on the task must call the decision API's `/heartbeat` at least this
   * often, or the run escalates before the deadline.
   * @default - no heartbeat: only the deadline
   */
  readonly heartbeat?: Duration;
  /**
   * Review only the runs for which this condition holds; the others go straight on.
   * @default - every run is reviewed
   */
  readonly when?: RuleCondition;
  /**
   * The SNS topic reviewers are notified on (the message carries the task token). Give `topic` or `queue`, not both.
   * @default - a new KMS-encrypted, SSL-only topic (unless `queue` is given); subscribe your reviewers to `notificationTopic`
   */
  readonly topic?: sns.ITopic;
  /**
   * An SQS queue reviewers' tooling reads the review tasks from, instead of a topic.
   * @default - no queue: reviewers are notified on the topic
   */
  readonly queue?: sqs.IQueue;
  /**
   * The review's state name and its key under `$.results`.
   * @default - the construct id
   */
  readonly stateName?: string;
}

/** One destination state a review built, for tools that run the pipeline (the local runner). */
interface Delivered {
  readonly state: string;
  readonly rule: string;
  readonly destination: string;
  readonly kind: string;
}

const SNS_TRANSIENT = ['SNS.ThrottledException', 'SNS.InternalErrorException', 'SNS.KMSThrottlingException'];
const SQS_TRANSIENT = ['SQS.RequestThrottled', 'SQS.KmsThrottled', 'SQS.InternalError', 'SQS.ServiceUnavailable'];
const DELIVERY_RETRY = {
  interval: Duration.seconds(1), maxAttempts: 4, backoffRate: 2, maxDelay: Duration.seconds(20), jitterStrategy: sfn.JitterType.FULL,
};

/**
 * A step of `Pipeline.stages` where a person decides. The run notifies reviewers (SNS or SQS) with a
 * task token and waits; a reviewer answers through the decision API (a Lambda function URL with
 * AWS_IAM auth: the reviewer is the IAM identity that signs the request) with approve, reject or
 * correct. The decision lands at `$.results.<review>` (decision, reviewer ARN, time, comment,
 * corrections, the token's hash and a pointer to the decision record in the audit bucket):
 * reject → `rejectedRoute`; approve → `approvedRoute` or the next step; correct → the next step, whose
 * rules can read `<review>.corrections.<field>`. When the deadline passes, the run escalates.
 */
export class HumanReview extends Construct implements IPipelineStep {
  /** The task that notifies reviewers and waits for the decision (the step's main child, id `Resource`). */
  public readonly task: sfn.TaskStateBase;
  /** The stage whose result is reviewed. */
  public readonly reviewedStage: IInferenceStage;
  /** What the review leaves at `$.results.<review>` for later steps (rules are checked against it). */
  public readonly decisionContract: StageContract;
  /** The decision API's function (its URL uses AWS_IAM auth). */
  public readonly decisionFunction: lambda.Function;
  /** The decision API's URL. */
  public readonly decisionUrl: lambda.FunctionUrl;
  /** The topic reviewers are notified on, unless a queue was given. */
  public readonly notificationTopic?: sns.ITopic;
  /** The queue review tasks are sent to, when one was given. */
  public readonly notificationQueue?: sqs.IQueue;
  /** How long reviewers have to decide. */
  public readonly deadline: Duration;
  /** The condition for a review, when not every run is reviewed. */
  public readonly condition?: RuleCondition;
  /** Where a run goes when the deadline passes. */
  public readonly escalation: RouteDestination;
  /** Where a rejected run goes. */
  public readonly rejectedRoute: RouteDestination;
  /** Where an approved run goes, when not to the next step. */
  public readonly approvedRoute?: RouteDestination;
  private readonly name: string;
  private readonly decisionRole: iam.Role;
  private readonly delivered: Delivered[] = [];
  private bound = false;

  constructor(scope: Construct, id: string, props: HumanReviewProps) {
    super(scope, id);
    const name = props.stateName ?? id;
    if (!STAGE_ID.test(name)) {
      invalid(this, `\`stateName\` must be a letter followed by letters, digits or '_' (at most 64), got: '${name}'. Rename the review, e.g. 'LegalReview'.`);
    }
    this.name = name;
    this.deadline = props.deadline ?? Duration.hours(24);
    const deadline = this.deadline;
    if (!deadline.isUnresolved() && (deadline.toSeconds() < 60 || deadline.toSeconds() > 365 * 24 * 3600)) {
      invalid(this, `\`deadline\` must be from 1 minute to 365 days (a Standard workflow task's limit), got: ${deadline.toHumanString()}. Set e.g. Duration.hours(24).`);
    }
    if (props.heartbeat && !props.heartbeat.isUnresolved() && !deadline.isUnresolved() && props.heartbeat.toSeconds() >= deadline.toSeconds()) {
      invalid(this, `\`heartbeat\` (${props.heartbeat.toHumanString()}) must be shorter than \`deadline\` (${deadline.toHumanString()}). Shorten the heartbeat or leave it unset.`);
    }
    if (props.topic && props.queue) {
      invalid(this, '`topic` and `queue` are both set. Reviewers are notified one way: give one of them, or neither for a new encrypted topic.');
    }
    const routes: Array<[string, RouteDestination | undefined]> = [['escalation', props.escalation], ['rejectedRoute', props.rejectedRoute], ['approvedRoute', props.approvedRoute]];
    for (const [prop, d] of routes) {
      if (!d) continue;
      if (!ROUTE_NAME.test(d.name) || d.name === 'quarantine' || d.name === 'failed') {
        invalid(this, `\`${prop}\` is a destination named '${d.name}': names must be 1-40 lowercase letters, digits or hyphens, and 'quarantine' and 'failed' are reserved. Rename the destination.`);
      }
      if (prop !== 'approvedRoute' && d.kind === RouteDestinationKind.AUTO_APPROVE) {
        invalid(this, `\`${prop}\` is RouteDestination.autoApprove('${d.name}'), but a run that was ${prop === 'escalation' ? 'not decided in time' : 'rejected'} must reach a person or a queue. Use snsTopic, sqsQueue or eventBus.`);
      }
    }
    this.reviewedStage = props.stage;
    this.condition = props.when;
    this.escalation = props.escalation;
    this.rejectedRoute = props.rejectedRoute;
    this.approvedRoute = props.approvedRoute;

    const corrections = correctionsSchema(props.stage.outputContract.schema);
    this.decisionContract = StageContract.fromObject(reviewResultSchema(corrections));

    // The decision API: validators generated now from the decision contract and the reviewed stage's contract.
    const fn = handlerFunction(this, 'DecisionFunction', {
      description: `cdk-ai-pipeline review ${name}: takes reviewers' decisions (function URL, AWS_IAM)`,
      code: stageCode(Bundles.REVIEW_DECISION, { stage: name, kind: 'review' }, { request: decisionRequestSchema(), corrections }),
      timeout: Duration.seconds(30),
      memorySize: 256,
      noDeadLetterReason: 'Invoked synchronously through its function URL: a failure returns to the reviewer\'s client as an error response; there is no asynchronous event to keep.',
      environment: { [Env.REVIEW_STEPS]: name },
    });
    this.decisionFunction = fn.fn;
    this.decisionRole = fn.role;
    this.decisionUrl = fn.fn.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.AWS_IAM });

    if (props.queue) {
      this.notificationQueue = props.queue;
    } else {
      this.notificationTopic = props.topic ?? new sns.Topic(this, 'Notifications', {
        displayName: `cdk-ai-pipeline review ${name}`,
        masterKey: new kms.Key(this, 'NotificationsKey', { enableKeyRotation: true, description: `cdk-ai-pipeline review ${name}: notifications` }),
        enforceSSL: true,
      });
    }

    const message = sfn.TaskInput.fromObject({
      review: name,
      runId: sfn.JsonPath.stringAt('$$.Execution.Name'),
      document: sfn.JsonPath.objectAt('$.document'),
      reviewedStage: props.stage.stageId,
      results: sfn.JsonPath.objectAt('$.results'),
      taskToken: sfn.JsonPath.taskToken,
      // Seconds from the notification (its SNS Timestamp / SQS SentTimestamp). Not $$.State.EnteredTime:
      // the local interpreter has no $$.State, and the local and cloud runs must read the same definition.
      deadline: { seconds: deadline.toSeconds() },
      decisionUrl: this.decisionUrl.url,
      decisions: 'POST {"taskToken", "decision": "approve" | "reject" | "correct", "comment"?, "corrections"?} signed with SigV4 (service lambda); corrections only with "correct"',
    });
    const common = {
      stateName: name,
      integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
      taskTimeout: sfn.Timeout.duration(deadline),
      heartbeatTimeout: props.heartbeat ? sfn.Timeout.duration(props.heartbeat) : undefined,
      resultPath: `$.results.${name}`,
      comment: `human review of ${props.stage.stageId}: waits for a decision until the deadline, then escalates to ${props.escalation.name}`,
    };
    this.task = this.notificationQueue
      ? new tasks.SqsSendMessage(this, 'Resource', { ...common, queue: this.notificationQueue, messageBody: message })
      : new tasks.SnsPublish(this, 'Resource', { ...common, topic: this.notificationTopic!, message, subject: `cdk-ai-pipeline: review ${name}` });
    this.task.addRetry({ errors: this.notificationQueue ? SQS_TRANSIENT : SNS_TRANSIENT, ...DELIVERY_RETRY });

    acknowledgeWildcards(this, [
      XRAY_REASON,
      {
        matches: (f) => f.endsWith(`/stages/${name}/decisions/*`),
        reason: `The decision API writes decision records only under 'stages/${name}/decisions/' of the audit bucket; their keys carry the task token's hash and the time.`,
      },
    ]);
  }

  /** The step's name: the review task's state name (and its key under `$.results`). */
  public get stepName(): string {
    return this.name;
  }

  /**
   * Grants calling the decision API (its function URL, AWS_IAM auth) to reviewers or their tooling.
   * @param grantee who decides
   */
  public grantDecide(grantee: iam.IGrantable): iam.Grant {
    return this.decisionFunction.grantInvokeUrl(grantee);
  }

  /**
   * The destination states built, for tools that run the pipeline (the local runner).
   * @internal
   */
  public get _destinations(): Delivered[] {
    return [...this.delivered];
  }

  /**
   * Every destination of the review, for the pipeline's name check.
   * @internal
   */
  public get _routes(): RouteDestination[] {
    return [this.escalation, this.rejectedRoute, ...(this.approvedRoute ? [this.approvedRoute] : [])];
  }

  /**
   * Wires the review: (the condition →) the waiting task → the decision's Choice → a destination and
   * `end`, or `next`; a missed deadline → `<review>-timed-out` → the escalation → `end`. Returns the start.
   * @internal
   */
  public _wire(guarded: (path: string) => boolean, next: sfn.IChainable, end: sfn.IChainable, onError: sfn.IChainable): sfn.State {
    const destination = (d: RouteDestination, suffix: string) => {
      const state = d._state(this, `${this.name}-${suffix}`, `${this.name}-${suffix}`);
      if (state instanceof sfn.TaskStateBase) {
        state.addRetry({ errors: [...d._transientErrors], ...DELIVERY_RETRY });
        state.addCatch(onError, { errors: ['States.ALL'], resultPath: '$.error' });
      }
      (state as unknown as sfn.INextable).next(end);
      this.delivered.push({ state: state.stateId, rule: `${this.name}-${suffix}`, destination: d.name, kind: d.kind });
      return state;
    };
    const path = `$.results.${this.name}`;
    const timedOut = new sfn.Pass(this, 'TimedOut', {
      stateName: `${this.name}-timed-out`,
      comment: 'no decision before the deadline (or the heartbeat): recorded, then escalated',
      parameters: { 'decision': 'timeout', 'error.$': `${path}.Error`, 'deadlineSeconds': this.deadline.toSeconds() },
      resultPath: path,
    });
    timedOut.next(destination(this.escalation, 'escalated'));
    this.task.addCatch(timedOut, { errors: ['States.Timeout', 'States.HeartbeatTimeout'], resultPath: path });
    this.task.addCatch(onError, { errors: ['States.ALL'], resultPath: '$.error' });

    const decided = new sfn.Choice(this, 'Decided', { stateName: `${this.name}-decision`, comment: 'reject ends the run at its route; approve at its route or goes on; correct goes on' });
    decided.when(sfn.Condition.stringEquals(`${path}.decision`, 'reject'), destination(this.rejectedRoute, 'rejected'), { comment: 'rejected' });
    if (this.approvedRoute) {
      decided.when(sfn.Condition.stringEquals(`${path}.decision`, 'approve'), destination(this.approvedRoute, 'approved'), { comment: 'approved by a person' });
    }
    decided.otherwise(next);
    this.task.next(decided);
    if (!this.condition) return this.task;
    const when = new sfn.Choice(this, 'When', { stateName: `${this.name}-when`, comment: 'review only when the condition holds' });
    when.when(this.condition._toCondition(guarded), this.task, { comment: this.condition.description });
    when.otherwise(next);
    return when;
  }

  /**
   * Connects the review to its pipeline: the decision API may answer this state machine's tasks and
   * write decision records; the state machine may notify reviewers and deliver to the destinations.
   * @internal
   */
  public _bind(stateMachine: sfn.StateMachine, auditSink: IAuditSink, pipelineName: string): void {
    if (this.bound) {
      invalid(this, 'the review is already used by another pipeline. Create one HumanReview per Pipeline.');
    }
    this.bound = true;
    this.decisionFunction.addEnvironment(Env.PIPELINE_NAME, pipelineName);
    this.decisionFunction.addEnvironment(Env.AUDIT_BUCKET, auditSink.bucket.bucketName);
    this.decisionFunction.addEnvironment(Env.AUDIT_BUS, auditSink.eventBus.eventBusName);
    grantWritePrefix(this.decisionRole, auditSink.bucket, `stages/${this.name}/decisions/`, false);
    auditSink.grantPutEvents(this.decisionRole);
    // Its own policy, not the role's default one: the function does not wait for it, so the state
    // machine (whose notification names the function's URL) and this policy (which names the state
    // machine) form no cycle. SendTaskFailure is not granted: the API never fails a task.
    new iam.Policy(this, 'AnswerTasks', {
      roles: [this.decisionRole],
      statements: [new iam.PolicyStatement({
        actions: ['states:SendTaskSuccess', 'states:SendTaskHeartbeat'],
        resources: [stateMachine.stateMachineArn],
      })],
    });
    const keys = new Set([
      ...(this.notificationTopic?.masterKey ? [this.notificationTopic.masterKey] : []),
      ...this._routes.flatMap((d) => d._keys),
    ]);
    for (const key of keys) grantKey(stateMachine, key, ['kms:GenerateDataKey', 'kms:Decrypt']);
  }
}
