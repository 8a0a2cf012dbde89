import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { IPipelineStep } from './pipeline-step';
import { invalid, STAGE_ID } from '../private/validation';
import { RuleCondition } from '../routing/rule-condition';
import { IInferenceStage } from '../stages/inference-stage-base';

/** Props of a `ConditionalStage` step. */
export interface ConditionalStageProps {
  /** The stage that runs when the condition holds. */
  readonly stage: IInferenceStage;
  /** When the stage runs: a condition over earlier stages' results (checked against their contracts at synth). */
  readonly condition: RuleCondition;
  /**
   * The Choice state's name.
   * @default - the step's construct id
   */
  readonly stateName?: string;
}

/**
 * A step of `Pipeline.stages` that runs its stage only when a condition over earlier results holds
 * (one Choice state: the stage, or straight on to the next step). When skipped, the stage has no
 * result at `$.results.<id>`: later stages and rules see its result as optional, and a later stage
 * that requires it fails synth.
 */
export class ConditionalStage extends Construct implements IPipelineStep {
  /** The stage that runs when the condition holds. */
  public readonly stage: IInferenceStage;
  /** When the stage runs. */
  public readonly condition: RuleCondition;
  /** The Choice state (the step's main child, id `Resource`). */
  public readonly choice: sfn.Choice;

  constructor(scope: Construct, id: string, props: ConditionalStageProps) {
    super(scope, id);
    const name = props.stateName ?? id;
    if (!STAGE_ID.test(name)) {
      invalid(this, `\`stateName\` must be a letter followed by letters, digits or '_' (at most 64), got: '${name}'. Rename the step, e.g. 'IfNotEnglish'.`);
    }
    this.stage = props.stage;
    this.condition = props.condition;
    this.choice = new sfn.Choice(this, 'Resource', { stateName: name, comment: `run ${props.stage.stageId} when ${props.condition.description}` });
  }

  /** The step's name: its Choice state's name. */
  public get stepName(): string {
    return this.choice.stateId;
  }

  /**
   * Wires the Choice: the stage when the condition holds, else `next`. The pipeline calls this.
   * @internal
   */
  public _wire(guarded: (path: string) => boolean, next: sfn.IChainable): void {
    this.choice.when(this.condition._toCondition(guarded), this.stage, { comment: this.condition.description });
    this.choice.otherwise(next);
    for (const end of this.stage.endStates) end.next(next);
  }
}
