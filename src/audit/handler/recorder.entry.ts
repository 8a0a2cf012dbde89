/** Lambda entry of the audit recorder: builds the clients once, reads the environment, calls the core. */
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { parseStageOrder, recordRun, RecorderDeps, RecorderEvent } from './recorder';
import { requireEnv } from '../../runtime/environment';
import { createLogger } from '../../runtime/logger';
import { Env } from '../../shared';

const deps: RecorderDeps = {
  s3: new S3Client({}),
  events: new EventBridgeClient({}),
  pipeline: requireEnv(Env.PIPELINE_NAME),
  auditBucket: requireEnv(Env.AUDIT_BUCKET),
  auditBus: requireEnv(Env.AUDIT_BUS),
  stageOrder: parseStageOrder(process.env[Env.STAGE_ORDER]),
  reviewSteps: parseStageOrder(process.env[Env.REVIEW_STEPS]),
  chainOrder: parseStageOrder(process.env[Env.CHAIN_ORDER]),
  logger: createLogger('audit-recorder'),
};

export const handler = (event: RecorderEvent) => recordRun(deps, event);
