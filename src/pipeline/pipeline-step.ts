import { IConstruct } from 'constructs';

/**
 * One step of `Pipeline.stages`: an inference stage (`InferenceStage.bedrock(...)` and the other
 * kinds), stages in parallel (`ParallelStages`), a stage that runs only when a condition holds
 * (`ConditionalStage`), a gate of routing rules between stages (`PipelineGate`), or a stage
 * run once per chunk of a long text with its results reduced (`ChunkedStage`).
 */
export interface IPipelineStep extends IConstruct {
  /** The step's name: a stage's id, or the state name of a composite step. */
  readonly stepName: string;
}
