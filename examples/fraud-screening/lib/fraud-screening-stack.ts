import * as path from 'path';
import { ArnFormat, CfnElement, CfnOutput, Duration, Stack, StackProps, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import {
  DocumentTrigger, InferenceStage, Pipeline, PipelineGate, ResultOutput, RouteDestination, RoutingPolicy, RoutingRule,
  RuleCondition, StageContract,
} from 'cdk-ai-pipeline';
import { Construct } from 'constructs';

const here = (file: string) => path.join(__dirname, '..', file);

/** Countries whose transactions the team never approves automatically (sanctions programmes). */
export const BLOCKED_COUNTRIES = ['KP', 'IR', 'SY', 'CU'];
/** Above this amount a transaction always goes to a person. */
export const RULE_AMOUNT_LIMIT = 10_000;
/** More transactions than this on the card in 24 hours is card testing. */
export const RULE_VELOCITY_LIMIT = 20;
/** Fraud scores at or above this escalate; below `SCORE_APPROVE` approve; between them, review. */
export const SCORE_ESCALATE = 0.8;
export const SCORE_APPROVE = 0.3;

/** Props of the fraud-screening stack. */
export interface FraudScreeningStackProps extends StackProps {
  /**
   * Standard (the default) or Express: every step here is synchronous and short, so the pipeline may
   * run as an Express workflow (each stage then gets a 1-minute timeout to fit its 5 minutes).
   * @default sfn.StateMachineType.STANDARD
   */
  readonly workflowType?: sfn.StateMachineType;
}

/**
 * Fraud screening: a caller posts a transaction (a JSON document) through the API trigger. A Lambda
 * stage reads its fields, checked by a contract (a malformed transaction fails the run, kept and
 * audited). Deterministic rules in a gate escalate obvious fraud (a blocked country, an amount over
 * the limit, card testing) before the model runs; the others are scored by a SageMaker endpoint.
 * A high score escalates to the fraud team's queue, a low one is approved, the rest go to review.
 * Every result is indexed in OpenSearch (Serverless) with the fields the analysts search by.
 *
 * Context: `fraudEndpoint` (default 'fraud-detector') names the SageMaker endpoint; `workflowType`
 * ('EXPRESS') runs the pipeline as an Express workflow.
 */
export class FraudScreeningStack extends Stack {
  constructor(scope: Construct, id: string, props?: FraudScreeningStackProps) {
    super(scope, id, props);
    const express = (props?.workflowType ?? this.node.tryGetContext('workflowType')) === sfn.StateMachineType.EXPRESS;
    // An Express run lasts at most 5 minutes: the stages' timeouts must add up to less.
    const stageTimeout = express ? { timeout: Duration.minutes(1) } : {};

    // --- Where escalated and reviewed transactions go: encrypted queues with dead-letter queues.
    const key = new kms.Key(this, 'QueueKey', { enableKeyRotation: true, description: 'Fraud screening: escalation and review queues' });
    const queue = (name: string) => {
      const deadLetters = new sqs.Queue(this, `${name}DeadLetters`, {
        encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: key, enforceSSL: true, retentionPeriod: Duration.days(14),
      });
      Validations.of(deadLetters.node.defaultChild!).acknowledge({
        id: 'Serverless-SQSRedrivePolicy',
        reason: `This queue is the dead-letter queue of ${name}; a dead-letter queue has none of its own.`,
      });
      return new sqs.Queue(this, name, {
        encryption: sqs.QueueEncryption.KMS,
        encryptionMasterKey: key,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
        deadLetterQueue: { queue: deadLetters, maxReceiveCount: 5 },
      });
    };
    // One destination object for the rules and the score: the same queue, one name in the audit trail.
    const fraudTeam = RouteDestination.sqsQueue('fraud-team', queue('FraudTeam'));
    const reviewQueue = queue('Review');

    // --- In: POST /runs { key } for a transaction already under transactions/, or /uploads for one to upload.
    const trigger = DocumentTrigger.api(this, 'Api', { prefix: 'transactions/', suffixes: ['.json'] });

    // --- Parse: the transaction's fields, inline; the contract is what a valid transaction is.
    // Its own role: write its log group, read transactions (and decrypt them), nothing else.
    // Its logs under a key of its own that only CloudWatch Logs of this account and region may use.
    const logsKey = new kms.Key(this, 'ParseTransactionLogsKey', { enableKeyRotation: true, description: 'Fraud screening: the parser\'s logs' });
    logsKey.addToResourcePolicy(new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal(`logs.${Stack.of(this).region}.amazonaws.com`)],
      actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      resources: ['*'],
      conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': Stack.of(this).formatArn({ service: 'logs', resource: 'log-group', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }) } },
    }));
    const parserLogs = new logs.LogGroup(this, 'ParseTransactionLogs', { retention: logs.RetentionDays.ONE_YEAR, encryptionKey: logsKey });
    const parserRole = new iam.Role(this, 'ParseTransactionRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Fraud screening: reads transaction documents',
    });
    parserLogs.grantWrite(parserRole);
    parserRole.addToPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject', 's3:GetObjectVersion'], resources: [trigger.documentBucket.arnForObjects('transactions/*')] }));
    trigger.encryptionKey?.grantDecrypt(parserRole);
    const parser = new lambda.Function(this, 'ParseTransaction', {
      runtime: lambda.Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: lambda.Code.fromAsset(here('functions/parse-transaction')),
      memorySize: 256,
      timeout: Duration.seconds(30),
      role: parserRole,
      logGroup: parserLogs,
      description: 'Fraud screening: reads a transaction document',
      tracing: lambda.Tracing.ACTIVE,
      // Bounds what one burst of transactions can take from the account's concurrency.
      reservedConcurrentExecutions: 20,
    });
    // What the library acknowledges on its own functions, for the same reasons.
    const parserFindings: Array<[string, string]> = [
      ['Serverless-LambdaDLQ', 'Invoked synchronously by the Parse stage: a failure returns to the stage\'s Retry and Catch; there is no asynchronous event to keep.'],
      ['HIPAA.Security-LambdaDLQ', 'Invoked synchronously by the Parse stage: a failure returns to the stage\'s Retry and Catch.'],
      ['NIST.800.53.R5-LambdaDLQ', 'Invoked synchronously by the Parse stage: a failure returns to the stage\'s Retry and Catch.'],
      ['HIPAA.Security-LambdaInsideVPC', 'Reads one S3 object over TLS with IAM auth; no private network resource to reach.'],
      ['NIST.800.53.R5-LambdaInsideVPC', 'Reads one S3 object over TLS with IAM auth; no private network resource to reach.'],
      ['PCI.DSS.321-LambdaInsideVPC', 'Reads one S3 object over TLS with IAM auth; no private network resource to reach.'],
    ];
    for (const [id, reason] of parserFindings) Validations.of(parser.node.defaultChild!).acknowledge({ id, reason });
    for (const pack of ['HIPAA.Security', 'NIST.800.53.R5', 'PCI.DSS.321']) {
      Validations.of(parserRole.node.findChild('DefaultPolicy').node.defaultChild!).acknowledge({
        id: `${pack}-IAMNoInlinePolicy`,
        reason: 'One policy written for this role (its log group, one prefix of the document bucket, its key); a managed policy would add a shareable object with nothing to share.',
      });
    }
    Validations.of(parserRole.node.findChild('DefaultPolicy').node.defaultChild!).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(trigger.documentBucket.node.defaultChild as CfnElement)}.Arn>/transactions/*]`,
      reason: 'The parser reads the transaction a run was started for: its key is known only at run time, so reads are scoped to the transactions/ prefix.',
    });
    Validations.of(parserRole.node.findChild('DefaultPolicy').node.defaultChild!).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray PutTraceSegments/PutTelemetryRecords (tracing) do not support resource-level permissions.',
    });
    const parse = InferenceStage.lambda(this, 'Parse', {
      function: parser,
      output: StageContract.fromFile(here('schemas/transaction.schema.json')),
      ...stageTimeout,
    });

    // --- Rules before the model: obvious fraud never reaches it.
    const rules = new PipelineGate(this, 'Rules', {
      rules: [
        RoutingRule.when('blocked-country', RuleCondition.stringIn('Parse.country', BLOCKED_COUNTRIES), fraudTeam),
        RoutingRule.when('amount-over-limit', RuleCondition.numberAbove('Parse.amount', RULE_AMOUNT_LIMIT), fraudTeam),
        RoutingRule.when('card-testing', RuleCondition.numberAbove('Parse.transactions24h', RULE_VELOCITY_LIMIT), fraudTeam),
      ],
    });

    // --- The fraud score: a SageMaker endpoint given the transaction's features.
    const score = InferenceStage.sagemakerEndpoint(this, 'Score', {
      endpointName: this.node.tryGetContext('fraudEndpoint') ?? 'fraud-detector',
      request: {
        amount: 'results.Parse.amount',
        currency: 'results.Parse.currency',
        country: 'results.Parse.country',
        merchantCategory: 'results.Parse.merchantCategory',
        cardPresent: 'results.Parse.cardPresent',
        transactions24h: 'results.Parse.transactions24h',
      },
      output: StageContract.fromFile(here('schemas/fraud-score.schema.json')),
      ...stageTimeout,
    });

    const routing = new RoutingPolicy(this, 'Route', {
      rules: [
        RoutingRule.when('high-score', RuleCondition.numberAtLeast('Score.fraudScore', SCORE_ESCALATE), fraudTeam),
        RoutingRule.when('low-score', RuleCondition.numberBelow('Score.fraudScore', SCORE_APPROVE), RouteDestination.autoApprove('approved')),
      ],
      defaultRoute: RouteDestination.sqsQueue('review', reviewQueue),
    });

    const pipeline = new Pipeline(this, 'Screening', {
      trigger,
      stages: [parse, rules, score],
      routing,
      ...(express ? { workflowType: sfn.StateMachineType.EXPRESS } : {}),
      outputs: [
        ResultOutput.openSearch(this, 'Index', {
          indexName: 'transactions',
          fields: ['Parse.transactionId', 'Parse.amount', 'Parse.currency', 'Parse.country', 'Parse.merchantCategory', 'Score.fraudScore'],
        }),
      ],
    });

    new CfnOutput(this, 'ApiUrl', { value: trigger.api.url, description: 'POST /runs { key } starts a screening; GET /runs/{runId} reads it' });
    new CfnOutput(this, 'StateMachineArn', { value: pipeline.stateMachine.stateMachineArn });
  }
}
