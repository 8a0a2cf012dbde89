import * as fs from 'fs';
import * as path from 'path';
import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { runBedrockStage, BedrockStageDeps } from './bedrock-stage';
import { loadValidators } from '../../../runtime/contracts';
import { createLogger } from '../../../runtime/logger';
import { BedrockStageConfig, Env, StageAssetFiles, StageInvocation } from '../../../shared';

// Lambda entry of the Bedrock stage: real clients, environment and the synth-time files beside the bundle.
const s3 = new S3Client({});
const events = new EventBridgeClient({});
// One attempt per call: Step Functions retries throttling with backoff and jitter, without paying
// for Lambda time spent in the SDK's own backoff.
const bedrock = new BedrockRuntimeClient({ maxAttempts: 1 });

let deps: BedrockStageDeps | undefined;

function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}

function load(): BedrockStageDeps {
  if (!deps) {
    const config = JSON.parse(fs.readFileSync(path.join(__dirname, StageAssetFiles.CONFIG), 'utf8')) as BedrockStageConfig;
    deps = {
      bedrock,
      config,
      ctx: {
        s3,
        events,
        validators: loadValidators(__dirname),
        logger: createLogger('cdk-ai-pipeline'),
        pipeline: requireEnv(Env.PIPELINE_NAME),
        stage: config.stage,
        stageKind: config.kind,
        workBucket: requireEnv(Env.WORK_BUCKET),
        auditBucket: requireEnv(Env.AUDIT_BUCKET),
        auditBus: requireEnv(Env.AUDIT_BUS),
        modelId: config.modelId,
        promptVersion: config.promptVersion,
      },
    };
  }
  return deps;
}

export async function handler(event: StageInvocation): Promise<{ [key: string]: unknown }> {
  return runBedrockStage(load(), event);
}
