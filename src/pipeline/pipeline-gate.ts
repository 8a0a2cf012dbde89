import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { IPipelineStep } from './pipeline-step';
import { grantKey } from '../private/grants';
import { invalid, ROUTE_NAME, STAGE_ID } from '../private/validation';
import { RouteDestinationKind } from '../routing/route-destination';
import { RoutingRule } from '../routing/routing-rule';

/** Props of a `PipelineGate` step. */
export interface PipelineGateProps {
  /**
   * The rules, in order: the first whose condition holds ends the run at its destination; when none
   * holds, the run goes on to the next step. A gate cannot auto-approve (only the final routing policy,
   * with its screening guards, can).
   */
  readonly rules: RoutingRule[];
  /**
   * The Choice state's name.
   * @default - the step's construct id
   */
  readonly stateName?: string;
}

/**
 * A step of `Pipeline.stages` that routes between stages: the first rule that holds delivers the run
 * to its destination and ends it (with its run record, as a routed run); when no rule holds, the run
 * goes on. For example, escalate on deterministic fraud rules before the model stages run.
 */
export class PipelineGate extends Construct implements IPipelineStep {
  /** The rules, in order. */
  public readonly rules: RoutingRule[];
  /** The Choice state (the step's main child, id `Resource`). */
  public readonly choice: sfn.Choice;
  private readonly delivered: Array<{ state: string; rule: string; destination: string; kind: string }> = [];

  constructor(scope: Construct, id: string, props: PipelineGateProps) {
    super(scope, id);
    const name = props.stateName ?? id;
    if (!STAGE_ID.test(name)) {
      invalid(this, `\`stateName\` must be a letter followed by letters, digits or '_' (at most 64), got: '${name}'. Rename the gate, e.g. 'FraudGate'.`);
    }
    if (props.rules.length === 0) {
      invalid(this, '`rules` must hold at least one rule, got: []. A gate with no rule would let every run through: remove it, or add a rule.');
    }
    const names = new Set<string>();
    for (const rule of props.rules) {
      if (!ROUTE_NAME.test(rule.name)) {
        invalid(this, `rule names must be 1-40 lowercase letters, digits or hyphens, got: '${rule.name}'. Rename the rule, e.g. 'known-fraud'.`);
      }
      if (names.has(rule.name)) {
        invalid(this, `\`rules\` must have unique names, got '${rule.name}' twice. Rename one of them.`);
      }
      names.add(rule.name);
      if (rule.destination.kind === RouteDestinationKind.AUTO_APPROVE) {
        invalid(this, `rule '${rule.name}' leads to RouteDestination.autoApprove('${rule.destination.name}'), but a gate between stages cannot auto-approve: the later stages' screening has not run yet. Route to snsTopic, sqsQueue or eventBus, or move the rule to the pipeline's RoutingPolicy.`);
      }
      if (!ROUTE_NAME.test(rule.destination.name) || rule.destination.name === 'quarantine' || rule.destination.name === 'failed') {
        invalid(this, `rule '${rule.name}' leads to a destination named '${rule.destination.name}': names must be 1-40 lowercase letters, digits or hyphens, and 'quarantine' and 'failed' are reserved. Rename the destination.`);
      }
    }
    this.rules = [...props.rules];
    this.choice = new sfn.Choice(this, 'Resource', { stateName: name, comment: 'gate: the first matching rule ends the run at its destination; else the run goes on' });
  }

  /** The step's name: its Choice state's name. */
  public get stepName(): string {
    return this.choice.stateId;
  }

  /**
   * The destination states built, for tools that run the pipeline (the local runner).
   * @internal
   */
  public get _destinations(): Array<{ state: string; rule: string; destination: string; kind: string }> {
    return [...this.delivered];
  }

  /**
   * Wires the Choice: each rule to its destination, then `end` (the run record); no rule, `next`.
   * @internal
   */
  public _wire(guarded: (path: string) => boolean, next: sfn.IChainable, end: sfn.IChainable, onError: sfn.IChainable): void {
    for (const rule of this.rules) {
      const state = rule.destination._state(this, `${this.choice.stateId}-${rule.name}`, rule.name);
      if (state instanceof sfn.TaskStateBase) {
        state.addRetry({
          errors: [...rule.destination._transientErrors],
          interval: Duration.seconds(1),
          maxAttempts: 4,
          backoffRate: 2,
          maxDelay: Duration.seconds(20),
          jitterStrategy: sfn.JitterType.FULL,
        });
        state.addCatch(onError, { errors: ['States.ALL'], resultPath: '$.error' });
      }
      (state as unknown as sfn.INextable).next(end);
      this.delivered.push({ state: state.stateId, rule: rule.name, destination: rule.destination.name, kind: rule.destination.kind });
      this.choice.when(rule.condition._toCondition(guarded), state, { comment: rule.name });
    }
    this.choice.otherwise(next);
  }

  /**
   * Grants the state machine's role the keys of encrypted destinations.
   * @internal
   */
  public _grant(role: iam.IGrantable): void {
    for (const key of new Set(this.rules.flatMap((r) => r.destination._keys))) grantKey(role, key, ['kms:GenerateDataKey', 'kms:Decrypt']);
  }
}
