import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { acknowledgeRule } from './acknowledge';
import { Env } from '../shared';
import { CLAIM_ATTRIBUTES } from '../shared/run-claims';

/** What a Pipeline passes to its trigger's `bind` (the fields of `TriggerBindOptions`). */
export interface RunClaimsOptions {
  readonly workflowType?: sfn.StateMachineType;
  readonly encryptionKey?: kms.IKey;
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * For an Express pipeline (which does not deduplicate execution names): the table in which the
 * trigger's starter claims each run id before it starts the run (ADR-0029), encrypted with the
 * pipeline's key, with point-in-time recovery and a TTL; the starter gets exactly the item actions it
 * uses on this table and the key. A claim older than `staleAfter` (the starter's timeout: its claimer
 * is surely gone) can be taken over. Nothing for a Standard pipeline.
 */
export function bindRunClaims(
  scope: Construct, starter: lambda.Function, role: iam.IGrantable, staleAfter: Duration, options: RunClaimsOptions = {},
): dynamodb.Table | undefined {
  if (options.workflowType !== sfn.StateMachineType.EXPRESS) return undefined;
  const key = options.encryptionKey ?? new kms.Key(scope, 'RunClaimsKey', {
    enableKeyRotation: true,
    description: 'cdk-ai-pipeline trigger: run claims of an Express pipeline',
    removalPolicy: options.removalPolicy ?? RemovalPolicy.RETAIN,
  });
  const table = new dynamodb.Table(scope, 'RunClaims', {
    partitionKey: { name: CLAIM_ATTRIBUTES.RUN_ID, type: dynamodb.AttributeType.STRING },
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
    encryptionKey: key,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    timeToLiveAttribute: CLAIM_ATTRIBUTES.EXPIRES_AT,
    removalPolicy: options.removalPolicy ?? RemovalPolicy.RETAIN,
  });
  for (const pack of ['HIPAA.Security', 'NIST.800.53.R5']) {
    acknowledgeRule(table, `${pack}-DynamoDBInBackupPlan`, 'Run claims only keep an Express pipeline\'s starts exactly once; point-in-time recovery is on, and the run\'s outcome is in the audit trail, not here. Add the table to your AWS Backup plan if your account requires it.');
  }
  table.grant(role, 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem');
  iam.Grant.addToPrincipal({
    grantee: role,
    actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'],
    resourceArns: [key.keyArn],
  });
  starter.addEnvironment(Env.CLAIM_TABLE, table.tableName);
  starter.addEnvironment(Env.CLAIM_STALE_SECONDS, String(staleAfter.toSeconds()));
  return table;
}
