import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { BRANCH_CAUSE_PREFIX, ERROR_PATH, FAILED_STAGE_PATH } from '../shared/failures';
import { IInferenceStage } from '../stages/inference-stage-base';

/**
 * A Pass state that names `stageId` at `$.failedStage`, then goes to `target` (the failure path), so
 * the run record names the stage that failed, not a guess. `name` is the state's name prefix.
 */
export function namedFailure(scope: Construct, name: string, stageId: string, target: sfn.IChainable): sfn.Pass {
  const named = new sfn.Pass(scope, `${name}Failed`, {
    stateName: `${name}-failed`,
    result: sfn.Result.fromString(stageId),
    resultPath: FAILED_STAGE_PATH,
    comment: `${stageId} failed: name it for the run record, then take the failure path`,
  });
  named.next(target);
  return named;
}

/**
 * Catches every error of `stage` into `target` (the failure path) through a Pass state that names the
 * stage at `$.failedStage`.
 */
export function catchStageFailure(scope: Construct, stage: IInferenceStage, target: sfn.IChainable): void {
  stage.addCatch(namedFailure(scope, stage.stageId, stage.stageId, target), { errors: ['States.ALL'], resultPath: ERROR_PATH });
}

/**
 * Inside a required Parallel branch: a Pass and a Fail state that re-raise the error at `$.error` with
 * the same error name and a cause that starts with `cdk-ai-pipeline stage <id> failed`, so the
 * Parallel's catch (which sees only the branch's error) still knows which stage failed. The original
 * error object is kept in the cause as JSON. Catch into it with `resultPath: '$.error'`.
 */
export function branchFailure(scope: Construct, prefix: string, stageId: string): sfn.State {
  const described = new sfn.Pass(scope, `${stageId}Failed`, {
    stateName: `${prefix}-${stageId}-failed`,
    parameters: {
      'Error.$': `${ERROR_PATH}.Error`,
      'Cause.$': `States.Format('${BRANCH_CAUSE_PREFIX}${stageId} failed: {}', States.JsonToString(${ERROR_PATH}))`,
    },
    resultPath: ERROR_PATH,
  });
  described.next(new sfn.Fail(scope, `${stageId}Raise`, {
    stateName: `${prefix}-${stageId}-raise`,
    errorPath: `${ERROR_PATH}.Error`,
    causePath: `${ERROR_PATH}.Cause`,
    comment: `${stageId} failed: the Parallel state takes the pipeline's failure path`,
  }));
  return described;
}

/** Inside a required Parallel branch: catches every error of `stage` and re-raises it (see `branchFailure`). */
export function reraiseBranchFailure(scope: Construct, prefix: string, stage: IInferenceStage): void {
  stage.addCatch(branchFailure(scope, prefix, stage.stageId), { errors: ['States.ALL'], resultPath: ERROR_PATH });
}
