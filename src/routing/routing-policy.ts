import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { RouteDestination, RouteDestinationKind } from './route-destination';
import { RoutingRule } from './routing-rule';
import { lookupPath, typesOf } from '../private/contract-check';
import { grantKey } from '../private/grants';
import { RoutingBuildContext } from '../private/routing-context';
import { invalid, ROUTE_NAME } from '../private/validation';

/** Props of a routing policy. */
export interface RoutingPolicyProps {
  /** The rules, in order: the first whose condition holds decides. */
  readonly rules: RoutingRule[];
  /** Where a run goes when no rule holds. Cannot be auto-approve. */
  readonly defaultRoute: RouteDestination;
}


/**
 * Ordered, named business rules over earlier stages' results (document type, risk score,
 * confidence), evaluated as one Choice state: the first rule that holds decides, else the default
 * route. Rules are checked at synth time against the stages' contracts.
 */
export class RoutingPolicy extends Construct {
  /** The rules, in order. */
  public readonly rules: RoutingRule[];
  /** The route when no rule holds. */
  public readonly defaultRoute: RouteDestination;
  private built = false;
  private readonly delivered: Array<{ state: string; rule: string; destination: string; kind: string }> = [];

  constructor(scope: Construct, id: string, props: RoutingPolicyProps) {
    super(scope, id);
    this.rules = props.rules;
    this.defaultRoute = props.defaultRoute;
    const names = new Set<string>();
    for (const rule of props.rules) {
      if (!ROUTE_NAME.test(rule.name)) {
        invalid(this, `rule names must be 1-40 lowercase letters, digits or hyphens, got: '${rule.name}'. Rename the rule, e.g. 'high-risk'.`);
      }
      if (rule.name === 'default' || names.has(rule.name)) {
        invalid(this, `\`rules\` must have unique names other than 'default', got '${rule.name}' twice or reserved. Rename one of them.`);
      }
      names.add(rule.name);
    }
    const destinations = new Map<string, RouteDestination>();
    for (const d of [...props.rules.map((r) => r.destination), props.defaultRoute]) {
      if (!ROUTE_NAME.test(d.name)) {
        invalid(this, `destination names must be 1-40 lowercase letters, digits or hyphens, got: '${d.name}'. Rename the destination, e.g. 'legal'.`);
      }
      if (d.name === 'quarantine' || d.name === 'failed') {
        invalid(this, `the destination name '${d.name}' is reserved for the pipeline's failure path. Choose another name.`);
      }
      const seen = destinations.get(d.name);
      if (seen && seen !== d) {
        invalid(this, `two different destinations are named '${d.name}'. Give each destination its own name, or reuse the same RouteDestination object.`);
      }
      destinations.set(d.name, d);
    }
    if (props.defaultRoute.kind === RouteDestinationKind.AUTO_APPROVE) {
      invalid(this, `\`defaultRoute\` cannot auto-approve, got: RouteDestination.autoApprove('${props.defaultRoute.name}'). A run that matches no rule must reach a person or a queue: use snsTopic, sqsQueue or eventBus.`);
    }
  }

  /**
   * Checks the rules against the contracts and builds the Choice and destination states.
   * @internal
   */
  public _build(ctx: RoutingBuildContext): sfn.State {
    if (this.built) {
      invalid(this, 'the routing policy is already used by another pipeline. Create one RoutingPolicy per Pipeline.');
    }
    this.built = true;
    const optional = new Set<string>();
    for (const rule of this.rules) {
      for (const use of rule.condition.uses) {
        const found = lookupPath(ctx.resultsSchema, use.path);
        if (found.opaque) continue;
        if (!found.schema) {
          invalid(this, `rule '${rule.name}' reads '${use.path}', which no stage's output contract declares. Declare it in the output contract of stage '${use.path.split('.')[0]}', or fix the path.`);
        }
        if (!found.alwaysPresent) optional.add(use.path);
        const types = typesOf(found.schema);
        if (use.expects !== 'any' && types) {
          const ok = types.some((t) => t === use.expects || (use.expects === 'number' && t === 'integer'));
          if (!ok) {
            invalid(this, `rule '${rule.name}' compares '${use.path}' as a ${use.expects}, but its contract declares ${types.join(' or ')}. Use a ${types[0]} condition, or fix the contract.`);
          }
        }
        const allowed = found.schema.enum ?? ('const' in found.schema ? [found.schema.const] : undefined);
        if (allowed && use.values) {
          const never = use.values.filter((v) => !allowed.includes(v));
          if (never.length > 0) {
            invalid(this, `rule '${rule.name}' compares '${use.path}' with ${JSON.stringify(never)}, which its contract never allows (one of ${JSON.stringify(allowed)}). Fix the value.`);
          }
        }
      }
    }

    if (this.rules.length === 0) {
      // No rule to choose with: every run takes the default route (a Choice needs at least one rule).
      return this.destinationState('default', this.defaultRoute, ctx);
    }
    const choice = new sfn.Choice(this, this.node.id, { comment: 'first matching rule wins' });
    for (const rule of this.rules) {
      let condition = rule.condition._toCondition((p) => optional.has(p));
      if (rule.destination.kind === RouteDestinationKind.AUTO_APPROVE && ctx.autoApproveGuards.length > 0) {
        condition = sfn.Condition.and(condition, ...ctx.autoApproveGuards.map((g) => sfn.Condition.booleanEquals(`$.results.${g}`, false)));
      }
      choice.when(condition, this.destinationState(rule.name, rule.destination, ctx), { comment: rule.name });
    }
    choice.otherwise(this.destinationState('default', this.defaultRoute, ctx));
    return choice;
  }

  /**
   * Grants the state machine's role the keys of encrypted destinations.
   * @internal
   */
  public _grant(role: iam.IGrantable): void {
    const keys = new Set([...this.rules.map((r) => r.destination), this.defaultRoute].flatMap((d) => d._keys));
    for (const key of keys) grantKey(role, key, ['kms:GenerateDataKey', 'kms:Decrypt']);
  }

  /**
   * The destination states built, for tools that run the pipeline (the local runner).
   * @internal
   */
  public get _destinations(): Array<{ state: string; rule: string; destination: string; kind: string }> {
    return [...this.delivered];
  }

  private destinationState(rule: string, destination: RouteDestination, ctx: RoutingBuildContext): sfn.State {
    const state = destination._state(this, `${this.node.id}-${rule}`, rule);
    if (state instanceof sfn.TaskStateBase) {
      state.addRetry({
        errors: [...destination._transientErrors],
        interval: Duration.seconds(1),
        maxAttempts: 4,
        backoffRate: 2,
        maxDelay: Duration.seconds(20),
        jitterStrategy: sfn.JitterType.FULL,
      });
      state.addCatch(ctx.onError, { errors: ['States.ALL'], resultPath: '$.error' });
    }
    (state as unknown as sfn.INextable).next(ctx.next);
    this.delivered.push({ state: state.stateId, rule, destination: destination.name, kind: destination.kind });
    return state;
  }
}
