/**
 * A contracts pipeline composed of every kind of step: OCR and a deterministic scorer, a gate that
 * escalates known fraud before the model stages, a translation only for German documents, and the
 * summary (required) beside the clause extraction (optional) in parallel, then the routing policy.
 */
import { App, Stack } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import {
  BedrockModel, ConditionalStage, DocumentTrigger, InferenceStage, ParallelBranch, ParallelStages, Pipeline,
  PipelineGate, PromptTemplate, RouteDestination, RoutingPolicy, RoutingRule, RuleCondition, StageContract,
} from '../../src';

const PROFILE = 'us.anthropic.claude-3-5-haiku-20241022-v1:0';

export function composedStack(app: App): { stack: Stack; pipeline: Pipeline } {
  const stack = new Stack(app, 'Composed', { env: { account: '111111111111', region: 'us-east-1' } });
  const trigger = DocumentTrigger.s3Upload(stack, 'Upload', { prefix: 'incoming/', suffixes: ['.pdf'] });
  const ocr = InferenceStage.textract(stack, 'Ocr');
  const score = InferenceStage.sagemakerEndpoint(stack, 'Score', {
    endpointName: 'fraud-rules',
    output: StageContract.fromObject({
      type: 'object',
      required: ['fraudScore', 'language'],
      properties: { fraudScore: { type: 'number', minimum: 0, maximum: 1 }, language: { enum: ['en', 'de'] } },
    }),
  });
  const bedrock = (id: string, prompt: string, output: object) => InferenceStage.bedrock(stack, id, {
    model: BedrockModel.inferenceProfile(PROFILE),
    prompt: PromptTemplate.fromText(prompt, { version: '1' }),
    output: StageContract.fromObject(output),
  });
  const translate = bedrock('Translate', 'Translate this contract into English:\n{{text}}\nReply with JSON only.', {
    type: 'object', required: ['english'], properties: { english: { type: 'string', minLength: 1, maxLength: 2000 } },
  });
  const summarize = bedrock('Summarize', 'Summarize this contract and rate its risk:\n{{text}}\nReply with JSON only.', {
    type: 'object',
    required: ['summary', 'riskScore'],
    properties: { summary: { type: 'string', minLength: 10, maxLength: 500 }, riskScore: { type: 'number', minimum: 0, maximum: 1 } },
  });
  const clauses = InferenceStage.sagemakerEndpoint(stack, 'Clauses', {
    endpointName: 'clause-extractor',
    output: StageContract.fromObject({
      type: 'object',
      required: ['clauses'],
      properties: { clauses: { type: 'array', maxItems: 5, items: { type: 'string', maxLength: 40 } } },
    }),
  });
  const queue = (id: string) => new sqs.Queue(stack, id, { enforceSSL: true });
  const gate = new PipelineGate(stack, 'FraudGate', {
    rules: [RoutingRule.when('known-fraud', RuleCondition.numberAtLeast('Score.fraudScore', 0.9), RouteDestination.sqsQueue('fraud-team', queue('Fraud')))],
  });
  const ifGerman = new ConditionalStage(stack, 'IfGerman', { stage: translate, condition: RuleCondition.stringEquals('Score.language', 'de') });
  const analyze = new ParallelStages(stack, 'Analyze', {
    branches: [ParallelBranch.required([summarize]), ParallelBranch.optional([clauses])],
  });
  const routing = new RoutingPolicy(stack, 'Route', {
    rules: [
      RoutingRule.when('high-risk', RuleCondition.numberAtLeast('Summarize.riskScore', 0.7), RouteDestination.sqsQueue('legal', queue('Legal'))),
      RoutingRule.when('clean', RuleCondition.numberBelow('Summarize.riskScore', 0.2), RouteDestination.autoApprove('fast-track')),
    ],
    defaultRoute: RouteDestination.sqsQueue('review', queue('Review')),
  });
  const pipeline = new Pipeline(stack, 'Contracts', { trigger, stages: [ocr, score, gate, ifGerman, analyze], routing });
  return { stack, pipeline };
}
