import { Size } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { cloneSchema, DOCUMENT_INPUT_SCHEMA, TEXTRACT_OUTPUT_SCHEMA } from '../../contracts/schemas';
import { StageContract } from '../../contracts/stage-contract';
import { grantTaskResponsePolicy, textractLimits, textractStageBaseProps, wireTextractJobs } from '../../private/textract-jobs';
import { whereOf } from '../../private/validation';
import { TextractStageConfig } from '../../shared';
import { InferenceStageBase, InferenceStageOptions } from '../inference-stage-base';

/** Props of a Textract stage. */
export interface TextractStageProps extends InferenceStageOptions {
  /**
   * Largest document accepted; larger ones fail with `Document.TooLarge` before any Textract call.
   * @default Size.mebibytes(50)
   */
  readonly maxDocumentSize?: Size;
  /**
   * Most pages accepted; longer documents fail with `Document.TooLarge`.
   * @default 3000 (Textract's limit for asynchronous jobs)
   */
  readonly maxPages?: number;
  /**
   * Most bytes a PDF's compressed streams may inflate to, all of them together. The preflight counts
   * them (keeping none) before the PDF is parsed and refuses a document over the limit with
   * `Document.TooLarge` (quarantined, kept where it is): a Flate bomb never reaches the parser or Textract.
   * @default Size.mebibytes(256)
   */
  readonly maxDecompressedSize?: Size;
}


/**
 * Text detection with Amazon Textract, as one state. The handler checks the document first (type by
 * magic bytes, size, encryption, page count) so bad documents never reach Textract; single-page
 * documents use DetectDocumentText, multi-page ones an asynchronous job whose completion (SNS) resumes
 * the run through the task token. No Lambda ever waits on a job.
 */
export class TextractStage extends InferenceStageBase {
  /** The topic Textract announces job completion on (encrypted, SSL only). */
  public readonly completionTopic: sns.Topic;
  /** The role Textract assumes to publish job completion. */
  public readonly textractServiceRole: iam.Role;

  constructor(scope: Construct, id: string, props: TextractStageProps = {}) {
    const limits = textractLimits(whereOf('TextractStage', scope, id), props);
    const config: TextractStageConfig = { stage: id, kind: 'textract', ...limits };
    const input = props.input ?? StageContract.fromObject(cloneSchema(DOCUMENT_INPUT_SCHEMA));
    const output = StageContract.fromObject(cloneSchema(TEXTRACT_OUTPUT_SCHEMA));
    super(scope, id, textractStageBaseProps(config, { input, output }, props, 'preflight, then Textract text detection (sync or async job)'));
    const jobs = wireTextractJobs(this, {
      id,
      handler: this.handler,
      role: this.role,
      actions: ['textract:DetectDocumentText', 'textract:StartDocumentTextDetection', 'textract:GetDocumentTextDetection'],
      wildcardReason: 'Textract text-detection actions do not support resource-level permissions; the role grants only the three it calls.',
      setEnvironment: (key, value) => this.addHandlerEnvironment(key, value),
    });
    this.completionTopic = jobs.completionTopic;
    this.textractServiceRole = jobs.textractServiceRole;
  }

  /**
   * Grants SendTaskSuccess/SendTaskFailure on the state machine: the handler resumes the run with them.
   * A policy of its own per state machine, so the state machine (which references the handler) does
   * not depend on the handler's default policy.
   * @param stateMachine the state machine that runs this stage
   */
  public grantTaskResponse(stateMachine: sfn.IStateMachine): iam.Grant {
    return grantTaskResponsePolicy(this, this.role, stateMachine);
  }
}
