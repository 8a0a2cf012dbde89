/**
 * How a caught stage failure names its stage, shared by the pipeline (which builds the catches) and
 * the recorder (which reads them).
 */

/** Where a caught error lands in the run state. */
export const ERROR_PATH = '$.error';
/** Where the failing stage's id lands before the failure path runs. */
export const FAILED_STAGE_PATH = '$.failedStage';
/** The prefix of the cause a failed stage of a Parallel branch re-raises: the recorder reads the stage from it. */
export const BRANCH_CAUSE_PREFIX = 'cdk-ai-pipeline stage ';

/** The stage a caught failure names: `$.failedStage`, else the prefix of a re-raised branch cause. */
export function failedStageOf(state: { failedStage?: unknown; error?: { Cause?: unknown } }, stageIds: readonly string[]): string | undefined {
  if (typeof state.failedStage === 'string' && stageIds.includes(state.failedStage)) return state.failedStage;
  const cause = state.error?.Cause;
  if (typeof cause === 'string' && cause.startsWith(BRANCH_CAUSE_PREFIX)) {
    const id = cause.slice(BRANCH_CAUSE_PREFIX.length).split(' ')[0];
    if (stageIds.includes(id)) return id;
  }
  return undefined;
}
