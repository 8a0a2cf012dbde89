import * as sfn from 'aws-cdk-lib/aws-stepfunctions';

/** What the pipeline hands the policy when it builds the states (not part of the public API). */
export interface RoutingBuildContext {
  /** Schema of `results` as the stages' output contracts declare it. */
  readonly resultsSchema: { [key: string]: any };
  /** Boolean paths that must be false for auto-approve (prompt-injection flags). */
  readonly autoApproveGuards: string[];
  /**
   * Stages that may have no result or an error object as their result (conditional stages, stages
   * of optional branches): their auto-approve guards tolerate a skipped stage and block a failed one.
   */
  readonly optionalStages?: string[];
  /** The state after a delivered route. */
  readonly next: sfn.IChainable;
  /** Where delivery errors go. */
  readonly onError: sfn.IChainable;
}
