import * as fs from 'fs';
import * as path from 'path';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { CapacityControl, CapacityEvent, capacityMetricLine, QuotaStore } from './capacity';
import { loadValidators } from './contracts';
import { createLogger, LogPort } from './logger';
import { parseRedactFields } from './redact';
import { StageContext } from './stage-runner';
import { CAPACITY_ENV, Env, QuotaConfig, StageAssetFiles, StageConfigBase } from '../shared';

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
  options: { env?: { [name: string]: string | undefined }; logger?: LogPort; capacity?: LocalCapacity } = {},
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
    ...(env[Env.CHUNK_STEP] ? { chunkStep: env[Env.CHUNK_STEP] } : {}),
    redactFields: parseRedactFields(env[Env.AUDIT_REDACT_FIELDS]),
    capacity: capacityFromEnv(config.stage, env, undefined, options.capacity),
    ...extra,
  };
}

/** Where a stage's capacity control keeps its buckets outside Lambda (the local runner): memory, its own clock. */
export interface LocalCapacity {
  readonly store: QuotaStore;
  readonly now?: () => number;
  readonly report?: (event: CapacityEvent) => void;
}

/** Makes the quota store of a capacity table, in Lambda. */
export type QuotaStoreFactory = (table: string) => QuotaStore;

let lambdaQuotaStore: QuotaStoreFactory | undefined;

/**
 * Sets how `capacityFromEnv` makes its store in Lambda; returns the one set before. Only
 * `dynamo-capacity.ts` calls it, and only the handler entries of a stage given a quota
 * (`<kind>-quota.entry.ts`) load that module: the DynamoDB client is in no other bundle (ADR-0034).
 */
export function useQuotaStore(factory: QuotaStoreFactory | undefined): QuotaStoreFactory | undefined {
  const before = lambdaQuotaStore;
  lambdaQuotaStore = factory;
  return before;
}

/**
 * The capacity control of a stage whose construct was given a `quota` (DynamoDB buckets; metrics as
 * embedded-metric lines on stdout); undefined otherwise.
 */
export function capacityFromEnv(
  stage: string,
  env: { [name: string]: string | undefined } = process.env,
  write: (line: string) => void = (line) => process.stdout.write(line + '\n'),
  local?: LocalCapacity,
): CapacityControl | undefined {
  const table = env[CAPACITY_ENV.TABLE];
  const quota = env[CAPACITY_ENV.QUOTA];
  if (!table || !quota) return undefined;
  const config = JSON.parse(quota) as QuotaConfig;
  if (local) return new CapacityControl(local.store, config, stage, local.report, local.now);
  if (!lambdaQuotaStore) {
    throw new Error(`stage ${stage} has a quota (${CAPACITY_ENV.TABLE} is set) but its handler bundle has no capacity control: `
      + 'a stage given a quota runs its kind\'s -quota bundle, which the construct picks. Deploy the stage from the construct.');
  }
  return new CapacityControl(lambdaQuotaStore(table), config, stage, (event) => write(capacityMetricLine(event, Date.now())));
}
