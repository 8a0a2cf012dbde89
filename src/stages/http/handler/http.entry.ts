import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { HttpStageDeps, runHttpStage } from './http-stage';
import { loadStageConfig, stageContextFromEnv } from '../../../runtime/environment';
import { HttpStageConfig, StageInvocation } from '../../../shared';

// Lambda entry of the HTTP stage's check: real clients, environment and the synth-time files beside the bundle.
const clients = { s3: new S3Client({}), events: new EventBridgeClient({}) };

let deps: HttpStageDeps | undefined;

function load(): HttpStageDeps {
  if (!deps) {
    const config = loadStageConfig<HttpStageConfig>(__dirname);
    deps = { config, ctx: stageContextFromEnv(config, __dirname, clients, { modelId: `${config.method} ${config.url}` }) };
  }
  return deps;
}

export async function handler(event: StageInvocation): Promise<{ [key: string]: unknown }> {
  return runHttpStage(load(), event);
}
