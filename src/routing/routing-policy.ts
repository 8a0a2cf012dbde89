import { Duration, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { RouteDestination, RouteDestinationKind } from './route-destination';
import { RoutingRule } from './routing-rule';
import { RuleCondition } from './rule-condition';
import { lookupPath } from '../private/contract-check';
import { grantKey } from '../private/grants';
import { RoutingBuildContext } from '../private/routing-context';
import { checkRuleCondition } from '../private/rule-check';
import { invalid, ROUTE_NAME } from '../private/validation';

/** Props of a routing policy. */
export interface RoutingPolicyProps {
  /** The rules, in order: the first whose condition holds decides. */
  readonly rules: RoutingRule[];
  /** Where a run goes when no rule holds. Cannot be auto-approve. */
  readonly defaultRoute: RouteDestination;
  /**
   * Percentage (0 to 100, two decimals) of the runs an auto-approve rule would approve that go to
   * the default route instead, for a person to spot-check. The draw is random per run; the run's
   * state and audit record carry `spotCheck: { percent, draw, sampled }`, and the message to the
   * default route says `spotCheck: true`. Adds one state transition to every run when above 0.
   * @default 0 - no spot checks
   */
  readonly spotCheckPercent?: number;
  /**
   * Conditions every auto-approve rule also requires, on top of the pipeline's screening guards:
   * a second deterministic signal of your own (for example a Lambda stage's verdict).
   * @default - none
   */
  readonly autoApproveRequires?: RuleCondition[];
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
  /** Percentage of would-be auto-approved runs sent to the default route for a spot check. */
  public readonly spotCheckPercent: number;
  private readonly autoApproveRequires: RuleCondition[];
  private built = false;
  private readonly delivered: Array<{ state: string; rule: string; destination: string; kind: string }> = [];

  constructor(scope: Construct, id: string, props: RoutingPolicyProps) {
    super(scope, id);
    this.rules = props.rules;
    this.defaultRoute = props.defaultRoute;
    this.spotCheckPercent = props.spotCheckPercent ?? 0;
    this.autoApproveRequires = props.autoApproveRequires ?? [];
    const p = this.spotCheckPercent;
    if (!Token.isUnresolved(p) && (!Number.isFinite(p) || p < 0 || p > 100 || Math.round(p * 100) !== Math.round(p * 100 * 1e6) / 1e6)) {
      invalid(this, `\`spotCheckPercent\` must be a number from 0 to 100 with at most two decimals, got: ${p}. For example 5 sends one in twenty would-be auto-approved runs to review.`);
    }
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
    const checked = [
      ...this.rules.map((r) => ({ name: r.name, condition: r.condition })),
      ...this.autoApproveRequires.map((condition, i) => ({ name: `autoApproveRequires[${i}]`, condition })),
    ];
    for (const rule of checked) checkRuleCondition(this, rule.name, rule.condition, ctx.resultsSchema, optional);

    if (this.rules.length === 0) {
      // No rule to choose with: every run takes the default route (a Choice needs at least one rule).
      return this.destinationState('default', this.defaultRoute, ctx);
    }
    const choice = new sfn.Choice(this, this.node.id, { comment: 'first matching rule wins' });
    const guards = this.autoApproveGuards(ctx);
    const spotCheck = this.spotCheckPercent > 0 && this.rules.some((r) => r.destination.kind === RouteDestinationKind.AUTO_APPROVE);
    for (const rule of this.rules) {
      let condition = rule.condition._toCondition((p) => optional.has(p));
      if (rule.destination.kind === RouteDestinationKind.AUTO_APPROVE) {
        if (guards.length > 0) condition = sfn.Condition.and(condition, ...guards);
        if (spotCheck) {
          choice.when(sfn.Condition.and(condition, this.drawnForSpotCheck()), this.spotCheckState(rule.name, ctx), { comment: `${rule.name} (spot check)` });
        }
      }
      choice.when(condition, this.destinationState(rule.name, rule.destination, ctx), { comment: rule.name });
    }
    choice.otherwise(this.destinationState('default', this.defaultRoute, ctx));
    if (!spotCheck) return choice;
    // One draw per run, before the rules: an integer from 0 to 9999; a run is drawn when it is below percent * 100.
    const draw = new sfn.Pass(this, `${this.node.id}-SpotCheckDraw`, {
      comment: `draw for spot checks of auto-approved runs (${this.spotCheckPercent}%)`,
      parameters: { 'percent': this.spotCheckPercent, 'draw.$': 'States.MathRandom(0, 10000)' },
      resultPath: '$.spotCheck',
    });
    draw.next(choice);
    return draw;
  }

  /**
   * The guards every auto-approve rule gets: each Bedrock stage's `screening.promptInjection` and
   * each of its enforced layers' flags (`screening.layers.<layer>`) false, so one layer's finding
   * blocks auto-approve even if the aggregate were wrong, plus `autoApproveRequires`.
   */
  private autoApproveGuards(ctx: RoutingBuildContext): sfn.Condition[] {
    const guards: sfn.Condition[] = [];
    for (const path of ctx.autoApproveGuards) {
      const flags = [`$.results.${path}`];
      if (path.endsWith('.promptInjection')) {
        const layers = lookupPath(ctx.resultsSchema, `${path.slice(0, -'.promptInjection'.length)}.layers`);
        for (const layer of Object.keys(layers.schema?.properties ?? {}).sort()) {
          flags.push(`$.results.${path.slice(0, -'.promptInjection'.length)}.layers.${layer}`);
        }
      }
      const stage = path.split('.')[0];
      if (!(ctx.optionalStages ?? []).includes(stage)) {
        guards.push(...flags.map((f) => sfn.Condition.booleanEquals(f, false)));
        continue;
      }
      // A stage that may not have run (conditional, or an optional branch): the run may auto-approve
      // when the stage was skipped (no result at all), or when it ran and every flag is present and false.
      // A failed optional stage (an error object, no flags) blocks auto-approve.
      guards.push(sfn.Condition.or(
        sfn.Condition.not(sfn.Condition.isPresent(`$.results.${stage}`)),
        sfn.Condition.and(...flags.flatMap((f) => [sfn.Condition.isPresent(f), sfn.Condition.booleanEquals(f, false)])),
      ));
    }
    // Active content (scripts, launch actions, attached files) never auto-approves: any stage whose
    // output contract declares `activeContent` (the Textract stage's preflight) blocks it when the
    // field is present; the run takes the default route, which always reaches a person or a queue.
    for (const stage of Object.keys(ctx.resultsSchema?.properties ?? {}).sort()) {
      if (lookupPath(ctx.resultsSchema, `${stage}.activeContent`).schema) {
        guards.push(sfn.Condition.not(sfn.Condition.isPresent(`$.results.${stage}.activeContent`)));
      }
    }
    for (const extra of this.autoApproveRequires) guards.push(extra._toCondition(() => false));
    return guards;
  }

  /** The run was drawn for a spot check (percent 100: every run). */
  private drawnForSpotCheck(): sfn.Condition {
    if (this.spotCheckPercent >= 100) return sfn.Condition.isPresent('$.spotCheck.draw');
    return sfn.Condition.numberLessThan('$.spotCheck.draw', Math.round(this.spotCheckPercent * 100));
  }

  /** Marks the run as drawn (`$.spotCheck.sampled`, with the rule) and delivers it to the default route. */
  private spotCheckState(rule: string, ctx: RoutingBuildContext): sfn.State {
    const mark = new sfn.Pass(this, `${this.node.id}-${rule}-SpotCheck`, {
      comment: `${rule} would auto-approve; drawn for a spot check`,
      parameters: { 'percent.$': '$.spotCheck.percent', 'draw.$': '$.spotCheck.draw', 'sampled': true, 'rule': rule },
      resultPath: '$.spotCheck',
    });
    const deliver = this.destinationState(rule, this.defaultRoute, ctx, `${this.node.id}-${rule}-spot-check`, true);
    mark.next(deliver);
    return mark;
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

  private destinationState(rule: string, destination: RouteDestination, ctx: RoutingBuildContext, id?: string, spotCheck = false): sfn.State {
    const state = destination._state(this, id ?? `${this.node.id}-${rule}`, rule, spotCheck);
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
