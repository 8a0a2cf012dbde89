import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { ChunkedStage } from './chunked-stage';
import { IPipelineStep } from './pipeline-step';
import { branchFailure, reraiseBranchFailure } from '../private/failure-catch';
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

  /**
   * A branch that is one chunked step: its stage runs once per chunk of a long text and the chunks'
   * results are reduced into `$.results.<stage>` (see `ChunkedStage`), beside the other branches.
   * Two chunked branches cut the same text each in its own way (pages for one, tokens for another).
   * @param step the chunked step
   * @param options whether the run can do without the branch
   */
  public static chunked(step: ChunkedStage, options: ChunkedBranchOptions = {}): ParallelBranch {
    return new ParallelBranch([step.stage], options.optional ?? false, step);
  }

  /** The branch's stages, in order (a chunked branch: the stage run per chunk). */
  public readonly stages: IInferenceStage[];
  /** True when the run goes on after the branch fails. */
  public readonly isOptional: boolean;
  /**
   * The chunked step the branch runs, when it is a chunked branch.
   * @default - a branch of stages
   */
  public readonly chunkedStep?: ChunkedStage;

  private constructor(stages: IInferenceStage[], optional: boolean, chunkedStep?: ChunkedStage) {
    this.stages = [...stages];
    this.isOptional = optional;
    this.chunkedStep = chunkedStep;
  }
}

/** Options of a chunked branch (`ParallelBranch.chunked`). */
export interface ChunkedBranchOptions {
  /**
   * Whether the run can do without the branch: when true, a failure of the chunked step is recorded
   * at `$.results.<stage>` and the run goes on (later stages and rules see its result as optional).
   * @default false - the branch is required: its failure fails the step and takes the failure path
   */
  readonly optional?: boolean;
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
  private readonly chunked: Array<{ step: ChunkedStage; index: number; optional: boolean }> = [];

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
      comment: props.comment ?? `in parallel: ${props.branches.map((b) => (b.chunkedStep ? `${b.stages[0].stageId} per chunk` : b.stages.map((s) => s.stageId).join(' -> ')) + (b.isOptional ? ' (optional)' : '')).join(' | ')}`,
      // Every branch starts from { document, results } and adds its own stages' results: merging the
      // branches' `results` objects (shallow; earlier stages' entries are the same in each) gives
      // every result at `$.results.<id>`.
      // No ResultPath: the default ('$') makes the selected object the state.
      resultSelector: { 'document.$': '$[0].document', 'results.$': merged },
    });
    props.branches.forEach((branch, i) => {
      if (branch.chunkedStep) {
        // Wired by the pipeline once the step is attached (its Distributed Map needs the working bucket).
        this.state.branch(sfn.Chain.start(branch.chunkedStep.startState));
        this.chunked.push({ step: branch.chunkedStep, index: i, optional: branch.isOptional });
        return;
      }
      let chain = sfn.Chain.start(branch.stages[0]);
      for (const stage of branch.stages.slice(1)) chain = chain.next(stage);
      if (branch.isOptional) {
        const failed = this.optionalFailure(i, branch.stages[0].stageId);
        for (const stage of branch.stages) stage.addCatch(failed, { errors: ['States.ALL'], resultPath: `$.results.${stage.stageId}` });
      } else {
        for (const stage of branch.stages) reraiseBranchFailure(this, id, stage);
      }
      this.state.branch(chain);
    });
  }

  /**
   * Wires the chunked branches (split → map → reduce, the branch's end) and their failures. The
   * pipeline calls this after attaching the chunked steps.
   * @internal
   */
  public _wireChunked(): void {
    for (const { step, index, optional } of this.chunked) {
      const stageId = step.stage.stageId;
      if (optional) {
        step._wire(undefined, this.optionalFailure(index, stageId), { errors: ['States.ALL'], resultPath: `$.results.${stageId}` });
      } else {
        step._wire(undefined, branchFailure(this, this.node.id, stageId), { errors: ['States.ALL'], resultPath: '$.error' });
      }
    }
  }

  /** The chunked steps of the branches. */
  public get chunkedSteps(): ChunkedStage[] {
    return this.chunked.map((c) => c.step);
  }

  private optionalFailure(index: number, stageId: string): sfn.Pass {
    return new sfn.Pass(this, `Branch${index}Failed`, {
      stateName: `${this.node.id}-${stageId}-failed`,
      comment: 'an optional branch failed: its error is recorded at $.results.<stage>; the run goes on',
    });
  }

  /** The step's name: its Parallel state's name. */
  public get stepName(): string {
    return this.node.id;
  }
}
