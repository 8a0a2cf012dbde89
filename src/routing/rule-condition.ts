import * as sfn from 'aws-cdk-lib/aws-stepfunctions';

/** What a condition expects at a path, for the synth-time check against the contracts. */
export interface ConditionPathUse {
  /** Dotted path under `results`, e.g. `Summarize.riskScore`. */
  readonly path: string;
  /** The JSON type the condition compares the value as ('string', 'number', 'boolean'), or 'any'. */
  readonly expects: string;
  /**
   * String values the condition compares with.
   * @default - none
   */
  readonly values?: string[];
}

/** Builds the Step Functions condition; `guarded(path)` says whether the path needs an IsPresent guard. */
type Render = (guarded: (path: string) => boolean) => sfn.Condition;

const jsonPath = (path: string) => `$.results.${path}`;

/**
 * A deterministic condition over earlier stages' results, addressed as `<Stage>.<field>` (for example
 * `Summarize.riskScore`). Conditions are checked at synth time against the stages' output contracts:
 * the path must be declared and have the compared type.
 */
export class RuleCondition {
  /** The string at `path` equals `value`. */
  public static stringEquals(path: string, value: string): RuleCondition {
    return RuleCondition.leaf(`${path} == ${JSON.stringify(value)}`, [{ path, expects: 'string', values: [value] }],
      () => sfn.Condition.stringEquals(jsonPath(path), value));
  }

  /** The string at `path` is one of `values`. */
  public static stringIn(path: string, values: string[]): RuleCondition {
    if (values.length === 0) throw new Error(`RuleCondition.stringIn('${path}'): \`values\` must not be empty. Pass the strings to match.`);
    return RuleCondition.leaf(`${path} in ${JSON.stringify(values)}`, [{ path, expects: 'string', values }],
      () => values.length === 1
        ? sfn.Condition.stringEquals(jsonPath(path), values[0])
        : sfn.Condition.or(...values.map((v) => sfn.Condition.stringEquals(jsonPath(path), v))));
  }

  /** The number at `path` equals `value`. */
  public static numberEquals(path: string, value: number): RuleCondition {
    return RuleCondition.leaf(`${path} == ${value}`, [{ path, expects: 'number' }], () => sfn.Condition.numberEquals(jsonPath(path), value));
  }

  /** The number at `path` is at least `value` (>=). */
  public static numberAtLeast(path: string, value: number): RuleCondition {
    return RuleCondition.leaf(`${path} >= ${value}`, [{ path, expects: 'number' }], () => sfn.Condition.numberGreaterThanEquals(jsonPath(path), value));
  }

  /** The number at `path` is above `value` (>). */
  public static numberAbove(path: string, value: number): RuleCondition {
    return RuleCondition.leaf(`${path} > ${value}`, [{ path, expects: 'number' }], () => sfn.Condition.numberGreaterThan(jsonPath(path), value));
  }

  /** The number at `path` is at most `value` (<=). */
  public static numberAtMost(path: string, value: number): RuleCondition {
    return RuleCondition.leaf(`${path} <= ${value}`, [{ path, expects: 'number' }], () => sfn.Condition.numberLessThanEquals(jsonPath(path), value));
  }

  /** The number at `path` is below `value` (<). */
  public static numberBelow(path: string, value: number): RuleCondition {
    return RuleCondition.leaf(`${path} < ${value}`, [{ path, expects: 'number' }], () => sfn.Condition.numberLessThan(jsonPath(path), value));
  }

  /** The boolean at `path` equals `value`. */
  public static booleanEquals(path: string, value: boolean): RuleCondition {
    return RuleCondition.leaf(`${path} == ${value}`, [{ path, expects: 'boolean' }], () => sfn.Condition.booleanEquals(jsonPath(path), value));
  }

  /** A value is present at `path`. */
  public static isPresent(path: string): RuleCondition {
    RuleCondition.checkPath(path);
    return new RuleCondition(`${path} is present`, [{ path, expects: 'any' }], () => sfn.Condition.isPresent(jsonPath(path)));
  }

  /** Every condition holds. */
  public static all(conditions: RuleCondition[]): RuleCondition {
    RuleCondition.nonEmpty('all', conditions);
    return new RuleCondition(`(${conditions.map((c) => c.description).join(' and ')})`, conditions.flatMap((c) => c.uses),
      (g) => conditions.length === 1 ? conditions[0].render(g) : sfn.Condition.and(...conditions.map((c) => c.render(g))));
  }

  /** At least one condition holds. */
  public static any(conditions: RuleCondition[]): RuleCondition {
    RuleCondition.nonEmpty('any', conditions);
    return new RuleCondition(`(${conditions.map((c) => c.description).join(' or ')})`, conditions.flatMap((c) => c.uses),
      (g) => conditions.length === 1 ? conditions[0].render(g) : sfn.Condition.or(...conditions.map((c) => c.render(g))));
  }

  /** The condition does not hold. */
  public static not(condition: RuleCondition): RuleCondition {
    return new RuleCondition(`not ${condition.description}`, condition.uses, (g) => sfn.Condition.not(condition.render(g)));
  }

  /** A comparison: guarded by IsPresent when the contracts do not guarantee the value. */
  private static leaf(description: string, uses: ConditionPathUse[], make: () => sfn.Condition): RuleCondition {
    RuleCondition.checkPath(uses[0].path);
    const path = uses[0].path;
    return new RuleCondition(description, uses,
      (guarded) => guarded(path) ? sfn.Condition.and(sfn.Condition.isPresent(jsonPath(path)), make()) : make());
  }

  private static checkPath(path: string) {
    if (!/^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z0-9_-]+)+$/.test(path)) {
      throw new Error(`RuleCondition: the path '${path}' must be '<Stage>.<field>' (dotted, e.g. 'Summarize.riskScore'). Address a field of an earlier stage's result.`);
    }
  }

  private static nonEmpty(what: string, conditions: RuleCondition[]) {
    if (conditions.length === 0) throw new Error(`RuleCondition.${what}: \`conditions\` must not be empty. Pass at least one condition.`);
  }

  /** A readable form of the condition, for messages and audit. */
  public readonly description: string;
  /** The paths the condition reads and what it expects of each. */
  public readonly uses: ConditionPathUse[];
  private readonly render: Render;

  private constructor(description: string, uses: ConditionPathUse[], render: Render) {
    this.description = description;
    this.uses = uses;
    this.render = render;
  }

  /**
   * The Step Functions condition.
   * @internal
   */
  public _toCondition(guarded: (path: string) => boolean): sfn.Condition {
    return this.render(guarded);
  }
}
