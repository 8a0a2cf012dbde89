import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { TranslateClient } from '@aws-sdk/client-translate';
import { runTranslateStage, TranslateStageDeps } from './translate-stage';
import { loadStageConfig, stageContextFromEnv } from '../../../runtime/environment';
import { StageInvocation, TranslateStageConfig } from '../../../shared';

// Lambda entry of the Translate stage: real clients, environment and the synth-time files beside the bundle.
const clients = { s3: new S3Client({}), events: new EventBridgeClient({}) };
// One attempt per call: Step Functions retries throttling with backoff and jitter.
const translate = new TranslateClient({ maxAttempts: 1 });

let deps: TranslateStageDeps | undefined;

function load(): TranslateStageDeps {
  if (!deps) {
    const config = loadStageConfig<TranslateStageConfig>(__dirname);
    deps = { translate, config, ctx: stageContextFromEnv(config, __dirname, clients, { modelId: 'translate' }) };
  }
  return deps;
}

export async function handler(event: StageInvocation): Promise<{ [key: string]: unknown }> {
  return runTranslateStage(load(), event);
}
