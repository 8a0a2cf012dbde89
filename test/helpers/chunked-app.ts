/**
 * A pipeline with a chunked step: OCR, then a Bedrock summary per chunk of pages, reduced into one
 * result (the summary concatenated, the risk score's maximum, the risk clauses' union), then routing.
 */
import { App, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import {
  BedrockModel, ChunkBy, ChunkedStage, ChunkedStageProps, ChunkReducer, DocumentTrigger, InferenceStage, Pipeline,
  PromptTemplate, RouteDestination, RoutingPolicy, RoutingRule, RuleCondition, StageContract,
} from '../../src';

export const SUMMARY_OUTPUT = {
  type: 'object',
  required: ['summary', 'riskScore', 'riskClauses'],
  properties: {
    summary: { type: 'string', minLength: 1 },
    riskScore: { type: 'number', minimum: 0, maximum: 1 },
    riskClauses: { type: 'array', items: { type: 'string' } },
    language: { type: 'string' },
  },
};

export interface ChunkedAppOptions {
  readonly step?: Partial<ChunkedStageProps>;
  readonly offloadSummary?: boolean;
  /** Reduce with a Lambda function (id `Reducer`) instead of named reducers. */
  readonly lambdaReducer?: boolean;
}

export function chunkedStack(app: App, options: ChunkedAppOptions = {}): { stack: Stack; pipeline: Pipeline; step: ChunkedStage } {
  const stack = new Stack(app, 'Chunked', { env: { account: '111111111111', region: 'us-east-1' } });
  const trigger = DocumentTrigger.s3Upload(stack, 'Upload', { prefix: 'incoming/', suffixes: ['.pdf'] });
  const ocr = InferenceStage.textract(stack, 'Extract');
  const summarize = InferenceStage.bedrock(stack, 'Summarize', {
    model: BedrockModel.inferenceProfile('us.anthropic.claude-3-5-haiku-20241022-v1:0'),
    prompt: PromptTemplate.fromText('Summarize this part of a contract and rate its risk:\n<document>{{text}}</document>\nReply with JSON only.', { version: '1' }),
    output: StageContract.fromObject(SUMMARY_OUTPUT),
    maxTokens: 1024,
    offloadFields: options.offloadSummary ? ['summary'] : undefined,
  });
  const reducers = options.lambdaReducer
    ? [ChunkReducer.lambda(new lambda.Function(stack, 'Reducer', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => { throw new Error("replaced in tests"); };'),
    }))]
    : [ChunkReducer.concatenate('summary'), ChunkReducer.max('riskScore'), ChunkReducer.union('riskClauses')];
  const step = new ChunkedStage(stack, 'SummarizeChunks', {
    stage: summarize,
    chunkBy: ChunkBy.pages(5),
    reducers,
    maxConcurrency: 3,
    ...options.step,
  });
  const routing = new RoutingPolicy(stack, 'Route', {
    rules: [RoutingRule.when('high-risk', RuleCondition.numberAtLeast('Summarize.riskScore', 0.7), RouteDestination.sqsQueue('legal', new sqs.Queue(stack, 'Legal', { enforceSSL: true })))],
    defaultRoute: RouteDestination.sqsQueue('review', new sqs.Queue(stack, 'Review', { enforceSSL: true })),
  });
  const pipeline = new Pipeline(stack, 'Contracts', { trigger, stages: [ocr, step], routing });
  return { stack, pipeline, step };
}
