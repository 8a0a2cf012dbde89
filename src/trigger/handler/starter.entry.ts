/** Lambda entry of the trigger's starter: builds the Step Functions client once and calls the core. */
import { SFNClient } from '@aws-sdk/client-sfn';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { claimsFromEnv } from './start-run';
import { startRuns, StarterDeps } from './starter';
import { createLogger } from '../../runtime/logger';
import { Env } from '../../shared';


const stateMachineArn = process.env[Env.STATE_MACHINE_ARN];
if (!stateMachineArn) throw new Error(`environment variable ${Env.STATE_MACHINE_ARN} is not set`);

const deps: StarterDeps = {
  sfn: new SFNClient({}),
  stateMachineArn,
  claims: claimsFromEnv(process.env, Env.CLAIM_TABLE, Env.CLAIM_STALE_SECONDS),
  logger: createLogger('trigger-starter'),
};

export const handler = (event: SQSEvent): Promise<SQSBatchResponse> => startRuns(deps, event);
