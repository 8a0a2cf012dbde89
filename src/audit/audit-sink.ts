import * as path from 'path';
import { Annotations, Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as cloudtrail from 'aws-cdk-lib/aws-cloudtrail';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct, IConstruct } from 'constructs';
import { accessLogsBucket, secureBucket } from '../private/buckets';
import { grantKey, grantListPrefix, grantReadPrefix, grantWritePrefix } from '../private/grants';
import { logsKeyStatement } from '../private/logs-key';
import { invalid } from '../private/validation';
import { Keys } from '../shared';
import { REDACT_PATH } from '../shared/paths';

/** S3 Object Lock on the audit records: every record version is locked for `retention`. */
export interface AuditObjectLock {
  /**
   * COMPLIANCE: nobody, the account root included, can delete or overwrite a locked version before
   * its retention ends (nor shorten it). GOVERNANCE: principals with `s3:BypassGovernanceRetention`
   * can.
   * @default s3.ObjectLockMode.GOVERNANCE
   */
  readonly mode?: s3.ObjectLockMode;
  /** How long each record version stays locked; whole days, at least one. */
  readonly retention: Duration;
}

/** Props of an audit sink. */
export interface AuditSinkProps {
  /**
   * The customer-managed key that encrypts the records, the audit bus and the state-machine logs.
   * @default - a new key with yearly rotation
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Set to true when `encryptionKey` is an imported key whose key policy you have already given
   * CloudWatch Logs (`logs.<region>.amazonaws.com`: kms:Encrypt*, kms:Decrypt*, kms:ReEncrypt*,
   * kms:GenerateDataKey*, kms:DescribeKey, conditioned on `kms:EncryptionContext:aws:logs:arn`):
   * the sink cannot add that statement to a key it did not create, and fails synth without it.
   * @default false
   */
  readonly importedKeyAllowsLogs?: boolean;
  /**
   * Move records to S3 Standard-IA after this long.
   * @default Duration.days(90)
   */
  readonly infrequentAccessAfter?: Duration;
  /**
   * Delete records after this long. Leave unset to keep them.
   * @default - records are kept
   */
  readonly expireAfter?: Duration;
  /**
   * Lock each record version against deletion and overwrite for this long (S3 Object Lock, governance mode).
   * @default - no Object Lock
   * @deprecated use `objectLock`, which also chooses the mode
   */
  readonly objectLockRetention?: Duration;
  /**
   * S3 Object Lock on the records bucket, in governance or compliance mode. With it, the chain of a
   * run cannot be rewritten within the retention (ADR-0017); without it, someone able to write the
   * bucket can rewrite a whole run consistently.
   * @default - no Object Lock
   */
  readonly objectLock?: AuditObjectLock;
  /**
   * Paths of the run state (`document.key`, `results.Summarize.parties`, `results.*.email`; `*`
   * matches any key or array item) whose values are replaced by `[REDACTED sha256:<hex>]` in the
   * input views and outputs kept beside the stage records. Each record lists the paths it redacted.
   * The prompt and the model's raw replies are kept as they are.
   * @default - nothing is redacted
   */
  readonly redactFields?: string[];
  /**
   * A CloudTrail trail recording the S3 data events (reads and writes) of the records bucket and of
   * the buckets in `dataEventBuckets` (add more with `logDataEvents`): who read or wrote which record
   * or document. Log files are KMS-encrypted with the sink's key, validated (digest files) and kept
   * in a bucket of their own with the records' lifecycle. Data events are billed per event.
   * @default false
   */
  readonly cloudTrailDataEvents?: boolean;
  /**
   * More buckets whose data events the trail records (the pipeline's document bucket, typically).
   * Setting it turns `cloudTrailDataEvents` on.
   * @default - only the records bucket, when `cloudTrailDataEvents` is on
   */
  readonly dataEventBuckets?: s3.IBucket[];
  /**
   * Retention of the state-machine execution logs.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * What happens to the records, the logs and the key when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** Where stages and pipelines write their audit trail; what a Pipeline and its stages depend on. */
export interface IAuditSink extends IConstruct {
  /** The records bucket. */
  readonly bucket: s3.IBucket;
  /** The bucket receiving the server access logs of the records and working buckets. */
  readonly accessLogsBucket: s3.IBucket;
  /** The key encrypting records, events and logs. */
  readonly encryptionKey: kms.IKey;
  /** The bus audit events are put on. */
  readonly eventBus: events.IEventBus;
  /** Log group for state-machine execution logs. */
  readonly logGroup: logs.ILogGroup;
  /** Run-state paths redacted in the content kept beside stage records; stages get them in `AUDIT_REDACT_FIELDS`. */
  readonly redactFields?: string[];

  /**
   * Grants reading the audit records of one stage (under `stages/<stage>/`), with listing (to tell a
   * missing record from a denied one): what the recorder needs to chain a run's stage records.
   * @param grantee the recorder's role
   * @param stage the stage id
   */
  grantReadStageRecords(grantee: iam.IGrantable, stage: string): iam.Grant;

  /**
   * Grants writing the audit records of one stage (under `stages/<stage>/`) and putting audit events.
   * @param grantee the stage's role
   * @param stage the stage id
   */
  grantWriteStageRecords(grantee: iam.IGrantable, stage: string): iam.Grant;

  /**
   * Grants writing and reading run records (under `runs/`) and putting audit events.
   * @param grantee the recorder's role
   */
  grantWriteRunRecords(grantee: iam.IGrantable): iam.Grant;

  /**
   * Grants putting events on the audit bus (encrypted with the sink's key).
   * @param grantee who puts events
   */
  grantPutEvents(grantee: iam.IGrantable): iam.Grant;

  /**
   * Grants reading every audit record (objects, versions, listing) and decrypting them: for auditors.
   * @param grantee who reads the trail
   */
  grantRead(grantee: iam.IGrantable): iam.Grant;
}

/**
 * Where a pipeline's audit trail lives: an encrypted, versioned S3 bucket with a record per stage and
 * per run, an EventBridge bus carrying an audit event for each record, and the state machine's
 * execution log group. Record format: `AuditSink.RECORD_SCHEMA_FILE` (JSON Schema, draft 2020-12).
 */
export class AuditSink extends Construct implements IAuditSink {
  /** Path of the JSON Schema of audit records. */
  public static readonly RECORD_SCHEMA_FILE: string = path.join(__dirname, 'audit-record.schema.json');

  /** The records bucket (KMS, versioned, SSL only, access-logged); the sink's main child, id `Resource`. */
  public readonly bucket: s3.IBucket;
  /** The bucket receiving the server access logs of the records and working buckets. */
  public readonly accessLogsBucket: s3.IBucket;
  /** The key encrypting records, events and logs. */
  public readonly encryptionKey: kms.IKey;
  /** The bus audit events are put on (source `cdk-ai-pipeline`). */
  public readonly eventBus: events.IEventBus;
  /** Log group for state-machine execution logs (execution data excluded). */
  public readonly logGroup: logs.ILogGroup;
  /** Run-state paths redacted in the content kept beside stage records. */
  public readonly redactFields?: string[];
  /** The CloudTrail trail recording S3 data events, when `cloudTrailDataEvents` is on. */
  public readonly trail?: cloudtrail.Trail;

  constructor(scope: Construct, id: string, props: AuditSinkProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const ia = props.infrequentAccessAfter ?? Duration.days(90);
    // Durations given as tokens (CloudFormation parameters) are checked by S3 at deploy time, not here.
    const days = (d: Duration) => d.toDays({ integral: false });
    const known = (d: Duration | undefined): d is Duration => d !== undefined && !d.isUnresolved();
    if (known(ia) && days(ia) < 30) {
      invalid(this, `\`infrequentAccessAfter\` must be at least 30 days (S3's minimum for Standard-IA), got: ${ia.toHumanString()}.`);
    }
    if (known(props.expireAfter) && known(ia) && days(props.expireAfter) <= days(ia)) {
      invalid(this, `\`expireAfter\` (${props.expireAfter.toHumanString()}) must be longer than \`infrequentAccessAfter\` (${ia.toHumanString()}).`);
    }
    if (known(props.objectLockRetention) && days(props.objectLockRetention) < 1) {
      invalid(this, `\`objectLockRetention\` must be at least 1 day, got: ${props.objectLockRetention.toHumanString()}.`);
    }
    if (props.objectLock && props.objectLockRetention) {
      invalid(this, '`objectLock` and `objectLockRetention` (deprecated) are both set: keep only `objectLock`.');
    }
    const lock = props.objectLock ?? (props.objectLockRetention ? { retention: props.objectLockRetention } : undefined);
    if (props.objectLock && known(props.objectLock.retention) && days(props.objectLock.retention) < 1) {
      invalid(this, `\`objectLock.retention\` must be at least 1 day, got: ${props.objectLock.retention.toHumanString()}.`);
    }
    if (props.objectLock && known(props.objectLock.retention)) wholeDays(this, 'objectLock.retention', props.objectLock.retention);
    for (const p of props.redactFields ?? []) {
      if (!Token.isUnresolved(p) && !REDACT_PATH.test(p)) {
        invalid(this, `\`redactFields\` holds '${p}', which is not a run-state path: use dotted steps from 'document' or 'results' (letters, digits, '_', '-', or '*' for any key), e.g. 'results.Summarize.parties'.`);
      }
    }
    this.redactFields = props.redactFields && props.redactFields.length > 0 ? [...props.redactFields] : undefined;

    if (known(ia)) wholeDays(this, 'infrequentAccessAfter', ia);
    if (known(props.expireAfter)) wholeDays(this, 'expireAfter', props.expireAfter);
    if (known(props.objectLockRetention)) wholeDays(this, 'objectLockRetention', props.objectLockRetention);
    if (lock?.mode === s3.ObjectLockMode.COMPLIANCE && removalPolicy === RemovalPolicy.DESTROY) {
      Annotations.of(this).addWarningV2('cdk-ai-pipeline:audit-compliance-lock-destroy',
        '`removalPolicy` is DESTROY but `objectLock` is in COMPLIANCE mode: deleting the stack will fail while locked record versions remain. Use RemovalPolicy.RETAIN.');
    }

    this.encryptionKey = props.encryptionKey ?? new kms.Key(this, 'Key', {
      enableKeyRotation: true,
      description: 'cdk-ai-pipeline audit records, events and logs',
      removalPolicy,
    });
    const stack = Stack.of(this);
    // CloudWatch Logs encrypts the execution log group with the key. An imported key's policy cannot
    // be changed from here (addToResourcePolicy does nothing): say what it needs rather than deploy a
    // log group CloudWatch Logs cannot write.
    const logsStatement = logsKeyStatement(stack);
    if (!this.encryptionKey.addToResourcePolicy(logsStatement).statementAdded && !props.importedKeyAllowsLogs) {
      invalid(this, `\`encryptionKey\` (${this.encryptionKey.node.path}) is an imported key whose policy the sink cannot change, and CloudWatch Logs must encrypt the execution log group with it. Add this statement to the key policy: ${JSON.stringify(stack.resolve(logsStatement.toStatementJson()))}, then set \`importedKeyAllowsLogs: true\`; or pass a kms.Key created in this app.`);
    }

    this.accessLogsBucket = accessLogsBucket(this, 'AccessLogs', removalPolicy);
    this.bucket = secureBucket(this, 'Resource', {
      encryptionKey: this.encryptionKey,
      accessLogs: this.accessLogsBucket,
      accessLogsPrefix: 'audit-records/',
      objectLock: lock ? (lock.mode === s3.ObjectLockMode.COMPLIANCE
        ? s3.ObjectLockRetention.compliance(lock.retention)
        : s3.ObjectLockRetention.governance(lock.retention)) : undefined,
      lifecycleRules: [{
        abortIncompleteMultipartUploadAfter: Duration.days(7),
        transitions: [{ storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter: ia }],
        expiration: props.expireAfter,
      }],
      removalPolicy,
    });

    this.eventBus = new events.EventBus(this, 'Bus', {
      description: 'cdk-ai-pipeline audit events',
      kmsKey: this.encryptionKey,
    });

    this.logGroup = new logs.LogGroup(this, 'ExecutionLogs', {
      logGroupName: `/aws/vendedlogs/states/cdk-ai-pipeline-${this.node.addr.slice(0, 16)}`,
      encryptionKey: this.encryptionKey,
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      removalPolicy,
    });

    if (props.cloudTrailDataEvents || (props.dataEventBuckets ?? []).length > 0) {
      this.trail = this.dataEventsTrail(removalPolicy, ia, props.expireAfter);
      for (const b of props.dataEventBuckets ?? []) this.logDataEvents(b);
    }
  }

  /**
   * Records the S3 data events (reads and writes) of a bucket in the sink's trail.
   * @param bucket the bucket (the pipeline's document bucket, typically)
   */
  public logDataEvents(bucket: s3.IBucket): void {
    if (!this.trail) {
      invalid(this, `logDataEvents(${bucket.node.path}) needs the trail: set \`cloudTrailDataEvents: true\`.`);
      return;
    }
    this.trail.addS3EventSelector([{ bucket }], { readWriteType: cloudtrail.ReadWriteType.ALL, includeManagementEvents: false });
  }

  /** The trail of S3 data events: encrypted with the sink's key, validated, in a bucket of its own. */
  private dataEventsTrail(removalPolicy: RemovalPolicy, ia: Duration, expireAfter: Duration | undefined): cloudtrail.Trail {
    const stack = Stack.of(this);
    const trailArn = `arn:${stack.partition}:cloudtrail:${stack.region}:${stack.account}:trail/*`;
    // CloudTrail encrypts the log files with the key, for this account's trails only.
    this.encryptionKey.addToResourcePolicy(new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal('cloudtrail.amazonaws.com')],
      actions: ['kms:GenerateDataKey*'],
      resources: ['*'],
      conditions: {
        StringLike: { 'kms:EncryptionContext:aws:cloudtrail:arn': trailArn },
        StringEquals: { 'aws:SourceAccount': stack.account },
      },
    }));
    this.encryptionKey.addToResourcePolicy(new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal('cloudtrail.amazonaws.com')],
      actions: ['kms:DescribeKey'],
      resources: ['*'],
    }));
    const bucket = secureBucket(this, 'TrailLogs', {
      encryptionKey: this.encryptionKey,
      accessLogs: this.accessLogsBucket,
      accessLogsPrefix: 'audit-trail/',
      lifecycleRules: [{
        transitions: [{ storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter: ia }],
        expiration: expireAfter,
      }],
      removalPolicy,
    });
    const trail = new cloudtrail.Trail(this, 'Trail', {
      bucket,
      encryptionKey: this.encryptionKey,
      enableFileValidation: true,
      includeGlobalServiceEvents: false,
      isMultiRegionTrail: false,
      managementEvents: cloudtrail.ReadWriteType.NONE,
      sendToCloudWatchLogs: false,
    });
    trail.addS3EventSelector([{ bucket: this.bucket }], { readWriteType: cloudtrail.ReadWriteType.ALL, includeManagementEvents: false });
    return trail;
  }

  /**
   * Grants writing the audit records of one stage (under `stages/<stage>/`) and putting audit events.
   * @param grantee the stage's role
   * @param stage the stage id
   */
  public grantWriteStageRecords(grantee: iam.IGrantable, stage: string): iam.Grant {
    return grantWritePrefix(grantee, this.bucket, Keys.stagePrefix(stage), false).combine(this.grantPutEvents(grantee));
  }

  /**
   * Grants reading the audit records of one stage (under `stages/<stage>/`), with listing (to tell a
   * missing record from a denied one): what the recorder needs to chain a run's stage records.
   * @param grantee the recorder's role
   * @param stage the stage id
   */
  public grantReadStageRecords(grantee: iam.IGrantable, stage: string): iam.Grant {
    return grantReadPrefix(grantee, this.bucket, Keys.stagePrefix(stage), true);
  }

  /**
   * Grants writing and reading run records (under `runs/`) and putting audit events.
   * @param grantee the recorder's role
   */
  public grantWriteRunRecords(grantee: iam.IGrantable): iam.Grant {
    return grantWritePrefix(grantee, this.bucket, Keys.runsPrefix, true)
      // ListBucket lets the backstop tell a missing record (404) from a denied read (403).
      .combine(grantListPrefix(grantee, this.bucket, Keys.runsPrefix))
      .combine(this.grantPutEvents(grantee));
  }

  /**
   * Grants putting events on the audit bus (encrypted with the sink's key).
   * @param grantee who puts events
   */
  public grantPutEvents(grantee: iam.IGrantable): iam.Grant {
    return grantKey(grantee, this.encryptionKey, ['kms:GenerateDataKey']).combine(this.eventBus.grantPutEventsTo(grantee));
  }

  /**
   * Grants reading every audit record (objects, versions, listing) and decrypting them: for auditors.
   * @param grantee who reads the trail
   */
  public grantRead(grantee: iam.IGrantable): iam.Grant {
    return grantReadPrefix(grantee, this.bucket, '', true);
  }
}

/** S3 lifecycle rules and Object Lock count in whole days. */
function wholeDays(scope: Construct, prop: string, d: Duration) {
  const days = d.toDays({ integral: false });
  if (!Number.isInteger(days)) {
    invalid(scope, `\`${prop}\` must be a whole number of days (S3 lifecycle and Object Lock count in days), got: ${d.toHumanString()}. Use Duration.days(...).`);
  }
}
