import * as fs from 'fs';
import * as path from 'path';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { loadValidators } from './contracts';
import { createLogger, LogPort } from './logger';
import { parseRedactFields } from './redact';
import { StageContext } from './stage-runner';
import { Env, StageAssetFiles, StageConfigBase } from '../shared';

/** An environment variable the construct always sets; a clear error when it is missing. */
export function requireEnv(name: string, env: { [name: string]: string | undefined } = process.env): string {
  const value = env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}

/** The stage configuration written beside the handler bundle at synth time. */
export function loadStageConfig<T extends StageConfigBase>(dir: string): T {
  return JSON.parse(fs.readFileSync(path.join(dir, StageAssetFiles.CONFIG), 'utf8')) as T;
}

/**
 * The context every stage core runs with, as a Lambda entry builds it: its clients, the synth-time
 * validators beside the bundle, and the pipeline's buckets and bus from the environment.
 */
export function stageContextFromEnv(
  config: StageConfigBase,
  dir: string,
  clients: { s3: S3Client; events: EventBridgeClient },
  extra: { modelId?: string; promptVersion?: string } = {},
  options: { env?: { [name: string]: string | undefined }; logger?: LogPort } = {},
): StageContext {
  const env = options.env ?? process.env;
  return {
    ...clients,
    validators: loadValidators(dir),
    logger: options.logger ?? createLogger('cdk-ai-pipeline'),
    pipeline: requireEnv(Env.PIPELINE_NAME, env),
    stage: config.stage,
    stageKind: config.kind,
    workBucket: requireEnv(Env.WORK_BUCKET, env),
    auditBucket: requireEnv(Env.AUDIT_BUCKET, env),
    auditBus: requireEnv(Env.AUDIT_BUS, env),
    redactFields: parseRedactFields(env[Env.AUDIT_REDACT_FIELDS]),
    ...extra,
  };
}
