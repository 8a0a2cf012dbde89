import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';

/**
 * Read of the objects under a prefix (and their versions), plus decrypt with the bucket's key.
 * With `list`, also ListBucket under the prefix: S3 then answers 404 for a missing object (Source.Gone)
 * instead of 403. The returned grant holds every statement it added.
 */
export function grantReadPrefix(grantee: iam.IGrantable, bucket: s3.IBucket, prefix: string, list = false): iam.Grant {
  let grant = iam.Grant.addToPrincipal({
    grantee,
    actions: ['s3:GetObject', 's3:GetObjectVersion'],
    resourceArns: [bucket.arnForObjects(`${prefix}*`)],
  });
  if (list) grant = grant.combine(grantListPrefix(grantee, bucket, prefix));
  if (bucket.encryptionKey) grant = grant.combine(grantKey(grantee, bucket.encryptionKey, ['kms:Decrypt']));
  return grant;
}

/** ListBucket, limited to keys under a prefix. */
export function grantListPrefix(grantee: iam.IGrantable, bucket: s3.IBucket, prefix: string): iam.Grant {
  return iam.Grant.addToPrincipal({
    grantee,
    actions: ['s3:ListBucket'],
    resourceArns: [bucket.bucketArn],
    conditions: { StringLike: { 's3:prefix': [`${prefix}*`] } },
  });
}

/** Write (and read back) of the objects under a prefix, with encrypt/decrypt on the bucket's key. */
export function grantWritePrefix(grantee: iam.IGrantable, bucket: s3.IBucket, prefix: string, read = true): iam.Grant {
  let grant = iam.Grant.addToPrincipal({
    grantee,
    actions: read ? ['s3:PutObject', 's3:GetObject', 's3:GetObjectVersion'] : ['s3:PutObject'],
    resourceArns: [bucket.arnForObjects(`${prefix}*`)],
  });
  if (bucket.encryptionKey) {
    grant = grant.combine(grantKey(grantee, bucket.encryptionKey, read ? ['kms:Decrypt', 'kms:GenerateDataKey'] : ['kms:GenerateDataKey']));
  }
  return grant;
}

/** Exact KMS actions on one key (no `kms:GenerateDataKey*`-style wildcards). */
export function grantKey(grantee: iam.IGrantable, key: kms.IKey, actions: string[]): iam.Grant {
  return iam.Grant.addToPrincipal({ grantee, actions, resourceArns: [key.keyArn] });
}

/**
 * Grants through a policy of its own attached to `role` (not the role's default policy), and returns
 * the grant. For statements that name a resource which itself depends on the role's function (a state
 * machine running it): in the default policy they would make a dependency cycle.
 */
export function grantThroughPolicy(policy: iam.Policy, role: iam.IRole, actions: string[], resourceArns: string[]): iam.Grant {
  policy.attachToRole(role);
  const viaPolicy: iam.IPrincipal = {
    get grantPrincipal() { return viaPolicy; },
    assumeRoleAction: role.assumeRoleAction,
    policyFragment: role.policyFragment,
    principalAccount: role.principalAccount,
    addToPrincipalPolicy: (statement) => {
      policy.addStatements(statement);
      return { statementAdded: true, policyDependable: policy };
    },
  };
  return iam.Grant.addToPrincipal({ grantee: viaPolicy, actions, resourceArns });
}
