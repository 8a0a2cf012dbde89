import * as fs from 'fs';
import * as path from 'path';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { runSageMakerStage, SageMakerStageDeps } from './sagemaker-stage';
import { loadValidators } from '../../../runtime/contracts';
import { createLogger } from '../../../runtime/logger';
import { Env, SageMakerStageConfig, StageAssetFiles, StageInvocation } from '../../../shared';

// Lambda entry of the SageMaker endpoint stage: real clients, environment and the synth-time files beside the bundle.
const s3 = new S3Client({});
const events = new EventBridgeClient({});
// One attempt per call: Step Functions retries throttling with backoff and jitter.
const sagemaker = new SageMakerRuntimeClient({ maxAttempts: 1 });

let deps: SageMakerStageDeps | undefined;

function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}

function load(): SageMakerStageDeps {
  if (!deps) {
    const config = JSON.parse(fs.readFileSync(path.join(__dirname, StageAssetFiles.CONFIG), 'utf8')) as SageMakerStageConfig;
    deps = {
      sagemaker,
      config,
      endpointName: requireEnv(Env.ENDPOINT_NAME),
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
  return runSageMakerStage(load(), event);
}
