import { Annotations, ArnFormat, CfnElement, CfnResource, Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as logsDestinations from 'aws-cdk-lib/aws-logs-destinations';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { ChunkedStage } from './chunked-stage';
import { ConditionalStage } from './conditional-stage';
import { ParallelStages } from './parallel-stages';
import { PipelineGate } from './pipeline-gate';
import { IPipelineStep } from './pipeline-step';
import { AuditSink, IAuditSink } from '../audit/audit-sink';
import { IServiceQuota } from '../capacity/service-quota';
import { DOCUMENT_SCHEMA } from '../contracts/schemas';
import { PrivateNetworkOptions } from '../network/private-network';
import { ResultOutputBase } from '../outputs/result-output-base';
import { acknowledgeRule, acknowledgeWildcards, XRAY_REASON } from '../private/acknowledge';
import { secureBucket } from '../private/buckets';
import { checkSatisfies, lookupPath } from '../private/contract-check';
import { applySettings, checkSettings } from '../private/deployment-settings';
import { catchStageFailure, namedFailure } from '../private/failure-catch';
import { Bundles, bundleCode } from '../private/handler-asset';
import { countAlarm, handlerFunction, RECORDER_RETRY, taskRetry } from '../private/handler-function';
import { applyNetwork } from '../private/network';
import { checkRuleCondition } from '../private/rule-check';
import { invalid } from '../private/validation';
import { HumanReview } from '../review/human-review';
import { RouteDestination } from '../routing/route-destination';
import { RoutingPolicy } from '../routing/routing-policy';
import { Env, ErrorNames, Keys } from '../shared';
import { CHUNK_REF_SCHEMA } from '../shared/chunks-config';
import { EXPRESS_BACKSTOP_EVENTS } from '../shared/run-claims';
import { IInferenceStage, InferenceStageBase, StageKind } from '../stages/inference-stage-base';
import { IDocumentTrigger } from '../trigger/document-trigger';

/** Props of a pipeline. */
export interface PipelineProps {
  /** What starts the runs. */
  readonly trigger: IDocumentTrigger;
  /**
   * The steps, in order: inference stages, the composite steps `ParallelStages`,
   * `ConditionalStage`, `PipelineGate` and `ChunkedStage`, and `HumanReview`. Each stage's input contract must be satisfied by the
   * stages that surely ran before it.
   */
  readonly stages: IPipelineStep[];
  /**
   * Rules that route a run once the stages are done.
   * @default - no routing: a run ends after its last stage
   */
  readonly routing?: RoutingPolicy;
  /**
   * Output steps run at the end of every successful run, in order, after routing (or a gate's
   * destination) and before the run record: `ResultOutput.s3(...)`, `ResultOutput.openSearch(...)`.
   * @default - no outputs: results stay in the execution's output and the audit trail
   */
  readonly outputs?: ResultOutputBase[];
  /**
   * Where the audit trail goes.
   * @default - a new AuditSink
   */
  readonly auditSink?: IAuditSink;
  /**
   * The pipeline's name in audit records and events (letters, digits, '-', '_').
   * @default - the construct id
   */
  readonly pipelineName?: string;
  /**
   * Longest a run may take before Step Functions stops it (the backstop then audits it).
   * @default - Duration.hours(2) for a Standard workflow, Duration.minutes(5) for an Express one
   */
  readonly timeout?: Duration;
  /**
   * The kind of state machine. `EXPRESS` suits high volumes of short runs (priced per request and
   * duration instead of per state transition): it is allowed only when every step is synchronous and
   * short (no Textract or Transcribe stage, no HumanReview, no ChunkedStage, no task-token or
   * Distributed Map state) and `timeout` is at most 5 minutes. The trigger then keeps each start
   * exactly once with a claim table (Express does not deduplicate execution names).
   * @default sfn.StateMachineType.STANDARD
   */
  readonly workflowType?: sfn.StateMachineType;
  /**
   * Working data (extracted text, model replies) is deleted after this long.
   * @default Duration.days(30)
   */
  readonly workingDataExpiration?: Duration;
  /**
   * What happens to the working bucket and key when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * The topic every alarm of the pipeline, its trigger and its steps notifies (subscribe your on-call
   * to it). A topic you pass must let CloudWatch publish (and use its key, if encrypted).
   * @default - a new topic encrypted with the pipeline's key
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * Reserved concurrency of every function the pipeline, its trigger and its steps run.
   * @default - no reserved concurrency (the account's unreserved pool)
   */
  readonly functionConcurrency?: number;
  /**
   * A permissions boundary set on every role the pipeline, its trigger and its steps create.
   * @default - no permissions boundary
   */
  readonly permissionsBoundary?: iam.IManagedPolicy;
  /**
   * A prefix of the name of every role the pipeline, its trigger and its steps create (the rest is a
   * unique, stable suffix; 64 characters in all), for accounts whose policies match role names.
   * @default - CloudFormation names the roles
   */
  readonly roleNamePrefix?: string;
  /**
   * Run every function of the pipeline, its trigger, steps and outputs in a VPC's private subnets,
   * reaching AWS services only through VPC endpoints (made for the services the functions call, unless
   * `createEndpoints` is false), behind a security group that allows HTTPS out to them only.
   * @default - the functions run outside a VPC (Lambda's own network; calls go to public AWS endpoints over TLS)
   */
  readonly network?: PrivateNetworkOptions;
}

const NAME = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_STAGES = 50;

/**
 * A multi-stage AI pipeline as one Standard Step Functions state machine (JSONPath): the trigger
 * starts a run per document, the stages run in order (each result at `$.results.<id>`), the routing
 * policy picks a destination, and an audit record is written per stage and per run.
 *
 * Every stage has a timeout, bounded retries with full jitter on its service's transient errors, and
 * a catch to the failure path, which records the error in the audit trail, moves and deletes
 * nothing, and ends in a Fail state carrying the error's name. A rule on failed, timed-out or
 * aborted executions audits what the workflow could not catch.
 *
 * At synth time the pipeline checks that each stage's input contract is satisfied by the stages
 * before it, and that routing rules read declared paths with the declared types.
 */
export class Pipeline extends Construct {
  /** The state machine (the pipeline's main child, id `Resource`). */
  public readonly stateMachine: sfn.StateMachine;
  /** The audit sink. */
  public readonly auditSink: IAuditSink;
  /** The working bucket: stage outputs too large to travel in the state, under `stages/<id>/`. */
  public readonly workingBucket: s3.Bucket;
  /** The key of the working bucket. */
  public readonly encryptionKey: kms.Key;
  /** The function writing run records (end of run, failure path, backstop). */
  public readonly recorder: lambda.Function;
  /** Alarms on failed, timed-out and throttled executions. */
  public readonly alarms: cloudwatch.Alarm[];
  /** The topic every alarm of the pipeline, its trigger and its steps notifies. */
  public readonly alarmTopic: sns.ITopic;
  /** The pipeline's name in audit records. */
  public readonly pipelineName: string;
  /** Every inference stage, in order, the stages of parallel branches and conditional stages included. */
  public readonly stages: IInferenceStage[];
  /** The steps, in order, as given. */
  public readonly steps: IPipelineStep[];
  /** The kind of state machine: Standard or Express. */
  public readonly workflowType: sfn.StateMachineType;

  constructor(scope: Construct, id: string, props: PipelineProps) {
    super(scope, id);
    this.pipelineName = props.pipelineName ?? id;
    if (!Token.isUnresolved(this.pipelineName) && !NAME.test(this.pipelineName)) {
      invalid(this, `\`pipelineName\` must be 1-64 letters, digits, '-' or '_', got: '${this.pipelineName}'. Set \`pipelineName\`, e.g. 'contracts'.`);
    }
    if (props.stages.length === 0) {
      invalid(this, '`stages` must hold at least one stage, got: []. Pass the stages in order, e.g. [extract, classify, summarize].');
    }
    if (props.stages.length > MAX_STAGES) {
      invalid(this, `\`stages\` holds ${props.stages.length} stages; at most ${MAX_STAGES} are supported. Split the work into several pipelines.`);
    }
    const steps = [...props.stages];
    const stages = flattenSteps(this, steps);
    const ids = new Set<string>();
    for (const stage of stages) {
      if (ids.has(stage.stageId)) {
        invalid(this, `\`stages\` holds two stages with the id '${stage.stageId}'. Each stage id is a key under $.results: give each stage its own id.`);
      }
      ids.add(stage.stageId);
    }
    for (const step of steps) {
      if (!('stageId' in step) && ids.has(step.stepName)) {
        invalid(this, `\`stages\` holds a step named '${step.stepName}' and a stage with that id. State names must be unique: rename the step.`);
      }
    }
    checkDestinationNames(this, steps, props.routing);
    this.workflowType = props.workflowType ?? sfn.StateMachineType.STANDARD;
    const express = this.workflowType === sfn.StateMachineType.EXPRESS;
    const timeout = props.timeout ?? (express ? Duration.minutes(EXPRESS_MAX_MINUTES) : Duration.hours(2));
    if (express) checkExpressSteps(this, steps, timeout);
    const known = !timeout.isUnresolved() && stages.every((s) => !s.timeout.isUnresolved());
    const longest = known ? steps.reduce((sum, step) => sum + longestSeconds(step), 0) : 0;
    if (known && timeout.toSeconds() < longest) {
      invalid(this, `\`timeout\` (${timeout.toHumanString()}) is shorter than the stages' timeouts added up (${Duration.seconds(longest).toHumanString()}). Raise \`timeout\` or lower the stages' timeouts.`);
    }
    const waitsKnown = known && stages.every((s) => !quotaOf(s)?.maxWait.isUnresolved());
    const waits = waitsKnown ? steps.reduce((sum, step) => sum + longestSeconds(step, true), 0) : 0;
    if (waits > longest && timeout.toSeconds() < waits) {
      if (express) {
        const waiting = stages.filter((s) => quotaOf(s)).map((s) => `'${s.stageId}' (quota '${quotaOf(s)!.quotaId}', maxWait ${quotaOf(s)!.maxWait.toHumanString()})`);
        invalid(this, `\`workflowType\` is EXPRESS, but the stages' timeouts plus their quotas' \`maxWait\` add up to ${Duration.seconds(waits).toHumanString()}, more than \`timeout\` (${timeout.toHumanString()}; an Express run lasts at most 5 minutes): ${waiting.join(', ')}. `
          + 'Fix: lower the quotas\' `maxWait` (and the stages\' timeouts) to fit, or use a Standard workflow (leave `workflowType` unset).');
      }
      const quotas = stages.filter((s) => quotaOf(s)).map((s) => `${s.stageId} (quota '${quotaOf(s)!.quotaId}', maxWait ${quotaOf(s)!.maxWait.toHumanString()})`);
      invalid(this, `\`timeout\` (${timeout.toHumanString()}) is shorter than the stages' timeouts plus their quotas' \`maxWait\` added up (${Duration.seconds(waits).toHumanString()}): ${quotas.join(', ')}. `
        + 'A run waiting for capacity would time out instead of waiting. Raise `timeout`, or lower the quotas\' `maxWait`.');
    }
    this.steps = steps;
    this.stages = stages;
    const plan = checkContracts(this, steps);
    const reviews = steps.filter((s): s is HumanReview => s instanceof HumanReview);

    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const { functionConcurrency, permissionsBoundary, roleNamePrefix } = props;
    const settings = { functionConcurrency, permissionsBoundary, roleNamePrefix };
    for (const problem of checkSettings(settings)) invalid(this, problem);
    this.auditSink = props.auditSink ?? new AuditSink(this, 'Audit');
    this.encryptionKey = new kms.Key(this, 'Key', {
      enableKeyRotation: true,
      description: `cdk-ai-pipeline ${this.pipelineName}: working data`,
      removalPolicy,
    });
    this.workingBucket = secureBucket(this, 'Working', {
      encryptionKey: this.encryptionKey,
      accessLogs: this.auditSink.accessLogsBucket,
      accessLogsPrefix: `working/${this.pipelineName}/`,
      lifecycleRules: [{
        expiration: props.workingDataExpiration ?? Duration.days(30),
        noncurrentVersionExpiration: Duration.days(1),
        abortIncompleteMultipartUploadAfter: Duration.days(1),
      }],
      removalPolicy,
    });

    stages.forEach((stage) => stage.attach({
      pipelineName: this.pipelineName,
      documentBucket: props.trigger.documentBucket,
      documentPrefix: props.trigger.documentPrefix,
      workingBucket: this.workingBucket,
      auditSink: this.auditSink,
      upstreamStages: plan.upstream.get(stage.stageId) ?? [],
    }));
    const chunked = chunkedSteps(steps);
    for (const step of chunked) {
      const sourceStage = plan.chunkSources.get(step)!;
      step._attach({ scope: this, pipelineName: this.pipelineName, workingBucket: this.workingBucket, auditSink: this.auditSink, sourceStage });
    }

    // The recorder writes run records: at the end of a run, on the failure path, and from the backstop.
    const recorder = handlerFunction(this, 'Recorder', {
      description: `cdk-ai-pipeline ${this.pipelineName}: writes run audit records`,
      code: bundleCode(Bundles.RECORDER),
      timeout: Duration.seconds(30),
      memorySize: 256,
      noDeadLetterReason: express
        ? 'Invoked synchronously by the state machine, and asynchronously only by the Express backstop\'s log subscription, whose deliveries it could not record go to its on-failure destination (BackstopDeadLetters).'
        : 'Invoked synchronously by the state machine, and asynchronously only by the backstop rule, whose target keeps the events it could not deliver in its own dead-letter queue (BackstopDeadLetters).',
      environment: {
        [Env.PIPELINE_NAME]: this.pipelineName,
        [Env.AUDIT_BUCKET]: this.auditSink.bucket.bucketName,
        [Env.AUDIT_BUS]: this.auditSink.eventBus.eventBusName,
        [Env.STAGE_ORDER]: stages.map((s) => s.stageId).join(','),
        ...(reviews.length > 0 ? { [Env.REVIEW_STEPS]: reviews.map((r) => r.stepName).join(',') } : {}),
        // A chunked step's split and reduce keep a record of their own, chained before its stage's.
        ...(chunked.length > 0 ? {
          [Env.CHAIN_ORDER]: stages.flatMap((s) => {
            const splits = chunked.filter((c) => c.stage === s).map((c) => c.stepName);
            return [...splits, splits.length > 0 ? `${s.stageId}*` : s.stageId];
          }).join(','),
        } : {}),
      },
    });
    this.recorder = recorder.fn;
    const recorderRole = recorder.role;
    this.auditSink.grantWriteRunRecords(recorderRole);
    // The run record chains the run's stage records (ADR-0017): the recorder reads them.
    for (const stage of stages) this.auditSink.grantReadStageRecords(recorderRole, stage.stageId);
    for (const step of chunked) this.auditSink.grantReadStageRecords(recorderRole, step.stepName);

    const recordPayload = (action: string) => sfn.TaskInput.fromObject({
      action,
      state: sfn.JsonPath.entirePayload,
      runId: sfn.JsonPath.stringAt('$$.Execution.Name'),
      startedAt: sfn.JsonPath.stringAt('$$.Execution.StartTime'),
    });
    const lambdaRetry = taskRetry(RECORDER_RETRY);
    const recordFailure = new tasks.LambdaInvoke(this, 'RecordFailure', {
      lambdaFunction: this.recorder,
      payload: recordPayload('failure'),
      payloadResponseOnly: true,
      resultPath: '$.failure',
      retryOnServiceExceptions: false,
      taskTimeout: sfn.Timeout.duration(Duration.minutes(1)),
      comment: 'failure path: audit the error; the document stays where it is',
    });
    recordFailure.addRetry(lambdaRetry);
    // The recorder (or the audit bucket) is down for good: the execution fails and the backstop writes
    // the run record later. When the route was already delivered, the execution's cause carries it
    // (`Audit.RecorderUnavailable`), so that record can say where the document went (ADR-0026).
    const recorderDown = new sfn.Choice(this, 'RecorderUnavailable', { comment: 'no run record could be written: was the route delivered?' });
    const carryRoute = new sfn.Pass(this, 'RecorderUnavailable-Route', {
      comment: 'the route was delivered: carry it in the execution\'s cause for the backstop',
      parameters: { 'route.$': 'States.JsonToString($.route)' },
      resultPath: '$.recorderGap',
    });
    carryRoute.next(new sfn.Fail(this, 'RecordingFailedAfterDelivery', {
      error: ErrorNames.AUDIT_RECORDER_UNAVAILABLE,
      causePath: '$.recorderGap.route',
      comment: 'delivered, not recorded: the backstop records the delivered route and the audit gap',
    }));
    recorderDown.when(sfn.Condition.isPresent('$.route.destination'), carryRoute);
    recorderDown.otherwise(new sfn.Fail(this, 'RecordingFailed', {
      errorPath: '$.recorderError.Error',
      causePath: '$.recorderError.Cause',
      comment: 'not recorded: the backstop records the run',
    }));
    recordFailure.addCatch(recorderDown, { errors: ['States.ALL'], resultPath: '$.recorderError' });
    recordFailure.next(new sfn.Fail(this, 'Failed', {
      errorPath: '$.failure.error',
      causePath: '$.failure.cause',
      comment: 'the run failed; its audit record names the stage and the error',
    }));
    const recordRun = new tasks.LambdaInvoke(this, 'RecordRun', {
      lambdaFunction: this.recorder,
      payload: recordPayload('run'),
      payloadResponseOnly: true,
      resultPath: '$.audit',
      retryOnServiceExceptions: false,
      taskTimeout: sfn.Timeout.duration(Duration.minutes(1)),
      comment: 'the run record (route, stage result hashes)',
    });
    recordRun.addRetry(lambdaRetry);
    recordRun.addCatch(recordFailure, { errors: ['States.ALL'], resultPath: '$.error' });

    // Outputs run between the route and the run record; a run ended by a gate's destination gets them too.
    const outputs = props.outputs ?? [];
    for (const output of outputs) {
      const taken = ids.has(output.outputId) || steps.some((st) => st.stepName === output.outputId);
      if (taken || outputs.filter((o) => o.outputId === output.outputId).length > 1) {
        invalid(this, `\`outputs\` holds an output with the id '${output.outputId}', which another stage, step or output already has. State names must be unique: rename the output.`);
      }
    }
    let finish: sfn.IChainable = recordRun;
    for (const output of [...outputs].reverse()) {
      const task = output._attach({
        pipelineName: this.pipelineName,
        auditBucket: this.auditSink.bucket,
        workingBucket: this.workingBucket,
        resultsSchema: resultsSchema(plan.entries),
        stageIds: stages.map((st) => st.stageId),
      });
      task.addCatch(recordFailure, { errors: ['States.ALL'], resultPath: '$.error' });
      task.next(finish);
      finish = task;
    }

    let after: sfn.IChainable = finish;
    if (props.routing) {
      after = props.routing._build({
        resultsSchema: resultsSchema(plan.entries),
        autoApproveGuards: stages.filter((s) => s.kind === StageKind.BEDROCK).map((s) => `${s.stageId}.screening.promptInjection`),
        optionalStages: plan.entries.filter((e) => !e.guaranteed).map((e) => e.stage.stageId),
        next: finish,
        onError: recordFailure,
      });
    }
    // Built from the end: each step is wired to the step after it.
    const catchAll = { errors: ['States.ALL'], resultPath: '$.error' };
    let next: sfn.IChainable = after;
    for (const step of [...steps].reverse()) {
      const guarded = (path: string) => plan.optionalPaths.get(step)?.has(path) ?? false;
      if (step instanceof ParallelStages) {
        step._wireChunked();
        step.state.addCatch(recordFailure, catchAll);
        step.state.next(next);
        next = step.state;
      } else if (step instanceof ConditionalStage) {
        catchStageFailure(this, step.stage, recordFailure);
        step._wire(guarded, next);
        next = step.choice;
      } else if (step instanceof PipelineGate) {
        step._wire(guarded, next, finish, recordFailure);
        next = step.choice;
      } else if (step instanceof HumanReview) {
        next = step._wire(guarded, next, finish, recordFailure);
      } else if (step instanceof ChunkedStage) {
        step._wire(next, namedFailure(this, step.stepName, step.stage.stageId, recordFailure), catchAll);
        next = step.startState;
      } else {
        const stage = step as IInferenceStage;
        catchStageFailure(this, stage, recordFailure);
        for (const end of stage.endStates) end.next(next);
        next = stage;
      }
    }
    const chain = next;

    this.stateMachine = new sfn.StateMachine(this, 'Resource', {
      definitionBody: sfn.DefinitionBody.fromChainable(chain),
      stateMachineType: this.workflowType,
      queryLanguage: sfn.QueryLanguage.JSON_PATH,
      timeout,
      tracingEnabled: true,
      logs: { destination: this.auditSink.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
      comment: `cdk-ai-pipeline ${this.pipelineName}: ${steps.map((s) => s.stepName).join(' -> ')}${props.routing ? ' -> routing' : ''}`,
    });
    for (const stage of stages) stage.grantTaskResponse(this.stateMachine);
    props.routing?._grant(this.stateMachine);
    const gates = steps.filter((s): s is PipelineGate => s instanceof PipelineGate);
    for (const gate of gates) gate._grant(this.stateMachine);
    for (const review of reviews) review._bind(this.stateMachine, this.auditSink, this.pipelineName);
    if (express) checkExpressStates(this, chain);
    props.trigger.bind(this.stateMachine, { workflowType: this.workflowType, encryptionKey: this.encryptionKey, removalPolicy });

    // What tools that run the pipeline from its template (the local runner) need to know.
    const logicalId = (c: Construct) => Stack.of(this).getLogicalId(c.node.defaultChild as CfnElement);
    (this.stateMachine.node.defaultChild as CfnResource).addMetadata('cdk-ai-pipeline', {
      version: 1,
      pipeline: this.pipelineName,
      workflowType: this.workflowType,
      stages: stages.map((s) => ({
        id: s.stageId,
        kind: s.kind,
        handler: logicalId(s.handler),
        // what `cdk-ai-pipeline capacity` reads: model, tokens per call, endpoint, quota
        ...(s instanceof InferenceStageBase ? s._capacityMetadata() : {}),
      })),
      recorder: logicalId(this.recorder),
      records: { run: recordRun.stateId, failure: recordFailure.stateId },
      documents: { prefix: props.trigger.documentPrefix, suffixes: props.trigger.documentSuffixes },
      destinations: [...gates.flatMap((g) => g._destinations), ...reviews.flatMap((r) => r._destinations), ...(props.routing?._destinations ?? [])],
      outputs: outputs.map((o) => ({ state: o.outputId, kind: o.kind, handler: logicalId(o.handler) })),
      ...(reviews.length > 0
        ? { reviews: reviews.map((r) => ({ name: r.stepName, stage: r.reviewedStage.stageId, handler: logicalId(r.decisionFunction) })) }
        : {}),
      ...(chunked.length > 0 ? {
        chunks: chunked.map((c) => ({ step: c.stepName, stage: c.stage.stageId, handler: logicalId(c.handler), states: c.functionStates })),
      } : {}),
    });

    // Backstop: failures the workflow cannot catch (timeouts, aborts) still get a run record; an
    // event the recorder could not take after its retries waits in a dead-letter queue.
    this.encryptionKey.addToResourcePolicy(new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal('events.amazonaws.com')],
      actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
      resources: ['*'],
      conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
    }));
    const backstopDeadLetters = new sqs.Queue(this, 'BackstopDeadLetters', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.encryptionKey,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledgeRule(backstopDeadLetters, 'AwsSolutions-SQS3', 'This queue is the dead-letter queue of the backstop rule\'s target.');
    acknowledgeRule(backstopDeadLetters, 'Serverless-SQSRedrivePolicy', 'This queue is the dead-letter queue of the backstop rule\'s target; a dead-letter queue has none of its own.');
    new events.Rule(this, 'Backstop', {
      description: `cdk-ai-pipeline ${this.pipelineName}: audit runs that failed, timed out or were aborted`,
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: { status: ['FAILED', 'TIMED_OUT', 'ABORTED'], stateMachineArn: [this.stateMachine.stateMachineArn] },
      },
      targets: [new targets.LambdaFunction(this.recorder, {
        retryAttempts: 10, maxEventAge: Duration.hours(24), deadLetterQueue: backstopDeadLetters,
      })],
    });
    // EventBridge sends no status changes for Express workflows: their backstop is a subscription to the
    // state machine's log group (ADR-0031).
    if (express) this.subscribeExpressBackstop(props.trigger, recorderRole, backstopDeadLetters);

    const alarm = (name: string, metric: cloudwatch.Metric, what: string) => countAlarm(this, name, metric, `cdk-ai-pipeline ${this.pipelineName}: ${what}`);
    this.alarms = [
      alarm('FailedAlarm', this.stateMachine.metricFailed({ period: Duration.minutes(5) }), 'runs failed (see the run audit records)'),
      alarm('TimedOutAlarm', this.stateMachine.metricTimedOut({ period: Duration.minutes(5) }), 'runs timed out'),
      alarm('ThrottledAlarm', this.stateMachine.metricThrottled({ period: Duration.minutes(5) }), 'state transitions throttled'),
      alarm('BackstopDeadLettersAlarm', backstopDeadLetters.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5) }),
        'failed runs the backstop could not record wait in its dead-letter queue'),
    ];
    this.alarmTopic = props.alarmTopic ?? this.newAlarmTopic();
    const scopes: Construct[] = [this, props.trigger, ...steps, ...stages, ...chunked, ...outputs];
    const action = new cloudwatchActions.SnsAction(this.alarmTopic);
    for (const owner of new Set(scopes)) {
      for (const c of owner.node.findAll()) if (c instanceof cloudwatch.Alarm) c.addAlarmAction(action);
    }
    applySettings(scopes, settings);
    if (props.network) applyNetwork(this, scopes, props.network);

    acknowledgeWildcards(this, [
      XRAY_REASON,
      {
        matches: (f) => [...stages.map((st) => st.handler), this.recorder, ...outputs.map((o) => o.handler)]
          .some((fn) => f === `Resource::<${Stack.of(this).resolve(logicalId(fn))}.Arn>:*`),
        reason: 'Step Functions may invoke the versions of the pipeline\'s own stage, output and recorder functions (CDK grants function:*).',
      },
      {
        matches: (f, actions) => f === 'Action::kms:GenerateDataKey*' && actions.length === 2 && actions.includes('kms:Decrypt'),
        reason: 'CDK\'s SQS delivery task grants kms:GenerateDataKey* on the encrypted review queue\'s key (one key, data-key generation only).',
      },
      {
        matches: (f, actions) => f === 'Resource::*' && actions.every((a) => a.startsWith('logs:')),
        reason: 'CloudWatch Logs delivery actions (CreateLogDelivery, ...) that Step Functions logging needs do not support resource-level permissions.',
      },
      {
        matches: (f) => f.endsWith(`/${Keys.runsPrefix}*`),
        reason: 'The recorder writes and reads run records only under \'runs/\'; their keys carry the run id.',
      },
      {
        matches: (f) => stages.some((st) => f.endsWith(`/${Keys.stagePrefix(st.stageId)}*`)),
        reason: 'The recorder reads the stage records it chains into the run record, under each stage\'s own \'stages/<id>/\' prefix; their keys carry the run id.',
      },
      {
        matches: (f) => chunked.some((c) => f.endsWith(`/${Keys.stagePrefix(c.stepName)}*`)),
        reason: 'The recorder reads the records of each chunked step\'s split and reduce, which it chains into the run record, under the step\'s own \'stages/<step>/\' prefix; their keys carry the run id.',
      },
    ]);
  }

  /**
   * The Express backstop (ADR-0031): the log group's `ExecutionFailed`, `ExecutionTimedOut` and
   * `ExecutionAborted` events of this state machine go to the recorder, which reads the run's document
   * from the trigger's run claim; deliveries it could not record go to the backstop's dead-letter queue.
   */
  private subscribeExpressBackstop(trigger: IDocumentTrigger, role: iam.IGrantable, deadLetters: sqs.IQueue): void {
    const stack = Stack.of(this);
    const logGroup = this.auditSink.logGroup;
    const claims = trigger.runClaims;
    if (claims) {
      claims.grant(role, 'dynamodb:GetItem');
      iam.Grant.addToPrincipal({ grantee: role, actions: ['kms:Decrypt'], resourceArns: [(claims.encryptionKey ?? this.encryptionKey).keyArn] });
      this.recorder.addEnvironment(Env.CLAIM_TABLE, claims.tableName);
    } else {
      Annotations.of(this).addWarningV2('cdk-ai-pipeline:expressBackstopWithoutClaims',
        `[Pipeline ${this.node.path}] the trigger keeps no run claims (\`runClaims\`): a run the Express backstop records (timed out, aborted) names no document. `
        + 'Fix: use a trigger of this library, or give yours a `runClaims` table.');
    }
    // CloudWatch Logs may invoke the recorder for this log group only, from this account.
    const permission = new lambda.CfnPermission(this, 'ExpressBackstopInvoke', {
      action: 'lambda:InvokeFunction',
      functionName: this.recorder.functionArn,
      principal: 'logs.amazonaws.com',
      sourceArn: logGroup.logGroupArn,
      sourceAccount: stack.account,
    });
    // Only this state machine's executions (`arn:...:express:<name>:<execution>:<id>`), only terminal failures.
    const executions = stack.formatArn({
      service: 'states', resource: 'express', resourceName: `${this.stateMachine.stateMachineName}:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const filter = new logs.SubscriptionFilter(this, 'ExpressBackstop', {
      logGroup,
      destination: new logsDestinations.LambdaDestination(this.recorder, { addPermissions: false }),
      filterPattern: logs.FilterPattern.all(
        logs.FilterPattern.any(...Object.keys(EXPRESS_BACKSTOP_EVENTS).map((type) => logs.FilterPattern.stringValue('$.type', '=', type))),
        logs.FilterPattern.stringValue('$.execution_arn', '=', executions),
      ),
    });
    filter.node.addDependency(permission);
    // CloudWatch Logs invokes asynchronously: after Lambda's retries, a delivery goes to the dead-letter queue.
    this.recorder.configureAsyncInvoke({
      retryAttempts: 2,
      maxEventAge: Duration.hours(6),
      onFailure: { bind: () => ({ destination: deadLetters.queueArn }) },
    });
    iam.Grant.addToPrincipal({ grantee: role, actions: ['sqs:SendMessage'], resourceArns: [deadLetters.queueArn] });
    iam.Grant.addToPrincipal({ grantee: role, actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resourceArns: [this.encryptionKey.keyArn] });
  }

  /** The default alarm topic: encrypted with the pipeline's key, which CloudWatch may use for this account's alarms. */
  private newAlarmTopic(): sns.Topic {
    const stack = Stack.of(this);
    this.encryptionKey.addToResourcePolicy(new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
      resources: ['*'],
      conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
    }));
    return new sns.Topic(this, 'AlarmTopic', {
      displayName: `cdk-ai-pipeline ${this.pipelineName} alarms`,
      masterKey: this.encryptionKey,
      enforceSSL: true,
    });
  }

  /**
   * Grants starting runs (StartExecution) of this pipeline. An Express pipeline's trigger keeps each
   * start exactly once with its run claims; a start of your own bypasses them (Express does not
   * deduplicate execution names).
   * @param grantee who starts runs
   */
  public grantStartExecution(grantee: iam.IGrantable): iam.Grant {
    return this.stateMachine.grantStartExecution(grantee);
  }
}

/** A stage whose result earlier steps produce; `guaranteed` when a run past this point surely has it. */
interface ResultEntry {
  readonly stage: Pick<IInferenceStage, 'stageId' | 'outputContract'>;
  readonly guaranteed: boolean;
  /** A human review's decision (not a stage: no working data, no handler). */
  readonly review?: boolean;
}

/** What the contract check found: the results at the end, each stage's upstream, each step's optional paths. */
interface StepPlan {
  readonly entries: ResultEntry[];
  readonly upstream: Map<string, string[]>;
  readonly optionalPaths: Map<IPipelineStep, Set<string>>;
  /** The stage whose text each chunked step cuts. */
  readonly chunkSources: Map<ChunkedStage, string>;
}

/** The chunked steps, top-level or as a branch of a parallel step. */
function chunkedSteps(steps: IPipelineStep[]): ChunkedStage[] {
  return steps.flatMap((s) => (s instanceof ChunkedStage ? [s] : s instanceof ParallelStages ? s.chunkedSteps : []));
}

/** Every inference stage of the steps, in order. */
function flattenSteps(pipeline: Pipeline, steps: IPipelineStep[]): IInferenceStage[] {
  return steps.flatMap((step, i) => {
    if (step instanceof ParallelStages) return step.branches.flatMap((b) => b.stages);
    if (step instanceof ConditionalStage) return [step.stage];
    if (step instanceof PipelineGate || step instanceof HumanReview) return [];
    if (step instanceof ChunkedStage) return [step.stage];
    if (!('stageId' in step)) {
      invalid(pipeline, `\`stages[${i}]\` ('${step.stepName}') is neither an inference stage nor a ParallelStages, ConditionalStage, ChunkedStage, PipelineGate or HumanReview. Pass stages made by InferenceStage.* or one of those steps.`);
    }
    return [step as IInferenceStage];
  });
}

/** Two different destinations with one name (across gates and routing) would be one in the runner and the audit trail. */
function checkDestinationNames(pipeline: Pipeline, steps: IPipelineStep[], routing: RoutingPolicy | undefined): void {
  const byName = new Map<string, RouteDestination>();
  const all = [
    ...steps.flatMap((s) => s instanceof PipelineGate ? s.rules.map((r) => r.destination) : []),
    ...steps.flatMap((s) => s instanceof HumanReview ? s._routes : []),
    ...(routing ? [...routing.rules.map((r) => r.destination), routing.defaultRoute] : []),
  ];
  for (const d of all) {
    const seen = byName.get(d.name);
    if (seen && seen !== d) {
      invalid(pipeline, `two different destinations are named '${d.name}' (in its gates and routing policy). Give each destination its own name, or reuse the same RouteDestination object.`);
    }
    byName.set(d.name, d);
  }
}

/** The longest an Express execution may run. */
const EXPRESS_MAX_MINUTES = 5;

/**
 * An Express workflow has no task tokens (`.waitForTaskToken`), no `.sync` jobs, no Distributed Map and
 * lasts at most 5 minutes: fails synth naming the first step that needs a Standard workflow.
 */
function checkExpressSteps(pipeline: Pipeline, steps: IPipelineStep[], timeout: Duration): void {
  const fail = (step: string, why: string) => invalid(pipeline,
    `\`workflowType\` is EXPRESS, but step '${step}' ${why}; an Express workflow runs only synchronous steps for at most 5 minutes. `
    + `Fix: use a Standard workflow (leave \`workflowType\` unset), or move '${step}' to a Standard pipeline.`);
  const checkStage = (stage: IInferenceStage) => {
    if (stage instanceof InferenceStageBase && stage._waitsForCallback) {
      fail(stage.stageId, `is a ${stage.kind} stage, which waits for its asynchronous job's completion with a task token`);
    }
  };
  for (const step of steps) {
    if (step instanceof HumanReview) fail(step.stepName, 'is a HumanReview, which waits for a reviewer\'s decision with a task token (up to its deadline)');
    if (step instanceof ChunkedStage) fail(step.stepName, 'is a ChunkedStage, which maps a stage over chunks of a long text (a Map or Distributed Map of model calls)');
    if (step instanceof ParallelStages) {
      for (const chunked of step.chunkedSteps) fail(chunked.stepName, `is a ChunkedStage (a branch of '${step.stepName}'), which maps a stage over chunks of a long text`);
      step.branches.forEach((b) => b.stages.forEach(checkStage));
    } else if (step instanceof ConditionalStage) {
      checkStage(step.stage);
    } else if ('stageId' in step) {
      checkStage(step as IInferenceStage);
    }
  }
  if (!timeout.isUnresolved() && timeout.toSeconds() > EXPRESS_MAX_MINUTES * 60) {
    invalid(pipeline, `\`timeout\` must be at most ${EXPRESS_MAX_MINUTES} minutes when \`workflowType\` is EXPRESS (an Express execution's limit), got: ${timeout.toHumanString()}. `
      + 'Fix: lower `timeout` (and the stages\' timeouts), or use a Standard workflow (leave `workflowType` unset).');
  }
}

/**
 * The built definition, for what the typed check above cannot see (a custom step or stage of your own):
 * a task-token or `.sync` task, or a Distributed Map, fails synth naming its state.
 */
function checkExpressStates(pipeline: Pipeline, chain: sfn.IChainable): void {
  const stack = Stack.of(pipeline);
  for (const state of sfn.State.findReachableStates(chain.startState, { includeErrorHandlers: true })) {
    const json = JSON.stringify(stack.resolve(state.toStateJson()));
    const why = /\.waitForTaskToken/.test(json) ? 'waits for a task token (.waitForTaskToken)'
      : /\.sync(:2)?"/.test(json) ? 'waits for a job to complete (.sync)'
        : /"Mode":"DISTRIBUTED"/.test(json) ? 'is a Distributed Map' : undefined;
    if (why) {
      invalid(pipeline, `\`workflowType\` is EXPRESS, but state '${state.stateId}' ${why}, which Express workflows do not support. `
        + `Fix: use a Standard workflow (leave \`workflowType\` unset), or remove the step holding '${state.stateId}'.`);
    }
  }
}

/** The chunk function's task timeout (split, reduce). */
const CHUNK_TASK_SECONDS = 300;

/** The quota a stage's calls count against (stages built on InferenceStageBase). */
function quotaOf(stage: IInferenceStage): IServiceQuota | undefined {
  return stage instanceof InferenceStageBase ? stage.quota : undefined;
}

/** The longest a step can take, in seconds (a parallel step: its longest branch). */
function longestSeconds(step: IPipelineStep, waits = false): number {
  const one = (s: IInferenceStage) => s.timeout.toSeconds() + (waits ? quotaOf(s)?.maxWait.toSeconds() ?? 0 : 0);
  const sum = (stages: IInferenceStage[]) => stages.reduce((t, s) => t + one(s), 0);
  if (step instanceof ParallelStages) {
    return Math.max(...step.branches.map((b) => b.chunkedStep ? longestSeconds(b.chunkedStep, waits) : sum(b.stages)));
  }
  if (step instanceof ConditionalStage) return one(step.stage);
  if (step instanceof PipelineGate) return 0;
  if (step instanceof HumanReview) return step.deadline.isUnresolved() ? 0 : step.deadline.toSeconds();
  // A lower bound: the chunks' waves are known only at run time (split, one wave, reduce).
  if (step instanceof ChunkedStage) return one(step.stage) + 2 * CHUNK_TASK_SECONDS;
  return one(step as IInferenceStage);
}

/**
 * The schema of `results` as the stages' output contracts declare it: stages that surely ran are
 * required; stages that may have been skipped or failed (conditional, optional branches) are not.
 */
function resultsSchema(entries: ResultEntry[]): { [key: string]: any } {
  return {
    type: 'object',
    required: entries.filter((e) => e.guaranteed).map((e) => e.stage.stageId),
    properties: Object.fromEntries(entries.map((e) => [e.stage.stageId, e.stage.outputContract.schema])),
  };
}

/**
 * Fails synth when a stage's input contract is not satisfied by the trigger and the stages that surely
 * ran before it, or a condition of a conditional stage or gate reads what no earlier contract declares.
 * Follows the graph: a parallel branch sees the steps before the parallel step and its own earlier
 * stages; after the step, an optional branch's results (and a conditional stage's) are optional.
 */
function checkContracts(pipeline: Pipeline, steps: IPipelineStep[]): StepPlan {
  const upstream = new Map<string, string[]>();
  const optionalPaths = new Map<IPipelineStep, Set<string>>();
  const chunkSources = new Map<ChunkedStage, string>();
  const checkStage = (stage: IInferenceStage, before: ResultEntry[]) => {
    upstream.set(stage.stageId, before.filter((e) => !e.review).map((e) => e.stage.stageId));
    const view = {
      type: 'object',
      required: ['document', 'results'],
      properties: { document: DOCUMENT_SCHEMA, results: resultsSchema(before) },
    };
    const problems = checkSatisfies(stage.inputContract.schema, view, '').map((p) => ({ ...p, path: p.path.replace(/^\./, '') }));
    if (problems.length > 0) {
      const lines = problems.map((p) => `'${p.path}' ${p.problem}`).join('; ');
      const maybe = before.filter((e) => !e.guaranteed).map((e) => e.stage.stageId);
      const why = maybe.length > 0 ? ` (${maybe.join(', ')} may not have run: conditional stages and stages of optional branches give optional results)` : '';
      invalid(pipeline, `stage '${stage.stageId}' has an input contract the stages before it do not satisfy: ${lines}${why}. Fix: put a stage that produces these fields before '${stage.stageId}' (with an output contract declaring them as required), or relax ${stage.stageId}'s input contract (${stage.inputContract.source}).`);
    }
    if (stage.readsText) {
      const producer = [...before].reverse().find((e) => {
        const text = lookupPath(e.stage.outputContract.schema, 'text');
        return e.guaranteed && text.schema !== undefined && text.alwaysPresent;
      });
      if (!producer) {
        invalid(pipeline, `stage '${stage.stageId}' reads {{text}}, but no stage before it produces a required 'text' pointer. Fix: put a text-producing stage (InferenceStage.textract) before '${stage.stageId}', or read another path (a conditional stage or a stage of an optional branch may not run: it does not count).`);
      }
    }
  };
  const checkChunked = (step: ChunkedStage, before: ResultEntry[]) => {
    chunkSources.set(step, chunkSource(pipeline, step, before));
    // The stage sees the run's results plus the chunk, the latest text pointer, at results.<step>.
    const chunkEntry = { stageId: step.stepName, outputContract: { schema: CHUNK_REF_SCHEMA } } as unknown as IInferenceStage;
    checkStage(step.stage, [...before, { stage: chunkEntry, guaranteed: true }]);
  };
  const entries: ResultEntry[] = [];
  for (const step of steps) {
    if (step instanceof ParallelStages) {
      const added: ResultEntry[] = [];
      for (const branch of step.branches) {
        const local = [...entries];
        if (branch.chunkedStep) {
          checkChunked(branch.chunkedStep, local);
          added.push({ stage: branch.chunkedStep.stage, guaranteed: !branch.isOptional });
          continue;
        }
        for (const stage of branch.stages) {
          checkStage(stage, local);
          local.push({ stage, guaranteed: true });
          added.push({ stage, guaranteed: !branch.isOptional });
        }
      }
      entries.push(...added);
    } else if (step instanceof ConditionalStage) {
      const optional = new Set<string>();
      checkRuleCondition(step, `condition of ${step.stage.stageId}`, step.condition, resultsSchema(entries), optional);
      optionalPaths.set(step, optional);
      checkStage(step.stage, entries);
      entries.push({ stage: step.stage, guaranteed: false });
    } else if (step instanceof PipelineGate) {
      const optional = new Set<string>();
      for (const rule of step.rules) checkRuleCondition(step, rule.name, rule.condition, resultsSchema(entries), optional);
      optionalPaths.set(step, optional);
    } else if (step instanceof HumanReview) {
      const reviewed = entries.find((e) => e.stage.stageId === step.reviewedStage.stageId);
      if (!reviewed || !reviewed.guaranteed) {
        invalid(pipeline, `the review '${step.stepName}' reviews stage '${step.reviewedStage.stageId}', which ${reviewed ? 'may not have run before it (conditional, or in an optional branch)' : 'does not run before it'}. Put the review after a stage that surely ran, or review another stage.`);
      }
      const optional = new Set<string>();
      if (step.condition) checkRuleCondition(step, `when of ${step.stepName}`, step.condition, resultsSchema(entries), optional);
      optionalPaths.set(step, optional);
      entries.push({ stage: { stageId: step.stepName, outputContract: step.decisionContract }, guaranteed: !step.condition, review: true });
    } else if (step instanceof ChunkedStage) {
      checkChunked(step, entries);
      entries.push({ stage: step.stage, guaranteed: true });
    } else {
      const stage = step as IInferenceStage;
      checkStage(stage, entries);
      entries.push({ stage, guaranteed: true });
    }
  }
  return { entries, upstream, optionalPaths, chunkSources };
}

/**
 * The stage whose `text` a chunked step cuts: `textFrom`, or the latest earlier stage with a required
 * `text` pointer; it must surely have run (not conditional, not in an optional branch).
 */
function chunkSource(pipeline: Pipeline, step: ChunkedStage, before: ResultEntry[]): string {
  const producesText = (e: ResultEntry) => {
    const text = lookupPath(e.stage.outputContract.schema, 'text');
    return text.schema !== undefined && text.alwaysPresent && (text.schema.properties ?? {}).key !== undefined;
  };
  if (step.textFrom !== undefined) {
    const entry = before.find((e) => e.stage.stageId === step.textFrom);
    if (!entry || !entry.guaranteed || !producesText(entry)) {
      const why = !entry ? 'no stage before it has that id' : !entry.guaranteed ? 'that stage may not run (conditional, or in an optional branch)' : 'its output contract declares no required \'text\' pointer';
      invalid(pipeline, `step '${step.stepName}' cuts the text of '${step.textFrom}' (textFrom), but ${why}. Fix: set textFrom to an earlier text-producing stage that always runs (e.g. InferenceStage.textract), or leave it out to cut the latest one.`);
    }
    return entry.stage.stageId;
  }
  const producer = [...before].reverse().find((e) => e.guaranteed && producesText(e));
  if (!producer) {
    invalid(pipeline, `step '${step.stepName}' cuts a text into chunks, but no stage before it surely produces a required 'text' pointer. Fix: put a text-producing stage (InferenceStage.textract) before '${step.stepName}', or name one with textFrom (a conditional stage or a stage of an optional branch does not count).`);
  }
  return producer.stage.stageId;
}
