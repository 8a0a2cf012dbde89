import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { BRANCH_CAUSE_PREFIX, ERROR_PATH, FAILED_STAGE_PATH } from '../shared/failures';
import { IInferenceStage } from '../stages/inference-stage-base';

/**
 * Catches every error of `stage` into `target` (the failure path) through a Pass state that names the
 * stage at `$.failedStage`, so the run record names the stage that failed, not a guess.
 */
export function catchStageFailure(scope: Construct, stage: IInferenceStage, target: sfn.IChainable): void {
  const named = new sfn.Pass(scope, `${stage.stageId}Failed`, {
    stateName: `${stage.stageId}-failed`,
    result: sfn.Result.fromString(stage.stageId),
    resultPath: FAILED_STAGE_PATH,
    comment: `${stage.stageId} failed: name it for the run record, then take the failure path`,
  });
  named.next(target);
  stage.addCatch(named, { errors: ['States.ALL'], resultPath: ERROR_PATH });
}

/**
 * Inside a required Parallel branch: catches every error of `stage` and re-raises it from a Fail state
 * with the same error name and a cause that starts with `cdk-ai-pipeline stage <id> failed`, so the
 * Parallel's catch (which sees only the branch's error) still knows which stage failed. The original
 * error object is kept in the cause as JSON.
 */
export function reraiseBranchFailure(scope: Construct, prefix: string, stage: IInferenceStage): void {
  const described = new sfn.Pass(scope, `${stage.stageId}Failed`, {
    stateName: `${prefix}-${stage.stageId}-failed`,
    parameters: {
      'Error.$': `${ERROR_PATH}.Error`,
      'Cause.$': `States.Format('${BRANCH_CAUSE_PREFIX}${stage.stageId} failed: {}', States.JsonToString(${ERROR_PATH}))`,
    },
    resultPath: ERROR_PATH,
  });
  described.next(new sfn.Fail(scope, `${stage.stageId}Raise`, {
    stateName: `${prefix}-${stage.stageId}-raise`,
    errorPath: `${ERROR_PATH}.Error`,
    causePath: `${ERROR_PATH}.Cause`,
    comment: `${stage.stageId} failed: the Parallel state takes the pipeline's failure path`,
  }));
  stage.addCatch(described, { errors: ['States.ALL'], resultPath: ERROR_PATH });
}
