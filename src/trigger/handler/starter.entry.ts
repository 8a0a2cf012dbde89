/** Lambda entry of the trigger's starter: builds the Step Functions client once and calls the core. */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { claimsFromEnv } from './start-run';
import { startRuns, StarterDeps } from './starter';
import { createLogger } from '../../runtime/logger';
import { Env } from '../../shared';

/** Only an Express pipeline's trigger (a claim table in its environment) loads the DynamoDB client. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const newDynamoDBClient = (): DynamoDBClient => new (require('@aws-sdk/client-dynamodb') as typeof import('@aws-sdk/client-dynamodb')).DynamoDBClient({});

const stateMachineArn = process.env[Env.STATE_MACHINE_ARN];
if (!stateMachineArn) throw new Error(`environment variable ${Env.STATE_MACHINE_ARN} is not set`);

const deps: StarterDeps = {
  sfn: new SFNClient({}),
  stateMachineArn,
  claims: claimsFromEnv(process.env, Env.CLAIM_TABLE, Env.CLAIM_STALE_SECONDS, newDynamoDBClient),
  logger: createLogger('trigger-starter'),
};

export const handler = (event: SQSEvent): Promise<SQSBatchResponse> => startRuns(deps, event);
