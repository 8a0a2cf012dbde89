import { AspectPriority, Aspects, Duration, IAspect, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct, IConstruct } from 'constructs';
import { secureBucket } from './buckets';
import { AuditSink } from '../audit/audit-sink';

/** The id of the shared construct under the stack. */
const ID = 'CdkAiPipelineStandalone';

/**
 * The working bucket and audit sink shared by a stack's stand-alone stages (stages no Pipeline
 * attaches). Stages cannot know at construction whether a Pipeline will attach them later, so the
 * first stage that may need these makes them; at synth, once every Pipeline has attached its stages,
 * the construct removes itself when no stage uses it (nothing references it before then).
 */
export class StandaloneResources extends Construct {
  /** The stack's shared resources, made on first use; `needs` tells, at synth, whether the caller uses them. */
  public static of(scope: IConstruct, needs: () => boolean): StandaloneResources {
    const stack = Stack.of(scope);
    const found = stack.node.tryFindChild(ID) as StandaloneResources | undefined;
    const shared = found ?? new StandaloneResources(stack, ID);
    shared.users.push(needs);
    return shared;
  }

  private readonly users: Array<() => boolean> = [];
  private sink?: AuditSink;
  private bucket?: s3.Bucket;

  private constructor(scope: Construct, id: string) {
    super(scope, id);
    Aspects.of(this).add(new RemoveWhenUnused(this), { priority: AspectPriority.MUTATING });
  }

  /** The shared audit sink (made on first call). */
  public auditSink(): AuditSink {
    this.sink ??= new AuditSink(this, 'Audit');
    return this.sink;
  }

  /** The shared working bucket (made on first call), its access logs going to `accessLogs`. */
  public workingBucket(accessLogs: s3.IBucket): s3.Bucket {
    if (!this.bucket) {
      const encryptionKey = new kms.Key(this, 'Key', {
        enableKeyRotation: true,
        description: 'cdk-ai-pipeline stand-alone stages: working data',
        removalPolicy: RemovalPolicy.RETAIN,
      });
      this.bucket = secureBucket(this, 'Working', {
        encryptionKey,
        accessLogs,
        accessLogsPrefix: 'working/standalone/',
        lifecycleRules: [{
          expiration: Duration.days(30),
          noncurrentVersionExpiration: Duration.days(1),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        }],
        removalPolicy: RemovalPolicy.RETAIN,
      });
    }
    return this.bucket;
  }

  /** @internal */
  public _removeWhenUnused(): void {
    if (this.node.scope && !this.users.some((needs) => needs())) {
      this.node.scope.node.tryRemoveChild(this.node.id);
    }
  }
}

class RemoveWhenUnused implements IAspect {
  constructor(private readonly shared: StandaloneResources) {}
  public visit(node: IConstruct): void {
    if (node === this.shared) this.shared._removeWhenUnused();
  }
}
