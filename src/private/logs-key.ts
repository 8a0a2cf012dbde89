import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { IConstruct } from 'constructs';

/** The id of the stack's logs key. */
const ID = 'CdkAiPipelineLogsKey';

/**
 * The customer-managed key that encrypts every log group the library makes in a stack (function
 * logs, API access logs, batch logs), made on first use. Its policy lets CloudWatch Logs use it for
 * this account's log groups in this region only.
 */
export function logsKey(scope: IConstruct): kms.IKey {
  const stack = Stack.of(scope);
  const found = stack.node.tryFindChild(ID) as kms.Key | undefined;
  if (found) return found;
  const key = new kms.Key(stack, ID, {
    enableKeyRotation: true,
    description: 'cdk-ai-pipeline: the log groups of the library\'s functions and APIs',
    removalPolicy: RemovalPolicy.RETAIN,
  });
  key.addToResourcePolicy(logsKeyStatement(stack));
  return key;
}

/** The key-policy statement CloudWatch Logs needs to encrypt this account's log groups with a key. */
export function logsKeyStatement(stack: Stack): iam.PolicyStatement {
  return new iam.PolicyStatement({
    principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
    actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:GenerateDataKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:DescribeKey'],
    resources: ['*'],
    conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:*` } },
  });
}
