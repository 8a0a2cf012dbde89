import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { ChunksDeps, ChunksEvent, handleChunks } from './chunks';
import { loadStageConfig, requireEnv, stageContextFromEnv } from '../../runtime/environment';
import { ChunkEnv, chunkStageConfig, ChunksConfig } from '../../shared/chunks-config';

// Lambda entry of a ChunkedStage's split/keep/reduce function: real clients, environment and the synth-time files beside the bundle.
const clients = { s3: new S3Client({}), events: new EventBridgeClient({}) };

let deps: ChunksDeps | undefined;

function load(): ChunksDeps {
  if (!deps) {
    const config = loadStageConfig<any>(__dirname) as ChunksConfig;
    deps = {
      config,
      // Its audit record (of the reduced result) is written under the step's own name.
      ctx: stageContextFromEnv(chunkStageConfig(config), __dirname, clients),
      sourceStage: requireEnv(ChunkEnv.SOURCE_STAGE),
      // One attempt per call: the user's function is not retried behind Step Functions' back.
      reducer: config.lambda ? { lambda: new LambdaClient({ maxAttempts: 1 }), functionName: requireEnv(ChunkEnv.REDUCER_FUNCTION) } : undefined,
    };
  }
  return deps;
}

export async function handler(event: ChunksEvent): Promise<unknown> {
  return handleChunks(load(), event);
}
