/** Lambda entry of the output steps: builds the clients once and calls the core. */
import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { OutputConfig, OutputDeps, OutputEnv, OutputInvocation, OutputResult, runOutput } from './output';
import { bedrockEmbedder, SignedIndex } from './signed-index';
import { SqsQueue } from './sqs-queue';
import { createLogger } from '../../runtime/logger';

const config: OutputConfig = JSON.parse(process.env[OutputEnv.CONFIG] ?? '{}');
const region = process.env.AWS_REGION ?? '';
const endpoint = process.env[OutputEnv.OPENSEARCH_ENDPOINT];
const queueUrl = process.env[OutputEnv.QUEUE_URL];

const s3 = new S3Client({});
const deps: OutputDeps = {
  s3,
  config,
  resultsBucket: process.env[OutputEnv.RESULTS_BUCKET],
  auditBucket: process.env[OutputEnv.AUDIT_BUCKET] ?? '',
  index: config.kind === 'opensearch' && endpoint
    ? new SignedIndex({ endpoint, region, service: config.service ?? 'aoss', credentials: s3.config.credentials })
    : undefined,
  embed: config.embedding ? bedrockEmbedder(new BedrockRuntimeClient({}), config.embedding.modelId, config.embedding.dimension) : undefined,
  queue: config.kind === 'sqs' && queueUrl ? new SqsQueue(new SQSClient({}), queueUrl) : undefined,
  logger: createLogger('pipeline-output'),
};

export const handler = (event: OutputInvocation): Promise<OutputResult> => runOutput(deps, event);
