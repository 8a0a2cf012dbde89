import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { IPipelineStep } from './pipeline-step';
import { reraiseBranchFailure } from '../private/failure-catch';
import { invalid, STAGE_ID } from '../private/validation';
import { IInferenceStage } from '../stages/inference-stage-base';

/** One branch of a `ParallelStages` step: stages that run in order, beside the other branches. */
export class ParallelBranch {
  /**
   * A branch the run needs: when one of its stages fails (after its retries), the whole step fails
   * and the run takes the pipeline's failure path.
   * @param stages the branch's stages, in order
   */
  public static required(stages: IInferenceStage[]): ParallelBranch {
    return new ParallelBranch(stages, false);
  }

  /**
   * A branch the run can do without: when one of its stages fails (after its retries), the error
   * (`{ Error, Cause }`) lands at `$.results.<that stage>`, the branch's later stages do not run,
   * and the run goes on. Later stages and rules see the branch's results as optional.
   * @param stages the branch's stages, in order
   */
  public static optional(stages: IInferenceStage[]): ParallelBranch {
    return new ParallelBranch(stages, true);
  }

  /** The branch's stages, in order. */
  public readonly stages: IInferenceStage[];
  /** True when the run goes on after the branch fails. */
  public readonly isOptional: boolean;

  private constructor(stages: IInferenceStage[], optional: boolean) {
    this.stages = [...stages];
    this.isOptional = optional;
  }
}

/** Props of a `ParallelStages` step. */
export interface ParallelStagesProps {
  /** The branches (2 to 10), each a stage or stages in order; every branch starts from the same state. */
  readonly branches: ParallelBranch[];
  /**
   * A comment on the Parallel state.
   * @default - the branches' stage ids
   */
  readonly comment?: string;
}

const MAX_BRANCHES = 10;

/**
 * A step of `Pipeline.stages` that runs several stages (or chains of stages) at once, as one
 * Parallel state. Each stage's result still lands at `$.results.<id>`: the branches' results are
 * merged back into `$.results` (`States.JsonMerge`), so later stages and routing rules read them as
 * they read any earlier stage's. A required branch's failure fails the step (the pipeline's failure
 * path); an optional branch's failure is recorded at `$.results.<id>` and the run goes on.
 */
export class ParallelStages extends Construct implements IPipelineStep {
  /** The branches. */
  public readonly branches: ParallelBranch[];
  /** The Parallel state (the step's main child, id `Resource`). */
  public readonly state: sfn.Parallel;

  constructor(scope: Construct, id: string, props: ParallelStagesProps) {
    super(scope, id);
    if (!STAGE_ID.test(id)) {
      invalid(this, `the step id must be a letter followed by letters, digits or '_' (at most 64), got: '${id}'. It becomes the Parallel state's name; rename the step, e.g. 'Analyze'.`);
    }
    const n = props.branches.length;
    if (n < 2 || n > MAX_BRANCHES) {
      invalid(this, `\`branches\` must hold 2 to ${MAX_BRANCHES} branches, got: ${n}. Put a single branch's stages straight into Pipeline.stages, or split the step.`);
    }
    const seen = new Set<string>();
    props.branches.forEach((branch, i) => {
      if (branch.stages.length === 0) {
        invalid(this, `\`branches[${i}]\` holds no stage, got: []. Give each branch at least one stage, e.g. ParallelBranch.required([summarize]).`);
      }
      for (const stage of branch.stages) {
        if (seen.has(stage.stageId)) {
          invalid(this, `\`branches\` holds the stage '${stage.stageId}' twice. A stage runs in one branch; create another stage with its own id.`);
        }
        seen.add(stage.stageId);
      }
    });
    this.branches = [...props.branches];

    const branchResults = props.branches.map((_, i) => `$[${i}].results`);
    const merged = branchResults.slice(1).reduce((acc, next) => `States.JsonMerge(${acc}, ${next}, false)`, branchResults[0]);
    this.state = new sfn.Parallel(this, 'Resource', {
      stateName: id,
      comment: props.comment ?? `in parallel: ${props.branches.map((b) => b.stages.map((s) => s.stageId).join(' -> ') + (b.isOptional ? ' (optional)' : '')).join(' | ')}`,
      // Every branch starts from { document, results } and adds its own stages' results: merging the
      // branches' `results` objects (shallow; earlier stages' entries are the same in each) gives
      // every result at `$.results.<id>`.
      // No ResultPath: the default ('$') makes the selected object the state.
      resultSelector: { 'document.$': '$[0].document', 'results.$': merged },
    });
    props.branches.forEach((branch, i) => {
      let chain = sfn.Chain.start(branch.stages[0]);
      for (const stage of branch.stages.slice(1)) chain = chain.next(stage);
      if (branch.isOptional) {
        const failed = new sfn.Pass(this, `Branch${i}Failed`, {
          stateName: `${id}-${branch.stages[0].stageId}-failed`,
          comment: 'an optional branch failed: its error is recorded at $.results.<stage>; the run goes on',
        });
        for (const stage of branch.stages) stage.addCatch(failed, { errors: ['States.ALL'], resultPath: `$.results.${stage.stageId}` });
      } else {
        for (const stage of branch.stages) reraiseBranchFailure(this, id, stage);
      }
      this.state.branch(chain);
    });
  }

  /** The step's name: its Parallel state's name. */
  public get stepName(): string {
    return this.node.id;
  }
}
