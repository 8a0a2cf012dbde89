/**
 * The flagship pipeline with a human review after the summary: reviewers are notified on a new
 * encrypted topic, decide through the decision API, and have 4 hours; a missed deadline escalates to
 * the `escalated` queue, a rejection goes to the `rejected` queue, an approval or a correction goes on
 * to the routing policy (which reads the corrected risk score when there is one).
 */
import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { destinations, classifyStage, extractStage, summarizeStage, uploadTrigger, ACCOUNT, REGION } from './pipeline-fixture';
import { HumanReview, Pipeline, RouteDestination, RoutingPolicy, RoutingRule, RuleCondition } from '../../src';
import { HumanReviewProps } from '../../src/review/human-review';

export interface ReviewStack {
  readonly stack: Stack;
  readonly pipeline: Pipeline;
  readonly review: HumanReview;
}

/** An encrypted, SSL-only queue (with its dead-letter queue acknowledged as such). */
function queue(stack: Stack, id: string, key: kms.IKey): sqs.Queue {
  const dlq = new sqs.Queue(stack, `${id}DeadLetters`, { encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: key, enforceSSL: true });
  Validations.of(dlq.node.defaultChild!).acknowledge({ id: 'AwsSolutions-SQS3', reason: 'This queue is a dead-letter queue.' });
  return new sqs.Queue(stack, id, {
    encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: key, enforceSSL: true, deadLetterQueue: { queue: dlq, maxReceiveCount: 5 },
  });
}

export function reviewStack(app: App, overrides: Partial<HumanReviewProps> = {}): ReviewStack {
  const stack = new Stack(app, 'Reviewed', { env: { account: ACCOUNT, region: REGION } });
  const { key, legalTopic, reviewQueue } = destinations(stack);
  const summarize = summarizeStage(stack);
  const review = new HumanReview(stack, 'LegalReview', {
    stage: summarize,
    deadline: Duration.hours(4),
    escalation: RouteDestination.sqsQueue('escalated', queue(stack, 'Escalated', key)),
    rejectedRoute: RouteDestination.sqsQueue('rejected', queue(stack, 'Rejected', key)),
    ...overrides,
  });
  const legal = RouteDestination.snsTopic('legal', legalTopic);
  const routing = new RoutingPolicy(stack, 'Route', {
    rules: [
      RoutingRule.when('corrected-high-risk', RuleCondition.numberAtLeast('LegalReview.corrections.riskScore', 0.7), legal),
      RoutingRule.when('high-risk', RuleCondition.numberAtLeast('Summarize.riskScore', 0.7), legal),
    ],
    defaultRoute: RouteDestination.sqsQueue('review', reviewQueue),
  });
  const pipeline = new Pipeline(stack, 'Contracts', {
    trigger: uploadTrigger(stack),
    stages: [extractStage(stack), classifyStage(stack), summarize, review],
    routing,
    timeout: Duration.hours(6),
  });
  return { stack, pipeline, review };
}
