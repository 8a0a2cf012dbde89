/**
 * The flagship-like stack the pipeline tests build: contracts uploaded under `incoming/*.pdf` →
 * Textract `Extract` → SageMaker `Classify` → Bedrock `Summarize` → routing (high risk → SNS `legal`,
 * low-risk NDA → auto-approve, else SQS `review`). The topic and the queue are KMS-encrypted and
 * SSL-only, as a user passing cdk-nag would create them.
 *
 * Every builder takes its scope, so tests can vary one part (a stage, a rule) and keep the rest.
 * No module-level side effects.
 */
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  BedrockModel,
  BedrockStage,
  DocumentTrigger,
  InferenceStage,
  Pipeline,
  PipelineProps,
  PromptTemplate,
  RouteDestination,
  RoutingPolicy,
  RoutingRule,
  RuleCondition,
  S3UploadTrigger,
  SageMakerEndpointStage,
  StageContract,
  TextractStage,
} from '../../src';

export const ACCOUNT = '111111111111';
export const REGION = 'us-east-1';
export const DOCUMENT_TYPES = ['NDA', 'MSA', 'SOW', 'EMPLOYMENT', 'OTHER'];
export const INFERENCE_PROFILE = 'us.anthropic.claude-3-5-haiku-20241022-v1:0';

/** An App and a Stack with a fixed environment. The built-in CloudFormation validator is off unless asked. */
export function newStack(options: { validation?: boolean; id?: string } = {}): { app: App; stack: Stack } {
  const app = new App({ builtinCloudFormationValidation: options.validation ?? false });
  const stack = new Stack(app, options.id ?? 'Flagship', { env: { account: ACCOUNT, region: REGION } });
  return { app, stack };
}

/** Classify's output contract: documentType (enum) and confidence, both required. */
export function classificationContract(): StageContract {
  return StageContract.fromObject({
    type: 'object',
    required: ['documentType', 'confidence'],
    properties: {
      documentType: { enum: [...DOCUMENT_TYPES] },
      confidence: { type: 'number' },
    },
  });
}

/** Summarize's output contract: riskScore (number) and summary (string), both required. */
export function summaryContract(): StageContract {
  return StageContract.fromObject({
    type: 'object',
    required: ['riskScore', 'summary'],
    properties: {
      riskScore: { type: 'number' },
      summary: { type: 'string' },
    },
  });
}

export function uploadTrigger(scope: Construct, id = 'Upload'): S3UploadTrigger {
  return DocumentTrigger.s3Upload(scope, id, { prefix: 'incoming/', suffixes: ['.pdf'] });
}

export function extractStage(scope: Construct, id = 'Extract'): TextractStage {
  return InferenceStage.textract(scope, id);
}

export function classifyStage(scope: Construct, id = 'Classify'): SageMakerEndpointStage {
  return InferenceStage.sagemakerEndpoint(scope, id, {
    endpointName: 'contract-classifier',
    output: classificationContract(),
  });
}

export function summarizeStage(scope: Construct, id = 'Summarize', prompt?: string): BedrockStage {
  return InferenceStage.bedrock(scope, id, {
    model: BedrockModel.inferenceProfile(INFERENCE_PROFILE),
    prompt: PromptTemplate.fromText(prompt ?? 'Document type: {{results.Classify.documentType}}\n\nContract:\n{{text}}', { version: '3' }),
    output: summaryContract(),
    offloadFields: ['summary'],
  });
}

/** The legal team's topic and the review queue: KMS-encrypted, SSL only (the review queue has a DLQ). */
export function destinations(scope: Stack): { key: kms.Key; legalTopic: sns.Topic; reviewQueue: sqs.Queue } {
  const key = new kms.Key(scope, 'DestinationsKey', { enableKeyRotation: true });
  const legalTopic = new sns.Topic(scope, 'Legal', { masterKey: key, enforceSSL: true });
  const reviewDeadLetters = new sqs.Queue(scope, 'ReviewDeadLetters', {
    encryption: sqs.QueueEncryption.KMS,
    encryptionMasterKey: key,
    enforceSSL: true,
  });
  Validations.of(reviewDeadLetters.node.defaultChild!).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason: 'This queue is the dead-letter queue of the review queue.',
  });
  const reviewQueue = new sqs.Queue(scope, 'Review', {
    encryption: sqs.QueueEncryption.KMS,
    encryptionMasterKey: key,
    enforceSSL: true,
    deadLetterQueue: { queue: reviewDeadLetters, maxReceiveCount: 5 },
  });
  return { key, legalTopic, reviewQueue };
}

export function flagshipRouting(scope: Stack, legalTopic: sns.ITopic, reviewQueue: sqs.IQueue, id = 'Route'): RoutingPolicy {
  return new RoutingPolicy(scope, id, {
    rules: [
      RoutingRule.when('high-risk', RuleCondition.numberAtLeast('Summarize.riskScore', 0.7), RouteDestination.snsTopic('legal', legalTopic)),
      RoutingRule.when('low-risk-nda', RuleCondition.all([
        RuleCondition.stringEquals('Classify.documentType', 'NDA'),
        RuleCondition.numberBelow('Summarize.riskScore', 0.3),
      ]), RouteDestination.autoApprove()),
    ],
    defaultRoute: RouteDestination.sqsQueue('review', reviewQueue),
  });
}

export interface PipelineFixtureOptions {
  /** Keep aws-cdk-lib's built-in CloudFormation validator on (slow). Default: off. */
  readonly validation?: boolean;
  /** Extra Pipeline props (stages, routing and trigger are the flagship's unless given). */
  readonly pipelineProps?: Partial<PipelineProps>;
  /** Runs after the parts exist and before the Pipeline is created (e.g. to add a statement to a role). */
  readonly beforePipeline?: (fixture: FlagshipParts) => void;
}

export interface FlagshipParts {
  readonly app: App;
  readonly stack: Stack;
  readonly trigger: S3UploadTrigger;
  readonly extract: TextractStage;
  readonly classify: SageMakerEndpointStage;
  readonly summarize: BedrockStage;
  readonly legalTopic: sns.Topic;
  readonly reviewQueue: sqs.Queue;
  readonly destinationsKey: kms.Key;
  readonly routing: RoutingPolicy;
}

export interface PipelineFixture extends FlagshipParts {
  readonly pipeline: Pipeline;
}

/** The flagship's parts, without the Pipeline. */
export function flagshipParts(options: { validation?: boolean } = {}): FlagshipParts {
  const { app, stack } = newStack({ validation: options.validation });
  const trigger = uploadTrigger(stack);
  const extract = extractStage(stack);
  const classify = classifyStage(stack);
  const summarize = summarizeStage(stack);
  const { key, legalTopic, reviewQueue } = destinations(stack);
  const routing = flagshipRouting(stack, legalTopic, reviewQueue);
  return { app, stack, trigger, extract, classify, summarize, legalTopic, reviewQueue, destinationsKey: key, routing };
}

/** The whole flagship stack. */
export function buildPipelineStack(options: PipelineFixtureOptions = {}): PipelineFixture {
  const parts = flagshipParts({ validation: options.validation });
  options.beforePipeline?.(parts);
  const pipeline = new Pipeline(parts.stack, 'Contracts', {
    trigger: parts.trigger,
    stages: [parts.extract, parts.classify, parts.summarize],
    routing: parts.routing,
    ...options.pipelineProps,
  });
  return { ...parts, pipeline };
}

/** Synthesizes the stack (aspects run: the library's acknowledgements are recorded). */
export function templateOf(fixture: { stack: Stack }): Template {
  return Template.fromStack(fixture.stack);
}

/** The logical id of a construct's CloudFormation resource. */
export function logicalIdOf(stack: Stack, resource: { node: { defaultChild?: any } } | any): string {
  const cfn = resource.node?.defaultChild ?? resource;
  return stack.resolve(cfn.logicalId);
}
