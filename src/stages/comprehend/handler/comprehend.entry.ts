import { ComprehendClient } from '@aws-sdk/client-comprehend';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { ComprehendStageDeps, runComprehendStage } from './comprehend-stage';
import { loadStageConfig, stageContextFromEnv } from '../../../runtime/environment';
import { ComprehendStageConfig, StageInvocation } from '../../../shared';

// Lambda entry of the Comprehend stage: real clients, environment and the synth-time files beside the bundle.
const clients = { s3: new S3Client({}), events: new EventBridgeClient({}) };
// One attempt per call: Step Functions retries throttling with backoff and jitter.
const comprehend = new ComprehendClient({ maxAttempts: 1 });

let deps: ComprehendStageDeps | undefined;

function load(): ComprehendStageDeps {
  if (!deps) {
    const config = loadStageConfig<ComprehendStageConfig>(__dirname);
    deps = { comprehend, config, ctx: stageContextFromEnv(config, __dirname, clients, { modelId: 'comprehend' }) };
  }
  return deps;
}

export async function handler(event: StageInvocation): Promise<{ [key: string]: unknown }> {
  return runComprehendStage(load(), event);
}
