import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledgeRule } from './acknowledge';

/** What differs between the library's data buckets; everything else is the secure default. */
export interface SecureBucketOptions {
  readonly encryptionKey: kms.IKey;
  readonly accessLogs: s3.IBucket;
  readonly accessLogsPrefix: string;
  readonly lifecycleRules: s3.LifecycleRule[];
  readonly removalPolicy: RemovalPolicy;
  /** S3 Object Lock's default retention (mode and period) for every object version. */
  readonly objectLock?: s3.ObjectLockRetention;
}

/** A data bucket: customer-managed KMS key, versioned, public access blocked, SSL only, access-logged. */
export function secureBucket(scope: Construct, id: string, options: SecureBucketOptions): s3.Bucket {
  const bucket = new s3.Bucket(scope, id, {
    encryption: s3.BucketEncryption.KMS,
    encryptionKey: options.encryptionKey,
    bucketKeyEnabled: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    versioned: true,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    serverAccessLogsBucket: options.accessLogs,
    serverAccessLogsPrefix: options.accessLogsPrefix,
    objectLockEnabled: options.objectLock ? true : undefined,
    objectLockDefaultRetention: options.objectLock,
    lifecycleRules: options.lifecycleRules,
    removalPolicy: options.removalPolicy,
  });
  acknowledgeReplication(bucket);
  return bucket;
}

/** Replication needs a second bucket in another Region, which only the account owner can choose. */
export function acknowledgeReplication(bucket: s3.Bucket): void {
  for (const pack of ['HIPAA.Security', 'NIST.800.53.R5', 'PCI.DSS.321']) {
    acknowledgeRule(bucket, `${pack}-S3BucketReplicationEnabled`, 'Cross-Region replication needs a destination bucket (and often a Region) that only the account owner can choose: the bucket is versioned, so a replication rule can be added on the CfnBucket.');
  }
}

/** The bucket receiving server access logs (SSE-S3: the only encryption S3 log delivery supports). */
export function accessLogsBucket(scope: Construct, id: string, removalPolicy: RemovalPolicy): s3.Bucket {
  const bucket = new s3.Bucket(scope, id, {
    encryption: s3.BucketEncryption.S3_MANAGED,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    versioned: true,
    lifecycleRules: [{ expiration: Duration.days(365), noncurrentVersionExpiration: Duration.days(30) }],
    removalPolicy,
  });
  acknowledgeRule(bucket, 'AwsSolutions-S1', 'This bucket receives server access logs; logging its own access would loop.');
  for (const pack of ['HIPAA.Security', 'NIST.800.53.R5', 'PCI.DSS.321']) {
    acknowledgeRule(bucket, `${pack}-S3DefaultEncryptionKMS`, 'S3 server access log delivery supports only SSE-S3 on the destination bucket, not SSE-KMS.');
  }
  acknowledgeReplication(bucket);
  return bucket;
}
