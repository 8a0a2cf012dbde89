import { createHash } from 'crypto';
import { Duration, Names, Size, Stack, Token } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { cloneSchema, DOCUMENT_INPUT_SCHEMA, TRANSCRIBE_OUTPUT_SCHEMA } from '../../contracts/schemas';
import { StageContract } from '../../contracts/stage-contract';
import { acknowledgeRule, acknowledgeWildcards } from '../../private/acknowledge';
import { grantKey, grantThroughPolicy } from '../../private/grants';
import { Bundles, stageCode } from '../../private/handler-asset';
import { invalid, outOfRange, whereOf } from '../../private/validation';
import { Env, TranscribeStageConfig, TRANSIENT_ERRORS } from '../../shared';
import { InferenceStageBase, InferenceStageOptions, StageAttachOptions, StageKind } from '../inference-stage-base';

/** Props of a Transcribe stage. */
export interface TranscribeStageProps extends InferenceStageOptions {
  /**
   * Language of the recordings, as an Amazon Transcribe language code.
   * @default 'en-US'
   */
  readonly languageCode?: string;
  /**
   * Largest recording accepted; larger ones fail with `Document.TooLarge` before any Transcribe call.
   * @default Size.gibibytes(2) (Transcribe's limit for batch jobs)
   */
  readonly maxMediaSize?: Size;
}

const LANGUAGE_CODE = /^[a-z]{2,3}-[A-Z]{2}$/;

/**
 * Speech to text with Amazon Transcribe, as one state: the handler checks the recording (size,
 * container by magic bytes) and starts a transcription job; Transcribe's job event (EventBridge)
 * brings the handler back, which stores the transcript as the stage's `text` pointer (sha256 inside)
 * and resumes the run through the task token. No Lambda waits on a job. Transcribe writes its result
 * under the stage's prefix of the working bucket, encrypted with the working bucket's KMS key.
 */
export class TranscribeStage extends InferenceStageBase {
  /** The rule that brings Transcribe's job events to the handler (this stage's jobs only). */
  public readonly completionRule: events.Rule;
  /** Language of the recordings. */
  public readonly languageCode: string;

  constructor(scope: Construct, id: string, props: TranscribeStageProps = {}) {
    const where = whereOf('TranscribeStage', scope, id);
    if (props.quota) {
      invalid(where, '`quota` is not supported on Transcribe stages: ServiceQuota covers Bedrock models, Textract and SageMaker endpoints. Remove `quota` (throttling is retried as `retry` says; Transcribe queues jobs over its concurrency itself).');
    }
    const languageCode = props.languageCode ?? 'en-US';
    if (!Token.isUnresolved(languageCode) && !LANGUAGE_CODE.test(languageCode)) {
      invalid(where, `\`languageCode\` must be an Amazon Transcribe language code such as 'en-US' or 'de-DE', got: '${languageCode}'.`);
    }
    const maxBytes = (props.maxMediaSize ?? Size.gibibytes(2)).toBytes();
    if (outOfRange(maxBytes, 1, 2 * 1024 * 1024 * 1024)) {
      invalid(where, `\`maxMediaSize\` must be between 1 byte and 2 GiB (Transcribe's limit), got: ${maxBytes} bytes.`);
    }
    // Job names carry a prefix unique to this stage in the app: the completion rule matches only its own jobs.
    const jobPrefix = `cdkaip-${createHash('sha256').update(`${Token.isUnresolved(Stack.of(scope).stackName) ? '' : Stack.of(scope).stackName}/${scope.node.path}/${id}`).digest('hex').slice(0, 12)}-`;
    const config: TranscribeStageConfig = { stage: id, kind: 'transcribe', languageCode, maxMediaBytes: maxBytes, jobPrefix };
    const input = props.input ?? StageContract.fromObject(cloneSchema(DOCUMENT_INPUT_SCHEMA));
    const output = StageContract.fromObject(cloneSchema(TRANSCRIBE_OUTPUT_SCHEMA));
    super(scope, id, {
      kind: StageKind.TRANSCRIBE,
      code: stageCode(Bundles.TRANSCRIBE, config, { input: input.schema, output: output.schema }),
      inputContract: input,
      outputContract: output,
      transientErrors: [...TRANSIENT_ERRORS.transcribe, ...TRANSIENT_ERRORS.s3],
      timeout: props.timeout ?? Duration.minutes(30),
      handlerTimeout: Duration.minutes(1),
      memorySize: props.memorySize ?? 256,
      retry: props.retry,
      standalone: props.standalone,
      waitForCallback: true,
      description: `Transcribe (${languageCode}) job, resumed by its completion event`,
    });
    this.languageCode = languageCode;

    // Transcribe's own job events, on the default bus: only this stage's job names.
    this.completionRule = new events.Rule(this, 'JobCompletion', {
      description: `Transcription jobs of stage ${id} ended: resume the run`,
      eventPattern: {
        source: ['aws.transcribe'],
        detailType: ['Transcribe Job State Change'],
        detail: {
          TranscriptionJobStatus: ['COMPLETED', 'FAILED'],
          TranscriptionJobName: events.Match.prefix(jobPrefix),
        },
      },
    });
    this.completionRule.addTarget(new targets.LambdaFunction(this.handler, { retryAttempts: 4, maxEventAge: Duration.hours(2) }));
    const lostCompletion = 'A completion event this function could not take (after EventBridge\'s 4 retries and Lambda\'s own asynchronous retries) leaves the waiting task to its timeout, which the stage\'s Catch turns into the failure path: the run is recorded and the recording kept, so no event is lost silently.';
    acknowledgeRule(this.completionRule, 'Serverless-EventBusDLQ', `Transcribe emits one completion event per job. ${lostCompletion}`);
    for (const pack of ['Serverless', 'HIPAA.Security', 'NIST.800.53.R5']) {
      acknowledgeRule(this.handler, `${pack}-LambdaDLQ`, `Invoked asynchronously by the job-completion rule and synchronously by the state machine. ${lostCompletion}`);
    }

    // Start and read only this stage's jobs: the job name is known at run time, its prefix now.
    const stack = Stack.of(this);
    const jobs = stack.formatArn({ service: 'transcribe', resource: 'transcription-job', resourceName: `${jobPrefix}*` });
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['transcribe:StartTranscriptionJob', 'transcribe:GetTranscriptionJob'],
      resources: [jobs],
    }));
    acknowledgeWildcards(this, [{
      matches: (f, actions) => f.includes(`transcription-job/${jobPrefix}*`) && actions.every((a) => a.startsWith('transcribe:')),
      reason: `The ${id} stage starts and reads only its own transcription jobs, named '${jobPrefix}<hash of the run>': the run is known only at run time.`,
    }]);
  }

  /**
   * Grants SendTaskSuccess/SendTaskFailure on the state machine: the handler resumes the run with them.
   * A policy of its own, so the state machine (which references the handler) and the handler's
   * default policy do not depend on each other.
   * @param stateMachine the state machine that runs this stage
   */
  public grantTaskResponse(stateMachine: sfn.IStateMachine): iam.Grant {
    const first = this.node.tryFindChild('TaskResponsePolicy') === undefined;
    const policy = new iam.Policy(this, first ? 'TaskResponsePolicy' : `TaskResponsePolicy${Names.uniqueId(stateMachine).slice(-8)}`);
    return grantThroughPolicy(policy, this.role, ['states:SendTaskSuccess', 'states:SendTaskFailure'], [stateMachine.stateMachineArn]);
  }

  /** Transcribe writes its result with the working bucket's key: the caller's role must be able to encrypt with it. */
  protected onAttach(options: StageAttachOptions): void {
    const key = options.workingBucket.encryptionKey;
    if (key) {
      this.addHandlerEnvironment(Env.TRANSCRIBE_OUTPUT_KEY, key.keyArn);
      grantKey(this.role, key, ['kms:Encrypt']);
    }
  }
}
