/** Lambda entry of the audit recorder: builds the clients once, reads the environment, calls the core. */
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { ExpressBackstopDeps, recordAny, RecorderOrLogsEvent } from './express-backstop';
import { parseStageOrder } from './recorder';
import { DynamoDBClient } from '../../runtime/dynamodb';
import { requireEnv } from '../../runtime/environment';
import { createLogger } from '../../runtime/logger';
import { Env } from '../../shared';

// Express pipelines only: the trigger's run-claim table, where the Express backstop finds a run's document.
const claimTable = process.env[Env.CLAIM_TABLE];

const deps: ExpressBackstopDeps = {
  s3: new S3Client({}),
  events: new EventBridgeClient({}),
  pipeline: requireEnv(Env.PIPELINE_NAME),
  auditBucket: requireEnv(Env.AUDIT_BUCKET),
  auditBus: requireEnv(Env.AUDIT_BUS),
  stageOrder: parseStageOrder(process.env[Env.STAGE_ORDER]),
  reviewSteps: parseStageOrder(process.env[Env.REVIEW_STEPS]),
  chainOrder: parseStageOrder(process.env[Env.CHAIN_ORDER]),
  logger: createLogger('audit-recorder'),
  ...(claimTable ? { claims: { dynamodb: new DynamoDBClient({}), table: claimTable } } : {}),
};

export const handler = (event: RecorderOrLogsEvent) => recordAny(deps, event);
