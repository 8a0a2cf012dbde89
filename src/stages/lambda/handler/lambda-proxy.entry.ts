import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { LambdaProxyStageDeps, runLambdaProxyStage } from './lambda-proxy-stage';
import { loadStageConfig, requireEnv, stageContextFromEnv } from '../../../runtime/environment';
import { Env, LambdaStageConfig, StageInvocation } from '../../../shared';

// Lambda entry of the Lambda proxy stage: real clients, environment and the synth-time files beside the bundle.
const clients = { s3: new S3Client({}), events: new EventBridgeClient({}) };
// One attempt per call: the user's function is not retried behind Step Functions' back.
const lambda = new LambdaClient({ maxAttempts: 1 });

let deps: LambdaProxyStageDeps | undefined;

function load(): LambdaProxyStageDeps {
  if (!deps) {
    const config = loadStageConfig<LambdaStageConfig>(__dirname);
    deps = { lambda, config, functionName: requireEnv(Env.TARGET_FUNCTION), ctx: stageContextFromEnv(config, __dirname, clients) };
  }
  return deps;
}

export async function handler(event: StageInvocation): Promise<{ [key: string]: unknown }> {
  return runLambdaProxyStage(load(), event);
}
