import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { runBedrockStage, BedrockStageDeps, withGuardrailFromEnv } from './bedrock-stage';
import { loadStageConfig, stageContextFromEnv } from '../../../runtime/environment';
import { BedrockStageConfig, StageInvocation } from '../../../shared';

// Lambda entry of the Bedrock stage: real clients, environment and the synth-time files beside the bundle.
const clients = { s3: new S3Client({}), events: new EventBridgeClient({}) };
// One attempt per call: Step Functions retries throttling with backoff and jitter, without paying
// for Lambda time spent in the SDK's own backoff.
const bedrock = new BedrockRuntimeClient({ maxAttempts: 1 });

let deps: BedrockStageDeps | undefined;

function load(): BedrockStageDeps {
  if (!deps) {
    const config = withGuardrailFromEnv(loadStageConfig<BedrockStageConfig>(__dirname));
    const ctx = stageContextFromEnv(config, __dirname, clients, { modelId: config.modelId, promptVersion: config.promptVersion });
    deps = { bedrock, config, ctx };
  }
  return deps;
}

export async function handler(event: StageInvocation): Promise<{ [key: string]: unknown }> {
  return runBedrockStage(load(), event);
}

