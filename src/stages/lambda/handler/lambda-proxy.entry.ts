import * as fs from 'fs';
import * as path from 'path';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { LambdaProxyStageDeps, runLambdaProxyStage } from './lambda-proxy-stage';
import { loadValidators } from '../../../runtime/contracts';
import { createLogger } from '../../../runtime/logger';
import { Env, LambdaStageConfig, StageAssetFiles, StageInvocation } from '../../../shared';

// Lambda entry of the Lambda proxy stage: real clients, environment and the synth-time files beside the bundle.
const s3 = new S3Client({});
const events = new EventBridgeClient({});
// One attempt per call: the user's function is not retried behind Step Functions' back.
const lambda = new LambdaClient({ maxAttempts: 1 });

let deps: LambdaProxyStageDeps | undefined;

function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}

function load(): LambdaProxyStageDeps {
  if (!deps) {
    const config = JSON.parse(fs.readFileSync(path.join(__dirname, StageAssetFiles.CONFIG), 'utf8')) as LambdaStageConfig;
    deps = {
      lambda,
      config,
      functionName: requireEnv(Env.TARGET_FUNCTION),
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
      },
    };
  }
  return deps;
}

export async function handler(event: StageInvocation): Promise<{ [key: string]: unknown }> {
  return runLambdaProxyStage(load(), event);
}
