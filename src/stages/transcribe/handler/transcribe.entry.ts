import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { TranscribeClient } from '@aws-sdk/client-transcribe';
import { handleTranscribeEvent, TranscribeJobEvent, TranscribeStageDeps } from './transcribe-stage';
import { loadStageConfig, stageContextFromEnv } from '../../../runtime/environment';
import { Env, StageInvocation, TranscribeStageConfig } from '../../../shared';

// Lambda entry of the Transcribe stage: real clients, environment and the synth-time files beside the bundle.
const clients = { s3: new S3Client({}), events: new EventBridgeClient({}) };
// One attempt per call: Step Functions (invocation) and Lambda's async retry (job events) retry.
const transcribe = new TranscribeClient({ maxAttempts: 1 });
const sfn = new SFNClient({});

let deps: TranscribeStageDeps | undefined;

function load(): TranscribeStageDeps {
  if (!deps) {
    const config = loadStageConfig<TranscribeStageConfig>(__dirname);
    deps = {
      transcribe,
      sfn,
      config,
      ctx: stageContextFromEnv(config, __dirname, clients, { modelId: 'transcribe' }),
      outputKey: process.env[Env.TRANSCRIBE_OUTPUT_KEY] || undefined,
    };
  }
  return deps;
}

export const handler = (event: StageInvocation | TranscribeJobEvent) => handleTranscribeEvent(load(), event);
