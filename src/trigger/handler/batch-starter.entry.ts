/** Lambda entry of the schedule trigger's batch starter: builds the clients once and calls the core. */
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { BatchCounts, BatchEnv, BatchStarterDeps, ObjectBatch, startBatch } from './batch-starter';
import { claimsFromEnv } from './start-run';
import { createLogger } from '../../runtime/logger';
import { Env } from '../../shared';


function required(name: string): string {
  const value = process.env[name];
  if (value === undefined) throw new Error(`environment variable ${name} is not set`);
  return value;
}

const deps: BatchStarterDeps = {
  sfn: new SFNClient({}),
  s3: new S3Client({}),
  stateMachineArn: required(Env.STATE_MACHINE_ARN),
  claims: claimsFromEnv(process.env, Env.CLAIM_TABLE, Env.CLAIM_STALE_SECONDS),
  documentBucket: required(BatchEnv.DOCUMENT_BUCKET),
  documentPrefix: required(BatchEnv.DOCUMENT_PREFIX),
  documentSuffixes: JSON.parse(required(BatchEnv.DOCUMENT_SUFFIXES)),
  logger: createLogger('trigger-batch-starter'),
};

export const handler = (event: ObjectBatch): Promise<BatchCounts> => startBatch(deps, event);
