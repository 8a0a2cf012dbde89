import { RouteDestination } from './route-destination';
import { RuleCondition } from './rule-condition';

/** A named rule: when its condition holds, the run goes to its destination. */
export class RoutingRule {
  /**
   * A rule.
   * @param name the rule's name, recorded with the route (lowercase letters, digits, hyphens)
   * @param condition when the rule fires
   * @param destination where the run goes
   */
  public static when(name: string, condition: RuleCondition, destination: RouteDestination): RoutingRule {
    return new RoutingRule(name, condition, destination);
  }

  /** The rule's name. */
  public readonly name: string;
  /** When the rule fires. */
  public readonly condition: RuleCondition;
  /** Where the run goes. */
  public readonly destination: RouteDestination;

  private constructor(name: string, condition: RuleCondition, destination: RouteDestination) {
    this.name = name;
    this.condition = condition;
    this.destination = destination;
  }
}
