import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { ResultOutputBase, ResultOutputKind } from './result-output-base';
import { acknowledgeWildcards } from '../private/acknowledge';
import { accessLogsBucket, secureBucket } from '../private/buckets';
import { grantWritePrefix } from '../private/grants';
import { OutputAttachContext } from '../private/output-context';
import { invalid } from '../private/validation';
import { OutputConfig, OutputEnv } from '../shared/outputs-config';

/** Props of the S3 result output. */
export interface S3ResultOutputProps {
  /**
   * The bucket result documents go to.
   * @default - a new bucket: KMS-encrypted, versioned, public access blocked, SSL only, access-logged
   */
  readonly bucket?: s3.IBucket;
  /**
   * Result documents go under `<prefix><pipeline>/<runId>.json`.
   * @default 'results/'
   */
  readonly prefix?: string;
  /**
   * What happens to a new bucket and its key when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Writes each run's result document (`ResultOutput.RESULT_DOCUMENT_SCHEMA_FILE`: document pointer,
 * stage results, route, audit pointers) to S3 at `<prefix><pipeline>/<runId>.json`. A retried write
 * replaces the same key: one result per run.
 */
export class S3ResultOutput extends ResultOutputBase {
  public readonly kind = ResultOutputKind.S3;
  /** Where result documents go. */
  public readonly bucket: s3.IBucket;
  /** The key prefix of result documents. */
  public readonly prefix: string;
  /** The key of the new bucket, when the output made one. */
  public readonly encryptionKey?: kms.IKey;

  constructor(scope: Construct, id: string, props: S3ResultOutputProps = {}) {
    super(scope, id, 'cdk-ai-pipeline output: writes run result documents to S3');
    this.prefix = props.prefix ?? 'results/';
    if (this.prefix.startsWith('/') || (this.prefix !== '' && !this.prefix.endsWith('/'))) {
      invalid(this, `\`prefix\` must be '' or end with '/' and not start with '/', got: '${this.prefix}'. Use e.g. 'results/'.`);
    }
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    if (props.bucket) {
      this.bucket = props.bucket;
    } else {
      this.encryptionKey = new kms.Key(this, 'Key', { enableKeyRotation: true, description: 'cdk-ai-pipeline output: result documents', removalPolicy });
      this.bucket = secureBucket(this, 'Results', {
        encryptionKey: this.encryptionKey,
        accessLogs: accessLogsBucket(this, 'AccessLogs', removalPolicy),
        accessLogsPrefix: 'results/',
        lifecycleRules: [{ noncurrentVersionExpiration: Duration.days(30), abortIncompleteMultipartUploadAfter: Duration.days(1) }],
        removalPolicy,
      });
    }
    this.handler.addEnvironment(OutputEnv.RESULTS_BUCKET, this.bucket.bucketName);
  }

  /** @internal */
  public _configure(context: OutputAttachContext): OutputConfig {
    const prefix = `${this.prefix}${context.pipelineName}/`;
    grantWritePrefix(this.role, this.bucket, prefix, false);
    acknowledgeWildcards(this, [{
      matches: (f, actions) => f.endsWith(`/${prefix}*`) && actions.every((a) => a === 's3:PutObject'),
      reason: `The output writes result documents only under '${prefix}'; their keys carry the run id.`,
    }]);
    return { kind: 's3', output: this.outputId, pipeline: context.pipelineName, stages: context.stageIds, prefix: this.prefix };
  }
}
