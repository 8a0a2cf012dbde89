import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { runSageMakerStage, SageMakerStageDeps } from './sagemaker-stage';
import { loadStageConfig, requireEnv, stageContextFromEnv } from '../../../runtime/environment';
import { Env, SageMakerStageConfig, StageInvocation } from '../../../shared';

// Lambda entry of the SageMaker endpoint stage: real clients, environment and the synth-time files beside the bundle.
const clients = { s3: new S3Client({}), events: new EventBridgeClient({}) };
// One attempt per call: Step Functions retries throttling with backoff and jitter.
const sagemaker = new SageMakerRuntimeClient({ maxAttempts: 1 });

let deps: SageMakerStageDeps | undefined;

function load(): SageMakerStageDeps {
  if (!deps) {
    const config = loadStageConfig<SageMakerStageConfig>(__dirname);
    const ctx = stageContextFromEnv(config, __dirname, clients, { modelId: requireEnv(Env.ENDPOINT_NAME) });
    deps = { sagemaker, config, endpointName: requireEnv(Env.ENDPOINT_NAME), ctx };
  }
  return deps;
}

export async function handler(event: StageInvocation): Promise<{ [key: string]: unknown }> {
  return runSageMakerStage(load(), event);
}
