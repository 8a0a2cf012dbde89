import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { AUDIT_EVENT_SOURCE } from '../shared';

/** The kinds of destination a route can lead to. */
export enum RouteDestinationKind {
  /** The run ends approved, nobody is notified. */
  AUTO_APPROVE = 'auto-approve',
  /** A message on an SNS topic. */
  SNS_TOPIC = 'sns-topic',
  /** A message on an SQS queue. */
  SQS_QUEUE = 'sqs-queue',
  /** An event on an EventBridge bus. */
  EVENT_BUS = 'event-bus',
}

/** How long one delivery call may take. */
const DELIVERY_TIMEOUT = sfn.Timeout.duration(Duration.seconds(30));

/**
 * Throttling and transient errors of the delivery calls, as Step Functions names the errors of its
 * SNS, SQS and EventBridge integrations (`<Service>.<Exception>`), plus a timed-out call.
 */
const DELIVERY_TRANSIENT_ERRORS: { [kind: string]: string[] } = {
  'sns-topic': ['SNS.ThrottledException', 'SNS.InternalErrorException', 'SNS.KMSThrottlingException', 'States.Timeout'],
  'sqs-queue': ['SQS.RequestThrottled', 'SQS.KmsThrottled', 'SQS.InternalError', 'SQS.ServiceUnavailable', 'States.Timeout'],
  'event-bus': ['EventBridge.ThrottlingException', 'EventBridge.InternalException', 'States.Timeout'],
};

/** The message every notifying destination sends: who, where, and the results (pointers, never text). */
function routedMessage(rule: string, destination: string, spotCheck: boolean): { [key: string]: any } {
  return {
    runId: sfn.JsonPath.stringAt('$$.Execution.Name'),
    document: sfn.JsonPath.objectAt('$.document'),
    // A spot check: the rule would have auto-approved the run; it was drawn for a person to look at.
    route: spotCheck ? { rule, destination, spotCheck: true } : { rule, destination },
    results: sfn.JsonPath.objectAt('$.results'),
  };
}

/** Options of an EventBridge destination. */
export interface EventBusDestinationOptions {
  /**
   * The customer-managed key the bus is encrypted with (an imported bus's: CDK cannot see it).
   * @default - the `kmsKey` of an `EventBus` made in this app; none otherwise (a bus encrypted with an AWS owned key)
   */
  readonly key?: kms.IKey;
}

/** The key of an `EventBus` made in this app with `kmsKey` (read from its CloudFormation resource), if any. */
function keyOfBus(bus: events.IEventBus): kms.IKey | undefined {
  if (!(bus instanceof events.EventBus)) return undefined;
  const arn = (bus.node.defaultChild as events.CfnEventBus).kmsKeyIdentifier;
  if (arn === undefined) return undefined;
  const id = 'CdkAiPipelineBusKey';
  return (bus.node.tryFindChild(id) as kms.IKey | undefined) ?? kms.Key.fromKeyArn(bus, id, arn);
}

/**
 * Where a route leads. The state it becomes records `{ rule, destination }` at `$.route`, so the
 * rule that fired is part of the run's output and of its audit record.
 */
export class RouteDestination {
  /**
   * Approve without a person. Allowed only on explicit rules, never as the default route, and always
   * guarded by the pipeline so that a prompt injection flagged by a Bedrock stage cannot reach it.
   * @param name the destination's name
   * @default name 'auto-approve'
   */
  public static autoApprove(name: string = 'auto-approve'): RouteDestination {
    return new RouteDestination(name, RouteDestinationKind.AUTO_APPROVE, (scope, id, rule) => new sfn.Pass(scope, id, {
      result: sfn.Result.fromObject({ rule, destination: name }),
      resultPath: '$.route',
      comment: `route ${rule} -> ${name} (auto-approve)`,
    }));
  }

  /** Publish the routed run to an SNS topic (for example a legal team's). */
  public static snsTopic(name: string, topic: sns.ITopic): RouteDestination {
    return new RouteDestination(name, RouteDestinationKind.SNS_TOPIC, (scope, id, rule, spot) => new tasks.SnsPublish(scope, id, {
      taskTimeout: DELIVERY_TIMEOUT,
      topic,
      message: sfn.TaskInput.fromObject(routedMessage(rule, name, spot)),
      subject: `cdk-ai-pipeline: ${name}`,
      resultSelector: { rule, destination: name, messageId: sfn.JsonPath.stringAt('$.MessageId') },
      resultPath: '$.route',
      comment: `route ${rule} -> ${name} (SNS)`,
    }), topic.masterKey ? [topic.masterKey] : []);
  }

  /** Send the routed run to an SQS queue (for example a review queue). */
  public static sqsQueue(name: string, queue: sqs.IQueue): RouteDestination {
    return new RouteDestination(name, RouteDestinationKind.SQS_QUEUE, (scope, id, rule, spot) => new tasks.SqsSendMessage(scope, id, {
      taskTimeout: DELIVERY_TIMEOUT,
      queue,
      messageBody: sfn.TaskInput.fromObject(routedMessage(rule, name, spot)),
      resultSelector: { rule, destination: name, messageId: sfn.JsonPath.stringAt('$.MessageId') },
      resultPath: '$.route',
      comment: `route ${rule} -> ${name} (SQS)`,
    }));
    // No key here: CDK's SqsSendMessage task already grants the encrypted queue's key.
  }

  /**
   * Put the routed run as an event (`Document Routed`) on an EventBridge bus. A bus encrypted with a
   * customer-managed key: the state machine is granted `kms:GenerateDataKey` and `kms:Decrypt` on that
   * key (the key's own policy must let EventBridge use it, which EventBridge requires of the bus anyway).
   * @param name the destination's name
   * @param bus the bus
   * @param options the bus's key, when it is not an `EventBus` of this app
   */
  public static eventBus(name: string, bus: events.IEventBus, options: EventBusDestinationOptions = {}): RouteDestination {
    const key = options.key ?? keyOfBus(bus);
    return new RouteDestination(name, RouteDestinationKind.EVENT_BUS, (scope, id, rule, spot) => new tasks.EventBridgePutEvents(scope, id, {
      taskTimeout: DELIVERY_TIMEOUT,
      entries: [{
        eventBus: bus,
        source: AUDIT_EVENT_SOURCE,
        detailType: 'Document Routed',
        detail: sfn.TaskInput.fromObject(routedMessage(rule, name, spot)),
      }],
      resultSelector: { rule, destination: name, failedEntryCount: sfn.JsonPath.numberAt('$.FailedEntryCount') },
      resultPath: '$.route',
      comment: `route ${rule} -> ${name} (EventBridge)`,
    }), key ? [key] : []);
  }

  /** The destination's name (recorded in the run's output and audit record). */
  public readonly name: string;
  /** The kind of destination. */
  public readonly kind: RouteDestinationKind;
  private readonly make: (scope: Construct, id: string, rule: string, spotCheck: boolean) => sfn.State;
  private readonly keys: kms.IKey[];

  private constructor(
    name: string,
    kind: RouteDestinationKind,
    make: (scope: Construct, id: string, rule: string, spotCheck: boolean) => sfn.State,
    keys: kms.IKey[] = [],
  ) {
    this.name = name;
    this.kind = kind;
    this.make = make;
    this.keys = keys;
  }

  /**
   * The state that delivers a run routed by `rule` (`spotCheck`: a run the rule would have
   * auto-approved, drawn for a human spot check; the message says so).
   * @internal
   */
  public _state(scope: Construct, id: string, rule: string, spotCheck: boolean = false): sfn.State {
    return this.make(scope, id, rule, spotCheck);
  }

  /**
   * The delivery errors worth retrying.
   * @internal
   */
  public get _transientErrors(): string[] {
    return DELIVERY_TRANSIENT_ERRORS[this.kind] ?? [];
  }

  /**
   * Keys the state machine must be granted to deliver, beyond what the CDK task grants itself
   * (SnsPublish grants none for an encrypted topic, EventBridgePutEvents none for an encrypted bus;
   * SqsSendMessage grants its queue's key).
   * @internal
   */
  public get _keys(): kms.IKey[] {
    return this.keys;
  }
}
