import { Duration, Names, Size } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { cloneSchema, DOCUMENT_INPUT_SCHEMA, TEXTRACT_OUTPUT_SCHEMA } from '../../contracts/schemas';
import { StageContract } from '../../contracts/stage-contract';
import { acknowledgeRule, acknowledgeWildcards } from '../../private/acknowledge';
import { grantThroughPolicy } from '../../private/grants';
import { Bundles, stageCode } from '../../private/handler-asset';
import { invalid, outOfRange, whereOf } from '../../private/validation';
import { Env, TextractStageConfig, TRANSIENT_ERRORS } from '../../shared';
import { InferenceStageBase, InferenceStageOptions, StageKind } from '../inference-stage-base';

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
    const where = whereOf('TextractStage', scope, id);
    const maxBytes = (props.maxDocumentSize ?? Size.mebibytes(50)).toBytes();
    const maxPages = props.maxPages ?? 3000;
    if (outOfRange(maxPages, 1, 3000, true)) {
      invalid(where, `\`maxPages\` must be a whole number from 1 to 3000 (Textract's asynchronous limit), got: ${maxPages}.`);
    }
    if (outOfRange(maxBytes, 1, 500 * 1024 * 1024)) {
      invalid(where, `\`maxDocumentSize\` must be between 1 byte and 500 MiB (Textract's limit), got: ${maxBytes} bytes.`);
    }
    const maxDecompressedBytes = (props.maxDecompressedSize ?? Size.mebibytes(256)).toBytes();
    if (outOfRange(maxDecompressedBytes, 1, 4 * 1024 * 1024 * 1024)) {
      invalid(where, `\`maxDecompressedSize\` must be between 1 byte and 4 GiB, got: ${maxDecompressedBytes} bytes.`);
    }
    const config: TextractStageConfig = { stage: id, kind: 'textract', maxDocumentBytes: maxBytes, maxPages, maxDecompressedBytes };
    const input = props.input ?? StageContract.fromObject(cloneSchema(DOCUMENT_INPUT_SCHEMA));
    const output = StageContract.fromObject(cloneSchema(TEXTRACT_OUTPUT_SCHEMA));
    super(scope, id, {
      kind: StageKind.TEXTRACT,
      code: stageCode(Bundles.TEXTRACT, config, { input: input.schema, output: output.schema }),
      inputContract: input,
      outputContract: output,
      transientErrors: [...TRANSIENT_ERRORS.textract, ...TRANSIENT_ERRORS.s3],
      timeout: props.timeout ?? Duration.minutes(30),
      handlerTimeout: Duration.minutes(2),
      memorySize: props.memorySize ?? 1024,
      retry: props.retry,
      quota: props.quota,
      standalone: props.standalone,
      waitForCallback: true,
      description: 'preflight, then Textract text detection (sync or async job)',
    });

    // Job completion: Textract publishes to this topic with its own role; the handler resumes the run.
    const snsKey = kms.Alias.fromAliasName(this, 'SnsKey', 'alias/aws/sns');
    this.completionTopic = new sns.Topic(this, 'JobCompletion', {
      masterKey: snsKey,
      enforceSSL: true,
      displayName: `Textract job completion of stage ${id}`,
    });
    this.textractServiceRole = new iam.Role(this, 'TextractPublishRole', {
      assumedBy: new iam.ServicePrincipal('textract.amazonaws.com'),
      description: `Lets Amazon Textract announce job completion of stage ${id}`,
    });
    this.completionTopic.grantPublish(this.textractServiceRole);
    this.completionTopic.addSubscription(new subs.LambdaSubscription(this.handler));
    const lostCompletion = 'A completion this function could not take (after Lambda\'s own asynchronous retries) leaves the waiting task to its timeout, which the stage\'s Catch turns into the failure path: the run is recorded and the document quarantined, so no event is lost silently.';
    for (const pack of ['Serverless', 'HIPAA.Security', 'NIST.800.53.R5']) acknowledgeRule(this.handler, `${pack}-LambdaDLQ`, `Invoked asynchronously by the job-completion topic and synchronously by the state machine. ${lostCompletion}`);
    acknowledgeRule([...this.completionTopic.node.findAll(), ...this.handler.node.findAll()].find((c) => c instanceof sns.Subscription)!, 'Serverless-SNSRedrivePolicy', `Textract publishes one completion per job to this topic. ${lostCompletion}`);

    this.role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['textract:DetectDocumentText', 'textract:StartDocumentTextDetection', 'textract:GetDocumentTextDetection'],
      resources: ['*'],
    }));
    this.textractServiceRole.grantPassRole(this.role);
    this.addHandlerEnvironment(Env.TEXTRACT_TOPIC_ARN, this.completionTopic.topicArn);
    this.addHandlerEnvironment(Env.TEXTRACT_ROLE_ARN, this.textractServiceRole.roleArn);

    acknowledgeWildcards(this, [{
      matches: (f, actions) => f === 'Resource::*' && actions.every((a) => a.startsWith('textract:')),
      reason: 'Textract text-detection actions do not support resource-level permissions; the role grants only the three it calls.',
    }]);
  }

  /**
   * Grants SendTaskSuccess/SendTaskFailure on the state machine: the handler resumes the run with them.
   * A policy of its own per state machine, so the state machine (which references the handler) does
   * not depend on the handler's default policy.
   * @param stateMachine the state machine that runs this stage
   */
  public grantTaskResponse(stateMachine: sfn.IStateMachine): iam.Grant {
    const first = this.node.tryFindChild('TaskResponsePolicy') === undefined;
    const policy = new iam.Policy(this, first ? 'TaskResponsePolicy' : `TaskResponsePolicy${Names.uniqueId(stateMachine).slice(-8)}`);
    return grantThroughPolicy(policy, this.role, ['states:SendTaskSuccess', 'states:SendTaskFailure'], [stateMachine.stateMachineArn]);
  }
}
