import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ResultOutputBase, ResultOutputKind } from './result-output-base';
import { lookupPath } from '../private/contract-check';
import { grantKey } from '../private/grants';
import { OutputAttachContext } from '../private/output-context';
import { invalid } from '../private/validation';
import { HumanReview } from '../review/human-review';
import { OutputConfig, OutputEnv } from '../shared/outputs-config';

/** Props of the SQS result output. */
export interface SqsResultOutputProps {
  /**
   * The queue messages go to (a FIFO queue gets the pipeline as message group and the run id as
   * deduplication id). The output's role may send to it only (and use its KMS key, when it has one).
   * @default - a new queue: encrypted with a new customer-managed KMS key (rotated), SSL only, with a dead-letter queue
   */
  readonly queue?: sqs.IQueue;
  /**
   * Send only this field of the results, as a dotted path under `results` that a stage's output
   * contract declares (`Draft.reply`), in a small message with the run id, document and route.
   * @default - the whole result document (`ResultOutput.RESULT_DOCUMENT_SCHEMA_FILE`)
   */
  readonly field?: string;
  /**
   * Send only runs this human review approved or corrected; when it corrected the field (of the
   * stage it reviews), the reviewer's value is sent. Runs it never reached, or that escalated, send nothing.
   * @default - every run that reaches the output sends a message
   */
  readonly approvedBy?: HumanReview;
  /**
   * What happens to a new queue and its key when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Sends each run's result document, or one field of it, to an SQS queue: a queue you pass, or a new
 * KMS-encrypted one. The output's role may only `sqs:SendMessage` to that queue and encrypt with its
 * key. With `approvedBy`, only what a person approved leaves the pipeline. Locally the messages go to
 * `<out>/queues/<output id>.jsonl`, which the run report links to.
 */
export class SqsResultOutput extends ResultOutputBase {
  public readonly kind = ResultOutputKind.SQS;
  /** The queue messages go to. */
  public readonly queue: sqs.IQueue;
  /** The new queue's dead-letter queue, when the output made the queue. */
  public readonly deadLetterQueue?: sqs.IQueue;
  /** The new queue's key, when the output made the queue. */
  public readonly encryptionKey?: kms.IKey;
  /** The field sent, when not the whole result document. */
  public readonly field?: string;
  private readonly approvedBy?: HumanReview;

  constructor(scope: Construct, id: string, props: SqsResultOutputProps = {}) {
    super(scope, id, 'cdk-ai-pipeline output: sends run results to an SQS queue');
    if (props.field !== undefined && !/^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z0-9_$-]+)+$/.test(props.field)) {
      invalid(this, `\`field\` must be a dotted path '<Stage>.<field>' under results, got: '${props.field}'. Use e.g. 'Draft.reply'.`);
    }
    this.field = props.field;
    this.approvedBy = props.approvedBy;
    if (props.queue) {
      this.queue = props.queue;
    } else {
      const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
      this.encryptionKey = new kms.Key(this, 'Key', { enableKeyRotation: true, description: 'cdk-ai-pipeline output: result messages', removalPolicy });
      this.deadLetterQueue = new sqs.Queue(this, 'DeadLetters', {
        encryption: sqs.QueueEncryption.KMS,
        encryptionMasterKey: this.encryptionKey,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
        removalPolicy,
      });
      this.queue = new sqs.Queue(this, 'Queue', {
        encryption: sqs.QueueEncryption.KMS,
        encryptionMasterKey: this.encryptionKey,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
        deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: 5 },
        removalPolicy,
      });
    }
    // Send only, to this queue only; with an encrypted queue, exactly what SQS needs of the key to encrypt.
    iam.Grant.addToPrincipal({ grantee: this.role, actions: ['sqs:SendMessage'], resourceArns: [this.queue.queueArn] });
    if (this.queue.encryptionMasterKey) grantKey(this.role, this.queue.encryptionMasterKey, ['kms:GenerateDataKey', 'kms:Decrypt']);
    this.handler.addEnvironment(OutputEnv.QUEUE_URL, this.queue.queueUrl);
  }

  /** @internal */
  public _configure(context: OutputAttachContext): OutputConfig {
    if (this.field) {
      const found = lookupPath(context.resultsSchema as any, this.field);
      if (found.schema === undefined && !found.opaque) {
        invalid(this, `\`field\` names '${this.field}', which no stage's output contract of the pipeline declares (its stages: ${context.stageIds.join(', ')}). Name a field a stage produces, e.g. 'Draft.reply'.`);
      }
    }
    let approvedBy: OutputConfig['approvedBy'];
    if (this.approvedBy) {
      const review = this.approvedBy.stepName;
      if (lookupPath(context.resultsSchema as any, `${review}.decision`).schema === undefined) {
        invalid(this, `\`approvedBy\` is the human review '${review}', which is no step of this pipeline. Put the review in the pipeline's \`stages\`, or drop approvedBy.`);
      }
      approvedBy = { review, stage: this.approvedBy.reviewedStage.stageId };
    }
    return {
      kind: 'sqs',
      output: this.outputId,
      pipeline: context.pipelineName,
      stages: context.stageIds,
      ...(this.field ? { field: this.field } : {}),
      ...(approvedBy ? { approvedBy } : {}),
      ...(this.queue.fifo ? { fifo: true } : {}),
    };
  }
}
